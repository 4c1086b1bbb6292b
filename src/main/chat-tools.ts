/**
 * What a production worker offers the model besides the model's own tools: the workspace
 * tools over the workspace service (the configured templates, local workspaces under the
 * data directory), the skill tools, MCP tools from the workspace's servers and the chat's
 * remote servers, and the chat context (instruction files, skill index) for the system prompt.
 */
import { dataDirectory, type Config } from '../config/config.js';
import { type Pool } from '../db/pool.js';
import { createChatContext } from '../instructions/chat-context.js';
import { type Logger } from '../logger.js';
import { ChatMcpTools, type RemoteMcp } from '../mcp/chat-mcp-tools.js';
import { callRemoteTool, discoverRemoteTools } from '../mcp/remote-mcp.js';
import { WorkspaceMcpCatalogue } from '../mcp/workspace-mcp-catalogue.js';
import { type SecretBox } from '../security/secret-box.js';
import { ToolRegistry } from '../tools/chat-tool.js';
import { createSkillTools } from '../tools/skills/skill-tools.js';
import { createWorkspaceTools } from '../tools/workspace/workspace-tools.js';
import { createWorkspaceService } from '../workspaces/workspace-service.js';
import { type WorkspaceTemplate } from '../workspaces/workspace-template.js';

export function createChatTools(options: { pool: Pool; config: Config; templates: readonly WorkspaceTemplate[]; secretBox: SecretBox | undefined; logger: Logger }): {
  tools: ToolRegistry;
  mcp: ChatMcpTools;
  promptSections: (input: { chatId: string }) => Promise<string[]>;
} {
  const workspaces = createWorkspaceService({
    pool: options.pool,
    sealer: options.secretBox,
    templates: options.templates,
    dataDir: dataDirectory(options.config),
    logger: options.logger,
  });
  const chatContext = createChatContext({ pool: options.pool, agents: workspaces, logger: options.logger });
  return {
    tools: new ToolRegistry([...createWorkspaceTools({ pool: options.pool, workspaces }), ...createSkillTools({ pool: options.pool, agents: workspaces })]),
    promptSections: chatContext.promptSections,
    mcp: new ChatMcpTools({ pool: options.pool, workspace: new WorkspaceMcpCatalogue(workspaces), remote: remoteMcp(options.pool, options.secretBox) }),
  };
}

/** The admin-configured MCP servers, reached with their sealed credentials. */
export function remoteMcp(pool: Pool, secretBox: SecretBox | undefined): RemoteMcp {
  return {
    discover: ({ chatId, ownerId, include }) => discoverRemoteTools({ pool, sealer: secretBox, chatId, ownerId, ...(include === undefined ? {} : { include }) }),
    call: (input) => callRemoteTool({ pool, sealer: secretBox, ...input }),
  };
}
