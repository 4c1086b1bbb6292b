/**
 * Context compaction end to end: real Temporal, PostgreSQL and API, with the built-in script
 * model. Its steps report scripted input tokens (to reach a threshold), its `compaction` field
 * answers the summary call, and a `describePrompt` step answers with the prompt it received,
 * which is how these tests see what the model was sent. One test goes through a real AI SDK
 * client against the fake Anthropic server instead, which records the requests themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChatEvents } from '../db/chat-events.js';
import { SUMMARY_PREFIX } from '../domain/compaction.js';
import { ToolRegistry } from '../tools/chat-tool.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { createChat, listMessages, script, slowScript, textOf, waitForIdle, waitForStatus } from '../../test/support/chat-helpers.js';
import { createTestTools } from '../../test/support/test-tools.js';
import { startFakeLlmServer, type FakeLlmServer } from '../../test/support/fake-llm/fake-llm-server.js';
import { fakeText } from '../../test/support/fake-llm/fake-reply.js';

interface CompressedRow {
  role: string;
  visibility: string;
  content: any[];
}

describe('context compaction', () => {
  let harness: Harness;
  let alice: ApiClient;
  let bob: ApiClient;
  let admin: ApiClient;
  let fake: FakeLlmServer;

  beforeAll(async () => {
    fake = await startFakeLlmServer();
    // Titles and turn labels would send the fake provider requests of their own: off here.
    harness = await startHarness({ activityDependencies: { tools: new ToolRegistry(createTestTools()), modelSideCalls: false } });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    bob = apiClient(harness.apiUrl, harness.bob.key);
    admin = apiClient(harness.apiUrl, harness.admin.key);
  });

  afterAll(async () => {
    await harness?.stop();
    await fake?.close();
  });

  /** A script model config with a 1,000-token context, so scripted input tokens are percentages ×10. */
  const smallContextModel = async (fields: Record<string, unknown> = {}): Promise<string> => {
    const response = await admin.post('/api/v1/model-configs', { provider: 'script', model: 'script', context_limit: 1_000, ...fields });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id;
  };

  const compressedRows = async (chatId: string): Promise<CompressedRow[]> =>
    (await harness.pool.query<CompressedRow>('SELECT role, visibility, content FROM chat_messages WHERE chat_id = $1 AND compressed AND NOT deleted ORDER BY id', [chatId])).rows;

  /** The prompt a `describePrompt` step received. */
  /** The conversation part of a prompt the script model described (chatd's own system prompt left out). */
  const promptSeenBy = (message: any): Array<{ role: string; text: string }> => (JSON.parse(textOf(message)) as Array<{ role: string; text: string }>).filter((entry) => entry.role !== 'system');

  const assistantSteps = async (chatId: string): Promise<number> =>
    (await harness.pool.query(`SELECT 1 FROM chat_messages WHERE chat_id = $1 AND role = 'assistant' AND idempotency_key LIKE 'turn:%:step:%' AND NOT deleted`, [chatId])).rows.length;

  it('summarises the chat when a step reaches the threshold, publishes the call and result, and later prompts start from the summary', async () => {
    const model = await smallContextModel();
    const chat = await createChat(alice, {
      model_config_id: model,
      content: script({ steps: [{ text: 'Billing is deployed.', inputTokens: 800 }], compaction: { summary: 'The user deployed billing.', steps: [{ describePrompt: true }] } }),
    });
    await waitForIdle(alice, chat.id);

    const rows = await compressedRows(chat.id);
    expect(rows.map((row) => [row.role, row.visibility])).toEqual([
      ['user', 'model'],
      ['assistant', 'user'],
      ['tool', 'both'],
    ]);
    expect(rows[0]!.content[0].text.startsWith(`${SUMMARY_PREFIX}The user deployed billing.`)).toBe(true);
    const call = rows[1]!.content[0];
    expect(call).toMatchObject({ type: 'tool-call', tool_name: 'chat_summarized', args: { source: 'automatic', threshold_percent: 70 } });
    expect(call.tool_call_id).toMatch(/^chat_summarized_[0-9a-f-]{36}$/);
    const result = rows[2]!.content[0];
    expect(result).toMatchObject({ type: 'tool-result', tool_call_id: call.tool_call_id, is_error: false });
    expect(result.result).toMatchObject({ source: 'automatic', threshold_percent: 70, usage_percent: 80, context_tokens: 800, context_limit_tokens: 1_000 });
    expect(result.result.summary.startsWith('The user deployed billing.')).toBe(true);

    // Only the call and its result reach the stream, after a provisional "Summarizing…" part.
    const events = await readChatEvents(harness.pool, chat.id, 0);
    const published = events.filter((event) => event.type === 'message').map((event) => event.payload.message as any);
    expect(published.filter((message) => message.content.some((part: any) => part.tool_name === 'chat_summarized')).map((message) => message.role)).toEqual(['assistant', 'tool']);
    expect(published.some((message) => textOf(message).startsWith(SUMMARY_PREFIX))).toBe(false);
    const provisional = events.findIndex((event) => event.type === 'message_part' && (event.payload.part as any).tool_name === 'chat_summarized');
    const callEvent = events.findIndex((event) => event.type === 'message' && (event.payload.message as any).content[0]?.tool_name === 'chat_summarized');
    expect(provisional).toBeGreaterThan(-1);
    expect(provisional).toBeLessThan(callEvent);

    // The final step compacted, so the turn went on: that step's prompt was the summary alone.
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'assistant', 'tool', 'assistant']);
    const continued = promptSeenBy(messages[4]);
    expect(continued.map((message) => message.role)).toEqual(['user']);
    expect(continued[0]!.text.startsWith(`${SUMMARY_PREFIX}The user deployed billing.`)).toBe(true);
    // The listing never shows the model-only summary message, and it cannot be edited.
    expect(messages.some((message) => textOf(message).startsWith(SUMMARY_PREFIX))).toBe(false);
    const summaryId = (await harness.pool.query<{ id: number }>(`SELECT id FROM chat_messages WHERE chat_id = $1 AND compressed AND role = 'user'`, [chat.id])).rows[0]!.id;
    expect((await alice.patch(`/api/v1/chats/${chat.id}/messages/${summaryId}`, { content: 'rewritten' })).status).toBe(404);

    // The next turn's prompt also starts from the summary, and leaves the summary's call and result out.
    const sent = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: script({ steps: [{ describePrompt: true }] }) });
    expect(sent.status).toBe(200);
    await waitForIdle(alice, chat.id);
    const after = (await listMessages(alice, chat.id)).messages;
    const nextPrompt = promptSeenBy(after[after.length - 1]);
    expect(nextPrompt.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(nextPrompt[0]!.text.startsWith(SUMMARY_PREFIX)).toBe(true);
    expect(nextPrompt.some((message) => message.text.includes('Billing is deployed.'))).toBe(false);
  });

  it('through a provider, counts cached input, summarises without tools, and sends the next step only the summary', async () => {
    const provider = await admin.post('/api/v1/providers', { name: 'fake-anthropic', kind: 'anthropic', base_url: fake.baseUrl('anthropic'), api_key: 'key-for-anthropic' });
    expect(provider.status, JSON.stringify(provider.body)).toBe(201);
    const modelName = 'claude-fake-compaction';
    const config = await admin.post('/api/v1/model-configs', { provider: 'fake-anthropic', model: modelName, context_limit: 1_000 });
    expect(config.status, JSON.stringify(config.body)).toBe(201);
    // 750 of 1,000 input tokens, 600 of them read from the cache: 75 %, over the default 70 %.
    fake.reply(modelName, fakeText('Deployed billing.', { usage: { input: 750, output: 5, cacheRead: 600 } }), fakeText('The user had billing deployed.'), fakeText('Anything else?'));
    const chat = await createChat(alice, { model_config_id: config.body.id, content: 'Deploy billing, please.' });
    await waitForIdle(alice, chat.id);

    const requests = fake.requests.filter((request) => request.model === modelName);
    expect(requests).toHaveLength(3);
    const summaryRequest = requests[1]!.body;
    expect(summaryRequest.tools).toBeUndefined();
    expect(JSON.stringify(summaryRequest.messages)).toContain('User: Deploy billing, please.');
    expect(JSON.stringify(summaryRequest.messages)).toContain('Assistant: Deployed billing.');
    const continued = requests[2]!.body.messages;
    expect(continued).toHaveLength(1);
    expect(continued[0].role).toBe('user');
    expect(continued[0].content[0].text).toBe(`${SUMMARY_PREFIX}The user had billing deployed.`);
    const rows = await compressedRows(chat.id);
    expect(rows[2]!.content[0].result).toEqual({
      summary: 'The user had billing deployed.',
      source: 'automatic',
      threshold_percent: 70,
      usage_percent: 75,
      context_tokens: 750,
      context_limit_tokens: 1_000,
    });
    expect(fake.unexpected).toEqual([]);
  });

  it('never compacts at a threshold of 100, even over the context limit', async () => {
    const model = await smallContextModel();
    const changed = await admin.patch(`/api/v1/model-configs/${model}`, { compression_threshold: 100 });
    expect(changed.status).toBe(200);
    expect(changed.body.compression_threshold).toBe(100);
    const chat = await createChat(alice, { model_config_id: model, content: script({ steps: [{ text: 'Huge.', inputTokens: 5_000 }], compaction: { summary: 'Never asked.' } }) });
    await waitForIdle(alice, chat.id);
    expect(await compressedRows(chat.id)).toEqual([]);
    expect((await listMessages(alice, chat.id)).messages.map((message) => message.role)).toEqual(['user', 'assistant']);
  });

  it("uses the owner's threshold for the model config over the config's own", async () => {
    const model = await smallContextModel({ compression_threshold: 70 });
    expect((await alice.raw('PUT', '/api/v1/settings/compaction-threshold', { model_config_id: model, threshold_percent: 150 })).status).toBe(400);
    expect((await alice.raw('PUT', '/api/v1/settings/compaction-threshold', { model_config_id: '00000000-0000-4000-8000-000000000000', threshold_percent: 40 })).status).toBe(400);
    const set = await alice.raw('PUT', '/api/v1/settings/compaction-threshold', { model_config_id: model, threshold_percent: 40 });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect((await alice.get('/api/v1/settings/compaction-threshold')).body.thresholds).toEqual([{ model_config_id: model, threshold_percent: 40 }]);
    expect((await bob.get('/api/v1/settings/compaction-threshold')).body.thresholds).toEqual([]);

    const content = script({ steps: [{ text: 'Half full.', inputTokens: 500 }], compaction: { summary: 'Half way.' } });
    const alicesChat = await createChat(alice, { model_config_id: model, content });
    const bobsChat = await createChat(bob, { model_config_id: model, content });
    await waitForIdle(alice, alicesChat.id);
    await waitForIdle(bob, bobsChat.id);
    const rows = await compressedRows(alicesChat.id);
    expect(rows).toHaveLength(3);
    expect(rows[2]!.content[0].result).toMatchObject({ threshold_percent: 40, usage_percent: 50 });
    expect(await compressedRows(bobsChat.id)).toEqual([]);

    // Removing the override brings the config's 70 % back.
    expect((await alice.raw('PUT', '/api/v1/settings/compaction-threshold', { model_config_id: model, threshold_percent: null })).status).toBe(200);
    const later = await createChat(alice, { model_config_id: model, content });
    await waitForIdle(alice, later.id);
    expect(await compressedRows(later.id)).toEqual([]);
  });

  it('goes on from the summary after a compacted final step at most three times a turn', async () => {
    const model = await smallContextModel();
    const chat = await createChat(alice, {
      model_config_id: model,
      content: script({ steps: [{ text: 'Step one.', inputTokens: 900 }], compaction: { summary: 'Still full.', steps: [{ text: 'Again.', inputTokens: 900 }] } }),
    });
    const settled = await waitForIdle(alice, chat.id);
    expect(settled.status).toBe('waiting');
    // The first step and three continuations; the fourth summary is stored but the turn ends.
    expect(await assistantSteps(chat.id)).toBe(4);
    expect((await compressedRows(chat.id)).filter((row) => row.role === 'user')).toHaveLength(4);
  });

  it('compacts after a step with tool calls once its results are recorded, and the turn goes on', async () => {
    const model = await smallContextModel();
    const chat = await createChat(alice, {
      model_config_id: model,
      content: script({
        steps: [{ toolCalls: [{ name: 'add', args: { numbers: [2, 3] } }], inputTokens: 750 }],
        compaction: { summary: 'Added two numbers.', steps: [{ describePrompt: true }] },
      }),
    });
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant']);
    expect(messages[2].content[0]).toMatchObject({ tool_name: 'add', result: { sum: 5 } });
    expect(messages[3].content[0].tool_name).toBe('chat_summarized');
    expect(promptSeenBy(messages[5]).map((message) => message.role)).toEqual(['user']);
  });

  it('publishes an error result for an empty summary and leaves the chat unsummarised', async () => {
    const model = await smallContextModel();
    const chat = await createChat(alice, { model_config_id: model, content: script({ steps: [{ text: 'Full.', inputTokens: 950 }], compaction: { summary: '' } }) });
    const settled = await waitForIdle(alice, chat.id);
    expect(settled.status).toBe('waiting');
    expect(await compressedRows(chat.id)).toEqual([]);
    const events = await readChatEvents(harness.pool, chat.id, 0);
    const failed = events.filter((event) => event.type === 'message_part' && (event.payload.part as any).type === 'tool-result' && (event.payload.part as any).tool_name === 'chat_summarized');
    expect(failed.map((event) => (event.payload.part as any).is_error)).toEqual([true]);
    expect((await listMessages(alice, chat.id)).messages.map((message) => message.role)).toEqual(['user', 'assistant']);
  });

  it('compacts on request, then answers 409 while nothing is new, 404 for another user, and 409 while a turn runs', async () => {
    const chat = await createChat(alice, { content: script({ steps: [{ text: 'Short reply.' }], compaction: { summary: 'A short chat.' } }) });
    await waitForIdle(alice, chat.id);
    expect((await bob.post(`/api/v1/chats/${chat.id}/compact`)).status).toBe(404);

    const compacted = await alice.post(`/api/v1/chats/${chat.id}/compact`);
    expect(compacted.status, JSON.stringify(compacted.body)).toBe(200);
    expect(compacted.body).toMatchObject({ source: 'manual', threshold_percent: 70, context_limit_tokens: 128_000 });
    expect(compacted.body.summary.startsWith('A short chat.')).toBe(true);
    const rows = await compressedRows(chat.id);
    expect(rows.map((row) => row.role)).toEqual(['user', 'assistant', 'tool']);
    expect(rows[1]!.content[0].args).toEqual({ source: 'manual', threshold_percent: 70 });

    const again = await alice.post(`/api/v1/chats/${chat.id}/compact`);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ message: 'Nothing to compact.' });

    const busy = await createChat(alice, { content: script(slowScript('Taking a while to answer.', 20, 150)) });
    await waitForStatus(alice, busy.id, 'running');
    const refused = await alice.post(`/api/v1/chats/${busy.id}/compact`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toBe('Chat is busy; compact it when the current turn has finished.');
    await waitForIdle(alice, busy.id);
  });
});
