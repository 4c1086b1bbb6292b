/** API composition root: pool + Temporal client → express app → HTTP server. */
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Client } from '@temporalio/client';
import { createApp } from '../api/app.js';
import { type Pool } from '../db/pool.js';
import { type Logger } from '../logger.js';
import { type SecretBox } from '../security/secret-box.js';
import { type WorkspaceTemplate } from '../workspaces/workspace-template.js';
import { CHAT_EVENTS_CHANNEL, readChatEvents } from '../db/chat-events.js';
import { readWatchEvents, WATCH_EVENTS_CHANNEL } from '../db/watch-events.js';
import { EventHub } from '../stream/event-hub.js';

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
  secretBox?: SecretBox;
  templates?: readonly WorkspaceTemplate[];
}): Promise<RunningApi> {
  let hubs: { chats: EventHub; watch: EventHub } | undefined;
  if (options.databaseUrl !== undefined) {
    hubs = {
      chats: new EventHub(options.pool, options.databaseUrl, options.logger, { channel: CHAT_EVENTS_CHANNEL, read: readChatEvents }),
      watch: new EventHub(options.pool, options.databaseUrl, options.logger, { channel: WATCH_EVENTS_CHANNEL, read: readWatchEvents }),
    };
    await Promise.all([hubs.chats.start(), hubs.watch.start()]);
  }
  const app = createApp({ ...options, ...(hubs === undefined ? {} : { eventHubs: hubs }) });
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
      await hubs?.chats.stop();
      await hubs?.watch.stop();
    },
  };
}
