import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceStreamFence, CHAT_EVENTS_CHANNEL, parseEventNotification, readChatEvents } from '../db/chat-events.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { ensureUser } from '../db/users.js';
import { createTestDatabase } from '../../test/support/harness.js';
import { StreamWriter, type PartPublisherFactory } from './part-publisher.js';
import { ThreadedStreamWriter } from './threaded-stream-writer.js';

let pool: Pool;
let databaseUrl: string;
let ownerId: string;

async function newChat(): Promise<string> {
  const id = randomUUID();
  await pool.query(`INSERT INTO chats (id, owner_id, status, root_chat_id) VALUES ($1, $2, 'running', $1)`, [id, ownerId]);
  return id;
}

async function textOf(chatId: string): Promise<string> {
  const events = await readChatEvents(pool, chatId, 0);
  return events.map((event) => String((event.payload.part as { text?: string }).text ?? '')).join('');
}

const text = (value: string) => ({ role: 'assistant' as const, part: { type: 'text', text: value } });

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  pool = createPool(databaseUrl, { max: 6 });
  await migrate(pool);
  ownerId = (await ensureUser(pool, 'writer-test', false)).id;
});

const threadedWriters: ThreadedStreamWriter[] = [];

afterAll(async () => {
  await Promise.all(threadedWriters.map((writer) => writer.close()));
  await pool.end();
});

const implementations: Array<[string, () => PartPublisherFactory]> = [
  ['in the calling thread', () => new StreamWriter(pool)],
  [
    'on a thread of its own',
    () => {
      const writer = new ThreadedStreamWriter(databaseUrl);
      threadedWriters.push(writer);
      return writer;
    },
  ],
];

describe.each(implementations)('the stream writer %s', (_name, createWriter) => {
  it('writes the parts of many chats in order, each chat gap-free from seq 1', async () => {
    const writer = createWriter();
    const chats = await Promise.all(Array.from({ length: 30 }, newChat));
    const publishers = chats.map((chatId) => writer.publisherFor(chatId));
    for (let index = 0; index < 20; index++) {
      for (const publisher of publishers) publisher.publish(text(`${index},`));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(publishers.map((publisher) => publisher.flush()));
    const expected = Array.from({ length: 20 }, (_, index) => `${index},`).join('');
    for (const chatId of chats) {
      expect(await textOf(chatId)).toBe(expected);
      const seqs = (await readChatEvents(pool, chatId, 0)).map((event) => event.seq);
      expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    }
  });

  it('announces each chat with its own notification carrying that chat’s events', async () => {
    const writer = createWriter();
    const [first, second] = [await newChat(), await newChat()];
    const listener = new pg.Client({ connectionString: databaseUrl });
    await listener.connect();
    const received: string[] = [];
    listener.on('notification', (message) => received.push(message.payload ?? ''));
    await listener.query(`LISTEN ${CHAT_EVENTS_CHANNEL}`);
    try {
      writer.publisherFor(first).publish(text('one'));
      writer.publisherFor(second).publish(text('two'));
      await Promise.all([writer.publisherFor(first).flush(), writer.publisherFor(second).flush()]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const parsed = received.map(parseEventNotification);
      expect(parsed.find((entry) => entry?.key === first)?.events?.[0]?.payload).toMatchObject({ part: { text: 'one' } });
      expect(parsed.find((entry) => entry?.key === second)?.events?.[0]?.payload).toMatchObject({ part: { text: 'two' } });
    } finally {
      await listener.end();
    }
  });

  it('does not hold other chats behind a chat whose row a transaction has locked', async () => {
    const writer = createWriter();
    const [locked, free] = [await newChat(), await newChat()];
    const blocker = await pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM chats WHERE id = $1 FOR UPDATE', [locked]);
    try {
      writer.publisherFor(locked).publish(text('waits'));
      writer.publisherFor(free).publish(text('flows'));
      await writer.publisherFor(free).flush();
      expect(await textOf(free)).toBe('flows');
      expect(await textOf(locked)).toBe('');
    } finally {
      await blocker.query('COMMIT');
      blocker.release();
    }
    await writer.publisherFor(locked).flush();
    expect(await textOf(locked)).toBe('waits');
  });

  it('drops the parts of an attempt a newer one announced, and of a turn the chat has left', async () => {
    const writer = createWriter();
    const chatId = await newChat();
    await pool.query('UPDATE chats SET turn_count = 1 WHERE id = $1', [chatId]);
    const stalled = writer.publisherFor(chatId, { turn: 1, step: 1, attempt: 1 });
    stalled.publish(text('first attempt,'));
    await stalled.flush();
    await advanceStreamFence(pool, chatId, { turn: 1, step: 1, attempt: 2 });
    // The stalled attempt keeps streaming after its retry was announced: nothing of it is written.
    stalled.publish(text('stale,'));
    await stalled.flush();
    const retry = writer.publisherFor(chatId, { turn: 1, step: 1, attempt: 2 });
    retry.publish(text('retry,'));
    await retry.flush();
    const nextStep = writer.publisherFor(chatId, { turn: 1, step: 2, attempt: 1 });
    nextStep.publish(text('next step,'));
    await nextStep.flush();
    await pool.query('UPDATE chats SET turn_count = 2 WHERE id = $1', [chatId]);
    const oldTurn = writer.publisherFor(chatId, { turn: 1, step: 2, attempt: 1 });
    oldTurn.publish(text('old turn,'));
    await oldTurn.flush();
    const unfenced = writer.publisherFor(chatId);
    unfenced.publish(text('unfenced'));
    await unfenced.flush();
    expect(await textOf(chatId)).toBe('first attempt,retry,next step,unfenced');
  });

  it('drops a stale attempt’s parts that waited for the chat’s lock too', async () => {
    const writer = createWriter();
    const chatId = await newChat();
    const blocker = await pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM chats WHERE id = $1 FOR UPDATE', [chatId]);
    const stalled = writer.publisherFor(chatId, { turn: 0, step: 1, attempt: 1 });
    try {
      stalled.publish(text('stale'));
      // The write waits for the lock; meanwhile the chat's transaction announces attempt 2.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await advanceStreamFence(blocker, chatId, { turn: 0, step: 1, attempt: 2 });
    } finally {
      await blocker.query('COMMIT');
      blocker.release();
    }
    await stalled.flush();
    expect(await textOf(chatId)).toBe('');
  });

  it('fails only the chat whose write failed', async () => {
    const writer = createWriter();
    const missing = randomUUID();
    const present = await newChat();
    writer.publisherFor(missing).publish(text('lost'));
    writer.publisherFor(present).publish(text('kept'));
    await expect(writer.publisherFor(missing).flush()).rejects.toThrow(/does not exist/);
    await writer.publisherFor(present).flush();
    expect(await textOf(present)).toBe('kept');
    // A later attempt on the failed chat starts clean rather than inheriting the failure.
    await expect(writer.publisherFor(missing).flush()).resolves.toBeUndefined();
  });
});

describe('the stream writer on a thread of its own', () => {
  it('fails the flush of parts its thread lost, and writes later parts on a new thread', async () => {
    const writer = new ThreadedStreamWriter(databaseUrl);
    threadedWriters.push(writer);
    const chatId = await newChat();
    const publisher = writer.publisherFor(chatId);
    publisher.publish(text('kept,'));
    await publisher.flush();
    // The thread dies (as on a fatal error) with a part it may not have written.
    publisher.publish(text('maybe lost,'));
    await (writer as unknown as { thread: { worker: { terminate(): Promise<number> } } }).thread.worker.terminate();
    await expect(publisher.flush()).rejects.toThrow(/lost|stopped/);
    publisher.publish(text('after'));
    await publisher.flush();
    expect(await textOf(chatId)).toMatch(/^kept,(maybe lost,)?after$/);
  });

  it('lets a closed writer finish what it was given', async () => {
    const writer = new ThreadedStreamWriter(databaseUrl);
    const chatId = await newChat();
    writer.publisherFor(chatId).publish(text('written before close'));
    await writer.close();
    expect(await textOf(chatId)).toBe('written before close');
  });
});
