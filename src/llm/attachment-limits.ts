/**
 * Provider limits on attachments, checked before a request so an attachment the provider would
 * refuse ends the turn with a clear `config` error instead of a provider 400. Today: Anthropic
 * takes inline images up to 5 MiB.
 */
import { type ChatError } from '../domain/chat.js';
import { ANTHROPIC_MAX_INLINE_IMAGE_BYTES } from '../domain/chat-file.js';
import { type ProviderKind } from '../domain/provider.js';
import { type AttachedFiles, type PromptSourceMessage } from '../prompt/to-model-messages.js';

/** The first attachment `kind` would refuse, as the turn's error; undefined when all fit. */
export function attachmentLimitError(kind: ProviderKind | undefined, files: AttachedFiles, history: readonly PromptSourceMessage[]): ChatError | undefined {
  if (kind !== 'anthropic') return undefined;
  for (const [id, file] of files) {
    if (!file.mediaType.startsWith('image/') || file.data.length <= ANTHROPIC_MAX_INLINE_IMAGE_BYTES) continue;
    const part = history.flatMap((message) => message.content).find((candidate) => candidate.type === 'file' && candidate.file_id === id);
    const name = part?.type === 'file' ? part.name : id;
    return { message: `The image "${name}" is ${(file.data.length / 1024 / 1024).toFixed(1)} MiB; Anthropic accepts images up to 5 MiB.`, kind: 'config', provider: 'Anthropic', retryable: false };
  }
  return undefined;
}
