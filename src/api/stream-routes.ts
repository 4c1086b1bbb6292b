/**
 * `GET /api/v1/chats/:chatId/stream`: the chat's events as Server-Sent Events.
 * With `Last-Event-ID` or `?after=<seq>` the client gets every event after that sequence
 * number, exactly once and in order. Without a cursor it first gets a snapshot (see
 * chat-snapshot.ts) whose events carry no `id` except the last, `id: <snapshot seq>`: a client
 * cut off mid-snapshot reconnects without a cursor and simply gets a fresh snapshot.
 * Disconnecting never affects the chat; only an interrupt stops a turn.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { createChatReads } from '../db/chat-reads.js';
import { type StoredChatEvent } from '../db/chat-events.js';
import { type Pool } from '../db/pool.js';
import { type Logger } from '../logger.js';
import { currentWatchSeq } from '../db/watch-events.js';
import { type EventHub } from '../stream/event-hub.js';
import { loadChatSnapshot } from '../stream/chat-snapshot.js';
import { currentUser } from './auth.js';
import { startEventStream } from './event-stream.js';
import { HttpError } from './http-error.js';

const DEFAULT_KEEP_ALIVE_MS = 15_000;
/** Past this much unsent data the subscriber pauses until the socket drains. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const Cursor = z.coerce.number().int().min(0);

function parseCursor(request: Request): number | undefined {
  const header = request.headers['last-event-id'];
  const raw = typeof header === 'string' && header !== '' ? header : typeof request.query.after === 'string' ? request.query.after : undefined;
  if (raw === undefined) return undefined;
  const parsed = Cursor.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, 'Invalid stream cursor.', 'Last-Event-ID and ?after must be an event id (a non-negative integer).');
  return parsed.data;
}

function frame(type: string, payload: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** Each logged event is serialised once, however many subscribers receive it. */
const frames = new WeakMap<StoredChatEvent, string>();
function eventFrame(event: StoredChatEvent): string {
  let text = frames.get(event);
  if (text === undefined) {
    text = frame(event.type, event.payload, event.seq);
    frames.set(event, text);
  }
  return text;
}

/** Opens an SSE response and relays a hub subscription into it, with back-pressure and keep-alives. */
function relay(request: Request, response: Response, hub: EventHub, key: string, after: number, keepAliveMs: number): void {
  const deliver = (events: StoredChatEvent[]): boolean => {
    response.write(events.map(eventFrame).join(''));
    return response.writableLength < MAX_BUFFERED_BYTES;
  };
  const subscription = hub.subscribe(key, after, deliver);
  response.on('drain', () => subscription.resume());
  // Comments keep idle connections open through proxies that close silent ones.
  const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), keepAliveMs);
  request.on('close', () => {
    clearInterval(keepAlive);
    subscription.close();
  });
}

export function createStreamRouter(dependencies: { pool: Pool; hubs: { chats: EventHub; watch: EventHub }; logger: Logger; keepAliveMs?: number }): Router {
  const router = Router();
  const reads = createChatReads(dependencies.pool);
  const keepAliveMs = dependencies.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;

  /**
   * The caller's watch feed: chat-level changes (created, status_change, title_change,
   * archive_change), each with the chat as it is after the change. Without a cursor it starts
   * at the present; with Last-Event-ID or ?after it resumes exactly where the client was.
   */
  router.get('/chats/watch', async (request: Request, response: Response) => {
    const user = currentUser(request);
    const after = parseCursor(request) ?? (await currentWatchSeq(dependencies.pool, user.id));
    startEventStream(response);
    response.write(': watching\n\n');
    relay(request, response, dependencies.hubs.watch, user.id, after, keepAliveMs);
  });

  router.get('/chats/:chatId/stream', async (request: Request, response: Response) => {
    const chatId = z.uuid().safeParse(request.params.chatId);
    if (!chatId.success) throw new HttpError(404, 'Chat not found.');
    const chat = await reads.getOwnedChat(chatId.data, currentUser(request).id);
    if (chat === undefined) throw new HttpError(404, 'Chat not found.');
    const cursor = parseCursor(request);

    startEventStream(response);

    let after = cursor;
    if (after === undefined) {
      const snapshot = await loadChatSnapshot(dependencies.pool, chat.id);
      const last = snapshot.events.length - 1;
      response.write(snapshot.events.map((event, index) => frame(event.type, event.payload, index === last ? snapshot.seq : undefined)).join(''));
      after = snapshot.seq;
    }

    relay(request, response, dependencies.hubs.chats, chat.id, after, keepAliveMs);
  });

  return router;
}
