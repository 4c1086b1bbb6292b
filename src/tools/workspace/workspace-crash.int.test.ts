/**
 * Workspace side effects across a worker crash, with real worker processes and real agents: a
 * command is started at most once per tool call even when its worker dies mid-command, and
 * background processes outlive the worker that started them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey } from '../../security/secret-box.js';
import { waitFor } from '../../../test/support/http.js';
import { createChat, script, toolResultParts, waitForIdle } from '../../../test/support/chat-helpers.js';
import { killWorkspaceAgents } from '../../../test/support/workspace-agents.js';
import { spawnWorkerProcess, useWorkerProcessSuite } from '../../../test/support/worker-process-control.js';

const FIXTURE_SERVER = fileURLToPath(new URL('../../../test/fixtures/test-mcp-server.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** A workspace whose .mcp.json runs the test MCP server (it has a `sleep` tool). */
const MCP_TEMPLATE = {
  name: 'with-mcp',
  description: 'The test MCP server.',
  files: { '.mcp.json': JSON.stringify({ mcpServers: { fixture: { command: process.execPath, args: ['--import', TSX, FIXTURE_SERVER] } } }) },
};

describe('workspace side effects across worker crashes', () => {
  const crash = useWorkerProcessSuite('chatd-workspace-crash-');
  const workspaces = { dataDir: '', secretKey: generateSecretKey(), templates: [MCP_TEMPLATE] };

  const workspaceRoot = async (chatId: string): Promise<string> => {
    const workspaceId = await waitFor(async () => {
      const { rows } = await crash.harness.pool.query<{ workspace_id: string | null }>('SELECT workspace_id FROM chats WHERE id = $1', [chatId]);
      return rows[0]?.workspace_id ?? undefined;
    }, 'the chat to get a workspace');
    return path.join(workspaces.dataDir, 'workspaces', workspaceId, 'root');
  };

  beforeAll(() => {
    workspaces.dataDir = path.join(crash.scratch, 'data');
  });

  // Registered after the suite's own hooks, so it runs before the crash.harness stops.
  afterAll(async () => {
    await killWorkspaceAgents(workspaces.dataDir);
  });

  it('runs a command once when its worker dies while the command appends to a file', async () => {
    const toolLog = path.join(crash.scratch, 'append.log');
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog, workspaces));
    const command = 'echo started >> started.txt; sleep 3; echo line >> appended.txt';
    const chat = await createChat(crash.alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'create_workspace', args: { template_id: 'plain' } }] }, { toolCalls: [{ name: 'execute', args: { command, timeout: 60 } }] }, { text: 'done' }] }),
    });
    const root = await workspaceRoot(chat.id);
    await waitFor(async () => (existsSync(path.join(root, 'started.txt')) ? true : undefined), 'the command to start', 60_000);
    await crash.workers[0]!.kill();
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog, workspaces));

    const idle = await waitForIdle(crash.alice, chat.id);
    expect(idle.status).toBe('waiting');
    expect(readFileSync(path.join(root, 'started.txt'), 'utf8')).toBe('started\n');
    expect(readFileSync(path.join(root, 'appended.txt'), 'utf8')).toBe('line\n');
    // The retried tool call attached to the same command and reports its real outcome.
    const execute = (await toolResultParts(crash.alice, chat.id)).find((part) => part.tool_name === 'execute');
    expect(execute).toMatchObject({ is_error: false, result: { success: true, exit_code: 0 } });
  });

  it('keeps a background process running when the worker that started it dies', async () => {
    const toolLog = path.join(crash.scratch, 'background.log');
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog, workspaces));
    const chat = await createChat(crash.alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'create_workspace', args: { template_id: 'plain' } }] }, { toolCalls: [{ name: 'execute', args: { command: 'sleep 300', run_in_background: true } }] }, { text: 'started' }] }),
    });
    await waitForIdle(crash.alice, chat.id);
    const started = (await toolResultParts(crash.alice, chat.id)).find((part) => part.tool_name === 'execute');
    const processId = started.result.background_process_id as string;
    expect(processId).toEqual(expect.any(String));
    await crash.workers[0]!.kill();

    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog, workspaces));
    await crash.alice.post(`/api/v1/chats/${chat.id}/messages`, {
      content: script({ steps: [{ toolCalls: [{ name: 'process_list', args: {} }] }, { toolCalls: [{ name: 'process_signal', args: { process_id: processId, signal: 'kill' } }] }, { text: 'stopped' }] }),
    });
    await waitForIdle(crash.alice, chat.id);
    const results = await toolResultParts(crash.alice, chat.id);
    const listed = results.find((part) => part.tool_name === 'process_list');
    expect(listed.result.processes).toEqual([expect.objectContaining({ process_id: processId, running: true })]);
    expect(results.find((part) => part.tool_name === 'process_signal')).toMatchObject({ is_error: false, result: { process_id: processId, signalled: true } });
  });

  it('retries an MCP call whose worker died during it, on another worker', async () => {
    const toolLog = path.join(crash.scratch, 'mcp.log');
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog, workspaces));
    const chat = await createChat(crash.alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'create_workspace', args: { template_id: 'with-mcp' } }] }, { toolCalls: [{ name: 'fixture__sleep', args: { ms: 4000 } }] }, { text: 'done' }] }),
    });
    await waitFor(async () => {
      const { rows } = await crash.harness.pool.query(`SELECT 1 FROM tool_call_ledger WHERE chat_id = $1 AND tool_name = 'fixture__sleep' AND status = 'started'`, [chat.id]);
      return rows.length > 0 ? true : undefined;
    }, 'the MCP call to start', 60_000);
    await crash.workers[0]!.kill();
    crash.workers.push(await spawnWorkerProcess(crash.harness, toolLog, workspaces));

    expect((await waitForIdle(crash.alice, chat.id)).status).toBe('waiting');
    const call = (await toolResultParts(crash.alice, chat.id)).find((part) => part.tool_name === 'fixture__sleep');
    expect(call).toMatchObject({ is_error: false, result: 'slept 4000 ms' });
    const { rows } = await crash.harness.pool.query(`SELECT attempts FROM tool_call_ledger WHERE chat_id = $1 AND tool_name = 'fixture__sleep'`, [chat.id]);
    expect(rows[0].attempts).toBe(2);
  });
});
