/** Uploaded files: stored in PostgreSQL, read back by their owner and by model steps. */
import { randomUUID } from 'node:crypto';
import { ChatFile, type ChatFileKind } from '../domain/chat-file.js';
import { type Queryable } from './pool.js';

interface FileRow {
  id: string;
  kind: string;
  name: string;
  media_type: string;
  size_bytes: number;
  created_at: Date;
}

const fileFromRow = (row: FileRow): ChatFile => ChatFile.parse({ ...row, created_at: row.created_at.toISOString() });

export function createChatFiles(db: Queryable) {
  return {
    async insert(input: { ownerId: string; name: string; mediaType: string; data: Buffer; kind?: ChatFileKind }): Promise<ChatFile> {
      const { rows } = await db.query<FileRow>(
        'INSERT INTO chat_files (id, owner_id, name, media_type, size_bytes, data, kind) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, kind, name, media_type, size_bytes, created_at',
        [randomUUID(), input.ownerId, input.name, input.mediaType, input.data.length, input.data, input.kind ?? 'upload'],
      );
      return fileFromRow(rows[0]!);
    },

    /** The owner's files among `ids`, by id; others' and unknown ids are simply absent. */
    async ownedFiles(ownerId: string, ids: readonly string[]): Promise<Map<string, ChatFile>> {
      if (ids.length === 0) return new Map();
      const { rows } = await db.query<FileRow>('SELECT id, kind, name, media_type, size_bytes, created_at FROM chat_files WHERE owner_id = $1 AND id = ANY($2::uuid[])', [ownerId, ids]);
      return new Map(rows.map((row) => [row.id, fileFromRow(row)]));
    },

    async ownedContent(ownerId: string, id: string): Promise<{ file: ChatFile; data: Buffer } | undefined> {
      const { rows } = await db.query<FileRow & { data: Buffer }>('SELECT id, kind, name, media_type, size_bytes, created_at, data FROM chat_files WHERE owner_id = $1 AND id = $2', [ownerId, id]);
      const row = rows[0];
      return row === undefined ? undefined : { file: fileFromRow(row), data: row.data };
    },

    /** File bytes for a model step's prompt. */
    async contents(ids: readonly string[]): Promise<Map<string, { mediaType: string; data: Buffer }>> {
      if (ids.length === 0) return new Map();
      const { rows } = await db.query<{ id: string; media_type: string; data: Buffer }>('SELECT id, media_type, data FROM chat_files WHERE id = ANY($1::uuid[])', [ids]);
      return new Map(rows.map((row) => [row.id, { mediaType: row.media_type, data: row.data }]));
    },
  };
}

export type ChatFiles = ReturnType<typeof createChatFiles>;
