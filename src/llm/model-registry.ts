/**
 * Resolves a model config to an AI SDK language model: the built-in `echo` and `script`
 * models, or a provider row's endpoint through the AI SDK's own clients (OpenAI Responses,
 * OpenAI Chat Completions, Anthropic Messages, any OpenAI-compatible server). The SDK's own
 * retries stay off (`maxRetries: 0` at the call): retries are the activity's.
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { type LanguageModelV3 } from '@ai-sdk/provider';
import { anthropic } from '@ai-sdk/anthropic';
import { openai } from '@ai-sdk/openai';
import { type ToolSet } from 'ai';
import { type ModelPrices, type ProviderKind, type ProviderToolName } from '../domain/provider.js';
import { ModelConfigError, ProviderDisabledError } from './classify-model-error.js';
import { EchoModel } from './echo-model.js';
import { ScriptModel } from './script-model.js';

/** A provider row as a model step needs it; the key stays sealed until the call. */
export interface ProviderEndpoint {
  name: string;
  kind: ProviderKind;
  base_url: string | null;
  api_key_ciphertext: string | null;
  enabled: boolean;
  allow_user_api_key?: boolean;
  allow_central_api_key_fallback?: boolean;
  /** The chat owner's own key for this provider (bring-your-own-key), if they stored one. */
  user_api_key_ciphertext?: string | null;
}

/**
 * Which sealed key a call uses: the chat owner's own key where the provider accepts user keys,
 * else the central key if the provider allows falling back to it (or takes no user keys).
 */
export function chooseSealedKey(endpoint: ProviderEndpoint): { sealed: string | null; source: 'user' | 'central' | 'none' } {
  if (endpoint.allow_user_api_key === true) {
    if (endpoint.user_api_key_ciphertext != null) return { sealed: endpoint.user_api_key_ciphertext, source: 'user' };
    if (endpoint.allow_central_api_key_fallback === false) {
      throw new ModelConfigError(`Provider "${endpoint.name}" needs your own API key: set it with PUT /api/v1/user-provider-keys/${endpoint.name}.`);
    }
  }
  return endpoint.api_key_ciphertext === null ? { sealed: null, source: 'none' } : { sealed: endpoint.api_key_ciphertext, source: 'central' };
}

export interface ModelConfigRecord {
  id: string;
  provider: string;
  model: string;
  display_name: string;
  context_limit: number;
  max_output_tokens: number;
  /** The model config's compaction threshold (percent of `context_limit`). */
  compression_threshold?: number;
  prices?: ModelPrices;
  provider_options?: Record<string, unknown>;
  provider_tools?: ProviderToolName[];
  /** The provider row named by `provider`; absent for built-in models. */
  endpoint?: ProviderEndpoint | null;
}

export type ModelResolver = (config: ModelConfigRecord) => LanguageModelV3;

export const resolveBuiltinModel: ModelResolver = (config) => {
  switch (config.provider) {
    case 'echo':
      return new EchoModel(config.model);
    case 'script':
      return new ScriptModel(config.model);
    default:
      throw new ModelConfigError(`Provider "${config.provider}" is not configured: an admin must create it (POST /api/v1/providers).`);
  }
};

/** Opens sealed provider keys; absent when the worker has no CHATD_SECRET_KEY. */
export interface KeyOpener {
  open(sealed: string): string;
}

/** The key under which the AI SDK reads `providerOptions` for this config's provider. */
export function providerOptionsKey(config: ModelConfigRecord): string {
  const endpoint = config.endpoint;
  if (endpoint === null || endpoint === undefined) return config.provider;
  switch (endpoint.kind) {
    case 'openai':
    case 'openai-chat':
      return 'openai';
    case 'anthropic':
      return 'anthropic';
    case 'openai-compatible':
      return endpoint.name;
    default: {
      const unknown: never = endpoint.kind;
      throw new ModelConfigError(`Unknown provider kind ${String(unknown)}.`);
    }
  }
}

/** The provider-executed tools a config offers, as the AI SDK declares them for its provider. */
export function providerToolsFor(config: ModelConfigRecord): ToolSet {
  const kind = config.endpoint?.kind;
  const tools: ToolSet = {};
  for (const name of config.provider_tools ?? []) {
    switch (name) {
      case 'web_search':
        if (kind === 'openai') tools.web_search = openai.tools.webSearch({});
        else if (kind === 'anthropic') tools.web_search = anthropic.tools.webSearch_20250305({});
        else throw new ModelConfigError(`The provider tool "web_search" is not available on provider kind ${kind ?? config.provider}.`);
        break;
      default: {
        const unknown: never = name;
        throw new ModelConfigError(`Unknown provider tool ${String(unknown)}.`);
      }
    }
  }
  return tools;
}

export function createModelResolver(keys: KeyOpener | undefined): ModelResolver {
  return (config) => {
    const endpoint = config.endpoint;
    if (endpoint === null || endpoint === undefined) return resolveBuiltinModel(config);
    if (!endpoint.enabled) throw new ProviderDisabledError(`Provider "${endpoint.name}" is disabled.`);
    let apiKey: string | undefined;
    const { sealed } = chooseSealedKey(endpoint);
    if (sealed !== null) {
      if (keys === undefined) throw new ModelConfigError(`Provider "${endpoint.name}" has a stored API key but this worker has no CHATD_SECRET_KEY to open it.`);
      apiKey = keys.open(sealed);
    }
    const baseURL = endpoint.base_url ?? undefined;
    const needsKey = (): string => {
      if (apiKey === undefined) throw new ModelConfigError(`Provider "${endpoint.name}" has no API key: an admin must set one (PATCH /api/v1/providers/:id).`);
      return apiKey;
    };
    switch (endpoint.kind) {
      case 'openai':
        return createOpenAI({ apiKey: needsKey(), ...(baseURL === undefined ? {} : { baseURL }) }).responses(config.model);
      case 'openai-chat':
        return createOpenAI({ apiKey: needsKey(), ...(baseURL === undefined ? {} : { baseURL }) }).chat(config.model);
      case 'anthropic':
        return createAnthropic({ apiKey: needsKey(), ...(baseURL === undefined ? {} : { baseURL }) }).messages(config.model);
      case 'openai-compatible':
        if (baseURL === undefined) throw new ModelConfigError(`Provider "${endpoint.name}" needs a base_url.`);
        // Local servers (Ollama, llama.cpp) take no key; hosted ones (OpenRouter) do.
        return createOpenAICompatible({ name: endpoint.name, baseURL, includeUsage: true, ...(apiKey === undefined ? {} : { apiKey }) }).chatModel(config.model);
      default: {
        const unknown: never = endpoint.kind;
        throw new ModelConfigError(`Unknown provider kind ${String(unknown)}.`);
      }
    }
  };
}
