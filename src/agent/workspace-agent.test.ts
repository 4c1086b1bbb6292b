/**
 * The workspace agent as chatd runs it: started with spawnAgent as a real detached process,
 * driven through AgentClient over real HTTP, running real commands in a temporary workspace.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { findFreePort } from '../dev/process-tree.js';
import { AgentClient, AgentUnreachableError } from './agent-client.js';
import { AgentRoutes, OUTPUT_CAP_BYTES, type AgentInfo } from './agent-protocol.js';
import { agentInfoPath, waitForAgentReady } from './agent-state.js';
import { EARLIER_RUN_ERROR } from './command-executions.js';
import { spawnAgent } from './spawn-agent.js';
import { requestError } from '../../test/support/agent-request-error.js';

const execFileAsync = promisify(execFile);
const SECRET_NAME = 'CHATD_SECRET_KEY';
const SECRET_VALUE = `secret-${randomBytes(8).toString('hex')}`;

interface TestAgent {
  dir: string;
  root: string;
  stateDir: string;
  logFile: string;
  token: string;
  pid: number;
  info: AgentInfo;
  client: AgentClient;
}

const agents: TestAgent[] = [];
const scratches: string[] = [];

async function scratchDirectory(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chatd-agent-'));
  scratches.push(dir);
  return dir;
}

/** Spawns an agent (optionally into an existing scratch directory, for a second life). */
async function startAgent(existing?: TestAgent): Promise<TestAgent> {
  const dir = existing?.dir ?? (await scratchDirectory());
  const root = path.join(dir, 'workspace');
  const stateDir = path.join(dir, 'state');
  const logFile = path.join(dir, 'agent.log');
  const token = existing?.token ?? randomBytes(16).toString('hex');
  await mkdir(root, { recursive: true });
  const { pid } = await spawnAgent({ root, stateDir, token, logFile });
  const info = await waitForAgentReady({ stateDir, pid, timeoutMs: 20_000, logFile });
  const agent = { dir, root, stateDir, logFile, token, pid, info, client: new AgentClient({ url: info.url, token, chatId: 'chat-test' }) };
  agents.push(agent);
  return agent;
}

/** A process that exists and is not a zombie (orphans here may never be reaped). */
async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const previousSecret = process.env[SECRET_NAME];

beforeAll(() => {
  // spawnAgent must not hand chatd's own secrets to the agent.
  process.env[SECRET_NAME] = SECRET_VALUE;
});

afterAll(async () => {
  if (previousSecret === undefined) delete process.env[SECRET_NAME];
  else process.env[SECRET_NAME] = previousSecret;
  for (const agent of agents) {
    if (!(await isAlive(agent.pid))) continue;
    await agent.client.shutdown().catch(() => undefined);
    await eventually(async () => !(await isAlive(agent.pid)), 'the agent to exit', 3_000).catch(() => {
      try {
        process.kill(-agent.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    });
  }
  for (const scratch of scratches) await rm(scratch, { recursive: true, force: true });
});

describe.concurrent('a workspace agent spawned with spawnAgent', () => {
  let agent: TestAgent;
  let outside: string;

  beforeAll(async () => {
    agent = await startAgent();
    outside = path.join(agent.dir, 'outside.txt');
    await writeFile(outside, 'not for the model\n');
    await symlink('/etc', path.join(agent.root, 'etc-link'));
    await symlink(path.join(agent.dir, 'created-outside.txt'), path.join(agent.root, 'dangling-link'));
  });

  it('answers health with its pid, start time and root, and keeps its token readable by its owner only', async ({ expect }) => {
    const health = await agent.client.health();
    expect(health).toEqual({ pid: agent.pid, started_at: agent.info.started_at, root: agent.root });
    expect((await stat(path.join(agent.stateDir, 'token'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a wrong or missing token with 401', async ({ expect }) => {
    const wrong = await requestError(new AgentClient({ url: agent.info.url, token: 'not-the-token' }).health());
    expect(wrong.status).toBe(401);
    expect(wrong.message).toBe('missing or wrong workspace agent token');
    const missing = await fetch(new URL(AgentRoutes.execute, agent.info.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(missing.status).toBe(401);
  });

  it('answers a malformed request with a 400 naming the field', async ({ expect }) => {
    const error = await requestError(agent.client.execute({ id: 'bad-timeout', command: 'true', timeoutMs: -1, background: false }));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Invalid request: timeout_ms: /);
  });

  it('runs a command in the root with stderr interleaved, a non-interactive environment and no chatd secret', async ({ expect }) => {
    const result = await agent.client.execute({ id: 'env-1', command: 'echo out; echo err >&2; pwd; env', timeoutMs: 10_000, background: false });
    expect(result.success).toBe(true);
    expect(result.exit_code).toBe(0);
    expect(result.truncated).toBe(false);
    const lines = result.output.split('\n');
    expect(lines.slice(0, 3)).toEqual(['out', 'err', agent.root]);
    for (const variable of ['GIT_EDITOR=true', 'GIT_TERMINAL_PROMPT=0', 'PAGER=cat', 'GIT_PAGER=cat', 'TERM=dumb', 'NO_COLOR=1', 'DEBIAN_FRONTEND=noninteractive', 'CHATD_AGENT=true']) {
      expect(lines).toContain(variable);
    }
    expect(result.output).not.toContain(SECRET_NAME);
    expect(result.output).not.toContain(SECRET_VALUE);
    expect(result.output).not.toContain('NODE_OPTIONS');
  });

  it('reports a failing command with its exit code and runs in a workdir inside the root', async ({ expect }) => {
    await mkdir(path.join(agent.root, 'sub'), { recursive: true });
    const failed = await agent.client.execute({ id: 'fail-1', command: 'pwd; exit 3', workdir: 'sub', timeoutMs: 10_000, background: false });
    expect(failed).toMatchObject({ success: false, exit_code: 3, output: `${path.join(agent.root, 'sub')}\n` });
    const missing = await requestError(agent.client.execute({ id: 'fail-2', command: 'true', workdir: 'nope', timeoutMs: 10_000, background: false }));
    expect(missing.message).toBe('workdir "nope" does not exist; create it first or run from an existing directory');
  });

  it('cuts output that keeps coming past 32 KB, keeps draining it, and still returns the exit code', async ({ expect }) => {
    // About 8 KB a second for 5 seconds: the cap is passed half way through.
    const command = "for i in 1 2 3 4 5 6 7 8 9 10; do head -c 4096 /dev/zero | tr '\\0' x; sleep 0.5; done; echo finished >&2";
    const result = await agent.client.execute({ id: 'slow-output', command, timeoutMs: 20_000, background: false });
    expect(result.success).toBe(true);
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.output)).toBe(OUTPUT_CAP_BYTES);
    expect(result.output).toBe('x'.repeat(OUTPUT_CAP_BYTES));
    expect(result.note).toMatch(/^Output was cut at 32 KiB/);
    expect(result.wall_duration_ms).toBeGreaterThanOrEqual(4_500);
  });

  it('drains megabytes of fast output without blocking the command', async ({ expect }) => {
    const result = await agent.client.execute({ id: 'fast-output', command: "head -c 5000000 /dev/zero | tr '\\0' y; echo done", timeoutMs: 20_000, background: false });
    expect(result).toMatchObject({ success: true, exit_code: 0, truncated: true });
    expect(result.output.length).toBe(OUTPUT_CAP_BYTES);
  });

  it('kills the whole process group of a command that times out', async ({ expect }) => {
    const result = await agent.client.execute({ id: 'timeout-1', command: 'sleep 30 & echo "grandchild $!"; wait', timeoutMs: 1_000, background: false });
    expect(result).toMatchObject({ success: false, exit_code: null, error: 'command timed out after 1s' });
    const grandchild = Number(/grandchild (\d+)/.exec(result.output)?.[1]);
    expect(grandchild).toBeGreaterThan(0);
    await eventually(async () => !(await isAlive(grandchild)), 'the grandchild sleep to be gone', 3_000);
  });

  it('runs a command ending in & in the background, lists it, shows its output and terminates it', async ({ expect }) => {
    const started = await agent.client.execute({ id: 'bg-1', command: 'echo started; sleep 1000 &', timeoutMs: 10_000, background: false });
    expect(started).toMatchObject({ success: true, exit_code: null, output: '' });
    const processId = started.background_process_id!;
    expect(processId).toMatch(/^bg-/);
    expect(started.note).toContain(processId);

    const listed = (await agent.client.listProcesses()).find((entry) => entry.process_id === processId);
    expect(listed).toMatchObject({ command: 'echo started; sleep 1000', running: true, exit_code: null });
    const running = await agent.client.processOutput({ processId, waitTimeoutMs: 300 });
    expect(running).toMatchObject({ process_id: processId, running: true, output: 'started\n', truncated: false });

    const signalled = await agent.client.signalProcess({ processId, signal: 'terminate' });
    expect(signalled).toEqual({ process_id: processId, signalled: true, running: false });
    expect(await isAlive(listed!.pid)).toBe(false);
    const after = await agent.client.processOutput({ processId, waitTimeoutMs: 0 });
    expect(after).toMatchObject({ running: false, exit_code: null });
  });

  it('runs background: true commands in the background and reports their exit code once they finish', async ({ expect }) => {
    const started = await agent.client.execute({ id: 'bg-2', command: 'sleep 0.2; echo done; exit 4', timeoutMs: 10_000, background: true });
    const finished = await agent.client.processOutput({ processId: started.background_process_id!, waitTimeoutMs: 5_000 });
    expect(finished).toMatchObject({ running: false, exit_code: 4, output: 'done\n' });
    const unknown = await requestError(agent.client.processOutput({ processId: 'bg-nope', waitTimeoutMs: 0 }));
    expect(unknown.status).toBe(404);
    expect(unknown.message).toContain('process_list');
  });

  it('starts a command once when the same id is executed twice while it runs, and answers later calls from the record', async ({ expect }) => {
    const request = { id: 'once-1', command: 'echo x >> once.txt; sleep 1; echo ran', timeoutMs: 10_000, background: false };
    const [first, second] = await Promise.all([agent.client.execute(request), agent.client.execute(request)]);
    expect(first).toMatchObject({ success: true, output: 'ran\n' });
    expect(second).toEqual(first);
    expect(await agent.client.execute(request)).toEqual(first);
    expect(await readFile(path.join(agent.root, 'once.txt'), 'utf8')).toBe('x\n');
  });

  it('reads a file with cat -n line numbers, an offset and a limit, and cuts very long lines', async ({ expect }) => {
    const lines = Array.from({ length: 3000 }, (_unused, index) => `line ${index + 1}`);
    lines[9] = 'y'.repeat(2500);
    await writeFile(path.join(agent.root, 'long.txt'), `${lines.join('\n')}\n`);
    const first = await agent.client.readFile({ path: 'long.txt' });
    expect(first).toMatchObject({ path: path.join(agent.root, 'long.txt'), total_lines: 3000, offset: 1, lines_returned: 2000, truncated: true });
    expect(first.content.split('\n')[0]).toBe('     1\tline 1');
    expect(first.content.split('\n')[9]).toBe(`    10\t${'y'.repeat(2000)} … [line cut at 2000 characters]`);
    const window = await agent.client.readFile({ path: path.join(agent.root, 'long.txt'), offset: 2999, limit: 5 });
    expect(window).toMatchObject({ content: '  2999\tline 2999\n  3000\tline 3000', offset: 2999, lines_returned: 2, truncated: false });
    const past = await requestError(agent.client.readFile({ path: 'long.txt', offset: 3001 }));
    expect(past.message).toBe('offset 3001 is past the end of "long.txt", which has 3000 lines');
  });

  it('explains why it cannot read a missing, oversized or binary file', async ({ expect }) => {
    const missing = await requestError(agent.client.readFile({ path: 'missing.txt' }));
    expect(missing).toMatchObject({ status: 404, message: 'file "missing.txt" does not exist' });
    await writeFile(path.join(agent.root, 'huge.txt'), Buffer.alloc(6 * 1024 * 1024, 'a'));
    const huge = await requestError(agent.client.readFile({ path: 'huge.txt' }));
    expect(huge.status).toBe(413);
    expect(huge.message).toMatch(/^file "huge.txt" is 6 MiB, more than read_file's limit of 5 MiB; read a part of it with execute/);
    await writeFile(path.join(agent.root, 'binary.bin'), Buffer.from([1, 0, 2]));
    expect((await requestError(agent.client.readFile({ path: 'binary.bin' }))).message).toContain('looks binary');
  });

  it('reads raw bytes for attachments and refuses files over the limit', async ({ expect }) => {
    const bytes = Buffer.from([0, 255, 1, 254, 10]);
    await writeFile(path.join(agent.root, 'image.bin'), bytes);
    const read = await agent.client.readFileBytes({ path: 'image.bin', maxBytes: 1024 });
    expect(read).toEqual({ path: path.join(agent.root, 'image.bin'), bytes, size: 5 });
    const tooLarge = await requestError(agent.client.readFileBytes({ path: 'image.bin', maxBytes: 4 }));
    expect(tooLarge).toMatchObject({ status: 413, message: 'file "image.bin" is 5 bytes, more than the limit of 4 bytes' });
  });

  it('writes files atomically, creating parent directories', async ({ expect }) => {
    const created = await agent.client.writeFile({ path: 'new/deep/file.txt', content: 'héllo\n' });
    expect(created).toEqual({ path: path.join(agent.root, 'new/deep/file.txt'), bytes_written: 7, created: true });
    const replaced = await agent.client.writeFile({ path: 'new/deep/file.txt', content: 'bye\n' });
    expect(replaced.created).toBe(false);
    expect(await readFile(path.join(agent.root, 'new/deep/file.txt'), 'utf8')).toBe('bye\n');
    const onDirectory = await requestError(agent.client.writeFile({ path: 'new', content: 'x' }));
    expect(onDirectory.message).toBe('"new" is a directory; write_file writes files');
  });

  it('applies several edits to several files, in order on the same file', async ({ expect }) => {
    await writeFile(path.join(agent.root, 'edit-a.txt'), 'alpha beta\ngamma\n');
    await writeFile(path.join(agent.root, 'edit-b.txt'), 'x x x $&\n');
    const result = await agent.client.editFiles({
      edits: [
        { path: 'edit-a.txt', old_text: 'alpha', new_text: 'ALPHA' },
        { path: 'edit-a.txt', old_text: 'ALPHA beta', new_text: 'ALPHA BETA' },
        { path: 'edit-b.txt', old_text: 'x', new_text: '$&', replace_all: true },
      ],
    });
    expect(result.files).toEqual([
      { path: path.join(agent.root, 'edit-a.txt'), replacements: 2 },
      { path: path.join(agent.root, 'edit-b.txt'), replacements: 3 },
    ]);
    expect(await readFile(path.join(agent.root, 'edit-a.txt'), 'utf8')).toBe('ALPHA BETA\ngamma\n');
    expect(await readFile(path.join(agent.root, 'edit-b.txt'), 'utf8')).toBe('$& $& $& $&\n');
  });

  it('changes no file when any edit cannot be applied, and says which edit and how to fix it', async ({ expect }) => {
    await writeFile(path.join(agent.root, 'keep-a.txt'), 'one\ntwo\ntwo\n');
    await writeFile(path.join(agent.root, 'keep-b.txt'), 'three\n');
    const error = await requestError(
      agent.client.editFiles({
        edits: [
          { path: 'keep-b.txt', old_text: 'three', new_text: 'THREE' },
          { path: 'keep-a.txt', old_text: 'two', new_text: '2' },
          { path: 'keep-a.txt', old_text: 'four', new_text: '4' },
          { path: 'keep-a.txt', old_text: '', new_text: '5' },
          { path: 'absent.txt', old_text: 'a', new_text: 'b' },
        ],
      }),
    );
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      [
        'No file was changed: 4 edits cannot be applied.',
        '- edits[1] (keep-a.txt): old_text matches 2 places; include more surrounding lines so it matches exactly one, or set replace_all: true to replace every one',
        '- edits[2] (keep-a.txt): old_text was not found; read the file again and copy the text exactly, including whitespace and indentation',
        '- edits[3] (keep-a.txt): old_text is empty; copy the exact text to replace from the file (to replace a whole file, use write_file)',
        '- edits[4] (absent.txt): the file does not exist; create it with write_file',
      ].join('\n'),
    );
    expect(await readFile(path.join(agent.root, 'keep-a.txt'), 'utf8')).toBe('one\ntwo\ntwo\n');
    expect(await readFile(path.join(agent.root, 'keep-b.txt'), 'utf8')).toBe('three\n');
  });

  it('refuses paths that leave the workspace through .., an absolute path or a symlink', async ({ expect }) => {
    const refusals: Array<[string, Promise<unknown>]> = [
      ['../outside.txt', agent.client.readFile({ path: '../outside.txt' })],
      [outside, agent.client.readFile({ path: outside })],
      ['etc-link/hostname', agent.client.readFile({ path: 'etc-link/hostname' })],
      ['etc-link/chatd-agent-test', agent.client.writeFile({ path: 'etc-link/chatd-agent-test', content: 'x' })],
      ['dangling-link', agent.client.writeFile({ path: 'dangling-link', content: 'x' })],
      ['sub/../../outside.txt', agent.client.readFileBytes({ path: 'sub/../../outside.txt', maxBytes: 100 })],
      ['etc-link', agent.client.execute({ id: 'escape-workdir', command: 'pwd', workdir: 'etc-link', timeoutMs: 1_000, background: false })],
    ];
    const errors = await Promise.all(refusals.map(([requested, refusal]) => requestError(refusal).then((error) => [requested, error] as const)));
    for (const [requested, error] of errors) {
      expect(error.status).toBe(400);
      expect(error.message).toBe(`path "${requested}" is outside the workspace (${agent.root}); use a path inside it`);
    }
    const edit = await requestError(agent.client.editFiles({ edits: [{ path: 'etc-link/passwd', old_text: 'root', new_text: 'toor' }] }));
    expect(edit.message).toContain('edits[0] (etc-link/passwd): path "etc-link/passwd" is outside the workspace');
    expect(existsSync('/etc/chatd-agent-test')).toBe(false);
    expect(existsSync(path.join(agent.dir, 'created-outside.txt'))).toBe(false);
    expect(await readFile(outside, 'utf8')).toBe('not for the model\n');
  });

  it('logs each request with the chat id, never the token or file contents', async ({ expect }) => {
    const content = `file-content-${randomBytes(6).toString('hex')}`;
    const client = new AgentClient({ url: agent.info.url, token: agent.token, chatId: 'chat-log-check' });
    await client.writeFile({ path: 'logged.txt', content });
    await client.readFile({ path: 'logged.txt' });
    // The line is written when the response finishes, which can be after the client has the answer.
    await eventually(async () => (await readFile(agent.logFile, 'utf8')).split('"chat_id":"chat-log-check"').length > 2, 'both request log lines');
    const log = await readFile(agent.logFile, 'utf8');
    const lines = log
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line.chat_id === 'chat-log-check').map((line) => line.path)).toEqual(['/v1/write-file', '/v1/read-file']);
    expect(log).not.toContain(agent.token);
    expect(log).not.toContain(content);
  });
});

describe.concurrent('the workspace agent across its lifetime', () => {
  it('answers an id started by an earlier life of the agent without running it again', async ({ expect }) => {
    const first = await startAgent();
    const request = { id: 'life-1', command: 'echo x >> life.txt', timeoutMs: 10_000, background: false };
    expect((await first.client.execute(request)).success).toBe(true);
    // A crash: no chance to clean up.
    process.kill(-first.pid, 'SIGKILL');
    await eventually(async () => !(await isAlive(first.pid)), 'the first agent to die');

    const second = await startAgent(first);
    expect(second.pid).not.toBe(first.pid);
    const repeated = await second.client.execute(request);
    expect(repeated).toMatchObject({ success: false, exit_code: null, error: EARLIER_RUN_ERROR });
    expect(await readFile(path.join(second.root, 'life.txt'), 'utf8')).toBe('x\n');
    expect((await second.client.execute({ ...request, id: 'life-2' })).success).toBe(true);
  });

  it('keeps running after the process that spawned it exits', async ({ expect }) => {
    const dir = await scratchDirectory();
    const root = path.join(dir, 'workspace');
    const stateDir = path.join(dir, 'state');
    const logFile = path.join(dir, 'agent.log');
    await mkdir(root);
    const token = randomBytes(16).toString('hex');
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const spawnModule = new URL('./spawn-agent.ts', import.meta.url).href;
    const options = JSON.stringify({ root, stateDir, token, logFile });
    const script = `import(${JSON.stringify(spawnModule)}).then((m) => m.spawnAgent(${options})).then((r) => console.log(r.pid))`;
    const { stdout } = await execFileAsync(process.execPath, ['--import', tsx, '-e', script], { timeout: 20_000 });
    const pid = Number(stdout.trim());
    const info = await waitForAgentReady({ stateDir, pid, timeoutMs: 20_000, logFile });
    const client = new AgentClient({ url: info.url, token });
    agents.push({ dir, root, stateDir, logFile, token, pid, info, client });
    expect((await client.health()).pid).toBe(pid);
    await client.shutdown();
    await eventually(async () => !(await isAlive(pid)), 'the agent to exit after shutdown');
    expect(existsSync(agentInfoPath(stateDir))).toBe(false);
  });

  it('ends the background processes it started when it gets SIGTERM', async ({ expect }) => {
    const agent = await startAgent();
    const started = await agent.client.execute({ id: 'sigterm-1', command: 'sleep 1000', timeoutMs: 10_000, background: true });
    const sleeper = (await agent.client.listProcesses()).find((entry) => entry.process_id === started.background_process_id)!;
    expect(await isAlive(sleeper.pid)).toBe(true);
    process.kill(agent.pid, 'SIGTERM');
    await eventually(async () => !(await isAlive(agent.pid)), 'the agent to exit after SIGTERM');
    expect(await isAlive(sleeper.pid)).toBe(false);
    expect(existsSync(agentInfoPath(agent.stateDir))).toBe(false);
  });

  it('reports an agent that is not listening as refused and one that does not answer as a timeout', async ({ expect }) => {
    const refused = await new AgentClient({ url: `http://127.0.0.1:${await findFreePort()}`, token: 't' }).health().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AgentUnreachableError);
    expect((refused as AgentUnreachableError).reason).toBe('refused');

    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const timedOut = await new AgentClient({ url: `http://127.0.0.1:${port}`, token: 't', requestTimeoutMs: 300 }).health().catch((error: unknown) => error);
      expect(timedOut).toBeInstanceOf(AgentUnreachableError);
      expect((timedOut as AgentUnreachableError).reason).toBe('timeout');
      expect((timedOut as Error).message).toBe(`the workspace agent at http://127.0.0.1:${port} did not answer within 300 ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
