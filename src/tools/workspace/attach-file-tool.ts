/**
 * `attach_file`: a workspace file becomes a chat file (the same store and limits as uploads),
 * so the user can download it and later model steps can see it.
 */
import path from 'node:path';
import { z } from 'zod';
import { isAllowedFileType, MAX_FILE_BYTES } from '../../domain/chat-file.js';
import { createChatFiles } from '../../db/chat-files.js';
import { type Pool } from '../../db/pool.js';
import { type ChatTool } from '../chat-tool.js';
import { withAgent, type WorkspaceAgents } from './agent-call.js';

export const AttachFileInput = z.object({
  path: z.string().min(1),
  name: z.string().trim().min(1).max(255).optional().describe('The name the user sees (default: the file name).'),
});
export type AttachFileInput = z.infer<typeof AttachFileInput>;

/** The media type by content: the image formats by signature, otherwise UTF-8 text or nothing. */
export function sniffMediaType(bytes: Buffer): string | undefined {
  const startsWith = (...signature: number[]) => signature.every((byte, index) => bytes[index] === byte);
  if (startsWith(0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (startsWith(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (startsWith(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (startsWith(0x52, 0x49, 0x46, 0x46) && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return text.includes('\uFFFD') || text.includes('\u0000') ? undefined : 'text/plain';
}

export function createAttachFileTool(dependencies: { agents: WorkspaceAgents; pool: Pool }): ChatTool {
  const files = createChatFiles(dependencies.pool);
  return {
    name: 'attach_file',
    description: 'Attach a workspace file (an image or a text file, up to 10 MiB) to the chat so the user can see and download it.',
    inputSchema: AttachFileInput,
    // A repeat stores one more copy of the same file; nothing else changes.
    idempotent: true,
    execute: (input, context) =>
      withAgent(dependencies.agents, context.chatId, async (client) => {
        const request = input as AttachFileInput;
        const { bytes } = await client.readFileBytes({ path: request.path, maxBytes: MAX_FILE_BYTES });
        const mediaType = sniffMediaType(bytes);
        if (mediaType === undefined || !isAllowedFileType(mediaType)) {
          return { result: `attach_file supports PNG, JPEG, GIF and WebP images and UTF-8 text files; ${request.path} is none of these.`, isError: true };
        }
        const { rows } = await dependencies.pool.query<{ owner_id: string }>('SELECT owner_id FROM chats WHERE id = $1', [context.chatId]);
        const owner = rows[0];
        if (owner === undefined) return { result: 'attach_file failed: the chat no longer exists.', isError: true };
        const file = await files.insert({ ownerId: owner.owner_id, name: request.name ?? path.basename(request.path), mediaType, data: bytes, kind: 'attachment' });
        return { result: { file_id: file.id, kind: file.kind, name: file.name, media_type: file.media_type, size_bytes: file.size_bytes }, isError: false };
      }),
  };
}
