/**
 * Workspace side effects across a worker crash, with real worker processes and real agents: a
 * command is started at most once per tool call even when its worker dies mid-command, and
 * background processes outlive the worker that started them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey } from '../../security/secret-box.js';
import { apiClient, type ApiClient, waitFor } from '../../../test/support/http.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { createChat, listMessages, script, waitForIdle } from '../../../test/support/chat-helpers.js';
import { killWorkspaceAgents } from '../../../test/support/workspace-agents.js';
import { spawnWorkerProcess, type WorkerProcess } from '../../../test/support/worker-process-control.js';

async function toolResults(api: ApiClient, chatId: string): Promise<any[]> {
  const { messages } = await listMessages(api, chatId);
  return messages.flatMap((message) => message.content.filter((part: any) => part.type === 'tool-result'));
}

describe('workspace side effects across worker crashes', () => {
  let harness: Harness;
  let alice: ApiClient;
  let scratch: string;
  const workspaces = { dataDir: '', secretKey: generateSecretKey() };
  const workers: WorkerProcess[] = [];

  const workspaceRoot = async (chatId: string): Promise<string> => {
    const workspaceId = await waitFor(async () => {
      const { rows } = await harness.pool.query<{ workspace_id: string | null }>('SELECT workspace_id FROM chats WHERE id = $1', [chatId]);
      return rows[0]?.workspace_id ?? undefined;
    }, 'the chat to get a workspace');
    return path.join(workspaces.dataDir, 'workspaces', workspaceId, 'root');
  };

  beforeAll(async () => {
    harness = await startHarness({ startWorker: false });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    scratch = await mkdtemp(path.join(os.tmpdir(), 'chatd-workspace-crash-'));
    workspaces.dataDir = path.join(scratch, 'data');
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.kill();
  });

  afterAll(async () => {
    await killWorkspaceAgents(workspaces.dataDir);
    await harness?.stop();
  });

  it('runs a command once when its worker dies while the command appends to a file', async () => {
    const toolLog = path.join(scratch, 'append.log');
    workers.push(await spawnWorkerProcess(harness, toolLog, workspaces));
    const command = 'echo started >> started.txt; sleep 3; echo line >> appended.txt';
    const chat = await createChat(alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'create_workspace', args: { template_id: 'plain' } }] }, { toolCalls: [{ name: 'execute', args: { command, timeout: 60 } }] }, { text: 'done' }] }),
    });
    const root = await workspaceRoot(chat.id);
    await waitFor(async () => (existsSync(path.join(root, 'started.txt')) ? true : undefined), 'the command to start', 60_000);
    await workers[0]!.kill();
    workers.push(await spawnWorkerProcess(harness, toolLog, workspaces));

    const idle = await waitForIdle(alice, chat.id);
    expect(idle.status).toBe('waiting');
    expect(readFileSync(path.join(root, 'started.txt'), 'utf8')).toBe('started\n');
    expect(readFileSync(path.join(root, 'appended.txt'), 'utf8')).toBe('line\n');
    // The retried tool call attached to the same command and reports its real outcome.
    const execute = (await toolResults(alice, chat.id)).find((part) => part.tool_name === 'execute');
    expect(execute).toMatchObject({ is_error: false, result: { success: true, exit_code: 0 } });
  });

  it('keeps a background process running when the worker that started it dies', async () => {
    const toolLog = path.join(scratch, 'background.log');
    workers.push(await spawnWorkerProcess(harness, toolLog, workspaces));
    const chat = await createChat(alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'create_workspace', args: { template_id: 'plain' } }] }, { toolCalls: [{ name: 'execute', args: { command: 'sleep 300', run_in_background: true } }] }, { text: 'started' }] }),
    });
    await waitForIdle(alice, chat.id);
    const started = (await toolResults(alice, chat.id)).find((part) => part.tool_name === 'execute');
    const processId = started.result.background_process_id as string;
    expect(processId).toEqual(expect.any(String));
    await workers[0]!.kill();

    workers.push(await spawnWorkerProcess(harness, toolLog, workspaces));
    await alice.post(`/api/v1/chats/${chat.id}/messages`, {
      content: script({ steps: [{ toolCalls: [{ name: 'process_list', args: {} }] }, { toolCalls: [{ name: 'process_signal', args: { process_id: processId, signal: 'kill' } }] }, { text: 'stopped' }] }),
    });
    await waitForIdle(alice, chat.id);
    const results = await toolResults(alice, chat.id);
    const listed = results.find((part) => part.tool_name === 'process_list');
    expect(listed.result.processes).toEqual([expect.objectContaining({ process_id: processId, running: true })]);
    expect(results.find((part) => part.tool_name === 'process_signal')).toMatchObject({ is_error: false, result: { process_id: processId, signalled: true } });
  });
});
