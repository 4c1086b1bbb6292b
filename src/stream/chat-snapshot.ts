/**
 * The snapshot a subscriber without a cursor receives first: the chat's state as of one event
 * sequence number `seq`, read in a single repeatable-read transaction so every part agrees.
 * Order: status, retry (only while backing off), the parts of the step in progress (not a
 * failed attempt's), the messages, and the queue when it is not empty. Live events continue
 * after `seq`, so a message committed while the snapshot loads arrives exactly once.
 */
import { STEP_BOUNDARY_EVENTS } from '../domain/stream-event.js';
import { chatMessageFromRow, queuedMessageFromRow, type MessageRow, type QueuedRow } from '../db/chat-rows.js';
import { type Pool } from '../db/pool.js';

export interface SnapshotEvent {
  type: string;
  payload: Record<string, unknown>;
}

export interface ChatSnapshot {
  seq: number;
  events: SnapshotEvent[];
}

export async function loadChatSnapshot(pool: Pool, chatId: string): Promise<ChatSnapshot> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const chat = await client.query<{ status: string; event_seq: number }>('SELECT status, event_seq FROM chats WHERE id = $1', [chatId]);
    const row = chat.rows[0];
    if (row === undefined) throw new Error(`chat ${chatId} does not exist`);
    const seq = row.event_seq;
    const boundary = await client.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM chat_events WHERE chat_id = $1 AND seq <= $2 AND type = ANY($3)', [
      chatId,
      seq,
      STEP_BOUNDARY_EVENTS,
    ]);
    const boundarySeq = boundary.rows[0]?.seq ?? 0;
    // One connection runs one query at a time: these are sequential on purpose.
    const lastBoundary = await client.query<{ type: string; payload: Record<string, unknown> }>('SELECT type, payload FROM chat_events WHERE chat_id = $1 AND seq = $2', [chatId, boundarySeq]);
    const parts = await client.query<{ payload: Record<string, unknown> }>(
      `SELECT payload FROM chat_events WHERE chat_id = $1 AND seq > $2 AND seq <= $3 AND type = 'message_part' ORDER BY seq`,
      [chatId, boundarySeq, seq],
    );
    const messages = await client.query<MessageRow>(`SELECT * FROM chat_messages WHERE chat_id = $1 AND NOT deleted AND visibility <> 'model' ORDER BY id`, [chatId]);
    const queue = await client.query<QueuedRow>(`SELECT * FROM chat_queued_messages WHERE chat_id = $1 AND state = 'queued' ORDER BY position, id`, [chatId]);
    await client.query('COMMIT');
    const events: SnapshotEvent[] = [{ type: 'status', payload: { type: 'status', status: row.status } }];
    const retry = lastBoundary.rows[0];
    // Backing off: the latest boundary is a retry and nothing has streamed since.
    if (retry !== undefined && retry.type === 'retry' && parts.rows.length === 0 && row.status === 'running') events.push({ type: 'retry', payload: retry.payload });
    for (const part of parts.rows) events.push({ type: 'message_part', payload: part.payload });
    for (const message of messages.rows) events.push({ type: 'message', payload: { type: 'message', message: chatMessageFromRow(message) } });
    if (queue.rows.length > 0) events.push({ type: 'queue_update', payload: { type: 'queue_update', queued_messages: queue.rows.map(queuedMessageFromRow) } });
    return { seq, events };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
