/** Files attached to messages: what may be uploaded, and how large. */
import { z } from 'zod';

export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const MAX_FILES_PER_MESSAGE = 20;
export const ALLOWED_FILE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'text/plain'] as const;
/** Anthropic rejects inline images over 5 MiB; chatd refuses them before calling it. */
export const ANTHROPIC_MAX_INLINE_IMAGE_BYTES = 5 * 1024 * 1024;

/** How a file came to the chat: uploaded by the user, attached by `attach_file`, or a proposed plan. */
export const ChatFileKind = z.enum(['upload', 'attachment', 'plan']);
export type ChatFileKind = z.infer<typeof ChatFileKind>;

export const ChatFile = z.object({
  id: z.uuid(),
  kind: ChatFileKind,
  name: z.string(),
  media_type: z.enum(ALLOWED_FILE_TYPES),
  size_bytes: z.number().int(),
  created_at: z.string(),
});
export type ChatFile = z.infer<typeof ChatFile>;

export const UploadFileQuery = z.object({
  name: z.string().trim().min(1).max(255).optional(),
});

export function isAllowedFileType(mediaType: string): mediaType is (typeof ALLOWED_FILE_TYPES)[number] {
  return (ALLOWED_FILE_TYPES as readonly string[]).includes(mediaType);
}
