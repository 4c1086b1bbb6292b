/**
 * Providers and model configs: the admin-managed catalogue of models users can chat with.
 * A provider is an endpoint and its credentials; a model config picks a model on a provider
 * (or a built-in model) with limits and prices. Schemas are the admin API's contract.
 */
import { z } from 'zod';

/** The wire formats chatd speaks: OpenAI Responses, OpenAI Chat Completions, Anthropic Messages, and any OpenAI-compatible server (Ollama, vLLM, llama.cpp, OpenRouter). */
export const ProviderKind = z.enum(['openai', 'openai-chat', 'anthropic', 'openai-compatible']);
export type ProviderKind = z.infer<typeof ProviderKind>;

/** Models that run inside chatd and need no provider row. */
export const BUILTIN_PROVIDERS = ['echo', 'script'] as const;

export const ProviderName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'Provider names use lowercase letters, digits, "-" and "_" (at most 63).')
  .refine((name) => !(BUILTIN_PROVIDERS as readonly string[]).includes(name), 'That name belongs to a built-in model.');

const BaseUrl = z.url({ protocol: /^https?$/, error: 'base_url must be an http(s) URL.' });

export const Provider = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: ProviderKind,
  base_url: z.string().nullable(),
  enabled: z.boolean(),
  /** Whether a key is stored; the key itself is never returned. */
  has_api_key: z.boolean(),
  /** Users may store their own key for this provider, used for their chats instead of the central one. */
  allow_user_api_key: z.boolean(),
  /** Without a user key, a user's chats may use the central key. */
  allow_central_api_key_fallback: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Provider = z.infer<typeof Provider>;

export const CreateProviderRequest = z
  .strictObject({
    name: ProviderName,
    kind: ProviderKind,
    base_url: BaseUrl.optional(),
    api_key: z.string().min(1).max(4096).optional(),
    enabled: z.boolean().optional(),
    allow_user_api_key: z.boolean().optional(),
    allow_central_api_key_fallback: z.boolean().optional(),
  })
  .refine((body) => body.kind !== 'openai-compatible' || body.base_url !== undefined, { message: 'An openai-compatible provider needs a base_url (e.g. http://localhost:11434/v1 for Ollama).', path: ['base_url'] });
export type CreateProviderRequest = z.infer<typeof CreateProviderRequest>;

export const UpdateProviderRequest = z.strictObject({
  base_url: BaseUrl.nullable().optional(),
  /** A new key, or null to remove the stored one. */
  api_key: z.string().min(1).max(4096).nullable().optional(),
  enabled: z.boolean().optional(),
  allow_user_api_key: z.boolean().optional(),
  allow_central_api_key_fallback: z.boolean().optional(),
});

/** A user's own key for a provider, as the user sees it: whether it is set, never the key. */
export const UserProviderKey = z.object({
  provider: z.string(),
  kind: ProviderKind,
  has_api_key: z.boolean(),
  /** Without a user key, chats on this provider use the central key. */
  central_key_fallback: z.boolean(),
  updated_at: z.string().nullable(),
});
export type UserProviderKey = z.infer<typeof UserProviderKey>;

export const SetUserProviderKeyRequest = z.strictObject({ api_key: z.string().min(1).max(4096) });
export type UpdateProviderRequest = z.infer<typeof UpdateProviderRequest>;

/** Tools the provider runs itself, recorded in the step but never run by chatd. */
export const ProviderToolName = z.enum(['web_search']);
export type ProviderToolName = z.infer<typeof ProviderToolName>;
/** Provider kinds whose AI SDK client offers each provider tool. */
export const PROVIDER_TOOL_KINDS: Record<ProviderToolName, readonly ProviderKind[]> = { web_search: ['openai', 'anthropic'] };

/** USD per million tokens. */
export const ModelPrices = z.strictObject({
  input: z.number().min(0).optional(),
  output: z.number().min(0).optional(),
  cache_read: z.number().min(0).optional(),
  cache_write: z.number().min(0).optional(),
});
export type ModelPrices = z.infer<typeof ModelPrices>;

export const ModelConfig = z.object({
  id: z.uuid(),
  provider: z.string(),
  model: z.string(),
  display_name: z.string(),
  enabled: z.boolean(),
  is_default: z.boolean(),
  context_limit: z.number().int(),
  max_output_tokens: z.number().int(),
  /** Percent of `context_limit` at which a chat is summarised (100: never). */
  compression_threshold: z.number().int(),
  prices: ModelPrices,
  provider_options: z.record(z.string(), z.unknown()),
  provider_tools: z.array(ProviderToolName),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

const modelConfigFields = {
  display_name: z.string().trim().min(1).max(200),
  enabled: z.boolean(),
  is_default: z.boolean(),
  context_limit: z.number().int().min(1).max(10_000_000),
  max_output_tokens: z.number().int().min(1).max(1_000_000),
  /** Context compaction threshold in percent of `context_limit`; 100 disables compaction. */
  compression_threshold: z.number().int().min(1).max(100),
  prices: ModelPrices,
  /** Passed to the AI SDK as `providerOptions[<sdk provider>]`, e.g. `{"reasoningEffort": "low"}`. */
  provider_options: z.record(z.string(), z.unknown()),
  /** Provider-executed tools to offer the model, e.g. `["web_search"]` (OpenAI Responses, Anthropic). */
  provider_tools: z.array(ProviderToolName).max(5),
};

export const CreateModelConfigRequest = z.strictObject({
  provider: z.string().min(1).max(63),
  model: z.string().trim().min(1).max(200),
  ...modelConfigFields,
  display_name: modelConfigFields.display_name.optional(),
  enabled: modelConfigFields.enabled.optional(),
  is_default: modelConfigFields.is_default.optional(),
  context_limit: modelConfigFields.context_limit.optional(),
  max_output_tokens: modelConfigFields.max_output_tokens.optional(),
  compression_threshold: modelConfigFields.compression_threshold.optional(),
  prices: modelConfigFields.prices.optional(),
  provider_options: modelConfigFields.provider_options.optional(),
  provider_tools: modelConfigFields.provider_tools.optional(),
});
export type CreateModelConfigRequest = z.infer<typeof CreateModelConfigRequest>;

export const UpdateModelConfigRequest = z.strictObject(modelConfigFields).partial();
export type UpdateModelConfigRequest = z.infer<typeof UpdateModelConfigRequest>;

/** Cost in micro-dollars of a step's usage at a model's prices (USD per million tokens). */
export function costMicros(
  usage: { input_tokens: number; output_tokens: number; cache_read_tokens: number; cache_write_tokens: number },
  prices: ModelPrices,
): number {
  const uncachedInput = Math.max(0, usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens);
  return Math.round(
    uncachedInput * (prices.input ?? 0) +
      usage.output_tokens * (prices.output ?? 0) +
      usage.cache_read_tokens * (prices.cache_read ?? prices.input ?? 0) +
      usage.cache_write_tokens * (prices.cache_write ?? prices.input ?? 0),
  );
}
