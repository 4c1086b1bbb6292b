/** A model call's usage as chatd stores it: the AI SDK's token counts, priced by the model config. */
import { type LanguageModelUsage } from 'ai';
import { type Usage } from '../domain/chat.js';
import { costMicros } from '../domain/provider.js';

export function stepUsage(usage: LanguageModelUsage, prices: Parameters<typeof costMicros>[1]): Usage {
  const tokens = {
    input_tokens: usage.inputTokens ?? 0,
    output_tokens: usage.outputTokens ?? 0,
    reasoning_tokens: usage.outputTokenDetails?.reasoningTokens ?? 0,
    cache_read_tokens: usage.inputTokenDetails?.cacheReadTokens ?? 0,
    cache_write_tokens: usage.inputTokenDetails?.cacheWriteTokens ?? 0,
    cost_micros: 0,
  };
  return { ...tokens, cost_micros: costMicros(tokens, prices) };
}
