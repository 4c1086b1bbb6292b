/**
 * The per-chat event log behind the live stream. Events are appended inside the transaction
 * that makes the change they describe, so the log never disagrees with the tables; `seq` is
 * allocated from the chat row, which also serialises appends per chat. A NOTIFY (delivered at
 * commit) tells listeners which chat advanced; the payload stays tiny, far below PostgreSQL's
 * 8000-byte limit.
 */
import { prepared, withTransaction, type Pool, type Queryable } from './pool.js';
import { WATCH_EVENTS_CHANNEL, watchAppendSql, type WatchAppend } from './watch-events.js';

export const CHAT_EVENTS_CHANNEL = 'chatd_chat_events';

/**
 * Events are carried inside the NOTIFY (so listeners need no read) when they fit well below
 * PostgreSQL's 8000-byte payload limit; larger batches notify only `<chat id>:<seq>`.
 */
const INLINE_NOTIFY_BYTES = 5_000;

export interface NewChatEvent {
  type: string;
  payload: Record<string, unknown>;
}

/**
 * Events as the log stores them (each payload carries its type), as JSON, and whether they fit
 * in the NOTIFY (see INLINE_NOTIFY_BYTES). For statements that append events themselves.
 */
export function loggedEvents(events: NewChatEvent[]): { json: string; inline: boolean } {
  const json = JSON.stringify(events.map(loggedEvent));
  return { json, inline: Buffer.byteLength(json) < INLINE_NOTIFY_BYTES };
}

function loggedEvent(event: NewChatEvent): { type: string; payload: Record<string, unknown> } {
  return { type: event.type, payload: { type: event.type, ...event.payload } };
}

/**
 * Appends events in order and returns the sequence number of the last one (0 if none).
 * One statement: the sequence allocation, the inserts and the NOTIFY commit together even
 * outside a transaction, and cost a single round trip (the first token waits on it).
 * `watch`: a watch-feed event (see watch-events.ts) appended by the same statement, for the
 * write a send's first token waits on; callers pass it only as their transaction's last write,
 * since it locks the owner's sequence row until commit.
 */
export async function appendChatEvents(db: Queryable, chatId: string, events: NewChatEvent[], watch?: WatchAppend): Promise<number> {
  if (events.length === 0) return 0;
  const { json: payloads, inline } = loggedEvents(events);
  const watchSql = watchAppendSql({ owner: 6, chat: 1, kind: 7, payload: 8, channel: 9 });
  const watched =
    watch === undefined
      ? { ctes: '', select: '', parameters: [] }
      : { ctes: `, ${watchSql.ctes}`, select: `, ${watchSql.notify} AS watch_notified`, parameters: [watch.ownerId, watch.kind, watch.payload, WATCH_EVENTS_CHANNEL] };
  const { rows } = await db.query<{ last_seq: number | null }>(
    prepared(
      watch === undefined ? 'append-chat-events' : 'append-chat-events-and-watch',
      `WITH allocated AS (
         UPDATE chats SET event_seq = event_seq + $2 WHERE id = $1 RETURNING event_seq
       ), inserted AS (
         INSERT INTO chat_events (chat_id, seq, type, payload)
         SELECT $1, allocated.event_seq - $2 + ordinality, event->>'type', event->'payload'
         FROM allocated, jsonb_array_elements($3::jsonb) WITH ORDINALITY AS events(event, ordinality)
         RETURNING seq
       )${watched.ctes}
       SELECT max(seq) AS last_seq, pg_notify($4, $1 || ':' || max(seq) || CASE WHEN $5::boolean THEN ':' || $3::jsonb::text ELSE '' END)${watched.select} FROM inserted`,
      [chatId, events.length, payloads, CHAT_EVENTS_CHANNEL, inline, ...watched.parameters],
    ),
  );
  const last = rows[0]?.last_seq;
  if (last === null || last === undefined) throw new Error(`chat ${chatId} does not exist`);
  return last;
}

/**
 * A streamed part's origin, for the stream fence (migration 0015): parts of an attempt older than
 * the newest one the chat announced (`advanceStreamFence`), or of a turn the chat has moved
 * past, are dropped.
 */
export interface StreamFence {
  turn: number;
  step: number;
  attempt: number;
}

/** SQL deciding whether `fence` (an int[] expression, null for unfenced parts) may still write to chat row `chat`. */
function admittedSql(fence: string, chat: string): string {
  return `((${fence}) IS NULL OR ((${fence})[1] >= ${chat}.turn_count AND (${fence}) >= ${chat}.stream_fence))`;
}

/** Raised by `appendFencedChatEvents` when the fence refused the events: they belong to a superseded attempt. */
export class StreamFencedError extends Error {
  override readonly name = 'StreamFencedError';
}

/** Announces a newer attempt of a model step: from now on the chat's older attempts write no parts. */
export async function advanceStreamFence(db: Queryable, chatId: string, fence: StreamFence): Promise<void> {
  await db.query('UPDATE chats SET stream_fence = greatest(stream_fence, $2::int[]) WHERE id = $1', [chatId, [fence.turn, fence.step, fence.attempt]]);
}

/** Appends the events announcing attempt `fence` of a step (a `retry`) and raises the fence to it, together. */
export async function announceAttempt(pool: Pool, chatId: string, fence: StreamFence, events: NewChatEvent[]): Promise<void> {
  await withTransaction(pool, async (client) => {
    await advanceStreamFence(client, chatId, fence);
    await appendChatEvents(client, chatId, events);
  });
}

/**
 * Appends events for many chats in one statement (one round trip and one commit for all of
 * them), as the worker's stream writer does with the parts of every chat streaming at once; at
 * most one entry per chat. Chat rows are locked in id order with SKIP LOCKED, so the statement
 * never waits behind a chat transaction in progress (nor deadlocks with another batch): chats
 * it could not lock, or that no longer exist, come back in `skipped` with nothing written for
 * them. An entry the fence refused is neither written nor skipped: its parts are dropped.
 */
export async function appendChatEventsForChats(
  db: Queryable,
  batches: Array<{ chatId: string; events: NewChatEvent[]; fence?: StreamFence }>,
): Promise<{ skipped: string[] }> {
  const input = batches
    .filter((batch) => batch.events.length > 0)
    .map((batch) => {
      const events = batch.events.map(loggedEvent);
      const fence = batch.fence === undefined ? null : [batch.fence.turn, batch.fence.step, batch.fence.attempt];
      return { chat_id: batch.chatId, events, inline: Buffer.byteLength(JSON.stringify(events)) < INLINE_NOTIFY_BYTES, fence };
    });
  if (input.length === 0) return { skipped: [] };
  const { rows } = await db.query<{ id: string }>(
    prepared(
      'append-chat-events-for-chats-behind-fence',
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(chat_id uuid, events jsonb, inline boolean, fence integer[])
       ), locked AS (
         SELECT c.id, c.turn_count, c.stream_fence FROM chats c WHERE c.id IN (SELECT chat_id FROM input) ORDER BY c.id FOR UPDATE SKIP LOCKED
       ), admitted AS (
         SELECT input.* FROM input JOIN locked ON locked.id = input.chat_id WHERE ${admittedSql('input.fence', 'locked')}
       ), allocated AS (
         UPDATE chats c SET event_seq = c.event_seq + jsonb_array_length(admitted.events)
         FROM admitted WHERE c.id = admitted.chat_id
         RETURNING c.id, c.event_seq AS last_seq, admitted.events, admitted.inline
       ), inserted AS (
         INSERT INTO chat_events (chat_id, seq, type, payload)
         SELECT a.id, a.last_seq - jsonb_array_length(a.events) + e.ordinality, e.event->>'type', e.event->'payload'
         FROM allocated a, jsonb_array_elements(a.events) WITH ORDINALITY AS e(event, ordinality)
       )
       SELECT a.id, pg_notify($2, a.id || ':' || a.last_seq || CASE WHEN a.inline THEN ':' || a.events::text ELSE '' END) FROM allocated a
       UNION ALL
       SELECT locked.id, NULL FROM locked WHERE NOT EXISTS (SELECT 1 FROM admitted WHERE admitted.chat_id = locked.id)`,
      [JSON.stringify(input), CHAT_EVENTS_CHANNEL],
    ),
  );
  // Written and fenced entries both come back; the rest were not locked.
  const handled = new Set(rows.map((row) => row.id));
  return { skipped: input.map((entry) => entry.chat_id).filter((chatId) => !handled.has(chatId)) };
}

/**
 * `appendChatEvents` for one chat's streamed parts, behind the stream fence: waits for the
 * chat's lock, then writes, or throws `StreamFencedError` if the parts' attempt was superseded.
 */
export async function appendFencedChatEvents(pool: Pool, chatId: string, events: NewChatEvent[], fence: StreamFence | undefined): Promise<void> {
  if (fence === undefined) {
    await appendChatEvents(pool, chatId, events);
    return;
  }
  await withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ admitted: boolean }>(`SELECT ${admittedSql('$2::int[]', 'chats')} AS admitted FROM chats WHERE id = $1 FOR UPDATE`, [
      chatId,
      [fence.turn, fence.step, fence.attempt],
    ]);
    if (rows[0] === undefined) throw new Error(`chat ${chatId} does not exist`);
    if (!rows[0].admitted) throw new StreamFencedError(`parts of turn ${fence.turn} step ${fence.step} attempt ${fence.attempt} come from a superseded attempt`);
    await appendChatEvents(client, chatId, events);
  });
}

export interface StoredChatEvent {
  seq: number;
  type: string;
  payload: Record<string, unknown>;
}

/** Parses a NOTIFY payload: `<key>:<last seq>` optionally followed by `:<JSON array of the events>`. */
export function parseEventNotification(payload: string): { key: string; lastSeq: number; events?: StoredChatEvent[] } | undefined {
  const first = payload.indexOf(':');
  if (first <= 0) return undefined;
  const second = payload.indexOf(':', first + 1);
  const key = payload.slice(0, first);
  const lastSeq = Number(second < 0 ? payload.slice(first + 1) : payload.slice(first + 1, second));
  if (!Number.isSafeInteger(lastSeq)) return undefined;
  if (second < 0) return { key, lastSeq };
  try {
    const inline = JSON.parse(payload.slice(second + 1)) as Array<{ type: string; payload: Record<string, unknown> }>;
    const firstSeq = lastSeq - inline.length + 1;
    return { key, lastSeq, events: inline.map((event, index) => ({ seq: firstSeq + index, type: event.type, payload: event.payload })) };
  } catch {
    return { key, lastSeq };
  }
}

export async function readChatEvents(db: Queryable, chatId: string, afterSeq: number, limit = 1000): Promise<StoredChatEvent[]> {
  const { rows } = await db.query<StoredChatEvent>(
    'SELECT seq, type, payload FROM chat_events WHERE chat_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
    [chatId, afterSeq, limit],
  );
  return rows;
}

/** Whether a `retry` event announcing `attempt` was logged for the step in progress. */
export async function hasRetryEventForAttempt(db: Queryable, chatId: string, attempt: number): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM chat_events
     WHERE chat_id = $1 AND type = 'retry' AND (payload->>'attempt')::int = $2
       AND seq > (SELECT coalesce(max(seq), 0) FROM chat_events WHERE chat_id = $1 AND type IN ('message', 'history_reset'))
     LIMIT 1`,
    [chatId, attempt],
  );
  return rows.length > 0;
}
