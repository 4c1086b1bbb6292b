/**
 * Fans logged events out to stream subscribers in one API process. Events live in PostgreSQL
 * in per-key logs with a strictly increasing `seq` (a chat's events, a user's watch feed), so
 * any API replica can serve any subscriber: a single LISTEN connection per process hears
 * `key:seq` notifications from every worker, fetches the new events once per key into a small
 * ring, and hands each subscriber what lies after its own cursor. Subscribers register before they read, so nothing committed in between is
 * missed; they read by cursor, so nothing is delivered twice. A slow subscriber only pauses
 * itself (its socket buffer is the only per-subscriber memory) and catches up from the ring or
 * the database when it drains.
 */
import pg from 'pg';
import { parseEventNotification, type StoredChatEvent } from '../db/chat-events.js';
import { type Pool, type Queryable } from '../db/pool.js';
import { type Logger } from '../logger.js';

const RING_SIZE = 1_000;
const CATCH_UP_BATCH = 500;
const RECONNECT_DELAY_MS = 1_000;

export interface Subscription {
  /** Call when the subscriber can take more events again (e.g. the socket drained). */
  resume(): void;
  close(): void;
}

/** Delivers events in order; returns false when the subscriber cannot take more for now. */
export type DeliverEvents = (events: StoredChatEvent[]) => boolean;

interface Subscriber {
  cursor: number;
  deliver: DeliverEvents;
  paused: boolean;
  pumping: boolean;
  closed: boolean;
}

interface Feed {
  chatId: string;
  lastSeq: number;
  ring: StoredChatEvent[];
  subscribers: Set<Subscriber>;
  fetching: boolean;
  refetch: boolean;
}

/** Where a hub's events come from: the NOTIFY channel and how to read a key's log. */
export interface EventSource {
  channel: string;
  read(db: Queryable, key: string, afterSeq: number, limit: number): Promise<StoredChatEvent[]>;
}

export class EventHub {
  private readonly feeds = new Map<string, Feed>();
  private listener: pg.Client | undefined;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly connectionString: string,
    private readonly logger: Logger,
    private readonly source: EventSource,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.listener?.end().catch(() => undefined);
    for (const feed of this.feeds.values()) for (const subscriber of feed.subscribers) subscriber.closed = true;
    this.feeds.clear();
  }

  /** Subscribes to every event of `chatId` (the log's key) after `afterSeq`. */
  subscribe(chatId: string, afterSeq: number, deliver: DeliverEvents): Subscription {
    let feed = this.feeds.get(chatId);
    if (feed === undefined) {
      feed = { chatId, lastSeq: afterSeq, ring: [], subscribers: new Set(), fetching: false, refetch: false };
      this.feeds.set(chatId, feed);
    }
    const subscriber: Subscriber = { cursor: afterSeq, deliver, paused: false, pumping: false, closed: false };
    feed.subscribers.add(subscriber);
    const owner = feed;
    void this.pump(owner, subscriber);
    return {
      resume: () => {
        if (subscriber.closed) return;
        subscriber.paused = false;
        void this.pump(owner, subscriber);
      },
      close: () => {
        subscriber.closed = true;
        owner.subscribers.delete(subscriber);
        if (owner.subscribers.size === 0 && this.feeds.get(chatId) === owner) this.feeds.delete(chatId);
      },
    };
  }

  private async connect(): Promise<void> {
    const listener = new pg.Client({ connectionString: this.connectionString, application_name: `chatd-listener-${this.source.channel}` });
    listener.on('notification', (notification) => {
      const parsed = parseEventNotification(notification.payload ?? '');
      if (parsed === undefined) return;
      const feed = this.feeds.get(parsed.key);
      if (feed === undefined || parsed.lastSeq <= feed.lastSeq) return;
      const inline = parsed.events;
      // Contiguous with what we hold and carried inline: no read needed.
      if (inline !== undefined && inline.length > 0 && !feed.fetching && inline[0]!.seq === feed.lastSeq + 1) {
        this.append(feed, inline);
        for (const subscriber of feed.subscribers) void this.pump(feed, subscriber);
        return;
      }
      void this.fetch(feed);
    });
    listener.on('error', (error) => this.logger.warn({ err: error }, 'stream listener connection failed'));
    listener.on('end', () => {
      if (this.stopped) return;
      this.listener = undefined;
      setTimeout(() => void this.reconnect(), RECONNECT_DELAY_MS);
    });
    await listener.connect();
    await listener.query(`LISTEN ${this.source.channel}`);
    this.listener = listener;
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.connect();
      // Notifications sent while we were away are lost; the log is not: catch every feed up.
      for (const feed of this.feeds.values()) void this.fetch(feed);
    } catch (error) {
      this.logger.warn({ err: error }, 'stream listener reconnect failed; retrying');
      setTimeout(() => void this.reconnect(), RECONNECT_DELAY_MS);
    }
  }

  /** Reads the chat's new events once into the ring, then wakes its subscribers. */
  private async fetch(feed: Feed): Promise<void> {
    if (feed.fetching) {
      feed.refetch = true;
      return;
    }
    feed.fetching = true;
    try {
      do {
        feed.refetch = false;
        for (;;) {
          const events = await this.source.read(this.pool, feed.chatId, feed.lastSeq, CATCH_UP_BATCH);
          if (events.length === 0) break;
          this.append(feed, events);
          if (events.length < CATCH_UP_BATCH) break;
        }
        for (const subscriber of feed.subscribers) void this.pump(feed, subscriber);
      } while (feed.refetch);
    } catch (error) {
      this.logger.warn({ err: error, chatId: feed.chatId }, 'reading chat events failed');
    } finally {
      feed.fetching = false;
    }
  }

  private append(feed: Feed, events: StoredChatEvent[]): void {
    // The ring only ever holds a contiguous run of seqs ending at lastSeq.
    if (feed.ring.length > 0 && events[0]!.seq !== feed.lastSeq + 1) feed.ring = [];
    feed.ring.push(...events);
    if (feed.ring.length > RING_SIZE) feed.ring.splice(0, feed.ring.length - RING_SIZE);
    feed.lastSeq = events[events.length - 1]!.seq;
  }

  /** Delivers what lies after the subscriber's cursor: from the ring when it covers it, else the database. */
  private async pump(feed: Feed, subscriber: Subscriber): Promise<void> {
    if (subscriber.pumping) return;
    subscriber.pumping = true;
    try {
      while (!subscriber.closed && !subscriber.paused) {
        const first = feed.ring[0];
        let events: StoredChatEvent[];
        if (first !== undefined && first.seq <= subscriber.cursor + 1) {
          events = feed.ring.slice(subscriber.cursor + 1 - first.seq);
        } else {
          events = await this.source.read(this.pool, feed.chatId, subscriber.cursor, CATCH_UP_BATCH);
        }
        if (events.length === 0 || subscriber.closed) break;
        subscriber.cursor = events[events.length - 1]!.seq;
        if (subscriber.cursor > feed.lastSeq && feed.ring.length === 0) feed.lastSeq = subscriber.cursor;
        if (!subscriber.deliver(events)) subscriber.paused = true;
      }
    } catch (error) {
      this.logger.warn({ err: error, chatId: feed.chatId }, 'delivering chat events failed');
    } finally {
      subscriber.pumping = false;
    }
  }
}
