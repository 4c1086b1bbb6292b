import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/harness.js';
import { readChatEvents } from './chat-events.js';
import { chatFromRow, chatMessageFromRow, type ChatRow, type MessageRow } from './chat-rows.js';
import { createChatStore, type ChatStore } from './chat-store.js';
import { migrate } from './migrate.js';
import { createPool, type Pool } from './pool.js';
import { ensureUser } from './users.js';
import { currentWatchSeq, readWatchEvents } from './watch-events.js';

let pool: Pool;
let store: ChatStore;
let ownerId: string;
let modelConfigId: string;

const text = (value: string) => [{ type: 'text' as const, text: value }];

async function newChat(): Promise<string> {
  const chatId = randomUUID();
  await store.createChat({
    chatId,
    turn: 1,
    create: { ownerId, title: 'store test', content: text('first'), modelConfigId: null, systemPrompt: null, labels: {}, dynamicTools: [], clientMessageId: null },
  });
  return chatId;
}

async function chatRow(chatId: string): Promise<{ status: string; turn_count: number; queued_count: number }> {
  const { rows } = await pool.query('SELECT status, turn_count, queued_count FROM chats WHERE id = $1', [chatId]);
  return rows[0];
}

async function visibleUserTexts(chatId: string): Promise<string[]> {
  const { rows } = await pool.query(`SELECT content FROM chat_messages WHERE chat_id = $1 AND role = 'user' AND NOT deleted ORDER BY id`, [chatId]);
  return rows.map((row) => row.content.map((part: { text: string }) => part.text).join(''));
}

async function queuedStates(chatId: string): Promise<Array<{ id: number; state: string }>> {
  const { rows } = await pool.query('SELECT id, state FROM chat_queued_messages WHERE chat_id = $1 ORDER BY id', [chatId]);
  return rows;
}

const enqueue = (chatId: string, clientMessageId: string, queuedIds: number[]) =>
  store.enqueueMessage({ chatId, content: text(clientMessageId), modelConfigId: null, idempotencyKey: `client:${clientMessageId}`, position: queuedIds.length, queuedIds });

beforeAll(async () => {
  pool = createPool(await createTestDatabase(), { max: 4 });
  await migrate(pool);
  ownerId = (await ensureUser(pool, 'store-test', false)).id;
  modelConfigId = randomUUID();
  await pool.query(`INSERT INTO model_configs (id, provider, model, display_name, is_default) VALUES ($1, 'echo', 'echo', 'Echo', true)`, [modelConfigId]);
  store = createChatStore(pool);
});

afterAll(async () => {
  await pool.end();
});

describe('the chat store', () => {
  it('converges on the workflow when a discarded workflow task had already queued and promoted messages', async () => {
    // The order recorded when a lost speculative workflow task ran its local activities and
    // the workflow's rerun received the same sends in another order.
    const chatId = await newChat();
    const ghost = await enqueue(chatId, 'racer-0', []); // discarded run, turn 1 still running
    await store.setChatStatus({ chatId, status: 'waiting', turn: 1, queuedIds: [], lastError: null }); // the rerun settles turn 1
    expect(await queuedStates(chatId)).toEqual([{ id: ghost.queuedId, state: 'deleted' }]);
    expect((await chatRow(chatId)).queued_count).toBe(0);

    const racer9 = await enqueue(chatId, 'racer-9', []); // another discarded run
    const phantom = await store.promoteQueuedMessage({ chatId, queuedId: racer9.queuedId, turn: 2, queuedIds: [] });

    // The rerun: racer-4 finds the chat idle and starts turn 2; the others queue.
    const racer4 = await store.insertUserMessage({ chatId, turn: 2, content: text('racer-4'), modelConfigId: null });
    expect(racer4.messageId).not.toBe(phantom.messageId);
    const racer1 = await enqueue(chatId, 'racer-1', []);
    const racer0 = await enqueue(chatId, 'racer-0', [racer1.queuedId]);
    expect(racer0.queuedId).toBe(ghost.queuedId);
    const racer9Again = await enqueue(chatId, 'racer-9', [racer1.queuedId, racer0.queuedId]);
    expect(racer9Again.queuedId).toBe(racer9.queuedId);
    expect(await chatRow(chatId)).toMatchObject({ status: 'running', turn_count: 2, queued_count: 3 });

    await store.promoteQueuedMessage({ chatId, queuedId: racer1.queuedId, turn: 3, queuedIds: [racer0.queuedId, racer9.queuedId] });
    await store.promoteQueuedMessage({ chatId, queuedId: racer0.queuedId, turn: 4, queuedIds: [racer9.queuedId] });
    await store.promoteQueuedMessage({ chatId, queuedId: racer9.queuedId, turn: 5, queuedIds: [] });
    await store.setChatStatus({ chatId, status: 'waiting', turn: 5, queuedIds: [], lastError: null });

    expect(await visibleUserTexts(chatId)).toEqual(['first', 'racer-4', 'racer-1', 'racer-0', 'racer-9']);
    expect((await queuedStates(chatId)).map((row) => row.state)).toEqual(['promoted', 'promoted', 'promoted']);
    expect(await chatRow(chatId)).toEqual({ status: 'waiting', turn_count: 5, queued_count: 0 });
    // Subscribers that saw the discarded message are told to drop it.
    const events = await readChatEvents(pool, chatId, 0);
    expect(events.find((event) => event.type === 'history_reset')?.payload).toMatchObject({ from_message_id: phantom.messageId });
  });

  it('drops what a discarded run wrote past the workflow’s turn when the workflow settles', async () => {
    const chatId = await newChat();
    const queued = await store.enqueueMessage({ chatId, content: text('lost'), modelConfigId: null, idempotencyKey: `queue:${randomUUID()}`, position: 0, queuedIds: [] });
    await store.promoteQueuedMessage({ chatId, queuedId: queued.queuedId, turn: 2, queuedIds: [] });
    await store.setChatStatus({ chatId, status: 'waiting', turn: 1, queuedIds: [], lastError: null });
    expect(await visibleUserTexts(chatId)).toEqual(['first']);
    expect(await chatRow(chatId)).toEqual({ status: 'waiting', turn_count: 1, queued_count: 0 });
  });

  it('answers an activity retry with what the first attempt wrote, and logs nothing twice', async () => {
    const chatId = await newChat();
    await store.setChatStatus({ chatId, status: 'waiting', turn: 1, queuedIds: [], lastError: null });
    const send = { chatId, turn: 2, content: text('again'), modelConfigId: null };
    const first = await store.insertUserMessage(send);
    const eventsAfterFirst = (await readChatEvents(pool, chatId, 0)).length;
    expect(await store.insertUserMessage(send)).toEqual(first);
    expect((await readChatEvents(pool, chatId, 0)).length).toBe(eventsAfterFirst);
    const queued = await enqueue(chatId, 'retried', []);
    expect(await enqueue(chatId, 'retried', [])).toEqual(queued);
    const promotion = { chatId, queuedId: queued.queuedId, turn: 3, queuedIds: [] };
    const promoted = await store.promoteQueuedMessage(promotion);
    const eventsAfterPromotion = (await readChatEvents(pool, chatId, 0)).length;
    expect(await store.promoteQueuedMessage(promotion)).toEqual(promoted);
    expect((await readChatEvents(pool, chatId, 0)).length).toBe(eventsAfterPromotion);
    expect(await visibleUserTexts(chatId)).toEqual(['first', 'again', 'retried']);
    expect(await chatRow(chatId)).toEqual({ status: 'running', turn_count: 3, queued_count: 0 });
  });

  it('starts a plain send with its message, status and watch events, in the order subscribers need', async () => {
    const chatId = await newChat();
    await store.setChatStatus({ chatId, status: 'waiting', turn: 1, queuedIds: [], lastError: null });
    const eventsBefore = (await readChatEvents(pool, chatId, 0)).length;
    const watchBefore = await currentWatchSeq(pool, ownerId);
    const sent = await store.insertUserMessage({ chatId, turn: 2, content: text('plain'), modelConfigId: null });
    const events = (await readChatEvents(pool, chatId, 0)).slice(eventsBefore);
    expect(events.map((event) => event.type)).toEqual(['message', 'status']);
    // The statement builds the events from the locked row: they must be what the committed rows say.
    const message = (await pool.query<MessageRow>('SELECT * FROM chat_messages WHERE id = $1', [sent.messageId])).rows[0]!;
    expect(events[0]!.payload).toEqual({ type: 'message', message: chatMessageFromRow(message) });
    expect(events[1]!.payload).toMatchObject({ status: 'running' });
    const committed = (await pool.query<ChatRow>('SELECT * FROM chats WHERE id = $1', [chatId])).rows[0]!;
    const watch = await readWatchEvents(pool, ownerId, watchBefore, 10);
    expect(watch.map((event) => [event.type, (event.payload as { chat: unknown }).chat])).toEqual([['status_change', chatFromRow(committed)]]);
    expect(await chatRow(chatId)).toEqual({ status: 'running', turn_count: 2, queued_count: 0 });
  });

  it('keeps starting turns on a connection that prepared its statements before a migration added a column', async () => {
    // The turn start uses prepared statements; a column added under a running worker must not break them.
    const single = createPool(pool.options.connectionString!, { max: 1 });
    const singleStore = createChatStore(single);
    try {
      const chatId = await newChat();
      await singleStore.setChatStatus({ chatId, status: 'waiting', turn: 1, queuedIds: [], lastError: null });
      await singleStore.insertUserMessage({ chatId, turn: 2, content: text('before'), modelConfigId: null });
      await singleStore.setChatStatus({ chatId, status: 'waiting', turn: 2, queuedIds: [], lastError: null });
      await pool.query('ALTER TABLE chats ADD COLUMN added_by_a_later_migration integer');
      await pool.query('ALTER TABLE chat_messages ADD COLUMN added_by_a_later_migration integer');
      await singleStore.insertUserMessage({ chatId, turn: 3, content: text('after'), modelConfigId: null });
      expect(await visibleUserTexts(chatId)).toEqual(['first', 'before', 'after']);
    } finally {
      await pool.query('ALTER TABLE chats DROP COLUMN IF EXISTS added_by_a_later_migration');
      await pool.query('ALTER TABLE chat_messages DROP COLUMN IF EXISTS added_by_a_later_migration');
      await single.end();
    }
  });
});
