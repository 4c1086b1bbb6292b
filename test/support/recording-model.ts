/**
 * A model resolver for integration tests that resolves models as workers do and records what
 * each model call was offered and told: its tool names and its system prompt. Side calls
 * (titles, labels, the advisor) have no tools; `withToolsOnly` leaves them out.
 */
import { wrapLanguageModel } from 'ai';
import { createModelResolver, type ModelResolver } from '../../src/llm/model-registry.js';
import { type SecretBox } from '../../src/security/secret-box.js';

export interface RecordedCall {
  tools: string[];
  system: string;
}

/** `secretBox` is read on first use, so the resolver can be made before the harness exists. */
export function recordingModelResolver(secretBox: () => SecretBox, calls: RecordedCall[], options: { withToolsOnly?: boolean } = {}): ModelResolver {
  let base: ModelResolver | undefined;
  return (record) =>
    wrapLanguageModel({
      model: (base ??= createModelResolver(secretBox()))(record) as never,
      middleware: {
        specificationVersion: 'v3',
        transformParams: async ({ params }) => {
          if (options.withToolsOnly !== true || params.tools !== undefined) {
            const system = params.prompt.flatMap((message) => (message.role === 'system' ? [message.content] : [])).join('\n');
            calls.push({ tools: (params.tools ?? []).map((tool) => tool.name), system });
          }
          return params;
        },
      },
    });
}
