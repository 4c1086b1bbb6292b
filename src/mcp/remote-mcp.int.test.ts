import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreateMcpServerRequest } from '../domain/mcp-server.js';
import { createMcpServerCatalogue, type McpServerCatalogue } from '../db/mcp-servers.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { ensureUser } from '../db/users.js';
import { generateSecretKey, parseSecretKey, SecretBox } from '../security/secret-box.js';
import { createTestDatabase } from '../../test/support/harness.js';
import { waitFor } from '../../test/support/http.js';
import { closedPort, startMcpTestServer, startSilentServer, TEST_MCP_SECRETS, type McpTestServer } from '../../test/support/mcp-test-server.js';
import { callRemoteTool, discoverRemoteTools, RemoteMcpUnavailableError } from './remote-mcp.js';

let pool: Pool;
let sealer: SecretBox;
let servers: McpServerCatalogue;
let mcp: McpTestServer;
let silent: Awaited<ReturnType<typeof startSilentServer>>;
let aliceId: string;
let bobId: string;

beforeAll(async () => {
  pool = createPool(await createTestDatabase(), { max: 10 });
  await migrate(pool);
  sealer = new SecretBox(parseSecretKey(generateSecretKey()));
  servers = createMcpServerCatalogue(pool, sealer);
  aliceId = (await ensureUser(pool, 'alice', false)).id;
  bobId = (await ensureUser(pool, 'bob', false)).id;
  mcp = await startMcpTestServer();
  silent = await startSilentServer();
});

afterAll(async () => {
  await mcp?.close();
  await silent?.close();
  await pool?.end();
});

let slugCount = 0;
async function server(input: Omit<CreateMcpServerRequest, 'slug'> & { slug?: string }): Promise<{ id: string; slug: string }> {
  return servers.create({ slug: `s${++slugCount}`, ...input });
}

async function chatWith(serverIds: string[], ownerId = aliceId): Promise<string> {
  const chatId = randomUUID();
  await pool.query(`INSERT INTO chats (id, owner_id, title, status, root_chat_id, mcp_server_ids) VALUES ($1, $2, 'mcp', 'waiting', $1, $3)`, [chatId, ownerId, serverIds]);
  return chatId;
}

const apiKeyAuth = { type: 'api_key', api_key_header: 'X-Api-Key', api_key_value: TEST_MCP_SECRETS.apiKey } as const;
const names = (tools: Array<{ name: string }>) => tools.map((tool) => tool.name);

describe('discovering remote tools', () => {
  it('lists the tools of every selected server with each kind of credentials, over both transports', async () => {
    const open = await server({ url: `${mcp.url}/open/mcp` });
    const apiKey = await server({ url: `${mcp.url}/api-key/mcp`, auth: apiKeyAuth });
    const custom = await server({ url: `${mcp.url}/custom/mcp`, auth: { type: 'custom_headers', headers: { 'X-Team': TEST_MCP_SECRETS.team, 'X-Region': TEST_MCP_SECRETS.region } } });
    const sse = await server({ url: `${mcp.url}/sse/sse`, transport: 'sse', auth: apiKeyAuth });
    const chatId = await chatWith([open.id, apiKey.id, custom.id, sse.id]);

    const discovered = await discoverRemoteTools({ pool, sealer, chatId, ownerId: aliceId });

    expect(discovered.warnings).toEqual([]);
    const toolNames = ['add', 'echo', 'fail', 'slow'];
    for (const configured of [open, apiKey, custom, sse]) {
      expect(discovered.tools.filter((tool) => tool.serverId === configured.id).map((tool) => tool.name).sort(), configured.slug).toEqual(toolNames);
    }
    const add = discovered.tools.find((tool) => tool.serverId === apiKey.id && tool.name === 'add')!;
    expect(add).toMatchObject({ slug: apiKey.slug, description: 'Adds two numbers.', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } });
    // Sorted by name, then by server id.
    const order = discovered.tools.map((tool) => `${tool.name}|${tool.serverId}`);
    expect(order).toEqual([...order].sort());
  });

  it('skips a server that refuses the credentials, with a warning that carries no secret', async () => {
    const wrong = await server({ url: `${mcp.url}/api-key/mcp`, auth: { ...apiKeyAuth, api_key_value: 'not-the-key-secret' } });
    const open = await server({ url: `${mcp.url}/open/mcp` });
    const chatId = await chatWith([wrong.id, open.id]);

    const discovered = await discoverRemoteTools({ pool, sealer, chatId, ownerId: aliceId });

    expect(new Set(discovered.tools.map((tool) => tool.serverId))).toEqual(new Set([open.id]));
    expect(discovered.warnings).toEqual([{ serverId: wrong.id, slug: wrong.slug, message: expect.stringContaining('refused chatd\'s credentials (HTTP 401)') }]);
    expect(JSON.stringify(discovered.warnings)).not.toContain('not-the-key-secret');
  });

  it('offers only allowed tools, then drops denied ones', async () => {
    const allowed = await server({ url: `${mcp.url}/open/mcp`, tool_allow_list: ['add', 'echo', 'missing'], tool_deny_list: ['echo'] });
    const denied = await server({ url: `${mcp.url}/open/mcp`, tool_deny_list: ['slow', 'fail'] });
    const chatId = await chatWith([allowed.id, denied.id]);

    const { tools } = await discoverRemoteTools({ pool, sealer, chatId, ownerId: aliceId });

    expect(names(tools.filter((tool) => tool.serverId === allowed.id))).toEqual(['add']);
    expect(names(tools.filter((tool) => tool.serverId === denied.id))).toEqual(['add', 'echo']);
  });

  it('leaves out a server that is down and one that never answers, within the connect timeout', async () => {
    const down = await server({ url: `http://127.0.0.1:${await closedPort()}/mcp` });
    const hanging = await server({ url: silent.url });
    const hangingSse = await server({ url: silent.url, transport: 'sse' });
    const open = await server({ url: `${mcp.url}/open/mcp` });
    const chatId = await chatWith([down.id, hanging.id, hangingSse.id, open.id]);

    const started = Date.now();
    const discovered = await discoverRemoteTools({ pool, sealer, chatId, ownerId: aliceId, connectTimeoutMs: 400 });
    const elapsed = Date.now() - started;

    expect(elapsed).toBeLessThan(2_000);
    expect(new Set(discovered.tools.map((tool) => tool.serverId))).toEqual(new Set([open.id]));
    const warnings = new Map(discovered.warnings.map((warning) => [warning.serverId, warning.message]));
    expect(warnings.get(down.id)).toMatch(/is not reachable \(.*ECONNREFUSED.*\)/);
    expect(warnings.get(hanging.id)).toContain('did not connect and list its tools within 0.4 s');
    expect(warnings.get(hangingSse.id)).toContain('did not connect and list its tools within 0.4 s');
  });

  it('ignores disabled servers, servers the chat did not select, and another user’s chat', async () => {
    const disabled = await server({ url: `${mcp.url}/open/mcp`, enabled: false });
    const unselected = await server({ url: `${mcp.url}/open/mcp` });
    const selected = await server({ url: `${mcp.url}/open/mcp`, tool_allow_list: ['add'] });
    const chatId = await chatWith([disabled.id, selected.id, randomUUID()]);

    const discovered = await discoverRemoteTools({ pool, sealer, chatId, ownerId: aliceId });
    expect(discovered).toEqual({ tools: [expect.objectContaining({ serverId: selected.id, name: 'add' })], warnings: [] });
    expect(discovered.tools.some((tool) => tool.serverId === unselected.id)).toBe(false);
    expect(await discoverRemoteTools({ pool, sealer, chatId, ownerId: bobId })).toEqual({ tools: [], warnings: [] });
  });

  it('ends the sessions of stateful servers after listing and after a call', async () => {
    const stateful = await server({ url: `${mcp.url}/stateful/mcp` });
    const chatId = await chatWith([stateful.id]);
    const before = { opened: mcp.sessions.opened, ended: mcp.sessions.ended };

    expect(names((await discoverRemoteTools({ pool, sealer, chatId, ownerId: aliceId })).tools)).toEqual(['add', 'echo', 'fail', 'slow']);
    expect(await callRemoteTool({ pool, sealer, chatId, ownerId: aliceId, serverId: stateful.id, tool: 'echo', arguments: { text: 'kept' } })).toMatchObject({ content: [{ type: 'text', text: 'kept' }] });

    expect(mcp.sessions.opened).toBe(before.opened + 2);
    await waitFor(async () => (mcp.sessions.ended === before.ended + 2 ? true : undefined), 'the sessions to end', 5_000);
    expect(mcp.sessions.open()).toBe(0);
  });

  it('sends identity headers the server can verify with its signing secret', async () => {
    const identity = await server({ url: `${mcp.url}/identity/mcp`, identity_headers: true, signing_secret: TEST_MCP_SECRETS.signingSecret, tool_allow_list: ['echo'] });
    const wrongSecret = await server({ url: `${mcp.url}/identity/mcp`, identity_headers: true, signing_secret: 'another-secret-0123456789' });
    const chatId = await chatWith([identity.id, wrongSecret.id]);
    mcp.identities.length = 0;

    const discovered = await discoverRemoteTools({ pool, sealer, chatId, ownerId: aliceId });

    expect(discovered.tools).toEqual([expect.objectContaining({ serverId: identity.id, name: 'echo' })]);
    expect(discovered.warnings).toEqual([expect.objectContaining({ serverId: wrongSecret.id, message: expect.stringContaining('HTTP 401') })]);
    expect(mcp.identities).toContainEqual({ valid: true, userId: aliceId, chatId, timestamp: expect.any(Number) });
    expect(mcp.identities).toContainEqual({ valid: false, reason: 'bad signature' });
  });
});

describe('OAuth2 servers', () => {
  const oauth = () => ({
    type: 'oauth2' as const,
    client_id: TEST_MCP_SECRETS.clientId,
    client_secret: TEST_MCP_SECRETS.clientSecret,
    token_url: `${mcp.url}/oauth/token`,
    scopes: ['tools:read', 'tools:call'],
  });

  it('refreshes an expired token before connecting, stores the new one sealed, and reuses it', async () => {
    const configured = await server({ url: `${mcp.url}/oauth/mcp`, auth: oauth(), tool_allow_list: ['add'] });
    await servers.setUserToken(aliceId, configured.id, { access_token: 'stale-access-token', refresh_token: TEST_MCP_SECRETS.refreshToken, expires_in: 3600 });
    await pool.query(`UPDATE mcp_server_user_tokens SET expires_at = now() - interval '1 minute' WHERE server_id = $1`, [configured.id]);
    const chatId = await chatWith([configured.id]);

    const discovered = await discoverRemoteTools({ pool, sealer, chatId, ownerId: aliceId });

    expect(discovered).toEqual({ tools: [expect.objectContaining({ serverId: configured.id, name: 'add' })], warnings: [] });
    expect(mcp.tokenRequests).toEqual([
      { grant_type: 'refresh_token', refresh_token: TEST_MCP_SECRETS.refreshToken, client_id: TEST_MCP_SECRETS.clientId, client_secret: TEST_MCP_SECRETS.clientSecret, scope: 'tools:read tools:call' },
    ]);
    const { rows } = await pool.query<{ access_token_sealed: string; refresh_token_sealed: string; expires_at: Date }>('SELECT * FROM mcp_server_user_tokens WHERE server_id = $1', [configured.id]);
    expect(sealer.open(rows[0]!.access_token_sealed)).toBe('access-token-1');
    expect(sealer.open(rows[0]!.refresh_token_sealed)).toBe('refresh-token-1');
    expect(rows[0]!.access_token_sealed).not.toContain('access-token');
    expect(rows[0]!.expires_at.getTime()).toBeGreaterThan(Date.now() + 3_000_000);

    // A token that is still good is used as it is.
    const result = await callRemoteTool({ pool, sealer, chatId, ownerId: aliceId, serverId: configured.id, tool: 'add', arguments: { a: 2, b: 3 } });
    expect(result).toEqual({ content: [{ type: 'text', text: '5' }], is_error: false });
    expect(mcp.tokenRequests).toHaveLength(1);
  });

  it('skips the server, saying the user must connect it, when the user has no token or the refresh is refused', async () => {
    const configured = await server({ url: `${mcp.url}/oauth/mcp`, auth: oauth() });
    const chatId = await chatWith([configured.id], bobId);

    const none = await discoverRemoteTools({ pool, sealer, chatId, ownerId: bobId });
    expect(none.tools).toEqual([]);
    expect(none.warnings).toEqual([{ serverId: configured.id, slug: configured.slug, message: expect.stringContaining('the user must connect it') }]);

    await servers.setUserToken(bobId, configured.id, { access_token: 'old', refresh_token: 'revoked-refresh-token', expires_in: 30 });
    const refused = await discoverRemoteTools({ pool, sealer, chatId, ownerId: bobId });
    expect(refused.warnings[0]!.message).toMatch(/refreshing the user's OAuth2 token failed \(HTTP 400 invalid_grant\): the user must connect it again/);
    expect(JSON.stringify(refused)).not.toContain('revoked-refresh-token');
  });
});

describe('calling a remote tool', () => {
  it('returns the tool’s content, and its own errors as results', async () => {
    const sse = await server({ url: `${mcp.url}/sse/sse`, transport: 'sse', auth: apiKeyAuth });
    const custom = await server({ url: `${mcp.url}/custom/mcp`, auth: { type: 'custom_headers', headers: { 'X-Team': TEST_MCP_SECRETS.team, 'X-Region': TEST_MCP_SECRETS.region } } });
    const chatId = await chatWith([sse.id, custom.id]);
    const call = (serverId: string, tool: string, args: Record<string, unknown>) => callRemoteTool({ pool, sealer, chatId, ownerId: aliceId, serverId, tool, arguments: args });

    expect(await call(sse.id, 'echo', { text: 'over sse' })).toEqual({ content: [{ type: 'text', text: 'over sse' }], is_error: false });
    expect(await call(custom.id, 'add', { a: 40, b: 2 })).toEqual({ content: [{ type: 'text', text: '42' }], is_error: false });
    expect(await call(custom.id, 'fail', {})).toEqual({ content: [{ type: 'text', text: 'it broke' }], is_error: true });
    expect((await call(custom.id, 'add', { a: 'x' })).is_error).toBe(true);
    expect((await call(custom.id, 'no_such_tool', {})).is_error).toBe(true);
  });

  it('refuses a tool the lists leave out, as a result', async () => {
    const configured = await server({ url: `${mcp.url}/open/mcp`, tool_deny_list: ['echo'] });
    const chatId = await chatWith([configured.id]);
    const result = await callRemoteTool({ pool, sealer, chatId, ownerId: aliceId, serverId: configured.id, tool: 'echo', arguments: { text: 'hi' } });
    expect(result).toEqual({ content: [{ type: 'text', text: `Tool echo of MCP server "${configured.slug}" is not offered to this chat.` }], is_error: true });
  });

  it('throws RemoteMcpUnavailableError for a server that is down, slow, or not the chat’s', async () => {
    const down = await server({ url: `http://127.0.0.1:${await closedPort()}/mcp` });
    const hanging = await server({ url: silent.url });
    const open = await server({ url: `${mcp.url}/open/mcp` });
    const other = await server({ url: `${mcp.url}/open/mcp` });
    const chatId = await chatWith([down.id, hanging.id, open.id]);
    const call = (serverId: string, tool: string, args: Record<string, unknown>, timeoutMs = 500) =>
      callRemoteTool({ pool, sealer, chatId, ownerId: aliceId, serverId, tool, arguments: args, timeoutMs });

    await expect(call(down.id, 'add', { a: 1, b: 1 })).rejects.toMatchObject({ name: 'RemoteMcpUnavailableError', kind: 'unreachable', slug: down.slug });
    await expect(call(hanging.id, 'add', { a: 1, b: 1 })).rejects.toMatchObject({ kind: 'timeout' });
    const slow = await call(open.id, 'slow', { ms: 2_000 }, 300).catch((error: unknown) => error);
    expect(slow).toBeInstanceOf(RemoteMcpUnavailableError);
    expect(slow).toMatchObject({ kind: 'timeout', message: `MCP server "${open.slug}" did not finish the tool call within 0.3 s.` });
    await expect(call(other.id, 'add', { a: 1, b: 1 })).rejects.toMatchObject({ kind: 'not_selected' });
  });

  it('stops at once when the caller aborts', async () => {
    const open = await server({ url: `${mcp.url}/open/mcp` });
    const chatId = await chatWith([open.id]);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('cancelled by the test')), 200);
    await expect(callRemoteTool({ pool, sealer, chatId, ownerId: aliceId, serverId: open.id, tool: 'slow', arguments: { ms: 5_000 }, signal: controller.signal })).rejects.toThrow('cancelled by the test');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('the catalogue', () => {
  it('refuses to store credentials without CHATD_SECRET_KEY, with a readable reason', async () => {
    const unsealed = createMcpServerCatalogue(pool, undefined);
    await expect(unsealed.create({ slug: 'no-key', url: `${mcp.url}/open/mcp`, auth: apiKeyAuth })).rejects.toMatchObject({
      status: 503,
      message: 'MCP server credentials cannot be stored: this server has no CHATD_SECRET_KEY.',
    });
    expect(await unsealed.create({ slug: 'no-key', url: `${mcp.url}/open/mcp` })).toMatchObject({ slug: 'no-key', auth_type: 'none', has_auth_secret: false });
  });

  it('skips a server whose credentials this worker cannot open', async () => {
    const configured = await server({ url: `${mcp.url}/api-key/mcp`, auth: apiKeyAuth });
    const chatId = await chatWith([configured.id]);
    const discovered = await discoverRemoteTools({ pool, sealer: undefined, chatId, ownerId: aliceId });
    expect(discovered.warnings).toEqual([expect.objectContaining({ message: expect.stringContaining('has no CHATD_SECRET_KEY to open its credentials') })]);
    const otherKey = new SecretBox(parseSecretKey(generateSecretKey()));
    const wrongKey = await discoverRemoteTools({ pool, sealer: otherKey, chatId, ownerId: aliceId });
    expect(wrongKey.warnings[0]!.message).toContain('cannot be opened');
  });
});
