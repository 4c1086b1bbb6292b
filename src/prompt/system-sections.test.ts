import { type ModelMessage } from 'ai';
import { describe, expect, it } from 'vitest';
import { withSystemSections } from './system-sections.js';

describe('withSystemSections', () => {
  const user: ModelMessage = { role: 'user', content: 'hi' };
  const system: ModelMessage = { role: 'system', content: 'Be kind.' };

  it('puts the sections after the stored system prompt and before the conversation', () => {
    expect(withSystemSections([system, user], ['<a>', '<b>'])).toEqual([system, { role: 'system', content: '<a>\n\n<b>' }, user]);
  });

  it('leads with the sections when there is no stored system prompt, and changes nothing without sections', () => {
    expect(withSystemSections([user], ['<a>'])[0]).toEqual({ role: 'system', content: '<a>' });
    const messages = [user];
    expect(withSystemSections(messages, [])).toBe(messages);
  });
});
