/**
 * The worker's stream writer on a thread of its own. Under load the main thread is busy most
 * of the time (model streams, workflow tasks, heartbeats), and a statement's answer waits there
 * for its turn: with 100 chats streaming, PostgreSQL took 0.3 ms per batch but the writer saw
 * 10–15 ms, and each chat's next token waited for that answer. On its own thread the writer's
 * loop does nothing but write, and the main thread pays only a message per part (about 2 µs).
 *
 * Parts are posted in order on one port, so a chat's parts and flushes keep their order. If the
 * thread dies, parts it had not written are gone: every chat with parts since its last flush
 * fails its next flush (its activity fails and its retry starts clean, as after a failed write),
 * and the next part starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type StreamFence } from '../db/chat-events.js';
import { streamKey, type MessagePartEvent, type PartPublisher, type PartPublisherFactory } from './part-publisher.js';

export type StreamWriterRequest =
  | { kind: 'publish'; chatId: string; fence?: StreamFence; event: MessagePartEvent }
  | { kind: 'flush'; chatId: string; fence?: StreamFence; id: number }
  | { kind: 'close' };

export type StreamWriterReply = { kind: 'flushed'; id: number; error?: string };

/** How long `close` lets the thread finish its writes before stopping it. */
const CLOSE_TIMEOUT_MS = 5_000;

interface Thread {
  worker: Worker;
  /** Flushes sent to this thread and not answered yet. */
  flushes: Map<number, { resolve: () => void; reject: (error: Error) => void }>;
  /** Why it stopped, once it has. */
  stopped?: string;
}

/**
 * What the thread runs. Compiled, the .js file. From TypeScript sources (this module is a .ts
 * file) a bootstrap registers tsx in the thread first, then imports the .ts file: a worker
 * thread does not inherit the loader the process runs under.
 */
function threadEntry(): { entry: URL | string; eval: boolean } {
  if (!import.meta.url.endsWith('.ts')) return { entry: new URL('./stream-writer-thread.js', import.meta.url), eval: false };
  const entry = new URL('./stream-writer-thread.ts', import.meta.url).href;
  const tsx = pathToFileURL(tsxModuleApiPath()).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return { entry: bootstrap, eval: true };
}

/** tsx's ES-module API (`tsx/esm/api`, import condition), found from this module, not the working directory. */
function tsxModuleApiPath(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = require(manifestPath) as { exports: Record<string, { import: { default: string } }> };
  return path.join(path.dirname(manifestPath), manifest.exports['./esm/api']!.import.default);
}

export class ThreadedStreamWriter implements PartPublisherFactory {
  private thread: Thread | undefined;
  /** Streams (`streamKey`) with parts posted since their last flush, and the thread that took them. */
  private readonly unflushed = new Map<string, Thread>();
  /** Each stream's flush in progress: a second flush with nothing new published waits for it too. */
  private readonly flushing = new Map<string, Promise<void>>();
  private nextFlushId = 1;

  constructor(private readonly databaseUrl: string) {
    // Started now: loading the thread takes a few hundred milliseconds, which no token should wait for.
    this.running();
  }

  publisherFor(chatId: string, fence?: StreamFence): PartPublisher {
    const key = streamKey(chatId, fence);
    const origin = { chatId, ...(fence === undefined ? {} : { fence }) };
    return {
      publish: (event) => this.publish(key, origin, event),
      flush: () => this.flush(key, origin),
    };
  }

  /** Lets the thread finish its writes and close its connections. */
  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    if (thread === undefined || thread.stopped !== undefined) return;
    const exited = new Promise<void>((resolve) => thread.worker.once('exit', () => resolve()));
    thread.worker.postMessage({ kind: 'close' } satisfies StreamWriterRequest);
    const timer = setTimeout(() => void thread.worker.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private publish(key: string, origin: { chatId: string; fence?: StreamFence }, event: MessagePartEvent): void {
    const thread = this.running();
    if (!this.unflushed.has(key)) this.unflushed.set(key, thread);
    thread.worker.postMessage({ kind: 'publish', ...origin, event } satisfies StreamWriterRequest);
  }

  private flush(key: string, origin: { chatId: string; fence?: StreamFence }): Promise<void> {
    const thread = this.unflushed.get(key);
    this.unflushed.delete(key);
    if (thread === undefined) return this.flushing.get(key) ?? Promise.resolve();
    if (thread.stopped !== undefined) return Promise.reject(new Error(`parts of chat ${origin.chatId} were lost: ${thread.stopped}`));
    const id = this.nextFlushId++;
    const flushed = new Promise<void>((resolve, reject) => {
      thread.flushes.set(id, { resolve, reject });
      thread.worker.postMessage({ kind: 'flush', ...origin, id } satisfies StreamWriterRequest);
    });
    this.flushing.set(key, flushed);
    // A settled flush is forgotten, failed or not: a later attempt of the chat starts clean.
    const forget = () => {
      if (this.flushing.get(key) === flushed) this.flushing.delete(key);
    };
    flushed.then(forget, forget);
    return flushed;
  }

  private running(): Thread {
    if (this.thread !== undefined && this.thread.stopped === undefined) return this.thread;
    const { entry, eval: evaluate } = threadEntry();
    const worker = new Worker(entry, { eval: evaluate, workerData: { databaseUrl: this.databaseUrl } });
    // Never the reason a worker process stays up.
    worker.unref();
    const thread: Thread = { worker, flushes: new Map() };
    worker.on('message', (reply: StreamWriterReply) => {
      const waiter = thread.flushes.get(reply.id);
      thread.flushes.delete(reply.id);
      if (reply.error === undefined) waiter?.resolve();
      else waiter?.reject(new Error(reply.error));
    });
    const stop = (reason: string) => {
      thread.stopped ??= reason;
      for (const waiter of thread.flushes.values()) waiter.reject(new Error(`the stream writer's thread stopped: ${reason}`));
      thread.flushes.clear();
    };
    worker.on('error', (error) => stop(error.message));
    worker.on('exit', (code) => stop(`it exited with code ${code}`));
    this.thread = thread;
    return thread;
  }
}
