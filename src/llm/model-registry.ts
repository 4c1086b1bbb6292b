/**
 * Resolves a model config to an AI SDK language model. Providers other than the built-in
 * `echo` and `script` models arrive with the providers issue.
 */
import { type LanguageModelV3 } from '@ai-sdk/provider';
import { EchoModel } from './echo-model.js';
import { ScriptModel } from './script-model.js';

export interface ModelConfigRecord {
  id: string;
  provider: string;
  model: string;
  display_name: string;
  context_limit: number;
  max_output_tokens: number;
}

export class UnsupportedProviderError extends Error {
  override readonly name = 'UnsupportedProviderError';
}

export type ModelResolver = (config: ModelConfigRecord) => LanguageModelV3;

export const resolveBuiltinModel: ModelResolver = (config) => {
  switch (config.provider) {
    case 'echo':
      return new EchoModel(config.model);
    case 'script':
      return new ScriptModel(config.model);
    default:
      throw new UnsupportedProviderError(`Provider "${config.provider}" is not supported by this chatd build.`);
  }
};
