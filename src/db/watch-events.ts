/**
 * The watch feed: one log per user of chat-level changes (created, status, title, archived,
 * last error, turn summary), each event carrying the chat as it is after the change. Appended inside the
 * transaction that makes the change; `seq` comes from the user's row, so a user's log commits
 * in order with no gaps, and a NOTIFY `<user id>:<seq>` wakes the API processes.
 */
import { chatFromRow, type ChatRow } from './chat-rows.js';
import { type StoredChatEvent } from './chat-events.js';
import { runBeforeCommit, type Queryable } from './pool.js';

export const WATCH_EVENTS_CHANNEL = 'chatd_watch_events';

export type WatchKind = 'created' | 'status_change' | 'title_change' | 'archive_change' | 'summary_change';

/** A watch event as written: its owner's feed, its kind and the chat as the change leaves it. */
export interface WatchAppend {
  ownerId: string;
  kind: WatchKind;
  payload: string;
}

export function watchAppend(kind: WatchKind, chat: ChatRow): WatchAppend {
  return { ownerId: chat.owner_id, kind, payload: JSON.stringify({ type: kind, chat: chatFromRow(chat) }) };
}

/**
 * The SQL that appends a watch event and notifies for it, inside a statement of its own or of
 * another write's: the CTEs, and a scalar expression that sends the NOTIFY. `$n` numbers of
 * the owner, chat, kind, payload (jsonb) and channel parameters.
 */
export function watchAppendSql(parameter: { owner: number; chat: number; kind: number; payload: number; channel: number }): { ctes: string; notify: string } {
  const { owner, chat, kind, payload, channel } = parameter;
  return {
    ctes: `watch_allocated AS (
         UPDATE users SET watch_seq = watch_seq + 1 WHERE id = $${owner} RETURNING watch_seq
       ), watch_inserted AS (
         INSERT INTO chat_watch_events (owner_id, seq, chat_id, kind, payload)
         SELECT $${owner}, watch_allocated.watch_seq, $${chat}, $${kind}, $${payload}::jsonb FROM watch_allocated RETURNING seq
       )`,
    notify: `(SELECT pg_notify($${channel}, $${owner} || ':' || seq) FROM watch_inserted)`,
  };
}

/**
 * Appends a watch event carrying the chat row as the transaction leaves it. Deferred to just
 * before COMMIT: the per-user sequence row is locked only from here to the commit, so one
 * user's many chats do not queue behind each other's whole transactions. `final`: the chat row
 * as the transaction will commit it, when the caller has it (one read fewer).
 */
export async function appendWatchEvent(db: Queryable, chatId: string, kind: WatchKind, final?: ChatRow): Promise<void> {
  await runBeforeCommit(db, async () => {
    // A caller that made its last change to the row already holds it as it will commit.
    const chat = final ?? (await db.query<ChatRow>('SELECT * FROM chats WHERE id = $1', [chatId])).rows[0];
    if (chat === undefined) return;
    const watch = watchAppend(kind, chat);
    const sql = watchAppendSql({ owner: 1, chat: 2, kind: 3, payload: 4, channel: 5 });
    await db.query(`WITH ${sql.ctes} SELECT ${sql.notify}`, [watch.ownerId, chat.id, watch.kind, watch.payload, WATCH_EVENTS_CHANNEL]);
  });
}

export async function readWatchEvents(db: Queryable, ownerId: string, afterSeq: number, limit: number): Promise<StoredChatEvent[]> {
  const { rows } = await db.query<StoredChatEvent>(
    'SELECT seq, kind AS type, payload FROM chat_watch_events WHERE owner_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
    [ownerId, afterSeq, limit],
  );
  return rows;
}

export async function currentWatchSeq(db: Queryable, ownerId: string): Promise<number> {
  const { rows } = await db.query<{ watch_seq: number }>('SELECT watch_seq FROM users WHERE id = $1', [ownerId]);
  return rows[0]?.watch_seq ?? 0;
}
