import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../db/users.js';
import { createChat, listMessages, script, slowScript, waitForIdle, waitForStatus } from '../../test/support/chat-helpers.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';

let harness: Harness;
let admin: ApiClient;
let alice: ApiClient;

beforeAll(async () => {
  harness = await startHarness();
  admin = apiClient(harness.apiUrl, harness.admin.key);
  alice = apiClient(harness.apiUrl, harness.alice.key);
});

afterAll(async () => {
  await harness?.stop();
});

describe('providers', () => {
  it('stores a provider key sealed and never returns it', async () => {
    const created = await admin.post('/api/v1/providers', { name: 'sealed-openai', kind: 'openai', api_key: 'sk-very-secret-1234' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: 'sealed-openai', kind: 'openai', has_api_key: true, enabled: true });
    expect(JSON.stringify(created.body)).not.toContain('sk-very-secret');
    const { rows } = await harness.pool.query<{ api_key_ciphertext: string }>('SELECT api_key_ciphertext FROM providers WHERE name = $1', ['sealed-openai']);
    expect(rows[0]!.api_key_ciphertext).toMatch(/^v1:/);
    expect(rows[0]!.api_key_ciphertext).not.toContain('sk-very-secret');
    const listed = await admin.get('/api/v1/providers');
    expect(JSON.stringify(listed.body)).not.toContain('sk-very-secret');

    const cleared = await admin.patch(`/api/v1/providers/${created.body.id}`, { api_key: null });
    expect(cleared.body.has_api_key).toBe(false);
  });

  it('answers 403 to a user who is not an admin, on every admin route', async () => {
    for (const response of [
      await alice.get('/api/v1/providers'),
      await alice.post('/api/v1/providers', { name: 'nope', kind: 'openai' }),
      await alice.get('/api/v1/model-configs'),
      await alice.raw('PUT', '/api/v1/usage-limits/default', { limit_micros: 1, period: 'day' }),
    ]) {
      expect(response.status).toBe(403);
      expect(response.body.message).toBe('Admin access required.');
    }
  });

  it('rejects bad provider input with a message naming the field', async () => {
    const noBaseUrl = await admin.post('/api/v1/providers', { name: 'local', kind: 'openai-compatible' });
    expect(noBaseUrl.status).toBe(400);
    expect(noBaseUrl.body.validations[0]).toMatchObject({ field: 'base_url' });
    const badName = await admin.post('/api/v1/providers', { name: 'Has Spaces', kind: 'openai' });
    expect(badName.status).toBe(400);
    const builtinName = await admin.post('/api/v1/providers', { name: 'echo', kind: 'openai' });
    expect(builtinName.status).toBe(400);
    await admin.post('/api/v1/providers', { name: 'twice', kind: 'anthropic' });
    const duplicate = await admin.post('/api/v1/providers', { name: 'twice', kind: 'anthropic' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.message).toBe('A provider named "twice" already exists.');
  });

  it('refuses to delete a provider that model configs still use', async () => {
    const provider = await admin.post('/api/v1/providers', { name: 'in-use', kind: 'anthropic' });
    const config = await admin.post('/api/v1/model-configs', { provider: 'in-use', model: 'claude-test' });
    expect(config.status, JSON.stringify(config.body)).toBe(201);
    const refused = await admin.delete(`/api/v1/providers/${provider.body.id}`);
    expect(refused.status).toBe(409);
    expect(await admin.delete(`/api/v1/model-configs/${config.body.id}`)).toMatchObject({ status: 204 });
    expect(await admin.delete(`/api/v1/providers/${provider.body.id}`)).toMatchObject({ status: 204 });
  });
});

describe('model configs', () => {
  it('creates a config on a known provider and refuses an unknown one', async () => {
    const unknown = await admin.post('/api/v1/model-configs', { provider: 'nowhere', model: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/Unknown provider "nowhere"/);
    const created = await admin.post('/api/v1/model-configs', {
      provider: 'echo',
      model: 'echo',
      display_name: 'Priced echo',
      prices: { input: 3, output: 15 },
      provider_options: { anything: true },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ display_name: 'Priced echo', prices: { input: 3, output: 15 }, provider_options: { anything: true }, enabled: true, is_default: false });
  });

  it('keeps exactly one default', async () => {
    const first = await admin.post('/api/v1/model-configs', { provider: 'echo', model: 'echo', is_default: true });
    const second = await admin.post('/api/v1/model-configs', { provider: 'echo', model: 'echo', display_name: 'Second', is_default: true });
    const configs = (await admin.get('/api/v1/model-configs')).body.model_configs as Array<{ id: string; is_default: boolean }>;
    expect(configs.filter((config) => config.is_default).map((config) => config.id)).toEqual([second.body.id]);
    await admin.patch(`/api/v1/model-configs/${first.body.id}`, { is_default: true });
    const after = (await admin.get('/api/v1/model-configs')).body.model_configs as Array<{ id: string; is_default: boolean }>;
    expect(after.filter((config) => config.is_default).map((config) => config.id)).toEqual([first.body.id]);
    // Leave the harness's script model as the default for other tests.
    await admin.patch(`/api/v1/model-configs/${harness.scriptModelId}`, { is_default: true });
  });

  it('lists for users only models that are enabled on providers that are enabled', async () => {
    const provider = await admin.post('/api/v1/providers', { name: 'soon-off', kind: 'anthropic', api_key: 'k' });
    const config = await admin.post('/api/v1/model-configs', { provider: 'soon-off', model: 'claude-x', display_name: 'Soon off' });
    const names = async () => ((await alice.get('/api/v1/models')).body.models as Array<{ id: string }>).map((model) => model.id);
    expect(await names()).toContain(config.body.id);
    await admin.patch(`/api/v1/providers/${provider.body.id}`, { enabled: false });
    expect(await names()).not.toContain(config.body.id);
  });

  it('disables instead of deleting a config that messages refer to', async () => {
    const config = await admin.post('/api/v1/model-configs', { provider: 'echo', model: 'echo', display_name: 'Used' });
    const chat = await createChat(alice, { content: 'hello', model_config_id: config.body.id });
    await waitForIdle(alice, chat.id);
    const removed = await admin.delete(`/api/v1/model-configs/${config.body.id}`);
    expect(removed.status).toBe(200);
    const { rows } = await harness.pool.query('SELECT enabled FROM model_configs WHERE id = $1', [config.body.id]);
    expect(rows[0]).toEqual({ enabled: false });
    const send = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'again', model_config_id: config.body.id });
    expect(send.status).toBe(400);
    expect(send.body.message).toBe('Invalid model config ID.');
  });
});

describe('usage and spend limits', () => {
  it('records each step’s cost from the model’s prices and reports it per user and model', async () => {
    // One dollar per token in and out: cost in micros is a million times the token count.
    const priced = await admin.post('/api/v1/model-configs', { provider: 'script', model: 'script', display_name: 'Priced script', prices: { input: 1, output: 1 } });
    const chat = await createChat(alice, { content: script({ steps: [{ text: 'twelve chars' }] }), model_config_id: priced.body.id });
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    const usage = messages.find((message) => message.role === 'assistant').usage;
    expect(usage.output_tokens).toBeGreaterThan(0);
    expect(usage.cost_micros).toBe(usage.input_tokens + usage.output_tokens);

    const report = await alice.get('/api/v1/usage');
    expect(report.status).toBe(200);
    const forModel = report.body.by_model.find((entry: { model_config_id: string }) => entry.model_config_id === priced.body.id);
    expect(forModel).toMatchObject({ cost_micros: usage.cost_micros, steps: 1 });
    expect(report.body.total.cost_micros).toBeGreaterThanOrEqual(usage.cost_micros);
    expect((await apiClient(harness.apiUrl, harness.bob.key).get('/api/v1/usage')).body.total.cost_micros).toBe(0);

    const bad = await alice.get('/api/v1/usage?from=yesterday');
    expect(bad.status).toBe(400);
  });

  it('refuses new turns with 409 once spend reaches the limit, and allows them again when raised', async () => {
    const priced = await admin.post('/api/v1/model-configs', { provider: 'script', model: 'script', display_name: 'Costly', prices: { input: 1, output: 1 } });
    const bob = apiClient(harness.apiUrl, harness.bob.key);
    const chat = await createChat(bob, { content: script({ steps: [{ text: 'spend' }] }), model_config_id: priced.body.id });
    await waitForIdle(bob, chat.id);
    const limited = await admin.raw('PUT', `/api/v1/usage-limits/users/${harness.bob.id}`, { limit_micros: 1, period: 'day' });
    expect(limited.status).toBe(200);

    const refused = await bob.post(`/api/v1/chats/${chat.id}/messages`, { content: 'more' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ message: 'Chat usage limit exceeded.', limit_micros: 1 });
    expect(refused.body.spent_micros).toBeGreaterThan(1);
    expect(Date.parse(refused.body.resets_at)).toBeGreaterThan(Date.now());
    expect((await bob.post('/api/v1/chats', { content: 'new chat' })).status).toBe(409);
    // Nothing was accepted: the chat still has one user message.
    const { messages } = await listMessages(bob, chat.id);
    expect(messages.filter((message) => message.role === 'user')).toHaveLength(1);
    expect((await bob.get('/api/v1/usage')).body.limit).toMatchObject({ limit_micros: 1, period: 'day' });

    await admin.raw('PUT', `/api/v1/usage-limits/users/${harness.bob.id}`, { limit_micros: 1_000_000_000_000, period: 'month' });
    expect((await bob.post(`/api/v1/chats/${chat.id}/messages`, { content: script({ steps: [{ text: 'ok' }] }) })).status).toBe(200);
    await waitForIdle(bob, chat.id);
    expect(await admin.delete(`/api/v1/usage-limits/users/${harness.bob.id}`)).toMatchObject({ status: 204 });
  });
});

describe('key attribution', () => {
  it('attributes each turn’s model calls to the key that sent its message, queued ones included', async () => {
    const laptopKey = await createApiKey(harness.pool, harness.alice.id, 'laptop');
    const ciKey = await createApiKey(harness.pool, harness.alice.id, 'ci');
    const laptop = apiClient(harness.apiUrl, laptopKey);
    const ci = apiClient(harness.apiUrl, ciKey);
    const chat = await createChat(laptop, { content: script(slowScript('from the laptop', 6, 60)) });
    const queued = await ci.post(`/api/v1/chats/${chat.id}/messages`, { content: script({ steps: [{ text: 'from ci' }] }) });
    expect(queued.body.queued).toBe(true);
    await waitForIdle(laptop, chat.id);
    const { rows } = await harness.pool.query<{ role: string; api_key_id: string; text: string }>(
      "SELECT role, api_key_id, content->0->>'text' AS text FROM chat_messages WHERE chat_id = $1 AND NOT deleted ORDER BY id",
      [chat.id],
    );
    const laptopId = (await harness.pool.query<{ id: string }>('SELECT id FROM api_keys WHERE name = $1 AND user_id = $2', ['laptop', harness.alice.id])).rows[0]!.id;
    const ciId = (await harness.pool.query<{ id: string }>('SELECT id FROM api_keys WHERE name = $1 AND user_id = $2', ['ci', harness.alice.id])).rows[0]!.id;
    expect(rows.map((row) => [row.role, row.api_key_id])).toEqual([
      ['user', laptopId],
      ['assistant', laptopId],
      ['user', ciId],
      ['assistant', ciId],
    ]);
    const byKey = (await laptop.get('/api/v1/usage')).body.by_api_key as Array<{ api_key_id: string; key_name: string; steps: number; key_prefix: string }>;
    expect(byKey.find((entry) => entry.api_key_id === ciId)).toMatchObject({ key_name: 'ci', steps: 1 });
    expect(byKey.find((entry) => entry.api_key_id === laptopId)).toMatchObject({ key_name: 'laptop', steps: 1 });
    expect(JSON.stringify(byKey)).not.toContain(ciKey);
  });

  it('fails closed when the turn’s key is gone: no model call is made', async () => {
    const doomedKey = await createApiKey(harness.pool, harness.alice.id, 'doomed');
    const doomed = apiClient(harness.apiUrl, doomedKey);
    // A first turn long enough that the key is deleted while its message still waits in the queue.
    const chat = await createChat(alice, { content: script(slowScript('first turn', 20, 100)) });
    const queued = await doomed.post(`/api/v1/chats/${chat.id}/messages`, { content: script({ steps: [{ text: 'must not run' }] }) });
    expect(queued.body.queued).toBe(true);
    await harness.pool.query("DELETE FROM api_keys WHERE name = 'doomed' AND user_id = $1", [harness.alice.id]);
    const failed = await waitForStatus(alice, chat.id, 'error');
    expect(failed.last_error).toMatchObject({ kind: 'config', retryable: false, message: 'This turn has no API key to attribute its model calls to.' });
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
  });
});
