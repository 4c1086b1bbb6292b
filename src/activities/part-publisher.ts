/**
 * Publishes streamed message parts to the chats' event logs. One `StreamWriter` per worker
 * process serves every chat streaming on it, and batching adapts to load twice over:
 * - per chat: parts arriving while the chat's previous write is in flight are merged (deltas of
 *   the same kind concatenate) and go out together as soon as it finishes, so a lone token
 *   waits for nothing and a fast stream costs one write per round trip, not one per token;
 * - across chats: every chat with parts waiting goes into the same statement (one round trip
 *   and one commit for all of them), so a hundred streams cost a few statements at a time, not
 *   a hundred queued behind a connection pool.
 * A chat has at most one write in flight, which keeps its parts in order. A chat the batch
 * statement skipped (its row locked by a chat transaction) is written on its own, waiting for
 * that lock without holding up the others. A model step's parts carry its attempt (the stream
 * fence, see chat-events.ts): a superseded attempt's parts are dropped, and its flush succeeds,
 * since there is nothing left for it to deliver.
 */
import { appendChatEventsForChats, appendFencedChatEvents, StreamFencedError, type NewChatEvent, type StreamFence } from '../db/chat-events.js';
import { type Pool } from '../db/pool.js';

export interface MessagePartEvent {
  role: 'assistant' | 'tool';
  part: Record<string, unknown> & { type: string };
}

export interface PartPublisher {
  publish(event: MessagePartEvent): void;
  /** Resolves once everything published so far is in the log; rejects if a write failed. */
  flush(): Promise<void>;
}

/**
 * Hands out each chat's publisher: a `StreamWriter`, or one on its own thread
 * (`ThreadedStreamWriter`). A model step's publisher carries its attempt (`fence`): once a newer
 * attempt of the step is announced, or the chat moved to a later turn, its parts are dropped.
 */
export interface PartPublisherFactory {
  publisherFor(chatId: string, fence?: StreamFence): PartPublisher;
}

/** One stream of parts: a chat's, from one attempt (or unfenced). */
export function streamKey(chatId: string, fence: StreamFence | undefined): string {
  return fence === undefined ? chatId : `${chatId}:${fence.turn}:${fence.step}:${fence.attempt}`;
}

/** Batch statements in flight at once; each holds one connection. */
const CONCURRENT_BATCHES = 4;
/**
 * Bounds one statement's size; more chats than this go in another batch, in parallel. Smaller
 * batches finish sooner, and a chat's next token waits for its previous write: with 100 chats
 * streaming, batches of 25 four at a time cut p99 token latency from about 85 to 52 ms
 * (`BENCH_SCENARIOS=100x1 npm run bench:stream`) against one batch of all of them.
 */
const MAX_CHATS_PER_BATCH = 25;

interface ChatStream {
  chatId: string;
  fence: StreamFence | undefined;
  pending: MessagePartEvent[];
  writing: boolean;
  failure?: unknown;
  idle: Array<() => void>;
}

interface BatchEntry {
  key: string;
  chatId: string;
  fence: StreamFence | undefined;
  events: NewChatEvent[];
}

export class StreamWriter implements PartPublisherFactory {
  private readonly chats = new Map<string, ChatStream>();
  private batchesInFlight = 0;

  constructor(private readonly pool: Pool) {}

  publisherFor(chatId: string, fence?: StreamFence): PartPublisher {
    const key = streamKey(chatId, fence);
    return {
      publish: (event) => this.publish(key, chatId, fence, event),
      flush: () => this.flush(key),
    };
  }

  private publish(key: string, chatId: string, fence: StreamFence | undefined, event: MessagePartEvent): void {
    let chat = this.chats.get(key);
    if (chat === undefined) {
      chat = { chatId, fence, pending: [], writing: false, idle: [] };
      this.chats.set(key, chat);
    }
    const last = chat.pending[chat.pending.length - 1];
    const mergeable = last !== undefined && last.part.type === event.part.type && (event.part.type === 'text' || event.part.type === 'reasoning');
    if (mergeable) last.part = { ...last.part, text: String(last.part.text) + String(event.part.text) };
    else chat.pending.push({ role: event.role, part: { ...event.part } });
    this.startBatches();
  }

  private async flush(key: string): Promise<void> {
    const chat = this.chats.get(key);
    if (chat === undefined) return;
    if (chat.writing || (chat.pending.length > 0 && chat.failure === undefined)) {
      await new Promise<void>((resolve) => chat.idle.push(resolve));
    }
    const failure = chat.failure;
    // Forget an idle chat, so the map only holds live streams; and a failed one, whose activity
    // fails now, so its retry starts clean (its unwritten parts are the failed attempt's).
    if (failure !== undefined || (!chat.writing && chat.pending.length === 0)) this.chats.delete(key);
    if (failure !== undefined) throw failure;
  }

  private startBatches(): void {
    while (this.batchesInFlight < CONCURRENT_BATCHES) {
      // At most one stream of a chat per statement (the statement writes each chat once).
      const batch: BatchEntry[] = [];
      const chatsInBatch = new Set<string>();
      for (const [key, chat] of this.chats) {
        if (chat.writing || chat.pending.length === 0 || chat.failure !== undefined || chatsInBatch.has(chat.chatId)) continue;
        chatsInBatch.add(chat.chatId);
        batch.push({ key, chatId: chat.chatId, fence: chat.fence, events: chat.pending.map((event) => ({ type: 'message_part', payload: { ...event } })) });
        chat.pending = [];
        chat.writing = true;
        if (batch.length === MAX_CHATS_PER_BATCH) break;
      }
      if (batch.length === 0) return;
      this.batchesInFlight++;
      void this.writeBatch(batch).finally(() => {
        this.batchesInFlight--;
        this.startBatches();
      });
    }
  }

  private async writeBatch(batch: BatchEntry[]): Promise<void> {
    let alone = batch;
    try {
      const { skipped } = await appendChatEventsForChats(
        this.pool,
        batch.map((entry) => ({ chatId: entry.chatId, events: entry.events, ...(entry.fence === undefined ? {} : { fence: entry.fence }) })),
      );
      // Fenced entries are settled too: a superseded attempt's parts are dropped, not failed.
      const skippedIds = new Set(skipped);
      for (const entry of batch) if (!skippedIds.has(entry.chatId)) this.settle(entry.key);
      alone = batch.filter((entry) => skippedIds.has(entry.chatId));
    } catch {
      // The statement failed as a whole (a lost connection, say): each chat tries on its own,
      // so one chat's failure stays that chat's.
    }
    await Promise.all(
      alone.map(async (entry) => {
        try {
          await appendFencedChatEvents(this.pool, entry.chatId, entry.events, entry.fence);
          this.settle(entry.key);
        } catch (error) {
          this.settle(entry.key, error instanceof StreamFencedError ? undefined : error);
        }
      }),
    );
  }

  private settle(key: string, failure?: unknown): void {
    const chat = this.chats.get(key);
    if (chat === undefined) return;
    chat.writing = false;
    if (failure !== undefined) chat.failure ??= failure;
    if (chat.pending.length === 0 || chat.failure !== undefined) {
      const waiters = chat.idle;
      chat.idle = [];
      for (const resolve of waiters) resolve();
    }
  }
}
