import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForIdle } from '../../test/support/chat-helpers.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';
import { startMcpTestServer, type McpTestServer } from '../../test/support/mcp-test-server.js';

let harness: Harness;
let mcp: McpTestServer;
let admin: ApiClient;
let alice: ApiClient;

beforeAll(async () => {
  harness = await startHarness();
  mcp = await startMcpTestServer();
  admin = apiClient(harness.apiUrl, harness.admin.key);
  alice = apiClient(harness.apiUrl, harness.alice.key);
});

afterAll(async () => {
  await harness?.stop();
  await mcp?.close();
});

const API_KEY = 'mcp-api-key-very-secret';
const SIGNING_SECRET = 'mcp-signing-secret-very-secret';

async function createServer(body: Record<string, unknown>): Promise<{ id: string; slug: string }> {
  const created = await admin.post('/api/v1/mcp-servers', { url: `${mcp.url}/open/mcp`, ...body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

describe('the MCP server admin API', () => {
  it('stores credentials and the signing secret sealed and never returns them', async () => {
    const created = await admin.post('/api/v1/mcp-servers', {
      slug: 'sealed-tools',
      display_name: 'Sealed tools',
      url: `${mcp.url}/api-key/mcp`,
      auth: { type: 'api_key', api_key_header: 'X-Api-Key', api_key_value: API_KEY },
      identity_headers: true,
      signing_secret: SIGNING_SECRET,
      tool_deny_list: ['slow'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      slug: 'sealed-tools',
      display_name: 'Sealed tools',
      transport: 'streamable_http',
      auth_type: 'api_key',
      has_auth_secret: true,
      identity_headers: true,
      has_signing_secret: true,
      tool_allow_list: [],
      tool_deny_list: ['slow'],
      enabled: true,
    });
    const { rows } = await harness.pool.query<{ auth_config_sealed: string; signing_secret_sealed: string }>('SELECT auth_config_sealed, signing_secret_sealed FROM mcp_servers WHERE id = $1', [created.body.id]);
    expect(rows[0]!.auth_config_sealed).toMatch(/^v1:/);
    expect(rows[0]!.signing_secret_sealed).toMatch(/^v1:/);
    expect(JSON.stringify(rows)).not.toMatch(/very-secret|X-Api-Key/);

    const responses = [created, await admin.get('/api/v1/mcp-servers'), await admin.get(`/api/v1/mcp-servers/${created.body.id}`)];
    const changed = await admin.patch(`/api/v1/mcp-servers/${created.body.id}`, { auth: { type: 'custom_headers', headers: { 'X-Team': 'very-secret-team' } }, transport: 'sse', display_name: 'Renamed' });
    expect(changed.body).toMatchObject({ auth_type: 'custom_headers', has_auth_secret: true, transport: 'sse', display_name: 'Renamed' });
    responses.push(changed);
    for (const response of responses) expect(JSON.stringify(response.body)).not.toContain('very-secret');

    const refused = await admin.patch(`/api/v1/mcp-servers/${created.body.id}`, { signing_secret: null });
    expect(refused).toMatchObject({ status: 400, body: { message: 'identity_headers needs a signing_secret.' } });
    const unsigned = await admin.patch(`/api/v1/mcp-servers/${created.body.id}`, { identity_headers: false, signing_secret: null, auth: { type: 'none' } });
    expect(unsigned.body).toMatchObject({ identity_headers: false, has_signing_secret: false, auth_type: 'none', has_auth_secret: false });

    expect(await admin.delete(`/api/v1/mcp-servers/${created.body.id}`)).toMatchObject({ status: 204 });
    expect(await admin.get(`/api/v1/mcp-servers/${created.body.id}`)).toMatchObject({ status: 404, body: { message: 'MCP server not found.' } });
    expect(await admin.delete(`/api/v1/mcp-servers/${created.body.id}`)).toMatchObject({ status: 404 });
    expect(await admin.get('/api/v1/mcp-servers/not-a-uuid')).toMatchObject({ status: 404 });
  });

  it('rejects bad input with a message naming the field', async () => {
    const badSlug = await admin.post('/api/v1/mcp-servers', { slug: 'Has Spaces', url: `${mcp.url}/open/mcp` });
    expect(badSlug.status).toBe(400);
    expect(badSlug.body.validations[0]).toMatchObject({ field: 'slug' });
    const badUrl = await admin.post('/api/v1/mcp-servers', { slug: 'bad-url', url: 'ftp://example.com' });
    expect(badUrl.body.validations[0]).toEqual({ field: 'url', detail: 'url must be an http(s) URL.' });
    const unsigned = await admin.post('/api/v1/mcp-servers', { slug: 'unsigned', url: `${mcp.url}/open/mcp`, identity_headers: true });
    expect(unsigned.body.validations[0]).toEqual({ field: 'signing_secret', detail: 'identity_headers needs a signing_secret.' });
    const noValue = await admin.post('/api/v1/mcp-servers', { slug: 'no-value', url: `${mcp.url}/open/mcp`, auth: { type: 'api_key', api_key_header: 'X-Api-Key' } });
    expect(noValue.body.validations[0]).toMatchObject({ field: 'auth.api_key_value' });
    await createServer({ slug: 'twice' });
    const duplicate = await admin.post('/api/v1/mcp-servers', { slug: 'twice', url: `${mcp.url}/open/mcp` });
    expect(duplicate).toMatchObject({ status: 409, body: { message: 'An MCP server with the slug "twice" already exists.' } });
  });

  it('answers 403 to a user who is not an admin, on every admin route', async () => {
    const server = await createServer({ slug: 'admins-only' });
    for (const response of [
      await alice.get('/api/v1/mcp-servers'),
      await alice.post('/api/v1/mcp-servers', { slug: 'nope', url: `${mcp.url}/open/mcp` }),
      await alice.get(`/api/v1/mcp-servers/${server.id}`),
      await alice.patch(`/api/v1/mcp-servers/${server.id}`, { enabled: false }),
      await alice.delete(`/api/v1/mcp-servers/${server.id}`),
    ]) {
      expect(response.status).toBe(403);
      expect(response.body.message).toBe('Admin access required.');
    }
  });
});

describe('MCP servers for users', () => {
  it('lists the enabled servers, saying which need the user’s own OAuth2 token', async () => {
    const open = await createServer({ slug: 'avail-open', display_name: 'Open tools' });
    const oauth = await createServer({
      slug: 'avail-oauth',
      url: `${mcp.url}/oauth/mcp`,
      auth: { type: 'oauth2', client_id: 'client', client_secret: 'very-secret-client', token_url: `${mcp.url}/oauth/token` },
    });
    const off = await createServer({ slug: 'avail-off', enabled: false });

    const available = async () => (await alice.get('/api/v1/mcp-servers/available')).body.mcp_servers as Array<{ id: string }>;
    const listed = await available();
    expect(listed).toContainEqual({ id: open.id, slug: 'avail-open', display_name: 'Open tools', auth_type: 'none', needs_user_token: false });
    expect(listed).toContainEqual({ id: oauth.id, slug: 'avail-oauth', display_name: 'avail-oauth', auth_type: 'oauth2', needs_user_token: true });
    expect(listed.map((server) => server.id)).not.toContain(off.id);
    expect(JSON.stringify(listed)).not.toMatch(/very-secret|url/);

    const stored = await alice.raw('PUT', `/api/v1/mcp-servers/${oauth.id}/user-token`, { access_token: 'very-secret-access', refresh_token: 'very-secret-refresh', expires_in: 3600 });
    expect(stored.status, JSON.stringify(stored.body)).toBe(200);
    expect(stored.body).toMatchObject({ server_id: oauth.id, has_user_token: true, expires_at: expect.any(String) });
    expect(JSON.stringify(stored.body)).not.toContain('very-secret');
    const { rows } = await harness.pool.query('SELECT access_token_sealed, refresh_token_sealed FROM mcp_server_user_tokens WHERE server_id = $1 AND user_id = $2', [oauth.id, harness.alice.id]);
    expect(rows[0].access_token_sealed).toMatch(/^v1:/);
    expect(JSON.stringify(rows)).not.toContain('very-secret');
    expect((await available()).find((server) => server.id === oauth.id)).toMatchObject({ needs_user_token: false });
    // Another user still has to connect.
    const bob = apiClient(harness.apiUrl, harness.bob.key);
    expect(((await bob.get('/api/v1/mcp-servers/available')).body.mcp_servers as Array<{ id: string }>).find((server) => server.id === oauth.id)).toMatchObject({ needs_user_token: true });

    expect(await alice.raw('PUT', `/api/v1/mcp-servers/${open.id}/user-token`, { access_token: 'x' })).toMatchObject({ status: 400, body: { message: 'MCP server "avail-open" does not use OAuth2: it takes no user tokens.' } });
    expect(await alice.raw('PUT', `/api/v1/mcp-servers/${off.id}/user-token`, { access_token: 'x' })).toMatchObject({ status: 404 });
    expect(await alice.raw('PUT', `/api/v1/mcp-servers/${randomUUID()}/user-token`, { access_token: 'x' })).toMatchObject({ status: 404, body: { message: 'MCP server not found.' } });
    expect((await alice.raw('PUT', `/api/v1/mcp-servers/${oauth.id}/user-token`, { access_token: '' })).status).toBe(400);

    expect(await alice.delete(`/api/v1/mcp-servers/${oauth.id}/user-token`)).toMatchObject({ status: 204 });
    expect(await alice.delete(`/api/v1/mcp-servers/${oauth.id}/user-token`)).toMatchObject({ status: 404 });
    expect((await available()).find((server) => server.id === oauth.id)).toMatchObject({ needs_user_token: true });
  });

  it('picks a chat’s MCP servers on create and PATCH, refusing ids that are not enabled servers', async () => {
    const first = await createServer({ slug: 'chat-first', tool_allow_list: ['add'] });
    const second = await createServer({ slug: 'chat-second', tool_allow_list: ['echo'] });
    const off = await createServer({ slug: 'chat-off', enabled: false });

    const created = await alice.post('/api/v1/chats', { content: 'with tools', model_config_id: harness.echoModelId, mcp_server_ids: [first.id] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.mcp_server_ids).toEqual([first.id]);
    await waitForIdle(alice, created.body.id);
    const chatPath = `/api/v1/chats/${created.body.id}`;

    const unknown = randomUUID();
    expect(await alice.post('/api/v1/chats', { content: 'unknown', model_config_id: harness.echoModelId, mcp_server_ids: [first.id, unknown] })).toMatchObject({
      status: 400,
      body: { message: `Unknown MCP server: ${unknown}` },
    });
    expect(await alice.post('/api/v1/chats', { content: 'disabled', model_config_id: harness.echoModelId, mcp_server_ids: [off.id] })).toMatchObject({ status: 400, body: { message: `Unknown MCP server: ${off.id}` } });

    expect((await alice.patch(chatPath, { mcp_server_ids: [second.id, first.id] })).body.mcp_server_ids).toEqual([second.id, first.id]);
    // Other fields leave the selection alone.
    expect((await alice.patch(chatPath, { title: 'Renamed' })).body).toMatchObject({ title: 'Renamed', mcp_server_ids: [second.id, first.id] });
    expect(await alice.patch(chatPath, { mcp_server_ids: [off.id] })).toMatchObject({ status: 400, body: { message: `Unknown MCP server: ${off.id}` } });
    const bad = await alice.patch(chatPath, { mcp_server_ids: ['not-a-uuid'] });
    expect(bad.status).toBe(400);
    expect(bad.body.validations[0]).toEqual({ field: 'mcp_server_ids.0', detail: 'mcp_server_ids must hold MCP server UUIDs.' });
    expect((await alice.patch(chatPath, { mcp_server_ids: [] })).body.mcp_server_ids).toEqual([]);
    expect((await alice.get(chatPath)).body.mcp_server_ids).toEqual([]);
  });

  it('documents the MCP routes in the OpenAPI document', async () => {
    const document = (await alice.get('/api/v1/openapi.json')).body;
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/v1/mcp-servers', '/api/v1/mcp-servers/available', '/api/v1/mcp-servers/{id}', '/api/v1/mcp-servers/{id}/user-token']));
    expect(document.components.schemas.McpServer.properties.has_auth_secret.type).toBe('boolean');
    const fields = Object.keys(document.components.schemas.McpServer.properties);
    for (const secret of ['auth', 'api_key_value', 'headers', 'client_secret', 'signing_secret']) expect(fields).not.toContain(secret);
    expect(document.components.schemas.CreateChatRequest.properties.mcp_server_ids.type).toBe('array');
  });
});
