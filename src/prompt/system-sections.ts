/**
 * Adds chatd's own system-prompt sections (instruction files, the skill index) to a step's
 * messages: one system message right after the stored system messages, so the deployment's
 * and the chat's own system prompt come first and every provider sees one leading block of
 * system messages (Anthropic refuses system messages after the conversation starts). Pure.
 */
import { type ModelMessage } from 'ai';

export function withSystemSections(messages: ModelMessage[], sections: readonly string[]): ModelMessage[] {
  if (sections.length === 0) return messages;
  const firstOther = messages.findIndex((message) => message.role !== 'system');
  const at = firstOther === -1 ? messages.length : firstOther;
  return [...messages.slice(0, at), { role: 'system', content: sections.join('\n\n') }, ...messages.slice(at)];
}
