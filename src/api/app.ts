/**
 * The express application: JSON body parsing, routes, and the single error handler.
 * Built by `createApp(dependencies)` so tests and entrypoints wire the same app.
 */
import express, { type Express } from 'express';
import { type Client } from '@temporalio/client';
import { type Pool } from '../db/pool.js';
import { type Logger } from '../logger.js';
import { createChatCommands } from '../temporal/chat-client.js';
import { createAuthMiddleware } from './auth.js';
import { createChatRouter } from './chat-routes.js';
import { createHealthRouter } from './health-routes.js';
import { createOpenApiDocument } from './openapi.js';
import { createStreamRouter } from './stream-routes.js';
import { type ChatEventHub } from '../stream/chat-event-hub.js';
import { createErrorHandler, notFoundHandler } from './http-error.js';

export interface ApiDependencies {
  pool: Pool;
  temporalClient: Client;
  logger: Logger;
  taskQueue: string;
  /** Serves the live streams; without it the stream routes are not mounted. */
  eventHub?: ChatEventHub;
  streamKeepAliveMs?: number;
}

export function createApp(dependencies: ApiDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '2mb' }));
  app.use(createHealthRouter(dependencies));
  const openApi = createOpenApiDocument();
  app.get('/api/v1/openapi.json', (_request, response) => {
    response.json(openApi);
  });
  const commands = createChatCommands({ client: dependencies.temporalClient, taskQueue: dependencies.taskQueue });
  const auth = createAuthMiddleware(dependencies.pool);
  if (dependencies.eventHub !== undefined) app.use('/api/v1', auth, createStreamRouter({ pool: dependencies.pool, hub: dependencies.eventHub, logger: dependencies.logger, ...(dependencies.streamKeepAliveMs === undefined ? {} : { keepAliveMs: dependencies.streamKeepAliveMs }) }));
  app.use('/api/v1', auth, createChatRouter({ pool: dependencies.pool, commands }));
  app.use(notFoundHandler);
  app.use(createErrorHandler(dependencies.logger));
  return app;
}
