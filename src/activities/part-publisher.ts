/**
 * Publishes a step's message parts to the chat's event log. Batching adapts to load: a part is
 * written at once when no write is in flight; parts arriving during a write are merged (deltas
 * of the same kind concatenate) and go out together as soon as it finishes. So a lone token
 * waits for nothing, and a fast stream costs one transaction per round trip, not per token.
 */
import { appendChatEvents } from '../db/chat-events.js';
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

export function createPartPublisher(pool: Pool, chatId: string): PartPublisher {
  let pending: MessagePartEvent[] = [];
  let inFlight: Promise<void> | undefined;
  let failure: unknown;

  const writeNext = (): void => {
    if (inFlight !== undefined || pending.length === 0 || failure !== undefined) return;
    const batch = pending;
    pending = [];
    inFlight = appendChatEvents(pool, chatId, batch.map((event) => ({ type: 'message_part', payload: { ...event } })))
      .then(
        () => undefined,
        (error: unknown) => {
          failure = error;
        },
      )
      .finally(() => {
        inFlight = undefined;
        writeNext();
      });
  };

  return {
    publish(event) {
      const last = pending[pending.length - 1];
      const mergeable = last !== undefined && last.part.type === event.part.type && (event.part.type === 'text' || event.part.type === 'reasoning');
      if (mergeable) last.part = { ...last.part, text: String(last.part.text) + String(event.part.text) };
      else pending.push({ role: event.role, part: { ...event.part } });
      writeNext();
    },
    async flush() {
      while (inFlight !== undefined || (pending.length > 0 && failure === undefined)) {
        writeNext();
        await inFlight;
      }
      if (failure !== undefined) throw failure;
    },
  };
}
