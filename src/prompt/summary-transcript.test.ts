import { describe, expect, it } from 'vitest';
import { summaryTranscript, TRANSCRIPT_PART_CHARS, TRANSCRIPT_TOTAL_CHARS } from './summary-transcript.js';

describe('the transcript a summary is written from', () => {
  it('renders turns, tool calls and results as plain text and leaves system prompts and reasoning out', () => {
    const transcript = summaryTranscript([
      { role: 'system', content: [{ type: 'text', text: 'Be terse.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Deploy billing' }] },
      {
        role: 'assistant',
        content: [
          { type: 'reasoning', text: 'thinking' },
          { type: 'text', text: 'Running it.' },
          { type: 'tool-call', tool_call_id: 'c1', tool_name: 'execute', args: { command: 'make deploy' } },
        ],
      },
      { role: 'tool', content: [{ type: 'tool-result', tool_call_id: 'c1', tool_name: 'execute', result: 'ok', is_error: false }] },
    ]);
    expect(transcript).toBe('User: Deploy billing\n\nAssistant: Running it.\n\nAssistant called execute({"command":"make deploy"})\n\nexecute returned: ok');
  });

  it('cuts a long tool result in the middle', () => {
    const result = `${'a'.repeat(TRANSCRIPT_PART_CHARS)}${'b'.repeat(TRANSCRIPT_PART_CHARS)}`;
    const transcript = summaryTranscript([{ role: 'tool', content: [{ type: 'tool-result', tool_call_id: 'c1', tool_name: 'read_file', result, is_error: false }] }]);
    expect(transcript.length).toBeLessThan(TRANSCRIPT_PART_CHARS + 200);
    expect(transcript).toMatch(/^read_file returned: a+\n\[… 4000 characters omitted …\]\nb+$/);
  });

  it('drops the oldest lines first when the conversation is too long', () => {
    const line = 'x'.repeat(100_000);
    const transcript = summaryTranscript(['first', line, line, line, line, 'last'].map((text) => ({ role: 'user' as const, content: [{ type: 'text' as const, text }] })));
    expect(transcript.length).toBeLessThanOrEqual(TRANSCRIPT_TOTAL_CHARS + 100);
    expect(transcript.startsWith('[2 earlier lines omitted]')).toBe(true);
    expect(transcript.endsWith('User: last')).toBe(true);
  });
});
