/**
 * The `chatd` command as a user runs it: real child processes, real embedded servers.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { ensureUser, findUserByApiKey } from '../db/users.js';
import { createChatStore } from '../db/chat-store.js';
import { findFreePort } from '../dev/process-tree.js';
import { apiClient, waitFor } from '../../test/support/http.js';
import { createTestDatabase } from '../../test/support/harness.js';

const execFileAsync = promisify(execFile);
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** The environment without anything that would point chatd at external servers. */
function cleanEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete environment.DATABASE_URL;
  delete environment.TEMPORAL_ADDRESS;
  return { ...environment, ...extra };
}

async function runCli(args: string[], environment: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', CLI, ...args], { env: cleanEnvironment(environment), timeout: 60_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: failure.stdout ?? '', stderr: failure.stderr ?? '', code: failure.code ?? 1 };
  }
}

/** Process ids whose command line mentions `needle` (the data directory of a `chatd start`). */
async function processesMentioning(needle: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ps', ['-eo', 'pid,args']);
  return stdout
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'))
    .map((line) => line.trim());
}

describe('chatd start', () => {
  const scratches: string[] = [];

  afterAll(async () => {
    for (const scratch of scratches) await rm(scratch, { recursive: true, force: true });
  });

  async function start(environment: Record<string, string>): Promise<{ child: ChildProcess; output: () => string; ready: Promise<void> }> {
    // Its own process group, so the test can send Ctrl-C the way a terminal does: to every process.
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'start'], { env: cleanEnvironment(environment), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ready = waitFor(async () => (output.includes('Press Ctrl-C to stop.') ? true : undefined), 'chatd start to print its banner', 150_000).then(() => undefined);
    return { child, output: () => output, ready };
  }

  /** Ctrl-C: SIGINT to the whole process group (chatd, PostgreSQL and Temporal alike). */
  async function interrupt(child: ChildProcess): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(-child.pid!, 'SIGINT');
    return exited;
  }

  it('runs everything on embedded defaults, keeps its data across restarts, and leaves no process behind', async () => {
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'chatd-start-'));
    scratches.push(scratch);
    const dataDir = path.join(scratch, 'data');
    const environment = {
      CHATD_DATA_DIR: dataDir,
      CHATD_HTTP_PORT: String(await findFreePort()),
      CHATD_EMBEDDED_PG_PORT: String(await findFreePort()),
      CHATD_TEMPORAL_PORT: String(await findFreePort()),
      CHATD_TEMPORAL_UI_PORT: String(await findFreePort()),
      TEMPORAL_CLI_PATH: inject('temporalCliPath'),
      CHATD_LOG_LEVEL: 'warn',
    };
    const first = await start(environment);
    await first.ready;
    const apiUrl = /API:\s+(http:\/\/\S+)/.exec(first.output())![1]!;
    const key = /API key:\s+(\S+)/.exec(first.output())![1]!;
    expect(first.output()).toMatch(/Temporal UI:\s+http:\/\/127\.0\.0\.1:\d+/);
    const ready = await apiClient(apiUrl).get('/readyz');
    expect(ready.status).toBe(200);
    const api = apiClient(apiUrl, key);
    const chat = await api.post('/api/v1/chats', { content: 'remember me' });
    expect(chat.status).toBe(201);
    await waitFor(async () => ((await api.get(`/api/v1/chats/${chat.body.id}`)).body.status === 'waiting' ? true : undefined), 'the first chat to finish');
    expect({ code: await interrupt(first.child), output: first.output() }).toMatchObject({ code: 0 });
    await waitFor(async () => ((await processesMentioning(dataDir)).length === 0 ? true : undefined), 'every process of the first start to exit', 10_000);

    const second = await start(environment);
    await second.ready;
    expect(second.output()).toContain(key);
    const messages = await api.get(`/api/v1/chats/${chat.body.id}/messages`);
    expect(messages.body.messages.map((message: { content: Array<{ text: string }> }) => message.content[0]!.text)).toEqual(['remember me', 'You said: remember me']);
    expect({ code: await interrupt(second.child), output: second.output() }).toMatchObject({ code: 0 });
    await waitFor(async () => ((await processesMentioning(dataDir)).length === 0 ? true : undefined), 'every process of the second start to exit', 10_000);
  }, 300_000);
});

describe('chatd operator commands', () => {
  it('creates a user whose printed key authenticates, storing only its digest', async () => {
    const databaseUrl = await createTestDatabase();
    const pool = createPool(databaseUrl);
    try {
      await migrate(pool);
      const result = await runCli(['users', 'create', 'carol', '--admin'], { DATABASE_URL: databaseUrl });
      expect(result.code).toBe(0);
      const key = /api key: (\S+)/.exec(result.stdout)![1]!;
      const user = await findUserByApiKey(pool, key);
      expect(user).toMatchObject({ name: 'carol', isAdmin: true });
      const { rows } = await pool.query('SELECT key_hash FROM api_keys');
      expect(JSON.stringify(rows)).not.toContain(key);
      const stuck = await runCli(['chats', 'stuck', '--minutes', '5'], { DATABASE_URL: databaseUrl });
      expect(stuck).toMatchObject({ code: 0, stdout: 'no running chat has been without progress for 5 minutes\n' });
    } finally {
      await pool.end();
    }
  });

  it('lists running chats that made no progress for longer than asked, oldest first, and no others', async () => {
    const databaseUrl = await createTestDatabase();
    const pool = createPool(databaseUrl);
    try {
      await migrate(pool);
      const owner = await ensureUser(pool, 'dave', false);
      await pool.query(`INSERT INTO model_configs (id, provider, model, display_name, is_default) VALUES ($1, 'echo', 'echo', 'Echo', true)`, [randomUUID()]);
      const chat = async (status: string, minutesAgo: number): Promise<string> => {
        const chatId = randomUUID();
        await createChatStore(pool).createChat({
          chatId,
          turn: 1,
          create: { ownerId: owner.id, title: status, content: [{ type: 'text', text: 'hi' }], modelConfigId: null, systemPrompt: null, labels: {}, dynamicTools: [], clientMessageId: null },
        });
        await pool.query(`UPDATE chats SET status = $2, last_progress_at = now() - make_interval(mins => $3) WHERE id = $1`, [chatId, status, minutesAgo]);
        return chatId;
      };
      const stalled = await chat('running', 30);
      const stopping = await chat('interrupting', 12);
      await chat('running', 1);
      await chat('waiting', 60);
      const result = await runCli(['chats', 'stuck', '--minutes', '5'], { DATABASE_URL: databaseUrl });
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(new RegExp(`^${stalled}  running  owner=${owner.id}  turn=1  last progress .*  workflow chat/${stalled}$`));
      expect(lines[1]).toMatch(new RegExp(`^${stopping}  interrupting  `));
      expect((await runCli(['chats', 'stuck', '--minutes', 'soon'], { DATABASE_URL: databaseUrl })).stderr).toContain('--minutes must be a non-negative number');
    } finally {
      await pool.end();
    }
  });

  it('fails fast with a readable message on a bad setting', async () => {
    const result = await runCli(['api'], { CHATD_HTTP_PORT: 'eighty', DATABASE_URL: 'postgres://x@127.0.0.1:1/x' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Invalid configuration:');
    expect(result.stderr).toContain('CHATD_HTTP_PORT="eighty"');
  });

  it('tells the user that api needs DATABASE_URL', async () => {
    const result = await runCli(['api'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL is required');
  });
});
