import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/harness.js';
import { waitFor } from '../../test/support/http.js';
import { AgentUnreachableError } from '../agent/agent-client.js';
import { readAgentInfo } from '../agent/agent-state.js';
import { AGENT_DISCONNECTED_TEXT, AGENT_TIMEOUT_TEXT, withAgent } from '../tools/workspace/agent-call.js';
import { createChatStore } from '../db/chat-store.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { ensureUser } from '../db/users.js';
import { generateSecretKey, parseSecretKey, SecretBox } from '../security/secret-box.js';
import { LocalWorkspaceProvider } from './local-provider.js';
import { createWorkspaceService, NO_WORKSPACE_TEXT, type WorkspaceService } from './workspace-service.js';
import { WorkspaceTemplate } from './workspace-template.js';
import { killWorkspaceAgents } from '../../test/support/workspace-agents.js';

let pool: Pool;
let dataDir: string;
let service: WorkspaceService;
let provider: LocalWorkspaceProvider;
let ownerId: string;

const templates = [
  {
    name: 'scripted',
    description: 'Writes its greeting parameter into started.txt',
    parameters: [{ name: 'greeting', default: 'hello' }],
    startup_script: 'printf "%s\\n" "$CHATD_PARAM_GREETING" > started.txt\necho started',
    files: { '.mcp.json': '{"servers":{}}', 'notes/readme.md': 'seeded' },
  },
  { name: 'failing', startup_script: 'echo about to fail\nexit 3' },
  { name: 'slow', startup_script: 'sleep 1; echo slow > slow.txt' },
  { name: 'counted', startup_script: 'echo run >> runs.txt; sleep 1' },
  { name: 'needs-repo', parameters: [{ name: 'repo', description: 'Git URL', required: true }] },
  { name: 'laptop', description: 'Your own machine', external: true },
].map((template) => WorkspaceTemplate.parse(template));

// A short poll keeps the file fast; the lease is long, so a test that would wait for another
// operation's lease to lapse shows it by taking 20 s.
const budgets = { pollMs: 100, operationWaitPollMs: 100, operationLeaseMs: 20_000, agentConnectMs: 30_000, dialTimeoutMs: 1_000 };

beforeAll(async () => {
  pool = createPool(await createTestDatabase(), { max: 6 });
  await migrate(pool);
  ownerId = (await ensureUser(pool, 'workspace-owner', false)).id;
  await pool.query(`INSERT INTO model_configs (id, provider, model, display_name, is_default) VALUES ($1, 'echo', 'echo', 'Echo', true)`, [randomUUID()]);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'chatd-workspaces-'));
  provider = new LocalWorkspaceProvider({ dataDir, budgets });
  service = createWorkspaceService({ pool, sealer: new SecretBox(parseSecretKey(generateSecretKey())), templates, providers: [provider], budgets });
});

afterAll(async () => {
  await killWorkspaceAgents(dataDir);
  await pool?.end();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function newChat(): Promise<string> {
  const chatId = randomUUID();
  await createChatStore(pool).createChat({
    chatId,
    turn: 1,
    create: { ownerId, title: 'workspace chat', content: [{ type: 'text', text: 'hi' }], modelConfigId: null, systemPrompt: null, labels: {}, dynamicTools: [], clientMessageId: null },
  });
  return chatId;
}

const operation = () => `op-${randomUUID()}`;
const rootOf = (workspaceId: string) => provider.paths(workspaceId).root;
const workspaceRow = async (id: string) => (await pool.query('SELECT * FROM workspaces WHERE id = $1', [id])).rows[0];

describe('the workspace service with local agents', () => {
  it('creates, stops (twice) and starts a workspace, running its startup script with its parameters each time it starts', async () => {
    const chatId = await newChat();
    const created = await service.createForChat({ chatId, templateName: 'scripted', parameters: { greeting: 'hi there' }, operationId: operation() });
    expect(created, JSON.stringify(created)).toMatchObject({ template: 'scripted', status: 'running', agent_status: 'ready' });
    expect(created.error).toBeUndefined();
    const id = created.workspace_id!;
    expect(await readFile(path.join(rootOf(id), 'started.txt'), 'utf8')).toBe('hi there\n');
    expect(await readFile(path.join(rootOf(id), '.mcp.json'), 'utf8')).toBe('{"servers":{}}');
    expect(await readFile(path.join(rootOf(id), 'notes/readme.md'), 'utf8')).toBe('seeded');

    // The token is stored sealed, never in the clear.
    const row = await workspaceRow(id);
    const token = (await readFile(provider.paths(id).tokenFile, 'utf8')).trim();
    expect(row.agent_token_sealed).toMatch(/^v1:/);
    expect(JSON.stringify(row)).not.toContain(token);

    const agent = await service.agentFor(chatId);
    if (!('client' in agent)) throw new Error(agent.message);
    expect(await agent.client.execute({ id: 'pwd', command: 'cat started.txt', timeoutMs: 10_000, background: false })).toMatchObject({ success: true, output: 'hi there\n' });
    const pid = row.agent_pid as number;

    const stopped = await service.stopForChat({ chatId, operationId: operation() });
    expect(stopped).toMatchObject({ workspace_id: id, status: 'stopped', agent_status: 'not_ready' });
    expect(isAlive(pid)).toBe(false);
    expect(await service.agentFor(chatId)).toMatchObject({ problem: 'not_running', message: expect.stringMatching(/^workspace has no running agent: .*Use the start_workspace tool/) });
    // Stopping a stopped workspace is success.
    const again = await service.stopForChat({ chatId, operationId: operation() });
    expect(again).toMatchObject({ status: 'stopped', message: expect.stringMatching(/already stopped/) });
    expect(again.error).toBeUndefined();

    await rm(path.join(rootOf(id), 'started.txt'));
    const started = await service.startForChat({ chatId, operationId: operation() });
    expect(started).toMatchObject({ workspace_id: id, status: 'running', agent_status: 'ready' });
    expect(await readFile(path.join(rootOf(id), 'started.txt'), 'utf8')).toBe('hi there\n');
    expect((await workspaceRow(id)).build_number).toBe(2);

    // Starting a running workspace is success and builds nothing.
    expect(await service.startForChat({ chatId, operationId: operation() })).toMatchObject({ status: 'running', message: expect.stringMatching(/already running/) });
    expect((await workspaceRow(id)).build_number).toBe(2);
  });

  it('gives each workspace a home of its own: what one chat’s model writes to ~ never reaches another’s prompt', async () => {
    const [first, second] = [await newChat(), await newChat()];
    const clients = [];
    for (const chatId of [first, second]) {
      const created = await service.createForChat({ chatId, templateName: 'slow', operationId: operation() });
      expect(created, JSON.stringify(created)).toMatchObject({ status: 'running', agent_status: 'ready' });
      const agent = await service.agentFor(chatId);
      if (!('client' in agent)) throw new Error(agent.message);
      const home = await agent.client.execute({ id: 'home', command: 'printf %s "$HOME"', timeoutMs: 10_000, background: false });
      expect(home.output).toBe(provider.paths(created.workspace_id!).home);
      clients.push(agent.client);
    }
    const written = await clients[0]!.execute({ id: 'rules', command: 'printf "Only for the first chat.\\n" > ~/AGENTS.md', timeoutMs: 10_000, background: false });
    expect(written).toMatchObject({ success: true });
    const [own, other] = await Promise.all(clients.map((client) => client.context({ instructionFiles: true })));
    expect(own!.instruction_files).toEqual([expect.objectContaining({ directory: 'home', content: 'Only for the first chat.\n' })]);
    expect(other!.instruction_files).toEqual([]);
    expect(other!.home_directory).not.toBe(own!.home_directory);
  });

  it('reports a failing startup script as startup_scripts_failed with its output, and leaves the workspace usable', async () => {
    const chatId = await newChat();
    const result = await service.createForChat({ chatId, templateName: 'failing', operationId: operation() });
    expect(result).toMatchObject({ status: 'running', agent_status: 'startup_scripts_failed', error: expect.stringMatching(/startup script failed \(exit code 3\)/) });
    expect(result.startup_output).toContain('about to fail');
    expect((await workspaceRow(result.workspace_id!)).last_error).toMatch(/exit code 3/);
    const agent = await service.agentFor(chatId);
    expect('client' in agent).toBe(true);
  });

  it('is idempotent for a chat: a second create returns the same workspace and never seeds its files again', async () => {
    const chatId = await newChat();
    const first = await service.createForChat({ chatId, templateName: 'scripted', operationId: operation() });
    const id = first.workspace_id!;
    // The user edits a seeded file; nothing may put the template's version back.
    await writeFile(path.join(rootOf(id), '.mcp.json'), '{"edited":true}');
    const workspacesBefore = await readdir(path.join(dataDir, 'workspaces'));

    const second = await service.createForChat({ chatId, templateName: 'failing', name: 'other-name', operationId: operation() });
    expect(second).toMatchObject({ workspace_id: id, template: 'scripted', status: 'running', message: expect.stringMatching(/already has workspace/) });
    expect(await readdir(path.join(dataDir, 'workspaces'))).toEqual(workspacesBefore);
    expect((await pool.query('SELECT count(*)::int AS n FROM workspaces WHERE owner_id = $1 AND name = $2', [ownerId, 'other-name'])).rows[0].n).toBe(0);

    // Even a create that runs the provider again (its row lost the build) leaves the files alone.
    await pool.query(`UPDATE workspaces SET status = 'failed' WHERE id = $1`, [id]);
    expect(await service.createForChat({ chatId, templateName: 'scripted', operationId: operation() })).toMatchObject({ workspace_id: id, status: 'running', agent_status: 'ready' });
    expect(await readFile(path.join(rootOf(id), '.mcp.json'), 'utf8')).toBe('{"edited":true}');

    // A stopped workspace is not replaced either: the model is told to start it.
    await service.stopForChat({ chatId, operationId: operation() });
    expect(await service.createForChat({ chatId, templateName: 'scripted', operationId: operation() })).toMatchObject({ workspace_id: id, status: 'stopped', error: expect.stringMatching(/Use the start_workspace tool/) });
  });

  it('refuses an external template, unknown templates and bad parameters, with advice and without making a workspace', async () => {
    const chatId = await newChat();
    const external = await service.createForChat({ chatId, templateName: 'laptop', operationId: operation() });
    expect(external.error).toMatch(/runs its agent on the user's own host.*Ask the user to create and start the workspace on their host, then attach it to this chat/);
    expect((await service.createForChat({ chatId, templateName: 'nope', operationId: operation() })).error).toMatch(/Unknown template "nope"\. Available templates: scripted, failing/);
    expect((await service.createForChat({ chatId, templateName: 'needs-repo', operationId: operation() })).error).toMatch(/Missing required parameter\(s\) for template "needs-repo": repo \(Git URL\)/);
    expect((await service.createForChat({ chatId, templateName: 'scripted', parameters: { colour: 'red' }, operationId: operation() })).error).toMatch(/Unknown parameter\(s\)/);
    const { rows } = await pool.query('SELECT workspace_id FROM chats WHERE id = $1', [chatId]);
    expect(rows[0].workspace_id).toBeNull();
    expect(await service.agentFor(chatId)).toEqual({ problem: 'no_workspace', message: NO_WORKSPACE_TEXT });
    expect(await service.startForChat({ chatId, operationId: operation() })).toEqual({ error: NO_WORKSPACE_TEXT });
  });

  it('makes a stop wait for a start that holds the workspace, then stops it', async () => {
    const chatId = await newChat();
    const created = await service.createForChat({ chatId, templateName: 'slow', operationId: operation() });
    const id = created.workspace_id!;
    await service.stopForChat({ chatId, operationId: operation() });
    await rm(path.join(rootOf(id), 'slow.txt'));

    const order: string[] = [];
    const start = service.startForChat({ chatId, operationId: operation() }).then((result) => {
      order.push('start');
      return result;
    });
    await waitFor(async () => ((await workspaceRow(id)).operation_kind === 'start' ? true : undefined), 'the start to hold the workspace');
    const stop = service.stopForChat({ chatId, operationId: operation() }).then((result) => {
      order.push('stop');
      return result;
    });
    const [started, stopped] = await Promise.all([start, stop]);
    expect(order).toEqual(['start', 'stop']);
    expect(started).toMatchObject({ status: 'running', agent_status: 'ready' });
    expect(existsSync(path.join(rootOf(id), 'slow.txt'))).toBe(true);
    expect(stopped).toMatchObject({ status: 'stopped' });
    expect(await workspaceRow(id)).toMatchObject({ status: 'stopped', operation_id: null, agent_url: null, agent_token_sealed: null });
  });

  it('reports an agent that stopped answering as unreachable, and stops it by signal when it cannot be asked to', async () => {
    const chatId = await newChat();
    const created = await service.createForChat({ chatId, templateName: 'scripted', operationId: operation() });
    const pid = (await workspaceRow(created.workspace_id!)).agent_pid as number;
    // A hung agent: it still accepts connections, but never answers.
    process.kill(pid, 'SIGSTOP');
    expect(await service.agentFor(chatId)).toMatchObject({ problem: 'agent_unreachable', message: expect.stringMatching(/use stop_workspace and then start_workspace/) });

    const stopped = await service.stopForChat({ chatId, operationId: operation() });
    expect(stopped).toMatchObject({ status: 'stopped' });
    expect(isAlive(pid)).toBe(false);
  });

  it('resumes a start retried with the same operation id after its worker died, instead of waiting out its own lease', async () => {
    const chatId = await newChat();
    const created = await service.createForChat({ chatId, templateName: 'counted', operationId: operation() });
    const id = created.workspace_id!;
    await service.stopForChat({ chatId, operationId: operation() });
    const runs = path.join(rootOf(id), 'runs.txt');
    expect(await readFile(runs, 'utf8')).toBe('run\n');

    // The first attempt gets as far as launching the startup script, then its worker is gone.
    const operationId = operation();
    const worker = new AbortController();
    const attempt = service.startForChat({ chatId, operationId, signal: worker.signal });
    await waitFor(async () => ((await readFile(runs, 'utf8')) === 'run\nrun\n' ? true : undefined), 'the startup script to run');
    worker.abort(new Error('worker died'));
    await expect(attempt).rejects.toThrow();
    // A dead worker leaves its lease looking live (it stops renewing, nothing more).
    await pool.query('UPDATE workspaces SET operation_heartbeat_at = now() WHERE id = $1', [id]);
    const during = await workspaceRow(id);
    expect(during).toMatchObject({ status: 'starting', operation_id: operationId, operation_kind: 'start' });
    const agentPid = (await readAgentInfo(provider.paths(id).stateDir))!.pid;

    const startedAt = Date.now();
    const retried = await service.startForChat({ chatId, operationId });
    expect(retried).toMatchObject({ status: 'running', agent_status: 'ready' });
    expect(Date.now() - startedAt).toBeLessThan(budgets.operationLeaseMs / 2);
    // Same build, same agent, and the startup script ran once for it.
    expect(await readFile(runs, 'utf8')).toBe('run\nrun\n');
    expect(await workspaceRow(id)).toMatchObject({ build_number: during.build_number, agent_pid: agentPid, operation_id: null });
  });
});

describe('what workspace tools tell the model when the agent does not answer', () => {
  const timedOut = async (): Promise<never> => {
    throw new AgentUnreachableError('timeout', 'the call timed out');
  };

  it('advises one retry when a call timed out but the agent answers a fresh check', async () => {
    const chatId = await newChat();
    await service.createForChat({ chatId, templateName: 'scripted', operationId: operation() });
    expect(await withAgent(service, chatId, timedOut)).toEqual({ result: AGENT_TIMEOUT_TEXT, isError: true });
  });

  it('calls the agent disconnected only when the failed call and a fresh check agree', async () => {
    const chatId = await newChat();
    const created = await service.createForChat({ chatId, templateName: 'scripted', operationId: operation() });
    const pid = (await workspaceRow(created.workspace_id!)).agent_pid as number;
    // The agent hangs during the call: the call times out, and so does the fresh check.
    const hangsDuringCall = async (): Promise<never> => {
      process.kill(pid, 'SIGSTOP');
      return timedOut();
    };
    try {
      expect(await withAgent(service, chatId, hangsDuringCall)).toEqual({ result: AGENT_DISCONNECTED_TEXT, isError: true });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('sends the model to start_workspace when the agent process is gone', async () => {
    const chatId = await newChat();
    const created = await service.createForChat({ chatId, templateName: 'scripted', operationId: operation() });
    const pid = (await workspaceRow(created.workspace_id!)).agent_pid as number;
    process.kill(-pid, 'SIGKILL');
    await waitFor(async () => (isAlive(pid) ? undefined : true), 'the agent to die');
    const result = await withAgent(service, chatId, async () => ({ result: 'ran', isError: false }));
    expect(result.isError).toBe(true);
    expect(String(result.result)).toContain('Use the start_workspace tool');
  });
});
