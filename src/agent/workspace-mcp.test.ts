/**
 * The workspace's MCP servers as chatd sees them: real agents started with spawnAgent, real
 * stdio MCP servers (server-everything from npm, and test/fixtures/test-mcp-server.ts) declared
 * in the workspace's .mcp.json, driven through AgentClient over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, it } from 'vitest';
import { AgentClient, AgentRequestError } from './agent-client.js';
import { type McpServerInfo, type McpToolsList } from './agent-protocol.js';
import { waitForAgentReady } from './agent-state.js';
import { spawnAgent } from './spawn-agent.js';
import { requestError } from '../../test/support/agent-request-error.js';

const FIXTURE_SERVER = fileURLToPath(new URL('../../test/fixtures/test-mcp-server.ts', import.meta.url));
const EVERYTHING_SERVER = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface TestAgent {
  dir: string;
  root: string;
  pid: number;
  client: AgentClient;
}

const agents: TestAgent[] = [];

async function startAgent(): Promise<TestAgent> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chatd-agent-mcp-'));
  const root = path.join(dir, 'workspace');
  const stateDir = path.join(dir, 'state');
  const logFile = path.join(dir, 'agent.log');
  const token = randomBytes(16).toString('hex');
  await mkdir(root, { recursive: true });
  const { pid } = await spawnAgent({ root, stateDir, token, logFile });
  const info = await waitForAgentReady({ stateDir, pid, timeoutMs: 20_000, logFile });
  const agent = { dir, root, pid, client: new AgentClient({ url: info.url, token, chatId: 'chat-mcp-test' }) };
  agents.push(agent);
  return agent;
}

afterAll(async () => {
  for (const agent of agents) {
    if (await isAlive(agent.pid)) {
      await agent.client.shutdown().catch(() => undefined);
      await eventually(async () => !(await isAlive(agent.pid)), 'the agent to exit', 8_000).catch(() => {
        try {
          process.kill(-agent.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      });
    }
    await rm(agent.dir, { recursive: true, force: true });
  }
});

/** A .mcp.json entry running the fixture server, which starts serving after `delayMs`. */
function fixtureServer(delayMs = 0, env?: Record<string, string>): Record<string, unknown> {
  return { command: process.execPath, args: ['--import', TSX, FIXTURE_SERVER, '--delay-ms', String(delayMs)], ...(env === undefined ? {} : { env }) };
}

async function writeMcpConfig(agent: TestAgent, servers: Record<string, unknown>): Promise<void> {
  await writeFile(path.join(agent.root, '.mcp.json'), JSON.stringify({ mcpServers: servers }, null, 2));
}

/** A process that exists and is not a zombie. */
async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function serverNamed(list: McpToolsList, name: string): McpServerInfo | undefined {
  return list.servers.find((server) => server.name === name);
}

/** Lists the tools until `ready` holds for the listing, the way chatd polls after a workspace starts. */
async function listUntil(agent: TestAgent, ready: (list: McpToolsList) => boolean, what: string, timeoutMs = 20_000, intervalMs = 500): Promise<McpToolsList> {
  let last: McpToolsList | undefined;
  await eventually(
    async () => {
      last = await agent.client.listMcpTools();
      return ready(last);
    },
    `${what} (last listing: ${JSON.stringify(last)})`,
    timeoutMs,
    intervalMs,
  );
  return last!;
}

function isReady(name: string): (list: McpToolsList) => boolean {
  return (list) => serverNamed(list, name)?.status === 'ready';
}

async function serverPid(agent: TestAgent, server: string): Promise<number> {
  const result = await agent.client.callMcpTool({ server, tool: 'pid', arguments: {}, timeoutMs: 5_000 });
  return Number((result.content[0] as { text: string }).text);
}

describe.concurrent('the MCP servers of a workspace agent', () => {
  it('lists the tools of server-everything from .mcp.json and calls its echo tool', async ({ expect }) => {
    const agent = await startAgent();
    await writeMcpConfig(agent, { everything: { command: process.execPath, args: [EVERYTHING_SERVER, 'stdio'] } });
    const list = await listUntil(agent, isReady('everything'), 'server-everything to be ready');
    expect(list.config_error).toBeUndefined();
    const echo = serverNamed(list, 'everything')!.tools.find((tool) => tool.name === 'echo');
    expect(echo).toMatchObject({ description: expect.any(String), input_schema: { type: 'object', properties: { message: expect.anything() } } });

    const result = await agent.client.callMcpTool({ server: 'everything', tool: 'echo', arguments: { message: 'hello from chatd' }, timeoutMs: 10_000 });
    expect(result).toEqual({ content: [{ type: 'text', text: 'Echo: hello from chatd' }], is_error: false });

    const unknownTool = await requestError(agent.client.callMcpTool({ server: 'everything', tool: 'no-such-tool', arguments: {}, timeoutMs: 5_000 }));
    expect(unknownTool.status).toBe(404);
    expect(unknownTool.message).toContain('has no tool named "no-such-tool"');
    const unknownServer = await requestError(agent.client.callMcpTool({ server: 'nowhere', tool: 'echo', arguments: {}, timeoutMs: 5_000 }));
    expect(unknownServer.status).toBe(404);
    expect(unknownServer.message).toContain('no MCP server named "nowhere"');
  });

  it('reports a server that serves only 10 s after launch as starting, then finds it when asked every 2 s', async ({ expect }) => {
    const agent = await startAgent();
    await writeMcpConfig(agent, { slow: fixtureServer(10_000) });
    const started = Date.now();
    const first = await agent.client.listMcpTools();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(serverNamed(first, 'slow')).toEqual({ name: 'slow', status: 'starting', tools: [] });

    const list = await listUntil(agent, isReady('slow'), 'the slow server to be ready', 30_000, 2_000);
    expect(Date.now() - started).toBeGreaterThan(9_000);
    expect(serverNamed(list, 'slow')!.tools.map((tool) => tool.name).sort()).toEqual(['fail', 'pid', 'sleep']);
    expect(await serverPid(agent, 'slow')).toBeGreaterThan(0);
  });

  it('follows .mcp.json edits: adds and removes servers, restarts changed ones and leaves the rest and their calls alone', async ({ expect }) => {
    const agent = await startAgent();
    await writeMcpConfig(agent, { first: fixtureServer() });
    await listUntil(agent, isReady('first'), 'the first server to be ready');
    const firstPid = await serverPid(agent, 'first');
    const inFlight = agent.client.callMcpTool({ server: 'first', tool: 'sleep', arguments: { ms: 3_000 }, timeoutMs: 10_000 });

    await writeMcpConfig(agent, { first: fixtureServer(), second: fixtureServer() });
    const both = await listUntil(agent, isReady('second'), 'the second server to be ready');
    expect(serverNamed(both, 'first')!.status).toBe('ready');
    expect(await serverPid(agent, 'first')).toBe(firstPid);
    expect(await inFlight).toEqual({ content: [{ type: 'text', text: 'slept 3000 ms' }], is_error: false });

    const secondPid = await serverPid(agent, 'second');
    await writeMcpConfig(agent, { first: fixtureServer() });
    const afterRemoval = await agent.client.listMcpTools();
    expect(afterRemoval.servers.map((server) => server.name)).toEqual(['first']);
    await eventually(async () => !(await isAlive(secondPid)), 'the removed server to exit');
    expect((await requestError(agent.client.callMcpTool({ server: 'second', tool: 'pid', arguments: {}, timeoutMs: 5_000 }))).status).toBe(404);

    await writeMcpConfig(agent, { first: fixtureServer(0, { CHANGED: '1' }) });
    await listUntil(agent, isReady('first'), 'the changed server to be ready again');
    expect(await serverPid(agent, 'first')).not.toBe(firstPid);
    await eventually(async () => !(await isAlive(firstPid)), 'the replaced server to exit');
    expect(await isAlive(agent.pid)).toBe(true);
  });

  it('reports a malformed .mcp.json and bad entries as errors without crashing, and keeps the last good servers', async ({ expect }) => {
    const agent = await startAgent();
    await writeFile(path.join(agent.root, '.mcp.json'), '{ "mcpServers": ');
    const malformed = await agent.client.listMcpTools();
    expect(malformed.servers).toEqual([]);
    expect(malformed.config_error).toMatch(/^\.mcp\.json is not valid JSON/);
    await writeFile(path.join(agent.root, '.mcp.json'), '{ "servers": {} }');
    expect((await agent.client.listMcpTools()).config_error).toContain('mcpServers');

    await writeMcpConfig(agent, {
      good: fixtureServer(),
      'no-command': { args: ['x'] },
      remote: { type: 'http', url: 'http://127.0.0.1:1/mcp' },
      'bad name!': { command: 'true' },
      missing: { command: path.join(agent.root, 'no-such-server') },
      outside: { command: process.execPath, cwd: '..' },
    });
    const list = await listUntil(agent, isReady('good'), 'the good server to be ready');
    expect(list.config_error).toBeUndefined();
    expect(list.servers.map((server) => [server.name, server.status])).toEqual([
      ['bad name!', 'failed'],
      ['good', 'ready'],
      ['missing', 'failed'],
      ['no-command', 'failed'],
      ['outside', 'failed'],
      ['remote', 'failed'],
    ]);
    expect(serverNamed(list, 'no-command')!.error).toContain('"command" must be a non-empty string');
    expect(serverNamed(list, 'remote')!.error).toContain('only stdio servers');
    expect(serverNamed(list, 'bad name!')!.error).toContain('server name');
    expect(serverNamed(list, 'missing')!.error).toMatch(/^MCP server "missing" failed to start: .*ENOENT/);
    expect(serverNamed(list, 'outside')!.error).toContain('outside the workspace');

    const notRunning = await requestError(agent.client.callMcpTool({ server: 'no-command', tool: 'pid', arguments: {}, timeoutMs: 5_000 }));
    expect(notRunning.status).toBe(503);
    expect(notRunning.message).toMatch(/^MCP server "no-command" is not running/);
    expect(await agent.client.callMcpTool({ server: 'good', tool: 'fail', arguments: {}, timeoutMs: 5_000 })).toEqual({
      content: [{ type: 'text', text: 'this tool always fails' }],
      is_error: true,
    });
    const slow = await requestError(agent.client.callMcpTool({ server: 'good', tool: 'sleep', arguments: { ms: 5_000 }, timeoutMs: 300 }));
    expect(slow.status).toBe(504);
    const badArguments = await agent.client.callMcpTool({ server: 'good', tool: 'sleep', arguments: { ms: 'soon' }, timeoutMs: 5_000 }).catch((error: unknown) => error);
    // Depending on the SDK version an invalid argument is a 400 or a failed tool result; either way it is not a crash.
    expect(badArguments instanceof AgentRequestError ? badArguments.status : (badArguments as { is_error: boolean }).is_error).toSatisfy((value) => value === 400 || value === true);

    await writeFile(path.join(agent.root, '.mcp.json'), '{ "mcpServers": { "good": ');
    const broken = await agent.client.listMcpTools();
    expect(broken.config_error).toMatch(/^\.mcp\.json is not valid JSON/);
    expect(serverNamed(broken, 'good')!.status).toBe('ready');
    expect((await agent.client.health()).pid).toBe(agent.pid);
  });

  it('says a killed server is not running, and the next listing restarts it', async ({ expect }) => {
    const agent = await startAgent();
    await writeMcpConfig(agent, { fragile: fixtureServer() });
    await listUntil(agent, isReady('fragile'), 'the server to be ready');
    const pid = await serverPid(agent, 'fragile');
    process.kill(pid, 'SIGKILL');

    let error: AgentRequestError | undefined;
    await eventually(async () => {
      error = await requestError(agent.client.callMcpTool({ server: 'fragile', tool: 'pid', arguments: {}, timeoutMs: 5_000 })).catch(() => undefined);
      return error !== undefined;
    }, 'the call to fail');
    expect(error!.status).toBe(503);
    expect(error!.message).toMatch(/^MCP server "fragile" is not running: the server process exited/);

    await listUntil(agent, isReady('fragile'), 'the server to be restarted');
    const restartedPid = await serverPid(agent, 'fragile');
    expect(restartedPid).not.toBe(pid);
  });

  it('ends every MCP server process when the agent shuts down', async () => {
    const agent = await startAgent();
    await writeMcpConfig(agent, { one: fixtureServer(), two: fixtureServer() });
    await listUntil(agent, (list) => isReady('one')(list) && isReady('two')(list), 'both servers to be ready');
    const pids = [await serverPid(agent, 'one'), await serverPid(agent, 'two')];
    await agent.client.shutdown();
    for (const pid of pids) await eventually(async () => !(await isAlive(pid)), `MCP server ${pid} to exit`);
    await eventually(async () => !(await isAlive(agent.pid)), 'the agent to exit');
  });
});
