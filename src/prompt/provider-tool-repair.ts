/**
 * Provider-executed tool blocks (e.g. web search) live inside an assistant step as a call and
 * its result. Providers reject a replayed history where such a call has no result, a result
 * has no call, or the result comes first; such blocks appear when a stream was cut or a step
 * was interrupted mid-search. Repair keeps every other part (text above all) in order, keeps
 * each complete pair with its call directly before its result, and drops the rest. Applied
 * before persisting a step and before every request, so stored and sent histories are valid.
 */
import { type ChatMessagePart } from '../domain/chat.js';

type ProviderCall = Extract<ChatMessagePart, { type: 'tool-call' }>;
type ProviderResult = Extract<ChatMessagePart, { type: 'tool-result' }>;

const isProviderCall = (part: ChatMessagePart): part is ProviderCall => part.type === 'tool-call' && part.provider_executed === true;
const isProviderResult = (part: ChatMessagePart): part is ProviderResult => part.type === 'tool-result' && part.provider_executed === true;

export function repairProviderToolParts(parts: readonly ChatMessagePart[]): ChatMessagePart[] {
  const calls = new Map(parts.filter(isProviderCall).map((part) => [part.tool_call_id, part]));
  const results = new Map(parts.filter(isProviderResult).map((part) => [part.tool_call_id, part]));
  const repaired: ChatMessagePart[] = [];
  for (const part of parts) {
    if (isProviderCall(part)) continue; // placed with its result below
    if (isProviderResult(part)) {
      const call = calls.get(part.tool_call_id);
      if (call !== undefined) repaired.push(call, part);
      continue;
    }
    repaired.push(part);
  }
  // A call whose result never came is dropped; so is a result whose call never came.
  return repaired.filter((part) => !isProviderCall(part) || results.has(part.tool_call_id));
}
