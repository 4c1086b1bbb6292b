import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readChatEvents } from '../db/chat-events.js';
import { ChatStreamEvent } from '../domain/stream-event.js';
import { apiClient, type ApiClient, waitFor } from '../../test/support/http.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { createChat, listMessages, script, textOf, waitForFirstDelta, waitForIdle } from '../../test/support/chat-helpers.js';
import { openSse, type SseEvent } from '../../test/support/sse.js';
import { spawnWorkerProcess, type WorkerProcess } from '../../test/support/worker-process-control.js';

const API_PROCESS = fileURLToPath(new URL('../../test/support/api-process.ts', import.meta.url));

/**
 * Text deltas of the assistant step that `message` commits, counting only those after the last
 * retry (and after any earlier assistant step). A snapshot lists the step's parts before the
 * chat's messages, so other messages do not reset it.
 */
function stepText(events: SseEvent[], assistantMessageId: number): string {
  const end = events.findIndex((event) => event.event === 'message' && event.data.message.id === assistantMessageId);
  let text = '';
  for (const event of events.slice(0, end)) {
    if (event.event === 'retry' || (event.event === 'message' && event.data.message.role === 'assistant')) text = '';
    if (event.event === 'message_part' && event.data.part.type === 'text') text += event.data.part.text;
  }
  return text;
}

function assistantMessage(events: SseEvent[]): any {
  return events.find((event) => event.event === 'message' && event.data.message.role === 'assistant')?.data.message;
}

describe('GET /api/v1/chats/:id/stream', () => {
  let harness: Harness;
  let alice: ApiClient;

  beforeAll(async () => {
    harness = await startHarness();
    alice = apiClient(harness.apiUrl, harness.alice.key);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  const streamUrl = (chatId: string, query = '') => `${harness.apiUrl}/api/v1/chats/${chatId}/stream${query}`;

  it('sends a snapshot mid-turn, then live events; the deltas rebuild the committed message', async () => {
    const text = 'a reply streamed in many small pieces for the snapshot test';
    const chat = await createChat(alice, { content: script({ steps: [{ text, chunks: 30, delayMs: 60 }] }) });
    await waitForFirstDelta(harness.pool, chat.id);
    const stream = await openSse(streamUrl(chat.id), harness.alice.key);
    await stream.waitUntil((events) => assistantMessage(events) !== undefined, 'the assistant message');
    stream.close();
    const events = stream.events;
    expect(events[0]).toMatchObject({ event: 'status', data: { type: 'status', status: 'running' } });
    const firstLive = events.findIndex((event) => event.id !== undefined);
    // Snapshot events carry no id except the last; live events carry strictly increasing ids.
    expect(events.slice(0, firstLive).every((event) => event.id === undefined)).toBe(true);
    const ids = events.slice(firstLive).map((event) => event.id!);
    expect(ids.every((id, index) => index === 0 || id > ids[index - 1]!)).toBe(true);
    const message = assistantMessage(events);
    expect(textOf(message)).toBe(text);
    expect(stepText(events, message.id)).toBe(text);
    for (const event of events) expect(ChatStreamEvent.safeParse(event.data).success, JSON.stringify(event.data)).toBe(true);
  });

  it('delivers every event after Last-Event-ID exactly once, in order, across reconnects', async () => {
    const chat = await createChat(alice, { content: script({ steps: [{ text: 'resume me across several reconnects', chunks: 24, delayMs: 40 }] }) });
    const seen: SseEvent[] = [];
    let cursor = 0;
    for (let round = 0; round < 20; round++) {
      const stream = await openSse(streamUrl(chat.id), harness.alice.key, { 'last-event-id': String(cursor) });
      await stream.waitUntil((events) => events.length >= 3 || assistantMessage([...seen, ...events]) !== undefined, 'a few events', 10_000);
      stream.close();
      await stream.closed;
      seen.push(...stream.events);
      cursor = stream.lastEventId() ?? cursor;
      if (assistantMessage(seen) !== undefined) break;
    }
    await waitForIdle(alice, chat.id);
    const logged = await readChatEvents(harness.pool, chat.id, 0);
    const assistant = assistantMessage(seen);
    expect(assistant).toBeDefined();
    const upToAssistant = logged.filter((event) => event.seq <= seen[seen.length - 1]!.id!);
    expect(seen.map((event) => event.id)).toEqual(upToAssistant.map((event) => event.seq));
  });

  it('withdraws a failed attempt: live clients get retry then only the new parts; late joiners see status and retry only', async () => {
    const text = 'the second attempt says this';
    const chat = await createChat(alice, { content: script({ steps: [{ text, chunks: 10, delayMs: 50, failAttempts: 1, failAfterChunks: 4 }] }) });
    const live = await openSse(streamUrl(chat.id, '?after=0'), harness.alice.key);
    await live.waitUntil((events) => events.some((event) => event.event === 'retry'), 'the retry event');
    // During the one-second backoff a new subscriber sees no parts of the failed attempt.
    const late = await openSse(streamUrl(chat.id), harness.alice.key);
    await late.waitUntil((events) => events.some((event) => event.id !== undefined), 'the end of the snapshot');
    const snapshot = late.events.slice(0, late.events.findIndex((event) => event.id !== undefined) + 1);
    expect(snapshot.map((event) => event.event)).toEqual(['status', 'retry', 'message']);
    expect(snapshot[1]!.data).toMatchObject({ type: 'retry', attempt: 2, delay_ms: 1000, kind: 'overloaded', status_code: 529 });
    expect(Date.parse(snapshot[1]!.data.retrying_at)).toBeGreaterThan(Date.now() - 5_000);
    await live.waitUntil((events) => assistantMessage(events) !== undefined, 'the assistant message');
    await late.waitUntil((events) => assistantMessage(events) !== undefined, 'the assistant message (late)');
    live.close();
    late.close();
    const message = assistantMessage(live.events);
    expect(textOf(message)).toBe(text);
    const retryAt = live.events.findIndex((event) => event.event === 'retry');
    expect(live.events.slice(0, retryAt).some((event) => event.event === 'message_part')).toBe(true);
    expect(stepText(live.events, message.id)).toBe(text);
    expect(stepText(late.events, message.id)).toBe(text);
  });

  it('watches the caller’s chats: created, status, title and archive changes, resumable, nobody else’s', async () => {
    const watch = await openSse(`${harness.apiUrl}/api/v1/chats/watch`, harness.alice.key);
    const bobWatch = await openSse(`${harness.apiUrl}/api/v1/chats/watch`, harness.bob.key);
    const chat = await createChat(alice, { content: 'watch this', model_config_id: harness.echoModelId });
    await watch.waitUntil((events) => events.some((event) => event.event === 'status_change' && event.data.chat.id === chat.id && event.data.chat.status === 'waiting'), 'the chat to be seen waiting');
    const cursor = watch.lastEventId()!;
    watch.close();
    await alice.patch(`/api/v1/chats/${chat.id}`, { title: 'Renamed' });
    await alice.patch(`/api/v1/chats/${chat.id}`, { archived: true });
    const resumed = await openSse(`${harness.apiUrl}/api/v1/chats/watch?after=${cursor}`, harness.alice.key);
    await resumed.waitUntil((events) => events.some((event) => event.event === 'archive_change'), 'the archive change');
    resumed.close();
    // Turn summaries (`summary_change`) arrive asynchronously after a turn; this test is about the others.
    const mine = watch.events.filter((event) => event.data.chat.id === chat.id && event.event !== 'summary_change').map((event) => [event.event, event.data.chat.status]);
    expect(mine).toEqual([
      ['created', 'running'],
      ['status_change', 'waiting'],
    ]);
    const changes = resumed.events.filter((event) => event.event !== 'summary_change');
    expect(changes.map((event) => event.event)).toEqual(['title_change', 'archive_change']);
    expect(changes[0]!.data.chat.title).toBe('Renamed');
    expect(changes[1]!.data.chat.archived).toBe(true);
    expect(resumed.events[0]!.id).toBe(cursor + 1);
    bobWatch.close();
    expect(bobWatch.events.filter((event) => event.data.chat.id === chat.id)).toEqual([]);
  });

  it('never lets a subscriber that stops reading stall the turn or other subscribers, and catches it up exactly', async () => {
    const chat = await createChat(alice, { content: script({ steps: [{ text: 'x'.repeat(1024), repeat: 4096, chunks: 256, delayMs: 2 }] }) });
    // A subscriber that reads nothing until the turn is over.
    const slowResponse = await new Promise<IncomingMessage>((resolve, reject) => {
      const slowRequest = httpGet(streamUrl(chat.id, '?after=0'), { headers: { authorization: `Bearer ${harness.alice.key}` } }, resolve);
      slowRequest.on('error', reject);
    });
    slowResponse.pause();
    const fast = await openSse(streamUrl(chat.id, '?after=0'), harness.alice.key);
    await fast.waitUntil((events) => assistantMessage(events) !== undefined, 'the fast subscriber to get the whole turn', 60_000);
    fast.close();
    await waitForIdle(alice, chat.id);
    // Now the slow one reads: it gets every event exactly once, in order.
    let body = '';
    slowResponse.setEncoding('utf8');
    slowResponse.on('data', (chunk: string) => (body += chunk));
    slowResponse.resume();
    const logged = await readChatEvents(harness.pool, chat.id, 0, 100_000);
    await waitFor(async () => (body.includes(`id: ${logged[logged.length - 1]!.seq}\n`) ? true : undefined), 'the slow subscriber to catch up', 30_000);
    slowResponse.destroy();
    const ids = [...body.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
    expect(ids).toEqual(logged.map((event) => event.seq));
  });

  it('answers 404 for another user’s chat and 400 for a bad cursor', async () => {
    const chat = await createChat(alice, { content: 'mine', model_config_id: harness.echoModelId });
    const bob = await fetch(streamUrl(chat.id), { headers: { authorization: `Bearer ${harness.bob.key}` } });
    expect(bob.status).toBe(404);
    const bad = await fetch(streamUrl(chat.id, '?after=banana'), { headers: { authorization: `Bearer ${harness.alice.key}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toBe('Invalid stream cursor.');
  });

  it('keeps idle connections alive with comments, and a client leaving never stops the turn', async () => {
    const chat = await createChat(alice, { content: script({ steps: [{ text: 'finishes without anyone watching', chunks: 10, delayMs: 50 }] }) });
    const stream = await openSse(streamUrl(chat.id), harness.alice.key);
    stream.close();
    const idle = await waitForIdle(alice, chat.id);
    expect(idle.status).toBe('waiting');
    const { messages } = await listMessages(alice, chat.id);
    expect(textOf(messages[1])).toBe('finishes without anyone watching');
    const quiet = await openSse(streamUrl(chat.id), harness.alice.key);
    await quiet.waitUntil(() => quiet.comments >= 2, 'two keep-alive comments', 5_000);
    quiet.close();
  });

});

describe('the stream across processes: two API processes, two worker processes', () => {
  let harness: Harness;
  let alice: ApiClient;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    harness = await startHarness({ startWorker: false });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'chatd-stream-'));
    workers.push(await spawnWorkerProcess(harness, path.join(scratch, 'tools-a.log')), await spawnWorkerProcess(harness, path.join(scratch, 'tools-b.log')));
  });

  afterAll(async () => {
    for (const worker of workers) await worker.kill();
    await harness?.stop();
  });

  const streamUrl = (chatId: string, query = '') => `${harness.apiUrl}/api/v1/chats/${chatId}/stream${query}`;

  it('reconstructs a turn exactly after the API process it streamed from is killed mid-turn', async () => {
    const other = await spawnApiProcess(harness);
    try {
      const text = 'this turn outlives the API process its first client watched it through';
      const chat = await createChat(alice, { content: script({ steps: [{ text, chunks: 40, delayMs: 50 }] }) });
      const first = await openSse(`${other.url}/api/v1/chats/${chat.id}/stream`, harness.alice.key);
      await first.waitUntil((events) => events.filter((event) => event.event === 'message_part').length >= 5, 'some parts through the other API process');
      other.child.kill('SIGKILL');
      await first.closed;
      const cursor = first.lastEventId();
      expect(cursor).toBeDefined();
      const second = await openSse(streamUrl(chat.id), harness.alice.key, { 'last-event-id': String(cursor) });
      await second.waitUntil((events) => assistantMessage(events) !== undefined, 'the assistant message after reconnecting');
      second.close();
      const events = [...first.events, ...second.events];
      const message = assistantMessage(events);
      const { messages } = await listMessages(alice, chat.id);
      expect(message).toEqual(messages[1]);
      expect(stepText(events, message.id)).toBe(text);
      const ids = events.filter((event) => event.id !== undefined).map((event) => event.id!);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      if (other.child.exitCode === null) other.child.kill('SIGKILL');
    }
  });
});

async function spawnApiProcess(harness: Harness): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', API_PROCESS], {
    env: { ...process.env, DATABASE_URL: harness.databaseUrl, TEMPORAL_ADDRESS: inject('temporalAddress'), TASK_QUEUE: harness.taskQueue },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`API process did not start:\n${output}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /api ready (\S+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
  return { child, url };
}
