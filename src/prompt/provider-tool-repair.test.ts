import { describe, expect, it } from 'vitest';
import { type ChatMessagePart } from '../domain/chat.js';
import { repairProviderToolParts } from './provider-tool-repair.js';

const text = (value: string): ChatMessagePart => ({ type: 'text', text: value });
const call = (id: string): ChatMessagePart => ({ type: 'tool-call', tool_call_id: id, tool_name: 'web_search', args: { query: 'q' }, provider_executed: true });
const result = (id: string): ChatMessagePart => ({ type: 'tool-result', tool_call_id: id, tool_name: 'web_search', result: [{ url: 'https://example.com' }], is_error: false, provider_executed: true });
const localCall: ChatMessagePart = { type: 'tool-call', tool_call_id: 'local', tool_name: 'add', args: { numbers: [1] } };

describe('repairProviderToolParts', () => {
  it('keeps a complete search and everything around it unchanged', () => {
    const parts = [text('Let me look.'), call('s1'), result('s1'), text('Found it.'), localCall];
    expect(repairProviderToolParts(parts)).toEqual(parts);
  });

  it('drops a search call whose result never came, keeping the text', () => {
    expect(repairProviderToolParts([text('Searching'), call('s1'), text(' cut off')])).toEqual([text('Searching'), text(' cut off')]);
  });

  it('drops a result whose call is missing', () => {
    expect(repairProviderToolParts([result('s1'), text('answer')])).toEqual([text('answer')]);
  });

  it('puts a call back directly before its result when they arrived out of order', () => {
    expect(repairProviderToolParts([result('s1'), text('between'), call('s1')])).toEqual([call('s1'), result('s1'), text('between')]);
  });

  it('never touches calls chatd runs itself', () => {
    expect(repairProviderToolParts([localCall])).toEqual([localCall]);
  });
});
