/**
 * The express application: JSON body parsing, routes, and the single error handler.
 * Built by `createApp(dependencies)` so tests and entrypoints wire the same app.
 */
import express, { type Express } from 'express';
import { type Client } from '@temporalio/client';
import { type Pool } from '../db/pool.js';
import { type Logger } from '../logger.js';
import { createChatCommands } from '../temporal/chat-client.js';
import { createAiSdkRouter } from './ai-sdk-routes.js';
import { createAdminRouter } from './admin-routes.js';
import { createSettingsRouter } from './settings-routes.js';
import { createCompactionSettingsRouter } from './compaction-settings-routes.js';
import { createUsageRouter } from './usage-routes.js';
import { createFileRouter } from './file-routes.js';
import { createUserKeyRouter } from './user-key-routes.js';
import { createWorkspaceRouter } from './workspace-routes.js';
import { createMcpServerRouter } from './mcp-server-routes.js';
import { createSkillRouter } from './skill-routes.js';
import { createMcpServerCatalogue } from '../db/mcp-servers.js';
import { BLANK_TEMPLATE, type WorkspaceTemplate } from '../workspaces/workspace-template.js';
import { createChatFiles } from '../db/chat-files.js';
import { createModelCatalogue } from '../db/model-catalogue.js';
import { createUsageLedger } from '../db/usage.js';
import { type SecretBox } from '../security/secret-box.js';
import { createAuthMiddleware } from './auth.js';
import { createChatRouter } from './chat-routes.js';
import { createHealthRouter } from './health-routes.js';
import { createOpenApiDocument } from './openapi.js';
import { createStreamRouter } from './stream-routes.js';
import { type EventHub } from '../stream/event-hub.js';
import { createErrorHandler, notFoundHandler } from './http-error.js';

export interface ApiDependencies {
  pool: Pool;
  temporalClient: Client;
  logger: Logger;
  taskQueue: string;
  /** Serve the live streams (chat events, watch feed); without them the stream routes are not mounted. */
  eventHubs?: { chats: EventHub; watch: EventHub };
  streamKeepAliveMs?: number;
  /** Seals provider API keys and MCP server credentials; without it the admin API refuses to store them. */
  secretBox?: SecretBox;
  /** Workspace templates (CHATD_TEMPLATES_FILE); default: the built-in `blank`. */
  templates?: readonly WorkspaceTemplate[];
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
  const usage = createUsageLedger(dependencies.pool);
  const catalogue = createModelCatalogue(dependencies.pool, dependencies.secretBox);
  const mcpServers = createMcpServerCatalogue(dependencies.pool, dependencies.secretBox);
  app.use('/api/v1', createAuthMiddleware(dependencies.pool));
  app.use(
    '/api/v1',
    createAdminRouter({ catalogue, usage }),
    createSettingsRouter({ pool: dependencies.pool }),
    createCompactionSettingsRouter({ pool: dependencies.pool }),
    createUsageRouter({ usage }),
    createFileRouter({ files: createChatFiles(dependencies.pool) }),
    createUserKeyRouter({ catalogue }),
    createWorkspaceRouter({ pool: dependencies.pool, templates: dependencies.templates ?? [BLANK_TEMPLATE] }),
    createMcpServerRouter({ servers: mcpServers }),
    createSkillRouter({ pool: dependencies.pool }),
  );
  if (dependencies.eventHubs !== undefined) {
    app.use(
      '/api/v1',
      createStreamRouter({
        pool: dependencies.pool,
        hubs: dependencies.eventHubs,
        logger: dependencies.logger,
        ...(dependencies.streamKeepAliveMs === undefined ? {} : { keepAliveMs: dependencies.streamKeepAliveMs }),
      }),
      createAiSdkRouter({ pool: dependencies.pool, hub: dependencies.eventHubs.chats, commands, usage, logger: dependencies.logger }),
    );
  }
  app.use('/api/v1', createChatRouter({ pool: dependencies.pool, commands, usage, mcpServers, logger: dependencies.logger }));
  app.use(notFoundHandler);
  app.use(createErrorHandler(dependencies.logger));
  return app;
}
