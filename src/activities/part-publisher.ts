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
 * that lock without holding up the others.
 */
import { appendChatEvents, appendChatEventsForChats, type NewChatEvent } from '../db/chat-events.js';
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

/** Hands out each chat's publisher: a `StreamWriter`, or one on its own thread (`ThreadedStreamWriter`). */
export interface PartPublisherFactory {
  publisherFor(chatId: string): PartPublisher;
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
  pending: MessagePartEvent[];
  writing: boolean;
  failure?: unknown;
  idle: Array<() => void>;
}

export class StreamWriter implements PartPublisherFactory {
  private readonly chats = new Map<string, ChatStream>();
  private batchesInFlight = 0;

  constructor(private readonly pool: Pool) {}

  publisherFor(chatId: string): PartPublisher {
    return {
      publish: (event) => this.publish(chatId, event),
      flush: () => this.flush(chatId),
    };
  }

  private publish(chatId: string, event: MessagePartEvent): void {
    let chat = this.chats.get(chatId);
    if (chat === undefined) {
      chat = { pending: [], writing: false, idle: [] };
      this.chats.set(chatId, chat);
    }
    const last = chat.pending[chat.pending.length - 1];
    const mergeable = last !== undefined && last.part.type === event.part.type && (event.part.type === 'text' || event.part.type === 'reasoning');
    if (mergeable) last.part = { ...last.part, text: String(last.part.text) + String(event.part.text) };
    else chat.pending.push({ role: event.role, part: { ...event.part } });
    this.startBatches();
  }

  private async flush(chatId: string): Promise<void> {
    const chat = this.chats.get(chatId);
    if (chat === undefined) return;
    if (chat.writing || (chat.pending.length > 0 && chat.failure === undefined)) {
      await new Promise<void>((resolve) => chat.idle.push(resolve));
    }
    const failure = chat.failure;
    // Forget an idle chat, so the map only holds live streams; and a failed one, whose activity
    // fails now, so its retry starts clean (its unwritten parts are the failed attempt's).
    if (failure !== undefined || (!chat.writing && chat.pending.length === 0)) this.chats.delete(chatId);
    if (failure !== undefined) throw failure;
  }

  private startBatches(): void {
    while (this.batchesInFlight < CONCURRENT_BATCHES) {
      const ready = [...this.chats.entries()].filter(([, chat]) => !chat.writing && chat.pending.length > 0 && chat.failure === undefined).slice(0, MAX_CHATS_PER_BATCH);
      if (ready.length === 0) return;
      const batch = ready.map(([chatId, chat]) => {
        const events: NewChatEvent[] = chat.pending.map((event) => ({ type: 'message_part', payload: { ...event } }));
        chat.pending = [];
        chat.writing = true;
        return { chatId, events };
      });
      this.batchesInFlight++;
      void this.writeBatch(batch).finally(() => {
        this.batchesInFlight--;
        this.startBatches();
      });
    }
  }

  private async writeBatch(batch: Array<{ chatId: string; events: NewChatEvent[] }>): Promise<void> {
    let alone = batch;
    try {
      const { skipped } = await appendChatEventsForChats(this.pool, batch);
      const skippedIds = new Set(skipped);
      for (const entry of batch) if (!skippedIds.has(entry.chatId)) this.settle(entry.chatId);
      alone = batch.filter((entry) => skippedIds.has(entry.chatId));
    } catch {
      // The statement failed as a whole (a lost connection, say): each chat tries on its own,
      // so one chat's failure stays that chat's.
    }
    await Promise.all(
      alone.map(async (entry) => {
        try {
          await appendChatEvents(this.pool, entry.chatId, entry.events);
          this.settle(entry.chatId);
        } catch (error) {
          this.settle(entry.chatId, error);
        }
      }),
    );
  }

  private settle(chatId: string, failure?: unknown): void {
    const chat = this.chats.get(chatId);
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
