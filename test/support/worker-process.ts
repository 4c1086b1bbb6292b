/**
 * A chat worker in its own process, for crash tests: SIGKILL it mid-turn and start another.
 * Configured by environment: DATABASE_URL, TEMPORAL_ADDRESS, TASK_QUEUE, WORKFLOW_BUNDLE,
 * TOOL_LOG (each test-tool run is appended there), and optionally WORKSPACE_DATA_DIR with
 * CHATD_SECRET_KEY to offer the workspace tools and workspace MCP tools too (templates beyond
 * `plain` as JSON in WORKSPACE_TEMPLATES). Prints "worker ready" once polling.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ThreadedStreamWriter } from '../../src/activities/threaded-stream-writer.js';
import { createPool } from '../../src/db/pool.js';
import { createChatWorker } from '../../src/main/worker.js';
import { ChatMcpTools } from '../../src/mcp/chat-mcp-tools.js';
import { WorkspaceMcpCatalogue } from '../../src/mcp/workspace-mcp-catalogue.js';
import { parseSecretKey, SecretBox } from '../../src/security/secret-box.js';
import { ToolRegistry } from '../../src/tools/chat-tool.js';
import { createWorkspaceTools } from '../../src/tools/workspace/workspace-tools.js';
import { createWorkspaceService } from '../../src/workspaces/workspace-service.js';
import { WorkspaceTemplate } from '../../src/workspaces/workspace-template.js';
import { createTestTools } from './test-tools.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

Runtime.install({ logger: new DefaultLogger('ERROR') });
const pool = createPool(required('DATABASE_URL'), { max: 10 });
const workspaceDataDir = process.env.WORKSPACE_DATA_DIR;
const workspaces =
  workspaceDataDir === undefined
    ? undefined
    : createWorkspaceService({
        pool,
        sealer: new SecretBox(parseSecretKey(required('CHATD_SECRET_KEY'))),
        templates: [
          WorkspaceTemplate.parse({ name: 'plain', description: 'An empty directory.' }),
          ...(process.env.WORKSPACE_TEMPLATES === undefined ? [] : WorkspaceTemplate.array().parse(JSON.parse(process.env.WORKSPACE_TEMPLATES))),
        ],
        dataDir: workspaceDataDir,
      });
const workspaceTools = workspaces === undefined ? [] : createWorkspaceTools({ pool, workspaces });
const { worker } = await createChatWorker({
  address: required('TEMPORAL_ADDRESS'),
  namespace: 'default',
  taskQueue: required('TASK_QUEUE'),
  activityDependencies: {
    pool,
    // As `chatd worker` does: streamed parts get a thread and connections of their own.
    streamWriter: new ThreadedStreamWriter(required('DATABASE_URL')),
    tools: new ToolRegistry([...createTestTools({ logFile: required('TOOL_LOG') }), ...workspaceTools]),
    ...(workspaces === undefined ? {} : { mcp: new ChatMcpTools({ pool, workspace: new WorkspaceMcpCatalogue(workspaces) }) }),
  },
  workflowBundle: { codePath: required('WORKFLOW_BUNDLE') },
  shutdownGraceSeconds: 0,
  identity: `crash-test-worker-${process.pid}`,
});
const running = worker.run();
process.stdout.write('worker ready\n');
await running;
await pool.end();
