/** API composition root: pool + Temporal client → express app → HTTP server. */
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Client } from '@temporalio/client';
import { createApp } from '../api/app.js';
import { type Pool } from '../db/pool.js';
import { type Logger } from '../logger.js';
import { ChatEventHub } from '../stream/chat-event-hub.js';

export interface RunningApi {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startApiServer(options: {
  pool: Pool;
  temporalClient: Client;
  logger: Logger;
  taskQueue: string;
  host: string;
  port: number;
  /** Where the stream listener connects (LISTEN needs its own connection); omit to serve no streams. */
  databaseUrl?: string;
  streamKeepAliveMs?: number;
}): Promise<RunningApi> {
  let eventHub: ChatEventHub | undefined;
  if (options.databaseUrl !== undefined) {
    eventHub = new ChatEventHub(options.pool, options.databaseUrl, options.logger);
    await eventHub.start();
  }
  const app = createApp({ ...options, ...(eventHub === undefined ? {} : { eventHub }) });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.port, options.host, (error?: Error) => (error === undefined ? resolve(listening) : reject(error)));
  });
  const address = server.address() as AddressInfo;
  const url = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${address.port}`;
  return {
    server,
    url,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await eventHub?.stop();
    },
  };
}
