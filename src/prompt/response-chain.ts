/**
 * OpenAI Responses chaining: instead of resending the whole history, a step may name the
 * previous response (`previous_response_id`) and send only what came after it. That is safe
 * only when the newest assistant step is that response, made by the same model config, so
 * every message after it (tool results, new user messages) is new to the provider. Anything
 * else (an interrupted step without an id, another model, a first step) sends full history.
 * System messages are always sent: the provider does not carry instructions across a chain.
 */
import { type PromptSourceMessage } from './to-model-messages.js';

export interface ResponseChain {
  previousResponseId: string;
  /** The system messages, then everything after the chained assistant step. */
  messages: PromptSourceMessage[];
}

export function planResponseChain(history: readonly PromptSourceMessage[], modelConfigId: string): ResponseChain | undefined {
  let lastAssistant = -1;
  for (let index = history.length - 1; index >= 0; index--) {
    if (history[index]!.role === 'assistant') {
      lastAssistant = index;
      break;
    }
  }
  if (lastAssistant < 0) return undefined;
  const anchor = history[lastAssistant]!;
  if (anchor.providerResponseId == null || anchor.modelConfigId !== modelConfigId) return undefined;
  const after = history.slice(lastAssistant + 1);
  if (after.length === 0) return undefined;
  return { previousResponseId: anchor.providerResponseId, messages: [...history.filter((message) => message.role === 'system'), ...after] };
}

/** OpenAI's answer when it no longer has the previous response (expired, or not stored). */
export function isBrokenChainError(error: unknown): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (/previous response with id .* not found/i.test(cause.message)) return true;
    const body = (cause as { responseBody?: unknown }).responseBody;
    if (typeof body === 'string' && /previous response with id .* not found/i.test(body)) return true;
  }
  return false;
}
