/**
 * Wakes a worker-side waiter when a chat's event log advances, from the NOTIFY every append
 * sends at commit (see chat-events.ts), instead of polling the database while it waits: a
 * hundred first steps polling every few milliseconds would slow the very writes they wait for.
 * One LISTEN connection per process, opened on first use; its socket does not keep the process
 * alive. A lost connection is reopened on the next wait; meanwhile waits time out, so a waiter
 * always falls back to its own re-check.
 */
import pg from 'pg';
import { CHAT_EVENTS_CHANNEL } from './chat-events.js';

export class ChatEventWaker {
  private listener: Promise<pg.Client | undefined> | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly connectionString: string | undefined) {}

  /** Resolves at the chat's next event, or after `maxWaitMs`. Call it before checking, await it after. */
  next(chatId: string, maxWaitMs: number): Promise<void> {
    void this.connect();
    return new Promise<void>((resolve) => {
      const waiters = this.waiters.get(chatId) ?? new Set<() => void>();
      this.waiters.set(chatId, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(chatId) === waiters) this.waiters.delete(chatId);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      waiters.add(done);
    });
  }

  private connect(): Promise<pg.Client | undefined> {
    if (this.connectionString === undefined) return Promise.resolve(undefined);
    if (this.listener !== undefined) return this.listener;
    const client = new pg.Client({ connectionString: this.connectionString, application_name: 'chatd-worker-listen', connectionTimeoutMillis: 5_000 });
    const listening = (async () => {
      // Only this client's own promise is forgotten: a late event of an old client leaves a newer one alone.
      const forget = () => {
        if (this.listener === listening) this.listener = undefined;
        client.end().catch(() => undefined);
      };
      client.on('error', forget);
      client.on('end', forget);
      client.on('notification', (notification) => {
        const payload = notification.payload ?? '';
        const chatId = payload.slice(0, payload.indexOf(':'));
        for (const wake of [...(this.waiters.get(chatId) ?? [])]) wake();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${CHAT_EVENTS_CHANNEL}`);
        // Never the reason a worker process stays up.
        (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
        return client;
      } catch {
        forget();
        return undefined;
      }
    })();
    this.listener = listening;
    return listening;
  }
}
