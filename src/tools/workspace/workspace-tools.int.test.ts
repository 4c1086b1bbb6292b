/**
 * The workspace tools end to end: a chat on the script model creates a workspace from a
 * template with a startup script, runs commands, edits files, attaches one and stops the
 * workspace, all through the HTTP API, with real agents in real directories.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey, parseSecretKey, SecretBox } from '../../security/secret-box.js';
import { createWorkspaceService, type WorkspaceService } from '../../workspaces/workspace-service.js';
import { WorkspaceTemplate } from '../../workspaces/workspace-template.js';
import { ToolRegistry } from '../chat-tool.js';
import { apiClient, type ApiClient } from '../../../test/support/http.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { createChat, script, type ScriptInput, toolResultParts, waitForIdle } from '../../../test/support/chat-helpers.js';
import { NO_WORKSPACE_TEXT } from '../../workspaces/workspace-service.js';
import { killWorkspaceAgents } from '../../../test/support/workspace-agents.js';
import { createWorkspaceTools } from './workspace-tools.js';

const TEMPLATES = [
  WorkspaceTemplate.parse({
    name: 'notes',
    description: 'A directory with a notes file.',
    parameters: [{ name: 'owner', description: 'Whose notes.', default: 'nobody' }],
    files: { 'README.md': '# Notes\n' },
    startup_script: 'echo "started for $CHATD_PARAM_OWNER" > started.txt',
  }),
  WorkspaceTemplate.parse({ name: 'broken', description: 'Its startup script fails.', startup_script: 'echo "cannot start" >&2; exit 3' }),
];

/** The tool results of a chat, in order. */
async function toolResults(api: ApiClient, chatId: string): Promise<Array<{ tool: string; result: any; isError: boolean }>> {
  return (await toolResultParts(api, chatId)).map((part) => ({ tool: part.tool_name, result: part.result, isError: part.is_error }));
}

async function runTurn(api: ApiClient, steps: ScriptInput['steps'], chatId?: string): Promise<string> {
  const content = script({ steps: [...steps, { text: 'done' }] });
  let id = chatId;
  if (id === undefined) id = (await createChat(api, { content })).id as string;
  else expect((await api.post(`/api/v1/chats/${id}/messages`, { content })).status).toBe(200);
  const idle = await waitForIdle(api, id);
  expect(idle.status).toBe('waiting');
  return id;
}

describe('workspace tools through the chat API', () => {
  let harness: Harness;
  let alice: ApiClient;
  let workspaces: WorkspaceService;
  let dataDir: string;

  beforeAll(async () => {
    harness = await startHarness({ startWorker: false });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'chatd-workspace-tools-'));
    workspaces = createWorkspaceService({ pool: harness.pool, sealer: new SecretBox(parseSecretKey(generateSecretKey())), templates: TEMPLATES, dataDir });
    await harness.startWorker({ tools: new ToolRegistry(createWorkspaceTools({ pool: harness.pool, workspaces })) });
  });

  afterAll(async () => {
    await killWorkspaceAgents(dataDir);
    await harness?.stop();
  });

  it('creates a workspace, runs commands, edits and attaches files, and stops it', async () => {
    const chatId = await runTurn(alice, [
      { toolCalls: [{ name: 'execute', args: { command: 'pwd' } }] },
      { toolCalls: [{ name: 'list_templates', args: {} }, { name: 'read_template', args: { template_id: 'notes' } }] },
      { toolCalls: [{ name: 'create_workspace', args: { template_id: 'notes', parameters: { owner: 'alice' } } }] },
      { toolCalls: [{ name: 'execute', args: { command: 'cat started.txt README.md && echo hello > greeting.txt' } }] },
      { toolCalls: [{ name: 'edit_files', args: { edits: [{ path: 'greeting.txt', old_text: 'hello', new_text: 'goodbye' }] } }] },
      { toolCalls: [{ name: 'read_file', args: { path: 'greeting.txt' } }, { name: 'attach_file', args: { path: 'greeting.txt' } }] },
      { toolCalls: [{ name: 'stop_workspace', args: {} }] },
      { toolCalls: [{ name: 'execute', args: { command: 'true' } }] },
    ]);
    const results = await toolResults(alice, chatId);
    expect(results.map((entry) => entry.tool)).toEqual(['execute', 'list_templates', 'read_template', 'create_workspace', 'execute', 'edit_files', 'read_file', 'attach_file', 'stop_workspace', 'execute']);
    // Before a workspace exists the model is told how to get one.
    expect(results[0]).toMatchObject({ isError: true, result: NO_WORKSPACE_TEXT });
    expect(results[1]!.result.templates.map((template: any) => template.name)).toEqual(['notes', 'broken']);
    expect(results[2]!.result).toMatchObject({ name: 'notes', parameters: [expect.objectContaining({ name: 'owner' })] });
    expect(results[3]).toMatchObject({ isError: false, result: { template: 'notes', status: 'running', agent_status: 'ready' } });
    expect(results[4]).toMatchObject({ isError: false, result: { success: true, exit_code: 0, output: 'started for alice\n# Notes\n', truncated: false } });
    expect(results[5]).toMatchObject({ isError: false, result: { files: [expect.objectContaining({ replacements: 1 })] } });
    expect(results[6]!.result.content).toContain('goodbye');
    const attached = results[7]!.result;
    expect(attached).toMatchObject({ name: 'greeting.txt', media_type: 'text/plain', size_bytes: 8 });
    const download = await fetch(`${harness.apiUrl}/api/v1/files/${attached.file_id}`, { headers: { authorization: `Bearer ${harness.alice.key}` } });
    expect(await download.text()).toBe('goodbye\n');
    expect(results[8]).toMatchObject({ isError: false, result: { status: 'stopped' } });
    expect(results[9]!.isError).toBe(true);
    expect(String(results[9]!.result)).toContain('start_workspace');

    // The workspace outlives the turn; the API shows it to its owner only.
    const listed = (await alice.get('/api/v1/workspaces')).body;
    const workspaceId = results[3]!.result.workspace_id as string;
    expect(listed.workspaces.map((workspace: any) => workspace.id)).toContain(workspaceId);
    expect((await apiClient(harness.apiUrl, harness.bob.key).get(`/api/v1/workspaces/${workspaceId}`)).status).toBe(404);
    const chat = (await alice.get(`/api/v1/chats/${chatId}`)).body;
    expect(chat.workspace_id).toBe(workspaceId);
  });

  it('starts a stopped workspace again and reports a failing startup script', async () => {
    const chatId = await runTurn(alice, [
      { toolCalls: [{ name: 'create_workspace', args: { template_id: 'notes' } }] },
      { toolCalls: [{ name: 'stop_workspace', args: {} }] },
      { toolCalls: [{ name: 'stop_workspace', args: {} }] },
      { toolCalls: [{ name: 'start_workspace', args: {} }] },
      { toolCalls: [{ name: 'start_workspace', args: {} }] },
      { toolCalls: [{ name: 'execute', args: { command: 'cat started.txt' } }] },
    ]);
    const results = await toolResults(alice, chatId);
    expect(results.map((entry) => [entry.tool, entry.isError])).toEqual([
      ['create_workspace', false],
      ['stop_workspace', false],
      ['stop_workspace', false],
      ['start_workspace', false],
      ['start_workspace', false],
      ['execute', false],
    ]);
    expect(results[3]!.result).toMatchObject({ status: 'running', agent_status: 'ready' });
    expect(results[5]!.result.output).toBe('started for nobody\n');

    const broken = await runTurn(alice, [{ toolCalls: [{ name: 'create_workspace', args: { template_id: 'broken' } }] }]);
    const [created] = await toolResults(alice, broken);
    expect(created).toMatchObject({ isError: true, result: { agent_status: 'startup_scripts_failed' } });
    expect(created!.result.startup_output).toContain('cannot start');
  });

  it('keeps file tools inside the workspace and turns bad input into results', async () => {
    const chatId = await runTurn(alice, [{ toolCalls: [{ name: 'create_workspace', args: { template_id: 'notes' } }] }]);
    const [created] = await toolResults(alice, chatId);
    const root = path.join(dataDir, 'workspaces', created!.result.workspace_id, 'root');
    expect(existsSync(path.join(root, 'README.md'))).toBe(true);
    await symlink('/etc', path.join(root, 'etc-link'));
    await writeFile(path.join(root, 'two.txt'), 'same same\n');
    await runTurn(
      alice,
      [
        { toolCalls: [{ name: 'read_file', args: { path: '../../../../etc/passwd' } }] },
        { toolCalls: [{ name: 'read_file', args: { path: 'etc-link/passwd' } }] },
        { toolCalls: [{ name: 'write_file', args: { path: '/tmp/outside.txt', content: 'x' } }] },
        { toolCalls: [{ name: 'edit_files', args: { edits: [{ path: 'README.md', old_text: 'Notes', new_text: 'Changed' }, { path: 'two.txt', old_text: 'same', new_text: 'x' }] } }] },
        { toolCalls: [{ name: 'execute', args: { command: 'sleep 5', timeout: 1 } }] },
        { toolCalls: [{ name: 'execute', args: { command: 'echo hi', timeout: '5h' } }] },
      ],
      chatId,
    );
    const results = (await toolResults(alice, chatId)).slice(1);
    expect(results.every((entry) => entry.isError)).toBe(true);
    expect(String(results[0]!.result)).toContain('outside the workspace');
    expect(String(results[1]!.result)).toContain('outside the workspace');
    expect(String(results[2]!.result)).toContain('outside the workspace');
    // One bad edit means no edit: README.md is untouched.
    expect(String(results[3]!.result)).toContain('two.txt');
    expect(readFileSync(path.join(root, 'README.md'), 'utf8')).toBe('# Notes\n');
    expect(results[4]!.result).toMatchObject({ success: false, error: 'command timed out after 1s' });
    expect(String(results[5]!.result)).toContain('at most 4 hours');
  });
});
