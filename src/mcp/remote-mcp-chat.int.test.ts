/**
 * Remote MCP servers through a chat, end to end: an admin registers servers, a user's chat
 * chooses them, the model calls a remote tool by its `<slug>__<tool>` name, and a server that
 * is down only costs its tools and a warning, never the turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChatEvents } from '../db/chat-events.js';
import { remoteMcp } from '../main/chat-tools.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { createChat, listMessages, script, waitForIdle } from '../../test/support/chat-helpers.js';
import { closedPort, startMcpTestServer, TEST_MCP_SECRETS, type McpTestServer } from '../../test/support/mcp-test-server.js';
import { recordingModelResolver, type RecordedCall } from '../../test/support/recording-model.js';
import { ChatMcpTools } from './chat-mcp-tools.js';
import { WorkspaceMcpCatalogue } from './workspace-mcp-catalogue.js';

describe('remote MCP servers in a chat', () => {
  let harness: Harness;
  let alice: ApiClient;
  let server: McpTestServer;
  const ids: Record<string, string> = {};
  const offered: RecordedCall[] = [];
  let mcp: ChatMcpTools;

  beforeAll(async () => {
    harness = await startHarness({ startWorker: false });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    server = await startMcpTestServer();
    const admin = apiClient(harness.apiUrl, harness.admin.key);
    const created = await Promise.all([
      admin.post('/api/v1/mcp-servers', {
        slug: 'calc',
        url: `${server.url}/api-key/mcp`,
        auth: { type: 'api_key', api_key_header: 'X-Api-Key', api_key_value: TEST_MCP_SECRETS.apiKey },
      }),
      admin.post('/api/v1/mcp-servers', { slug: 'gone', url: `http://127.0.0.1:${await closedPort()}/mcp` }),
      admin.post('/api/v1/mcp-servers', { slug: 'planner', url: `${server.url}/open/mcp`, allow_in_plan_mode: true }),
    ]);
    for (const response of created) {
      expect(response.status).toBe(201);
      ids[response.body.slug] = response.body.id;
    }
    // No workspace in these chats: the workspace side finds nothing.
    const noWorkspaces = { agentFor: async () => ({ problem: 'no_workspace' as const, message: 'none' }) };
    mcp = new ChatMcpTools({ pool: harness.pool, workspace: new WorkspaceMcpCatalogue(noWorkspaces), remote: remoteMcp(harness.pool, harness.secretBox) });
    await harness.startWorker({
      mcp,
      resolveModel: recordingModelResolver(() => harness.secretBox, offered, { withToolsOnly: true }),
    });
  });

  afterAll(async () => {
    await harness?.stop();
    await server?.close();
  });

  it('calls a remote tool by its slug-qualified name, with the server’s sealed key', async () => {
    const chat = await createChat(alice, {
      mcp_server_ids: [ids.calc],
      content: script({ steps: [{ toolCalls: [{ name: 'calc__add', args: { a: 2, b: 3 } }] }, { text: 'five' }] }),
    });
    expect((await waitForIdle(alice, chat.id)).status).toBe('waiting');
    const { messages } = await listMessages(alice, chat.id);
    const result = messages.flatMap((message) => message.content).find((part: any) => part.type === 'tool-result');
    expect(result).toMatchObject({ tool_name: 'calc__add', result: '5', is_error: false });
    expect(server.requestHeaders.some((entry) => entry.mount === 'api-key' && entry.headers['x-api-key'] === TEST_MCP_SECRETS.apiKey)).toBe(true);
  });

  it('goes on without a server that is down, and says so on the chat', async () => {
    const chat = await createChat(alice, {
      mcp_server_ids: [ids.calc, ids.gone],
      content: script({ steps: [{ toolCalls: [{ name: 'calc__echo', args: { text: 'still here' } }, { name: 'gone__anything', args: {} }] }, { text: 'done' }] }),
    });
    expect((await waitForIdle(alice, chat.id)).status).toBe('waiting');
    const { messages } = await listMessages(alice, chat.id);
    const results = messages.flatMap((message) => message.content).filter((part: any) => part.type === 'tool-result');
    expect(results).toEqual([
      expect.objectContaining({ tool_name: 'calc__echo', result: 'still here', is_error: false }),
      expect.objectContaining({ tool_name: 'gone__anything', result: 'Tool not found: gone__anything', is_error: true }),
    ]);
    const warnings = (await readChatEvents(harness.pool, chat.id, 0)).filter((event) => event.type === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.payload).toMatchObject({ source: 'mcp', server: 'gone' });
  });

  it('offers a chat in plan mode only the servers an admin allows in plan mode, and runs no other server’s tool', async () => {
    const admin = apiClient(harness.apiUrl, harness.admin.key);
    expect((await admin.get(`/api/v1/mcp-servers/${ids.planner}`)).body).toMatchObject({ slug: 'planner', allow_in_plan_mode: true });
    expect((await admin.get(`/api/v1/mcp-servers/${ids.calc}`)).body).toMatchObject({ slug: 'calc', allow_in_plan_mode: false });
    offered.length = 0;
    const calcRequests = () => server.requestHeaders.filter((entry) => entry.mount === 'api-key').length;
    const calcRequestsBefore = calcRequests();
    const chat = await createChat(alice, {
      plan_mode: true,
      mcp_server_ids: [ids.calc, ids.planner],
      content: script({ steps: [{ toolCalls: [{ name: 'planner__add', args: { a: 1, b: 2 } }, { name: 'calc__add', args: { a: 2, b: 2 } }] }, { text: 'planned' }] }),
    });
    expect((await waitForIdle(alice, chat.id)).status).toBe('waiting');
    // ask_user_question is offered in plan mode only.
    const firstStep = offered.find((call) => call.tools.includes('ask_user_question'));
    expect(firstStep?.tools).toEqual(expect.arrayContaining(['planner__add', 'planner__echo']));
    expect(firstStep?.tools.filter((name) => name.startsWith('calc__'))).toEqual([]);
    const { messages } = await listMessages(alice, chat.id);
    const results = messages.flatMap((message) => message.content).filter((part: any) => part.type === 'tool-result');
    expect(results).toEqual([
      expect.objectContaining({ tool_name: 'planner__add', result: '3', is_error: false }),
      expect.objectContaining({ tool_name: 'calc__add', result: 'Tool not found: calc__add', is_error: true }),
    ]);
    // A server the chat may not use in plan mode is not even contacted.
    expect(calcRequests()).toBe(calcRequestsBefore);
    // Nor when a tool runs: a call is looked up by the chat's role at that moment.
    const planRole = { isChild: false, planMode: true, agentType: null };
    expect(await mcp.call(chat.id, 'calc__add', { a: 1, b: 1 }, new Set(), planRole)).toBeUndefined();
    expect(calcRequests()).toBe(calcRequestsBefore);
    expect(await mcp.call(chat.id, 'calc__add', { a: 1, b: 1 }, new Set(), { ...planRole, planMode: false })).toMatchObject({ result: '2', isError: false });

    // Out of plan mode the same chat is offered both servers again.
    offered.length = 0;
    expect((await alice.patch(`/api/v1/chats/${chat.id}`, { plan_mode: false })).status).toBe(200);
    await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: script({ steps: [{ text: 'building' }] }) });
    expect((await waitForIdle(alice, chat.id)).status).toBe('waiting');
    expect(offered.at(-1)?.tools).toEqual(expect.arrayContaining(['planner__add', 'calc__add']));
  });

  it('gives an explore sub-agent the remote servers its parent chose, never the workspace’s', async () => {
    offered.length = 0;
    const childScript = script({ steps: [{ toolCalls: [{ name: 'calc__add', args: { a: 20, b: 22 } }] }, { text: 'The answer is 42.' }] });
    const parent = await createChat(alice, {
      mcp_server_ids: [ids.calc],
      content: script({ steps: [{ toolCalls: [{ name: 'spawn_agent', args: { type: 'explore', prompt: childScript, title: 'Add it up' } }] }, { text: 'spawned' }] }),
    });
    expect((await waitForIdle(alice, parent.id)).status).toBe('waiting');
    const spawned = (await listMessages(alice, parent.id)).messages.flatMap((message) => message.content).find((part: any) => part.type === 'tool-result' && part.tool_name === 'spawn_agent');
    const childId = (spawned as { result: { chat_id: string } }).result.chat_id;
    expect((await waitForIdle(alice, childId)).status).toBe('waiting');
    const childResults = (await listMessages(alice, childId)).messages.flatMap((message) => message.content).filter((part: any) => part.type === 'tool-result');
    expect(childResults).toEqual([expect.objectContaining({ tool_name: 'calc__add', result: '42', is_error: false })]);
    const childStep = offered.find((call) => call.system.includes('You are a sub-agent'));
    expect(childStep?.tools).toEqual(expect.arrayContaining(['calc__add']));
    expect(childStep?.tools).not.toContain('write_file');
  });
});
