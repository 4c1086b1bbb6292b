/**
 * Full chat turns through every provider wire format, with the real AI SDK clients talking
 * HTTP to fake provider servers, and every fault the providers produce ending in the
 * documented retry or error.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChatEvents } from '../db/chat-events.js';
import { type ProviderKind } from '../domain/provider.js';
import { ToolRegistry } from '../tools/chat-tool.js';
import { createChat, listMessages, textOf, waitForIdle, waitForStatus } from '../../test/support/chat-helpers.js';
import {
  fakeAuthError,
  fakeContextTooLong,
  fakeError,
  fakeOverloaded,
  fakeServerError,
  fakeStream,
  fakeText,
  fakeToolCall,
  fakeWebSearch,
} from '../../test/support/fake-llm/fake-reply.js';
import { startFakeLlmServer, type FakeLlmServer } from '../../test/support/fake-llm/fake-llm-server.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';
import { createTestTools } from '../../test/support/test-tools.js';

const STARTUP_TIMEOUT_MS = 1_500;

let harness: Harness;
let fake: FakeLlmServer;
let admin: ApiClient;
let alice: ApiClient;
const providerNames = new Map<ProviderKind, string>();

beforeAll(async () => {
  fake = await startFakeLlmServer();
  // Titles and turn labels would send the fake providers requests of their own: off here.
  harness = await startHarness({ activityDependencies: { tools: new ToolRegistry(createTestTools()), startupTimeoutMs: STARTUP_TIMEOUT_MS, modelSideCalls: false } });
  admin = apiClient(harness.apiUrl, harness.admin.key);
  alice = apiClient(harness.apiUrl, harness.alice.key);
  for (const kind of ['openai', 'openai-chat', 'anthropic', 'openai-compatible'] as const) {
    const name = `fake-${kind}`;
    const response = await admin.post('/api/v1/providers', {
      name,
      kind,
      base_url: fake.baseUrl(kind === 'anthropic' ? 'anthropic' : 'openai-chat'),
      // A local OpenAI-compatible server (Ollama) takes no key.
      ...(kind === 'openai-compatible' ? {} : { api_key: `key-for-${kind}` }),
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    providerNames.set(kind, name);
  }
});

afterAll(async () => {
  await harness?.stop();
  await fake?.close();
});

/** A model config on `kind` with a model name of its own, so its replies are scripted apart. */
async function modelOn(kind: ProviderKind): Promise<{ configId: string; model: string }> {
  const model = `model-${randomUUID().slice(0, 8)}`;
  const response = await admin.post('/api/v1/model-configs', { provider: providerNames.get(kind), model, prices: { input: 2, output: 10 } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { configId: response.body.id, model };
}

async function eventsOf(chatId: string, type: string): Promise<Array<Record<string, unknown>>> {
  return (await readChatEvents(harness.pool, chatId, 0)).filter((event) => event.type === type).map((event) => event.payload);
}

/** Where each format carries a tool result in the follow-up request. */
function toolResultIn(kind: ProviderKind, body: any): unknown {
  switch (kind) {
    case 'openai':
      return body.input.find((item: any) => item.type === 'function_call_output')?.output;
    case 'openai-chat':
    case 'openai-compatible':
      return body.messages.find((message: any) => message.role === 'tool')?.content;
    case 'anthropic':
      return body.messages.flatMap((message: any) => (Array.isArray(message.content) ? message.content : [])).find((part: any) => part.type === 'tool_result')?.content;
    default:
      throw new Error(`unknown kind ${String(kind)}`);
  }
}

describe.each(['openai', 'openai-chat', 'anthropic', 'openai-compatible'] as const)('a chat turn through %s', (kind) => {
  it('runs a tool call and answers with the result, with usage and cost on each step', async () => {
    const { configId, model } = await modelOn(kind);
    fake.reply(model, fakeToolCall('add', { numbers: [2, 3] }, { usage: { input: 100, output: 10 } }), fakeStream({ reasoning: 'The tool said 5.', text: 'The sum is 5.', usage: { input: 120, output: 8, cacheRead: 20 } }));
    const chat = await createChat(alice, { content: 'What is 2 + 3?', model_config_id: configId });
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(messages[1].content).toContainEqual(expect.objectContaining({ type: 'tool-call', tool_name: 'add', args: { numbers: [2, 3] } }));
    expect(messages[2].content[0]).toMatchObject({ type: 'tool-result', result: { sum: 5 }, is_error: false });
    expect(textOf(messages[3])).toBe('The sum is 5.');
    // Prices are USD per million tokens, so micros = tokens × price; cache reads bill at the input price.
    expect(messages[1].usage).toMatchObject({ input_tokens: 100, output_tokens: 10, cost_micros: 100 * 2 + 10 * 10 });
    expect(messages[3].usage).toMatchObject({ input_tokens: 120, output_tokens: 8, cache_read_tokens: 20, cost_micros: 120 * 2 + 8 * 10 });

    const requests = fake.requests.filter((request) => request.model === model);
    expect(requests).toHaveLength(2);
    expect(JSON.stringify(toolResultIn(kind, requests[1]!.body))).toContain('5');
    if (kind === 'anthropic') expect(requests[0]!.headers['x-api-key']).toBe('key-for-anthropic');
    else if (kind === 'openai-compatible') expect(requests[0]!.headers.authorization).toBeUndefined();
    else expect(requests[0]!.headers.authorization).toBe(`Bearer key-for-${kind}`);
    expect(fake.unexpected).toEqual([]);
  });

  it('retries a stream that ends without its terminal event, keeping only the retry’s output', async () => {
    const { configId, model } = await modelOn(kind);
    fake.reply(model, fakeText('cut short', { omitTerminal: true }), fakeText('complete answer'));
    const chat = await createChat(alice, { content: 'hello', model_config_id: configId });
    const settled = await waitForIdle(alice, chat.id);
    expect(settled.last_error).toBeNull();
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(textOf(messages[1])).toBe('complete answer');
    expect(await eventsOf(chat.id, 'retry')).toEqual([expect.objectContaining({ attempt: 2, kind: 'timeout', delay_ms: 1000 })]);
  });
});

describe('model config options', () => {
  it('passes provider_options to the provider under its AI SDK key', async () => {
    const model = `model-${randomUUID().slice(0, 8)}`;
    const config = await admin.post('/api/v1/model-configs', { provider: providerNames.get('openai-chat'), model, provider_options: { user: 'chatd-end-user-7' }, max_output_tokens: 1234 });
    fake.reply(model, fakeText('ok'));
    const chat = await createChat(alice, { content: 'hello', model_config_id: config.body.id });
    await waitForIdle(alice, chat.id);
    const [request] = fake.requests.filter((entry) => entry.model === model);
    expect(request!.body).toMatchObject({ user: 'chatd-end-user-7', max_tokens: 1234, stream: true });
  });
});

describe('provider faults', () => {
  it('waits out a 429 for as long as Retry-After says, then answers', async () => {
    const { configId, model } = await modelOn('openai-chat');
    fake.reply(model, fakeError(429, { retryAfterSeconds: 2 }), fakeText('after the limit'));
    const chat = await createChat(alice, { content: 'hello', model_config_id: configId });
    await waitForIdle(alice, chat.id);
    expect(textOf((await listMessages(alice, chat.id)).messages[1])).toBe('after the limit');
    expect(await eventsOf(chat.id, 'retry')).toEqual([expect.objectContaining({ attempt: 2, kind: 'rate_limit', delay_ms: 2000, status_code: 429, provider: 'OpenAI' })]);
    const [first, second] = fake.requests.filter((request) => request.model === model);
    expect(second!.receivedAt.getTime() - first!.receivedAt.getTime()).toBeGreaterThanOrEqual(1_900);
  });

  it('retries an overloaded Anthropic (529) with the reference message', async () => {
    const { configId, model } = await modelOn('anthropic');
    fake.reply(model, fakeOverloaded(), fakeText('recovered'));
    const chat = await createChat(alice, { content: 'hello', model_config_id: configId });
    await waitForIdle(alice, chat.id);
    expect(await eventsOf(chat.id, 'retry')).toEqual([expect.objectContaining({ kind: 'overloaded', error: 'Anthropic is temporarily overloaded.', status_code: 529 })]);
  });

  it('retries 500 and 503 with growing delays', async () => {
    const { configId, model } = await modelOn('openai');
    fake.reply(model, fakeServerError(500), fakeServerError(503), fakeText('third time'));
    const chat = await createChat(alice, { content: 'hello', model_config_id: configId });
    await waitForIdle(alice, chat.id);
    expect(textOf((await listMessages(alice, chat.id)).messages[1])).toBe('third time');
    const retries = await eventsOf(chat.id, 'retry');
    expect(retries.map((retry) => [retry.kind, retry.status_code, retry.delay_ms])).toEqual([
      ['generic', 500, 1000],
      ['timeout', 503, 2000],
    ]);
  });

  it('ends the turn at once on a bad key, with the reference message and no retry', async () => {
    const { configId, model } = await modelOn('anthropic');
    fake.reply(model, fakeAuthError());
    const chat = await createChat(alice, { content: 'hello', model_config_id: configId });
    const errored = await waitForStatus(alice, chat.id, 'error');
    expect(errored.last_error).toMatchObject({
      kind: 'auth',
      message: 'Authentication with Anthropic failed. Check the API key and permissions.',
      retryable: false,
      status_code: 401,
      provider: 'Anthropic',
    });
    expect(await eventsOf(chat.id, 'retry')).toEqual([]);
    expect(await eventsOf(chat.id, 'error')).toEqual([expect.objectContaining({ error: expect.objectContaining({ kind: 'auth' }) })]);
    expect(fake.requests.filter((request) => request.model === model)).toHaveLength(1);

    // The next message starts a fresh turn normally.
    fake.reply(model, fakeText('fixed'));
    expect((await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'again' })).status).toBe(200);
    await waitForIdle(alice, chat.id);
  });

  it('does not retry a prompt that is too long for the model', async () => {
    const { configId, model } = await modelOn('openai-chat');
    fake.reply(model, fakeContextTooLong());
    const chat = await createChat(alice, { content: 'hello', model_config_id: configId });
    const errored = await waitForStatus(alice, chat.id, 'error');
    expect(errored.last_error).toMatchObject({ kind: 'config', retryable: false, status_code: 400 });
    expect(fake.requests.filter((request) => request.model === model)).toHaveLength(1);
  });

  it('retries a connection dropped mid-stream and shows only the retry’s answer', async () => {
    const { configId, model } = await modelOn('anthropic');
    fake.reply(model, fakeText('one two three four', { chunks: 4, dropAfterChunks: 2 }), fakeText('whole answer'));
    const chat = await createChat(alice, { content: 'hello', model_config_id: configId });
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(textOf(messages[1])).toBe('whole answer');
    expect(await eventsOf(chat.id, 'retry')).toEqual([expect.objectContaining({ kind: 'timeout' })]);
  });

  it('gives up on a first token that never comes within the startup window, and retries', async () => {
    const { configId, model } = await modelOn('openai');
    fake.reply(model, fakeText('too late', { firstChunkDelayMs: STARTUP_TIMEOUT_MS * 4 }), fakeText('prompt answer'));
    const chat = await createChat(alice, { content: 'hello', model_config_id: configId });
    await waitForIdle(alice, chat.id);
    expect(textOf((await listMessages(alice, chat.id)).messages[1])).toBe('prompt answer');
    expect(await eventsOf(chat.id, 'retry')).toEqual([expect.objectContaining({ kind: 'startup_timeout', attempt: 2 })]);
  });

  it('refuses a disabled provider without calling it', async () => {
    const model = `model-${randomUUID().slice(0, 8)}`;
    const provider = await admin.post('/api/v1/providers', { name: 'switched-off', kind: 'openai', base_url: fake.baseUrl('openai-chat'), api_key: 'k' });
    const config = await admin.post('/api/v1/model-configs', { provider: 'switched-off', model });
    fake.reply(model, fakeText('first turn'));
    const chat = await createChat(alice, { content: 'hello', model_config_id: config.body.id });
    await waitForIdle(alice, chat.id);
    await admin.patch(`/api/v1/providers/${provider.body.id}`, { enabled: false });
    // The chat keeps its model; the next turn finds the provider disabled.
    expect((await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'again' })).status).toBe(200);
    const errored = await waitForStatus(alice, chat.id, 'error');
    expect(errored.last_error).toMatchObject({ kind: 'provider_disabled', retryable: false });
    expect(fake.requests.filter((request) => request.model === model)).toHaveLength(1);
  });
});

describe('attachments', () => {
  // A 1×1 transparent PNG.
  const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

  /** Uploads as Alice: the raw bytes with their Content-Type. */
  async function upload(data: Buffer, type: string, name = 'pixel.png'): Promise<{ status: number; body: any }> {
    const response = await fetch(`${harness.apiUrl}/api/v1/files?name=${encodeURIComponent(name)}`, { method: 'POST', headers: { authorization: `Bearer ${harness.alice.key}`, 'content-type': type }, body: data });
    return { status: response.status, body: await response.json() };
  }

  it('stores an upload for its owner only', async () => {
    const uploaded = await upload(PNG, 'image/png');
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toMatchObject({ name: 'pixel.png', media_type: 'image/png', size_bytes: PNG.length });
    const mine = await fetch(`${harness.apiUrl}/api/v1/files/${uploaded.body.id}`, { headers: { authorization: `Bearer ${harness.alice.key}` } });
    expect(mine.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await mine.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await apiClient(harness.apiUrl, harness.bob.key).get(`/api/v1/files/${uploaded.body.id}`)).status).toBe(404);
    // Bob cannot attach Alice's file either.
    const bobChat = await apiClient(harness.apiUrl, harness.bob.key).post('/api/v1/chats', { content: [{ type: 'file', file_id: uploaded.body.id }] });
    expect(bobChat.status).toBe(400);
    expect(bobChat.body.message).toBe(`File not found: ${uploaded.body.id}.`);
  });

  it('refuses unsupported types, empty files and files over 10 MiB with the limit in the answer', async () => {
    const pdf = await upload(Buffer.from('%PDF-1.4'), 'application/pdf');
    expect(pdf.status).toBe(415);
    expect(pdf.body.detail).toContain('image/png');
    expect((await upload(Buffer.alloc(0), 'image/png')).status).toBe(400);
    const huge = await upload(Buffer.alloc(10 * 1024 * 1024 + 1), 'image/png');
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ message: 'File too large.', detail: 'Files may be at most 10 MiB.' });
  });

  it('sends an attached image to the model in the provider’s own format', async () => {
    const image = (await upload(PNG, 'image/png')).body;
    const note = (await upload(Buffer.from('remember the milk'), 'text/plain', 'note.txt')).body;
    for (const kind of ['openai-chat', 'anthropic'] as const) {
      const { configId, model } = await modelOn(kind);
      fake.reply(model, fakeText('a single pixel'));
      const chat = await createChat(alice, {
        content: [{ type: 'text', text: 'What is this?' }, { type: 'file', file_id: image.id }, { type: 'file', file_id: note.id }],
        model_config_id: configId,
      });
      await waitForIdle(alice, chat.id);
      const { messages } = await listMessages(alice, chat.id);
      expect(messages[0].content[1]).toEqual({ type: 'file', file_id: image.id, name: 'pixel.png', media_type: 'image/png' });
      const [request] = fake.requests.filter((entry) => entry.model === model);
      const sent = JSON.stringify(request!.body);
      if (kind === 'anthropic') expect(request!.body.messages[0].content).toContainEqual({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG.toString('base64') } });
      else expect(sent).toContain(`data:image/png;base64,${PNG.toString('base64')}`);
      expect(sent).toContain('remember the milk');
    }
  });

  it('refuses an image over Anthropic’s inline limit before calling it, as a config error', async () => {
    // Six MiB of a valid-looking PNG header followed by padding: the size alone decides.
    const big = Buffer.concat([PNG, Buffer.alloc(6 * 1024 * 1024)]);
    const image = (await upload(big, 'image/png', 'big.png')).body;
    const { configId, model } = await modelOn('anthropic');
    const chat = await createChat(alice, { content: [{ type: 'text', text: 'look' }, { type: 'file', file_id: image.id }], model_config_id: configId });
    const errored = await waitForStatus(alice, chat.id, 'error');
    expect(errored.last_error).toMatchObject({ kind: 'config', retryable: false, provider: 'Anthropic' });
    expect(errored.last_error.message).toContain('Anthropic accepts images up to 5 MiB');
    expect(fake.requests.filter((entry) => entry.model === model)).toHaveLength(0);
  });
});

describe('bring your own key', () => {
  it('uses a user’s own key for their chats where the provider allows it, and the central key otherwise', async () => {
    const created = await admin.post('/api/v1/providers', { name: 'byok-anthropic', kind: 'anthropic', base_url: fake.baseUrl('anthropic'), api_key: 'central-key', allow_user_api_key: true });
    expect(created.body).toMatchObject({ allow_user_api_key: true, allow_central_api_key_fallback: true });
    const model = `model-${randomUUID().slice(0, 8)}`;
    const config = await admin.post('/api/v1/model-configs', { provider: 'byok-anthropic', model });
    const keyOf = (index: number) => fake.requests.filter((request) => request.model === model)[index]!.headers['x-api-key'];

    expect((await alice.get('/api/v1/user-provider-keys')).body.user_provider_keys).toContainEqual(expect.objectContaining({ provider: 'byok-anthropic', has_api_key: false, central_key_fallback: true }));
    fake.reply(model, fakeText('on the central key'), fakeText('on alice’s key'), fakeText('bob on the central key'));
    const chat = await createChat(alice, { content: 'hello', model_config_id: config.body.id });
    await waitForIdle(alice, chat.id);
    expect(keyOf(0)).toBe('central-key');

    const stored = await alice.raw('PUT', '/api/v1/user-provider-keys/byok-anthropic', { api_key: 'alice-own-key' });
    expect(stored).toMatchObject({ status: 200, body: { provider: 'byok-anthropic', has_api_key: true } });
    const listed = await alice.get('/api/v1/user-provider-keys');
    expect(JSON.stringify(listed.body)).not.toContain('alice-own-key');
    const { rows } = await harness.pool.query<{ api_key_ciphertext: string }>('SELECT api_key_ciphertext FROM user_provider_keys WHERE user_id = $1', [harness.alice.id]);
    expect(rows[0]!.api_key_ciphertext).not.toContain('alice-own-key');

    await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'again' });
    await waitForIdle(alice, chat.id);
    expect(keyOf(1)).toBe('alice-own-key');
    const bob = apiClient(harness.apiUrl, harness.bob.key);
    const bobChat = await createChat(bob, { content: 'hello', model_config_id: config.body.id });
    await waitForIdle(bob, bobChat.id);
    expect(keyOf(2)).toBe('central-key');
    expect(await alice.delete('/api/v1/user-provider-keys/byok-anthropic')).toMatchObject({ status: 204 });
  });

  it('requires a user key where the provider does not fall back to the central one', async () => {
    await admin.post('/api/v1/providers', { name: 'own-key-only', kind: 'openai-chat', base_url: fake.baseUrl('openai-chat'), allow_user_api_key: true, allow_central_api_key_fallback: false });
    const config = await admin.post('/api/v1/model-configs', { provider: 'own-key-only', model: 'never-without-a-key' });
    const chat = await createChat(alice, { content: 'hello', model_config_id: config.body.id });
    const errored = await waitForStatus(alice, chat.id, 'error');
    expect(errored.last_error).toMatchObject({ kind: 'config', retryable: false });
    expect(errored.last_error.detail).toContain('PUT /api/v1/user-provider-keys/own-key-only');
    expect(fake.requests.filter((request) => request.model === 'never-without-a-key')).toHaveLength(0);
  });

  it('refuses user keys for a provider that does not accept them, and for unknown providers', async () => {
    const refused = await alice.raw('PUT', `/api/v1/user-provider-keys/${providerNames.get('openai')}`, { api_key: 'mine' });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('does not accept user API keys');
    expect((await alice.raw('PUT', '/api/v1/user-provider-keys/nowhere', { api_key: 'mine' })).status).toBe(404);
    expect((await alice.raw('PUT', '/api/v1/user-provider-keys/nowhere', {})).status).toBe(400);
  });
});

describe('OpenAI Responses chaining', () => {
  it('names the previous response and sends only what followed it', async () => {
    const { configId, model } = await modelOn('openai');
    fake.reply(model, fakeToolCall('add', { numbers: [1, 1] }), fakeText('two'), fakeText('and again'));
    const chat = await createChat(alice, { content: 'What is 1 + 1?', system_prompt: 'Answer tersely.', model_config_id: configId });
    await waitForIdle(alice, chat.id);
    await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'Say it again.' });
    await waitForIdle(alice, chat.id);
    const requests = fake.requests.filter((request) => request.model === model).map((request) => request.body);
    expect(requests).toHaveLength(3);
    expect(requests[0].previous_response_id).toBeUndefined();
    // The tool step: chained to the first response, carrying only the tool output (and the system prompt).
    expect(requests[1].previous_response_id).toMatch(/^resp_/);
    expect(JSON.stringify(requests[1].input)).not.toContain('What is 1 + 1?');
    expect(JSON.stringify(requests[1].input)).toContain('function_call_output');
    expect(JSON.stringify(requests[1].input)).toContain('Answer tersely.');
    // The next turn: chained to the second response, carrying only the new user message.
    expect(requests[2].previous_response_id).toMatch(/^resp_/);
    expect(requests[2].previous_response_id).not.toBe(requests[1].previous_response_id);
    expect(JSON.stringify(requests[2].input)).toContain('Say it again.');
    expect(JSON.stringify(requests[2].input)).not.toContain('What is 1 + 1?');
    const { rows } = await harness.pool.query<{ provider_response_id: string | null }>("SELECT provider_response_id FROM chat_messages WHERE chat_id = $1 AND role = 'assistant' ORDER BY id", [chat.id]);
    expect(rows.every((row) => row.provider_response_id?.startsWith('resp_'))).toBe(true);
  });

  it('falls back to full history when the provider no longer has the previous response', async () => {
    const { configId, model } = await modelOn('openai');
    fake.reply(
      model,
      fakeText('first'),
      fakeError(400, { message: "Previous response with id 'resp_gone' not found.", errorType: 'invalid_request_error', reason: 'invalid_request' }),
      fakeText('second, from full history'),
    );
    const chat = await createChat(alice, { content: 'Remember the number 42.', model_config_id: configId });
    await waitForIdle(alice, chat.id);
    await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'Which number?' });
    const settled = await waitForIdle(alice, chat.id);
    expect(settled.last_error).toBeNull();
    const requests = fake.requests.filter((request) => request.model === model).map((request) => request.body);
    expect(requests).toHaveLength(3);
    expect(requests[1].previous_response_id).toMatch(/^resp_/);
    expect(requests[2].previous_response_id).toBeUndefined();
    expect(JSON.stringify(requests[2].input)).toContain('Remember the number 42.');
    expect(textOf((await listMessages(alice, chat.id)).messages[3])).toBe('second, from full history');
    // The fallback happened inside the attempt: no retry was announced.
    expect(await eventsOf(chat.id, 'retry')).toEqual([]);
  });
});

describe('provider-executed web search', () => {
  async function searchModelOn(kind: 'openai' | 'anthropic'): Promise<{ configId: string; model: string }> {
    const model = `model-${randomUUID().slice(0, 8)}`;
    const response = await admin.post('/api/v1/model-configs', { provider: providerNames.get(kind), model, provider_tools: ['web_search'] });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return { configId: response.body.id, model };
  }

  it.each(['openai', 'anthropic'] as const)('records a %s web search in the step, never runs it, and replays it', async (kind) => {
    const { configId, model } = await searchModelOn(kind);
    fake.reply(model, fakeWebSearch('chatd temporal', [{ url: 'https://example.com/chatd', title: 'chatd' }], 'It is a chat daemon.'), fakeText('Yes.'));
    const chat = await createChat(alice, { content: 'What is chatd?', model_config_id: configId });
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    // No tool message: the provider ran the search, chatd only recorded it.
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    const parts = messages[1].content;
    const call = parts.find((part: any) => part.type === 'tool-call');
    expect(call).toMatchObject({ tool_name: 'web_search', provider_executed: true });
    expect(parts.find((part: any) => part.type === 'tool-result')).toMatchObject({ tool_call_id: call.tool_call_id, provider_executed: true, is_error: false });
    expect(textOf(messages[1])).toBe('It is a chat daemon.');
    const [first] = fake.requests.filter((request) => request.model === model);
    expect(JSON.stringify(first!.body.tools)).toContain('web_search');

    await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'Sure?' });
    const settled = await waitForIdle(alice, chat.id);
    expect(settled.last_error).toBeNull();
    const replay = fake.requests.filter((request) => request.model === model)[1]!.body;
    if (kind === 'anthropic') {
      const blocks = replay.messages[1].content.map((block: any) => block.type);
      expect(blocks.slice(0, 2)).toEqual(['server_tool_use', 'web_search_tool_result']);
    } else {
      // Chained: the provider holds the search; only the new message goes out.
      expect(replay.previous_response_id).toMatch(/^resp_/);
    }
  });

  it('repairs a stored search that never got its result before sending the history again', async () => {
    const { configId, model } = await searchModelOn('anthropic');
    fake.reply(model, fakeText('first answer'), fakeText('second answer'));
    const chat = await createChat(alice, { content: 'hello', model_config_id: configId });
    await waitForIdle(alice, chat.id);
    // A step stored by an older build, or cut mid-search: a search call without its result.
    await harness.pool.query(
      `UPDATE chat_messages SET content = $2 WHERE chat_id = $1 AND role = 'assistant'`,
      [chat.id, JSON.stringify([{ type: 'tool-call', tool_call_id: 'srvtoolu_lost', tool_name: 'web_search', args: { query: 'lost' }, provider_executed: true }, { type: 'text', text: 'first answer' }])],
    );
    await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'again' });
    await waitForIdle(alice, chat.id);
    const replay = fake.requests.filter((request) => request.model === model)[1]!.body;
    expect(JSON.stringify(replay)).not.toContain('srvtoolu_lost');
    expect(JSON.stringify(replay.messages[1])).toContain('first answer');
  });

  it('refuses web search on a provider kind that cannot run it', async () => {
    const response = await admin.post('/api/v1/model-configs', { provider: providerNames.get('openai-chat'), model: 'x', provider_tools: ['web_search'] });
    expect(response.status).toBe(400);
    expect(response.body.message).toBe('The provider tool "web_search" needs a provider of kind openai or anthropic.');
  });
});
