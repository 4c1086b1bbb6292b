/**
 * The body of the stream writer's thread (see threaded-stream-writer.ts): a `StreamWriter` on
 * connections of its own, driven by messages from the worker's main thread. Its event loop only
 * does the writes, so a statement's answer is read the moment it arrives, however busy the main
 * thread is with model streams and workflow tasks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createStreamPool } from '../db/pool.js';
import { StreamWriter } from './part-publisher.js';
import { type StreamWriterReply, type StreamWriterRequest } from './threaded-stream-writer.js';

const port = parentPort;
if (port === null) throw new Error('stream-writer-thread.ts runs as a worker thread (see ThreadedStreamWriter)');
const { databaseUrl } = workerData as { databaseUrl: string };
const pool = createStreamPool(databaseUrl);
const writer = new StreamWriter(pool);
const reply = (message: StreamWriterReply) => port.postMessage(message);

port.on('message', (request: StreamWriterRequest) => {
  switch (request.kind) {
    case 'publish':
      writer.publisherFor(request.chatId, request.fence).publish(request.event);
      break;
    case 'flush':
      writer
        .publisherFor(request.chatId, request.fence)
        .flush()
        .then(
          () => reply({ kind: 'flushed', id: request.id }),
          (error: unknown) => reply({ kind: 'flushed', id: request.id, error: error instanceof Error ? error.message : String(error) }),
        );
      break;
    case 'close':
      // Writes in flight finish first: pool.end waits for checked-out connections.
      void pool.end().finally(() => port.close());
      break;
    default:
      request satisfies never;
  }
});
