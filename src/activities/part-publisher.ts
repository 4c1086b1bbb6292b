/**
 * Publishes a step's message parts to the chat's event log in small batches: one transaction
 * per flush instead of one per token, flushed every few milliseconds so the stream stays live.
 * The first part goes out at once (time to first token is what users feel). Deltas of the
 * same kind are merged within a batch; order is kept.
 */
import { appendChatEvents } from '../db/chat-events.js';
import { type Pool } from '../db/pool.js';

export interface MessagePartEvent {
  role: 'assistant' | 'tool';
  part: Record<string, unknown> & { type: string };
}

export interface PartPublisher {
  publish(event: MessagePartEvent): void;
  flush(): Promise<void>;
}

export function createPartPublisher(pool: Pool, chatId: string, flushIntervalMs = 20): PartPublisher {
  let pending: MessagePartEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let published = false;

  const write = (): Promise<void> => {
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return chain;
    chain = chain.then(() => appendChatEvents(pool, chatId, batch.map((event) => ({ type: 'message_part', payload: { ...event } }))).then(() => undefined));
    return chain;
  };

  return {
    publish(event) {
      const last = pending[pending.length - 1];
      const mergeable = last !== undefined && last.part.type === event.part.type && (event.part.type === 'text' || event.part.type === 'reasoning');
      if (mergeable) last.part = { ...last.part, text: String(last.part.text) + String(event.part.text) };
      else pending.push({ role: event.role, part: { ...event.part } });
      if (!published) {
        published = true;
        write().catch(() => undefined);
        return;
      }
      timer ??= setTimeout(() => {
        write().catch(() => undefined);
      }, flushIntervalMs);
    },
    async flush() {
      if (timer !== undefined) clearTimeout(timer);
      await write();
    },
  };
}
