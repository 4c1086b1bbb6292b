/**
 * The built-in tools a production worker offers: the workspace tools over the workspace
 * service (the configured templates, local workspaces under the data directory).
 */
import { dataDirectory, type Config } from '../config/config.js';
import { type Pool } from '../db/pool.js';
import { type Logger } from '../logger.js';
import { type SecretBox } from '../security/secret-box.js';
import { ToolRegistry } from '../tools/chat-tool.js';
import { createWorkspaceTools } from '../tools/workspace/workspace-tools.js';
import { createWorkspaceService } from '../workspaces/workspace-service.js';
import { type WorkspaceTemplate } from '../workspaces/workspace-template.js';

export function createChatTools(options: { pool: Pool; config: Config; templates: readonly WorkspaceTemplate[]; secretBox: SecretBox | undefined; logger: Logger }): ToolRegistry {
  const workspaces = createWorkspaceService({
    pool: options.pool,
    sealer: options.secretBox,
    templates: options.templates,
    dataDir: dataDirectory(options.config),
    logger: options.logger,
  });
  return new ToolRegistry(createWorkspaceTools({ pool: options.pool, workspaces }));
}
