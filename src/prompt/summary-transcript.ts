/**
 * The conversation as one plain-text transcript, for the summarising model call. Plain text on
 * purpose: the call offers no tools, and some providers refuse tool calls and results in a
 * request without tool definitions. Long parts are cut in the middle (their start and end
 * usually carry the meaning) and the oldest lines go first when the whole is too long.
 * Pure.
 */
import { type ChatMessagePart } from '../domain/chat.js';
import { type PromptSourceMessage } from './to-model-messages.js';

/** Characters one tool call's arguments or result may take in the transcript. */
export const TRANSCRIPT_PART_CHARS = 4_000;
/** Characters the whole transcript may take (about 100k tokens); the oldest lines are dropped first. */
export const TRANSCRIPT_TOTAL_CHARS = 400_000;

function clip(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const half = Math.floor(limit / 2);
  return `${text.slice(0, half)}\n[… ${text.length - 2 * half} characters omitted …]\n${text.slice(-half)}`;
}

function json(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

function partLine(role: PromptSourceMessage['role'], part: ChatMessagePart): string | undefined {
  switch (part.type) {
    case 'text':
      if (part.text.trim() === '') return undefined;
      return `${role === 'user' ? 'User' : role === 'system' ? 'System' : 'Assistant'}: ${role === 'assistant' || role === 'user' ? part.text : clip(part.text, TRANSCRIPT_PART_CHARS)}`;
    case 'reasoning':
      return undefined;
    case 'tool-call':
      return `Assistant called ${part.tool_name}(${clip(json(part.args), TRANSCRIPT_PART_CHARS)})`;
    case 'tool-result':
      return `${part.tool_name} ${part.is_error ? 'failed' : 'returned'}: ${clip(json(part.result), TRANSCRIPT_PART_CHARS)}`;
    case 'file':
      return `User attached the file "${part.name}" (${part.media_type})`;
    case 'source':
      return `Source: ${part.url}`;
    default:
      return undefined;
  }
}

/** The transcript of `messages` (system prompts left out: they stay in every prompt anyway). */
export function summaryTranscript(messages: readonly PromptSourceMessage[]): string {
  const lines = messages.filter((message) => message.role !== 'system').flatMap((message) => message.content.flatMap((part) => partLine(message.role, part) ?? []));
  let total = lines.reduce((sum, line) => sum + line.length + 2, 0);
  let first = 0;
  while (total > TRANSCRIPT_TOTAL_CHARS && first < lines.length - 1) {
    total -= lines[first]!.length + 2;
    first++;
  }
  return (first > 0 ? [`[${first} earlier lines omitted]`, ...lines.slice(first)] : lines).join('\n\n');
}
