/**
 * Generated titles and turn summaries end to end: real Temporal, PostgreSQL and API, with the
 * built-in script model (its script's `title` and `summary` answer the side calls).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChatEvents } from '../db/chat-events.js';
import { createChatTitles } from '../db/chat-titles.js';
import { fallbackChatTitle } from '../domain/chat-title.js';
import { apiClient, waitFor, type ApiClient } from '../../test/support/http.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { createChat, script, waitForStatus, type ScriptInput } from '../../test/support/chat-helpers.js';
import { chatWorkflowId } from './definitions.js';

describe('chat titles and turn summaries', () => {
  let harness: Harness;
  let alice: ApiClient;
  let bob: ApiClient;
  let admin: ApiClient;

  beforeAll(async () => {
    harness = await startHarness();
    alice = apiClient(harness.apiUrl, harness.alice.key);
    bob = apiClient(harness.apiUrl, harness.bob.key);
    admin = apiClient(harness.apiUrl, harness.admin.key);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  /** Waits until the chat's workflow has finished `count` runs of activity `name`. */
  const waitForActivity = async (chatId: string, name: string, count = 1): Promise<void> => {
    await waitFor(
      async () => {
        const history = await harness.client.workflow.getHandle(chatWorkflowId(chatId)).fetchHistory();
        const scheduled = new Map<string, string>();
        let completed = 0;
        for (const event of history.events ?? []) {
          const attributes = event.activityTaskScheduledEventAttributes;
          if (attributes?.activityType?.name !== undefined && attributes.activityType.name !== null) scheduled.set(String(event.eventId), attributes.activityType.name);
          const done = event.activityTaskCompletedEventAttributes;
          if (done !== undefined && done !== null && scheduled.get(String(done.scheduledEventId)) === name) completed++;
        }
        return completed >= count ? true : undefined;
      },
      `${name} to finish ${count} time(s) for chat ${chatId}`,
    );
  };

  const getChat = async (api: ApiClient, chatId: string): Promise<any> => (await api.get(`/api/v1/chats/${chatId}`)).body;

  const chatScript = (extra: Omit<ScriptInput, 'steps'>): string => script({ steps: [{ text: 'Looking into it.' }], ...extra });

  it('gives a chat created without a title its fallback title at once', async () => {
    const chat = await createChat(alice, { content: 'Please look at the failing deploy of billing today', model_config_id: harness.echoModelId });
    expect(chat.title).toBe('Please look at the failing deploy…');
    const short = await createChat(alice, { content: 'Hi there', model_config_id: harness.echoModelId });
    expect(short.title).toBe('Hi there');
  });

  it('replaces the fallback title with a generated one, charged to the key that started the turn', async () => {
    const content = chatScript({ title: '"Deploying the   billing service"' });
    const chat = await createChat(alice, { content });
    // The generated title is written in the background: a fast one may already be there.
    expect([fallbackChatTitle(content), 'Deploying the billing service']).toContain(chat.title);
    await waitFor(async () => ((await getChat(alice, chat.id)).title === 'Deploying the billing service' ? true : undefined), 'the generated title');
    const events = await readChatEvents(harness.pool, chat.id, 0);
    expect(events.filter((event) => event.type === 'title_change').map((event) => event.payload.title)).toEqual(['Deploying the billing service']);
    const { rows } = await harness.pool.query<{ api_key_id: string; usage: { output_tokens: number }; deleted: boolean }>(
      `SELECT m.api_key_id, m.usage, m.deleted FROM chat_messages m WHERE m.chat_id = $1 AND m.idempotency_key = 'title:auto'`,
      [chat.id],
    );
    const { rows: users } = await harness.pool.query<{ api_key_id: string }>(`SELECT api_key_id FROM chat_messages WHERE chat_id = $1 AND role = 'user'`, [chat.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.deleted).toBe(true);
    expect(rows[0]!.usage.output_tokens).toBeGreaterThan(0);
    expect(rows[0]!.api_key_id).toBe(users[0]!.api_key_id);
    // Not part of the transcript.
    const messages = (await alice.get(`/api/v1/chats/${chat.id}/messages`)).body.messages;
    expect(messages.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant']);
  });

  it('never overwrites a title the user chose', async () => {
    const chat = await createChat(alice, { content: chatScript({ title: 'Generated title here' }), title: 'My own title' });
    await waitForActivity(chat.id, 'generateChatTitle');
    expect((await getChat(alice, chat.id)).title).toBe('My own title');
    // A rename between reading the fallback and writing the generated title wins (compare-and-set).
    const renamed = await createChat(alice, { content: 'Hello there', model_config_id: harness.echoModelId });
    await alice.patch(`/api/v1/chats/${renamed.id}`, { title: 'Renamed meanwhile' });
    const written = await createChatTitles(harness.pool).writeGeneratedTitle({ chatId: renamed.id, title: 'Late generated title', expected: 'Hello there' });
    expect(written).toBe(false);
    expect((await getChat(alice, renamed.id)).title).toBe('Renamed meanwhile');
  });

  it('rejects a generated title of more than eight words and keeps the fallback', async () => {
    const content = chatScript({ title: 'one two three four five six seven eight nine' });
    const chat = await createChat(alice, { content });
    await waitForActivity(chat.id, 'generateChatTitle');
    expect((await getChat(alice, chat.id)).title).toBe(fallbackChatTitle(content));
    const events = await readChatEvents(harness.pool, chat.id, 0);
    expect(events.some((event) => event.type === 'title_change')).toBe(false);
  });

  it('regenerates a title on request: 200, 409 while one runs, 404 for another user', async () => {
    const chat = await createChat(alice, { content: chatScript({ title: 'Billing deploy investigation' }), title: 'Manual' });
    await waitForStatus(alice, chat.id, 'waiting');
    expect((await bob.post(`/api/v1/chats/${chat.id}/title/regenerate`)).status).toBe(404);

    await harness.pool.query('INSERT INTO chat_title_locks (chat_id) VALUES ($1)', [chat.id]);
    const busy = await alice.post(`/api/v1/chats/${chat.id}/title/regenerate`);
    expect(busy).toMatchObject({ status: 409, body: { message: 'Title generation is already in progress.' } });
    // A lock older than a minute is stale and taken over.
    await harness.pool.query(`UPDATE chat_title_locks SET locked_at = now() - interval '2 minutes' WHERE chat_id = $1`, [chat.id]);

    const regenerated = await alice.post(`/api/v1/chats/${chat.id}/title/regenerate`);
    expect(regenerated.status, JSON.stringify(regenerated.body)).toBe(200);
    expect(regenerated.body).toMatchObject({ id: chat.id, title: 'Billing deploy investigation' });
    const { rows } = await harness.pool.query('SELECT 1 FROM chat_title_locks WHERE chat_id = $1', [chat.id]);
    expect(rows).toHaveLength(0);
    const events = await readChatEvents(harness.pool, chat.id, 0);
    expect(events.filter((event) => event.type === 'title_change').map((event) => event.payload.title)).toEqual(['Billing deploy investigation']);
  });

  it('uses the admin-pinned title model when one is set', async () => {
    expect((await alice.raw('PUT', '/api/v1/settings/title-model', { model_config_id: harness.scriptModelId })).status).toBe(403);
    expect((await admin.raw('PUT', '/api/v1/settings/title-model', { model_config_id: '00000000-0000-4000-8000-000000000000' })).status).toBe(400);
    const pinned = await admin.raw('PUT', '/api/v1/settings/title-model', { model_config_id: harness.scriptModelId });
    expect(pinned).toMatchObject({ status: 200, body: { model_config_id: harness.scriptModelId } });
    try {
      // The chat runs on echo, which never writes titles; the pinned script model does.
      const chat = await createChat(alice, { content: chatScript({ title: 'Pinned model title' }), model_config_id: harness.echoModelId });
      await waitFor(async () => ((await getChat(alice, chat.id)).title === 'Pinned model title' ? true : undefined), 'the title from the pinned model');
    } finally {
      expect((await admin.raw('PUT', '/api/v1/settings/title-model', { model_config_id: null })).body).toEqual({ model_config_id: null });
    }
  });

  it('stores a turn summary after each turn without touching updated_at, and shows it in listings', async () => {
    const chat = await createChat(alice, { content: chatScript({ summary: 'Reviewed deployment logs.' }) });
    const summarized = await waitFor(async () => {
      const current = await getChat(alice, chat.id);
      return current.last_turn_summary === 'Reviewed deployment logs' ? current : undefined;
    }, 'the turn summary');
    expect(summarized.status).toBe('waiting');
    const { rows } = await harness.pool.query<{ last_turn_summary_turn: number }>('SELECT last_turn_summary_turn FROM chats WHERE id = $1', [chat.id]);
    expect(rows[0]!.last_turn_summary_turn).toBe(1);
    const listed = (await alice.get('/api/v1/chats')).body.chats.find((entry: { id: string }) => entry.id === chat.id);
    expect(listed.last_turn_summary).toBe('Reviewed deployment logs');
    const { rows: watch } = await harness.pool.query<{ kind: string }>(`SELECT kind FROM chat_watch_events WHERE chat_id = $1 ORDER BY seq`, [chat.id]);
    expect(watch.map((row) => row.kind)).toContain('summary_change');
  });

  it('falls back to the reference label when the model’s label is invalid or there is no model to ask', async () => {
    const invalid = await createChat(alice, { content: chatScript({ summary: 'The agent found a bug in the deploy script.' }) });
    await waitFor(async () => ((await getChat(alice, invalid.id)).last_turn_summary === 'Finished latest turn' ? true : undefined), 'the fallback label');
    const echo = await createChat(alice, { content: 'hello', model_config_id: harness.echoModelId });
    await waitFor(async () => ((await getChat(alice, echo.id)).last_turn_summary === 'Finished latest turn' ? true : undefined), 'the echo chat’s fallback label');
  });

  it('labels a turn waiting for client tool results, then its end, and a turn continued by the queue', async () => {
    const chat = await createChat(alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'client_lookup', args: {} }] }, { text: 'Done.' }] }),
      dynamic_tools: [{ name: 'client_lookup' }],
    });
    const waiting = await waitForStatus(alice, chat.id, 'requires_action');
    await waitFor(async () => ((await getChat(alice, chat.id)).last_turn_summary === 'Waiting for user input' ? true : undefined), 'the requires_action label');
    const callId = waiting.pending_tool_calls?.[0]?.tool_call_id ?? (await harness.pool.query<{ pending_tool_calls: Array<{ tool_call_id: string }> }>('SELECT pending_tool_calls FROM chats WHERE id = $1', [chat.id])).rows[0]!.pending_tool_calls[0]!.tool_call_id;
    expect((await alice.post(`/api/v1/chats/${chat.id}/tool-results`, { results: [{ tool_call_id: callId, output: 'found', is_error: false }] })).status).toBe(204);
    await waitFor(async () => {
      const current = await getChat(alice, chat.id);
      return current.status === 'waiting' && current.last_turn_summary === 'Finished latest turn' ? true : undefined;
    }, 'the final label of the same turn');

    const busy = await createChat(alice, { content: script({ steps: [{ text: 'slow', chunks: 10, delayMs: 50 }] }) });
    expect((await alice.post(`/api/v1/chats/${busy.id}/messages`, { content: 'next one', model_config_id: harness.echoModelId })).body.queued).toBe(true);
    await waitForActivity(busy.id, 'summarizeTurn', 2);
    const { rows } = await harness.pool.query<{ key: string }>(`SELECT idempotency_key AS key FROM chat_messages WHERE chat_id = $1 AND idempotency_key LIKE 'summary:%'`, [busy.id]);
    expect(rows).toEqual([]); // the script has no summary: no model usage, fixed labels
    expect((await getChat(alice, busy.id)).last_turn_summary).toBe('Finished latest turn');
  });

  it('never writes a stale turn’s summary over a newer one, nor moves updated_at', async () => {
    const chat = await createChat(alice, { content: 'hello', model_config_id: harness.echoModelId });
    await waitForActivity(chat.id, 'summarizeTurn');
    const titles = createChatTitles(harness.pool);
    const before = (await getChat(alice, chat.id)).updated_at;
    expect(await titles.writeTurnSummary({ chatId: chat.id, turn: 3, final: true, label: 'Newer turn label' })).toBe(true);
    expect(await titles.writeTurnSummary({ chatId: chat.id, turn: 2, final: true, label: 'Older turn label' })).toBe(false);
    expect(await titles.writeTurnSummary({ chatId: chat.id, turn: 3, final: false, label: 'Waiting for user input' })).toBe(false);
    expect(await titles.writeTurnSummary({ chatId: chat.id, turn: 4, final: false, label: 'Waiting for user input' })).toBe(true);
    expect(await titles.writeTurnSummary({ chatId: chat.id, turn: 4, final: true, label: 'Finished latest turn' })).toBe(true);
    const after = await getChat(alice, chat.id);
    expect(after.last_turn_summary).toBe('Finished latest turn');
    expect(after.updated_at).toBe(before);
  });
});
