/**
 * Workspace MCP servers through a chat, end to end: the official reference server
 * (`@modelcontextprotocol/server-everything`, from npm) runs as a stdio server declared in the
 * workspace's .mcp.json; the chat's turn creates the workspace and calls the server's tools on
 * the very next step; a server that takes 10 s to come up is still offered in time.
 */
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey, parseSecretKey, SecretBox } from '../security/secret-box.js';
import { ToolRegistry } from '../tools/chat-tool.js';
import { createWorkspaceTools } from '../tools/workspace/workspace-tools.js';
import { createWorkspaceService } from '../workspaces/workspace-service.js';
import { WorkspaceTemplate } from '../workspaces/workspace-template.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { createChat, script, toolResultParts, waitForIdle } from '../../test/support/chat-helpers.js';
import { killWorkspaceAgents } from '../../test/support/workspace-agents.js';
import { ChatMcpTools } from './chat-mcp-tools.js';
import { WorkspaceMcpCatalogue } from './workspace-mcp-catalogue.js';

const EVERYTHING_SERVER = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');

const mcpConfig = (command: string, args: string[]) => JSON.stringify({ mcpServers: { everything: { command, args } } });

const TEMPLATES = [
  WorkspaceTemplate.parse({ name: 'with-mcp', description: 'The reference MCP server.', files: { '.mcp.json': mcpConfig(process.execPath, [EVERYTHING_SERVER, 'stdio']) } }),
  WorkspaceTemplate.parse({
    name: 'slow-mcp',
    description: 'The reference MCP server, 10 s late.',
    files: { '.mcp.json': mcpConfig('/bin/sh', ['-c', `sleep 10; exec "${process.execPath}" "${EVERYTHING_SERVER}" stdio`]) },
  }),
];

describe('workspace MCP servers in a chat', () => {
  let harness: Harness;
  let alice: ApiClient;
  let dataDir: string;

  beforeAll(async () => {
    harness = await startHarness({ startWorker: false });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'chatd-workspace-mcp-'));
    const workspaces = createWorkspaceService({ pool: harness.pool, sealer: new SecretBox(parseSecretKey(generateSecretKey())), templates: TEMPLATES, dataDir });
    await harness.startWorker({
      tools: new ToolRegistry(createWorkspaceTools({ pool: harness.pool, workspaces })),
      mcp: new ChatMcpTools({ pool: harness.pool, workspace: new WorkspaceMcpCatalogue(workspaces) }),
    });
  });

  afterAll(async () => {
    await killWorkspaceAgents(dataDir);
    await harness?.stop();
  });

  it('offers the workspace server’s tools on the step right after create_workspace, in the same turn', async () => {
    const chat = await createChat(alice, {
      content: script({
        steps: [
          { toolCalls: [{ name: 'create_workspace', args: { template_id: 'with-mcp' } }] },
          { toolCalls: [{ name: 'everything__echo', args: { message: 'hello over MCP' } }] },
          { text: 'done' },
        ],
      }),
    });
    expect((await waitForIdle(alice, chat.id)).status).toBe('waiting');
    const results = await toolResultParts(alice, chat.id);
    expect(results.map((part) => part.tool_name)).toEqual(['create_workspace', 'everything__echo']);
    expect(results[1]).toMatchObject({ is_error: false });
    expect(JSON.stringify(results[1].result)).toContain('hello over MCP');
  });

  it('still offers a server that only comes up 10 s after the workspace started', async () => {
    const chat = await createChat(alice, {
      content: script({
        steps: [
          { toolCalls: [{ name: 'create_workspace', args: { template_id: 'slow-mcp' } }] },
          { toolCalls: [{ name: 'everything__echo', args: { message: 'late but here' } }] },
          { text: 'done' },
        ],
      }),
    });
    expect((await waitForIdle(alice, chat.id)).status).toBe('waiting');
    const results = await toolResultParts(alice, chat.id);
    expect(results[1]).toMatchObject({ tool_name: 'everything__echo', is_error: false });
    expect(JSON.stringify(results[1].result)).toContain('late but here');
  }, 90_000);
});
