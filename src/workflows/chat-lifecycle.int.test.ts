import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChatEvents } from '../db/chat-events.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { createChat, listMessages, script, slowScript, textOf, waitForFirstDelta, waitForIdle, waitForStatus } from '../../test/support/chat-helpers.js';

describe('chat lifecycle through the HTTP API', () => {
  let harness: Harness;
  let alice: ApiClient;
  let bob: ApiClient;

  beforeAll(async () => {
    harness = await startHarness();
    alice = apiClient(harness.apiUrl, harness.alice.key);
    bob = apiClient(harness.apiUrl, harness.bob.key);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('creates a chat that runs its first turn and returns to waiting with the reply', async () => {
    const chat = await createChat(alice, { content: 'Hello echo model', model_config_id: harness.echoModelId });
    expect(chat).toMatchObject({ owner_id: harness.alice.id, status: 'running', title: 'Hello echo model', archived: false });
    await waitForStatus(alice, chat.id, 'waiting');
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(textOf(messages[1])).toBe('You said: Hello echo model');
    expect(messages[1].usage.output_tokens).toBeGreaterThan(0);
  });

  it('streams parts whose concatenation equals the committed message', async () => {
    const chat = await createChat(alice, { content: script({ steps: [{ text: 'abcdefghij', chunks: 5 }] }) });
    await waitForStatus(alice, chat.id, 'waiting');
    const events = await readChatEvents(harness.pool, chat.id, 0);
    const deltas = events.filter((event) => event.type === 'message_part').map((event) => (event.payload.part as { text: string }).text);
    expect(deltas.join('')).toBe('abcdefghij');
    const seqs = events.map((event) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const committed = events.filter((event) => event.type === 'message').map((event) => (event.payload.message as { role: string }).role);
    expect(committed).toEqual(['user', 'assistant']);
  });

  it('answers 401 without a key and 404 for another user’s chat on every route', async () => {
    const chat = await createChat(alice, { content: 'private', model_config_id: harness.echoModelId });
    expect((await apiClient(harness.apiUrl).get('/api/v1/chats')).status).toBe(401);
    expect((await apiClient(harness.apiUrl, 'chatd_wrong').get('/api/v1/chats')).status).toBe(401);
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/chats/${chat.id}`],
      ['PATCH', `/api/v1/chats/${chat.id}`, { title: 'x' }],
      ['GET', `/api/v1/chats/${chat.id}/messages`],
      ['POST', `/api/v1/chats/${chat.id}/messages`, { content: 'hi' }],
      ['PATCH', `/api/v1/chats/${chat.id}/messages/1`, { content: 'hi' }],
      ['POST', `/api/v1/chats/${chat.id}/interrupt`, {}],
      ['POST', `/api/v1/chats/${chat.id}/queue/1/promote`, {}],
      ['DELETE', `/api/v1/chats/${chat.id}/queue/1`],
      ['POST', `/api/v1/chats/${chat.id}/tool-results`, { results: [] }],
    ];
    for (const [method, path, body] of routes) {
      const response = await bob.raw(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.message).toBe('Chat not found.');
    }
    const bobsList = await bob.get('/api/v1/chats');
    expect(bobsList.body.chats.map((listed: { id: string }) => listed.id)).not.toContain(chat.id);
  });

  it('rejects bad input with a 400 that names the problem and loses nothing', async () => {
    const chat = await createChat(alice, { content: 'keep me', model_config_id: harness.echoModelId });
    await waitForStatus(alice, chat.id, 'waiting');
    const unknownField = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'x', colour: 'red' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.validations).toEqual([{ field: '(body)', detail: 'Unknown field(s): colour.' }]);
    const badBusy = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'x', busy_behavior: 'shout' });
    expect(badBusy).toMatchObject({ status: 400, body: { message: 'Invalid busy_behavior value.' } });
    const empty = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: '   ' });
    expect(empty.status).toBe(400);
    const notJson = await alice.raw('POST', `/api/v1/chats/${chat.id}/messages`, '{"content": ', { 'content-type': 'application/json' });
    expect(notJson).toMatchObject({ status: 400, body: { message: 'Request body is not valid JSON.' } });
    const badModel = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'x', model_config_id: '00000000-0000-4000-8000-000000000000' });
    expect(badModel).toMatchObject({ status: 400, body: { message: 'Invalid model config ID.' } });
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map(textOf)).toEqual(['keep me', 'You said: keep me']);
  });

  it('treats a repeated client_message_id as one message with the same response', async () => {
    const chat = await createChat(alice, { content: 'first', model_config_id: harness.echoModelId, client_message_id: 'create-1' });
    const again = await alice.post('/api/v1/chats', { content: 'first', model_config_id: harness.echoModelId, client_message_id: 'create-1' });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(chat.id);
    await waitForStatus(alice, chat.id, 'waiting');
    const first = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'second', client_message_id: 'send-1' });
    const second = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'second', client_message_id: 'send-1' });
    expect(second.body).toEqual(first.body);
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.filter((message) => message.role === 'user').map(textOf)).toEqual(['first', 'second']);
  });

  it('queues messages sent during a turn and runs them in order, each on its own model', async () => {
    const chat = await createChat(alice, { content: script(slowScript('working on it', 10, 80)) });
    const queuedOne = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'one', model_config_id: harness.echoModelId });
    const queuedTwo = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: script({ steps: [{ text: 'scripted two' }] }), model_config_id: harness.scriptModelId });
    expect(queuedOne.body.queued).toBe(true);
    expect(queuedOne.body.queued_message.model_config_id).toBe(harness.echoModelId);
    expect(queuedTwo.body.queued).toBe(true);
    const during = await listMessages(alice, chat.id);
    expect(during.queued_messages.map((queued) => queued.id)).toEqual([queuedOne.body.queued_message.id, queuedTwo.body.queued_message.id]);
    await waitForIdle(alice, chat.id);
    const { messages, queued_messages } = await listMessages(alice, chat.id);
    expect(queued_messages).toEqual([]);
    expect(messages.map((message) => [message.role, textOf(message)])).toEqual([
      ['user', expect.stringContaining('script:')],
      ['assistant', 'working on it'],
      ['user', 'one'],
      ['assistant', 'You said: one'],
      ['user', expect.stringContaining('script:')],
      ['assistant', 'scripted two'],
    ]);
    expect(messages[3].model_config_id).toBe(harness.echoModelId);
    expect(messages[5].model_config_id).toBe(harness.scriptModelId);
  });

  it('refuses a 21st queued message with 429 and keeps the twenty', async () => {
    const chat = await createChat(alice, { content: script(slowScript('a long turn '.repeat(10), 60, 100)) });
    for (let index = 0; index < 20; index++) {
      const response = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: `queued ${index}`, model_config_id: harness.echoModelId });
      expect(response.body.queued).toBe(true);
    }
    const full = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'one too many' });
    expect(full).toEqual({ status: 429, body: { message: 'Message queue is full.', detail: 'Maximum 20 messages can be queued.' } });
    const { queued_messages } = await listMessages(alice, chat.id);
    expect(queued_messages).toHaveLength(20);
    await alice.patch(`/api/v1/chats/${chat.id}`, { archived: true });
  });

  it('interrupts a running turn, keeps the partial output, then promotes the queue', async () => {
    const chat = await createChat(alice, { content: script(slowScript('0123456789abcdefghijklmnopqrstuvwxyz', 36, 100)) });
    await waitForFirstDelta(harness.pool, chat.id);
    const queued = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'after the interrupt', model_config_id: harness.echoModelId });
    expect(queued.body.queued).toBe(true);
    const interrupted = await alice.post(`/api/v1/chats/${chat.id}/interrupt`);
    expect(interrupted.status).toBe(200);
    expect(['interrupting', 'running']).toContain(interrupted.body.status);
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    const partial = textOf(messages[1]);
    expect(messages[1].role).toBe('assistant');
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(36);
    expect('0123456789abcdefghijklmnopqrstuvwxyz'.startsWith(partial)).toBe(true);
    expect(messages.slice(2).map(textOf)).toEqual(['after the interrupt', 'You said: after the interrupt']);
  });

  it('answers 409 when interrupting an idle chat', async () => {
    const chat = await createChat(alice, { content: 'idle soon', model_config_id: harness.echoModelId });
    await waitForStatus(alice, chat.id, 'waiting');
    const response = await alice.post(`/api/v1/chats/${chat.id}/interrupt`);
    expect(response).toEqual({ status: 409, body: { message: 'Chat is not in an interruptible state.' } });
  });

  it('runs a message sent with busy_behavior interrupt next, after the partial turn', async () => {
    const chat = await createChat(alice, { content: script(slowScript('a slow answer that will be cut', 30, 100)) });
    await waitForFirstDelta(harness.pool, chat.id);
    const sent = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'urgent', busy_behavior: 'interrupt', model_config_id: harness.echoModelId });
    expect(sent.body.queued).toBe(true);
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.slice(-2).map(textOf)).toEqual(['urgent', 'You said: urgent']);
    expect(textOf(messages[1]).length).toBeLessThan('a slow answer that will be cut'.length);
  });

  it('promotes a queued message during a turn: it moves to the head and runs next', async () => {
    const chat = await createChat(alice, { content: script(slowScript('busy busy busy busy', 20, 100)) });
    await waitForFirstDelta(harness.pool, chat.id);
    const first = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'Q1', model_config_id: harness.echoModelId });
    const second = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'Q2', model_config_id: harness.echoModelId });
    const promoted = await alice.post(`/api/v1/chats/${chat.id}/queue/${second.body.queued_message.id}/promote`);
    expect(promoted).toEqual({ status: 202, body: { message: 'Queued message promotion accepted.' } });
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.filter((message) => message.role === 'user').map(textOf).slice(1)).toEqual(['Q2', 'Q1']);
    expect(first.body.queued).toBe(true);
  });

  it('deletes a queued message and answers 404 for one that does not exist', async () => {
    const chat = await createChat(alice, { content: script(slowScript('still going', 20, 100)) });
    const queued = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'never mind', model_config_id: harness.echoModelId });
    const deleted = await alice.delete(`/api/v1/chats/${chat.id}/queue/${queued.body.queued_message.id}`);
    expect(deleted.status).toBe(204);
    const missing = await alice.delete(`/api/v1/chats/${chat.id}/queue/999999`);
    expect(missing).toEqual({ status: 404, body: { message: 'Queued message not found.' } });
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map(textOf)).not.toContain('never mind');
  });

  it('edits an earlier user message: later messages go, the queue clears, the chat reruns on the new model', async () => {
    const chat = await createChat(alice, { content: 'original question', model_config_id: harness.echoModelId });
    await waitForStatus(alice, chat.id, 'waiting');
    await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'follow-up' });
    await waitForIdle(alice, chat.id);
    const before = await listMessages(alice, chat.id);
    const firstUser = before.messages[0];
    const edited = await alice.patch(`/api/v1/chats/${chat.id}/messages/${firstUser.id}`, {
      content: script({ steps: [{ text: 'answer on the script model' }] }),
      model_config_id: harness.scriptModelId,
    });
    expect(edited.status).toBe(200);
    expect(edited.body.model_config_id).toBe(harness.scriptModelId);
    await waitForIdle(alice, chat.id);
    const after = await listMessages(alice, chat.id);
    expect(after.messages.map(textOf)).toEqual([expect.stringContaining('script:'), 'answer on the script model']);
    const chatAfter = await alice.get(`/api/v1/chats/${chat.id}`);
    expect(chatAfter.body.last_model_config_id).toBe(harness.scriptModelId);
  });

  it('refuses edits of assistant messages, missing messages and unknown models, changing nothing', async () => {
    const chat = await createChat(alice, { content: 'edit me', model_config_id: harness.echoModelId });
    await waitForStatus(alice, chat.id, 'waiting');
    const { messages } = await listMessages(alice, chat.id);
    const assistant = await alice.patch(`/api/v1/chats/${chat.id}/messages/${messages[1].id}`, { content: 'x' });
    expect(assistant).toEqual({ status: 400, body: { message: 'Only user messages can be edited.' } });
    const missing = await alice.patch(`/api/v1/chats/${chat.id}/messages/987654`, { content: 'x' });
    expect(missing).toEqual({ status: 404, body: { message: 'Chat message not found.' } });
    const badModel = await alice.patch(`/api/v1/chats/${chat.id}/messages/${messages[0].id}`, { content: 'x', model_config_id: '11111111-1111-4111-8111-111111111111' });
    expect(badModel).toEqual({ status: 400, body: { message: 'Invalid model config ID.' } });
    const after = await listMessages(alice, chat.id);
    expect(after.messages.map(textOf)).toEqual(['edit me', 'You said: edit me']);
  });

  it('archives a running chat: the turn stops and nothing queued is promoted', async () => {
    const chat = await createChat(alice, { content: script(slowScript('archive me mid-way please', 25, 100)) });
    await waitForFirstDelta(harness.pool, chat.id);
    await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'should stay queued', model_config_id: harness.echoModelId });
    const archived = await alice.patch(`/api/v1/chats/${chat.id}`, { archived: true });
    expect(archived.status).toBe(200);
    expect(archived.body.archived).toBe(true);
    await waitForStatus(alice, chat.id, 'waiting');
    const { messages, queued_messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant']);
    expect(queued_messages.map(textOf)).toEqual(['should stay queued']);
    const send = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'hello?' });
    expect(send).toEqual({ status: 400, body: { message: 'Cannot send messages to an archived chat.' } });
    // Unarchiving runs the kept backlog, so a waiting chat never sits on a queue.
    const unarchived = await alice.patch(`/api/v1/chats/${chat.id}`, { archived: false });
    expect(unarchived.body.archived).toBe(false);
    await waitForIdle(alice, chat.id);
    const after = await listMessages(alice, chat.id);
    expect(after.messages.map(textOf).slice(-2)).toEqual(['should stay queued', 'You said: should stay queued']);
  });

  it('lists own chats with label filters and cursor pagination', async () => {
    const labelled = await createChat(alice, { content: 'labelled', model_config_id: harness.echoModelId, labels: { project: 'apollo' } });
    const filtered = await alice.get('/api/v1/chats?label=project:apollo');
    expect(filtered.body.chats.map((chat: { id: string }) => chat.id)).toEqual([labelled.id]);
    const pageOne = await alice.get('/api/v1/chats?limit=2');
    expect(pageOne.body.chats).toHaveLength(2);
    const pageTwo = await alice.get(`/api/v1/chats?limit=2&cursor=${pageOne.body.next_cursor}`);
    expect(pageTwo.status).toBe(200);
    const ids = [...pageOne.body.chats, ...pageTwo.body.chats].map((chat: { id: string }) => chat.id);
    expect(new Set(ids).size).toBe(ids.length);
    const badFilter = await alice.get('/api/v1/chats?label=nocolon');
    expect(badFilter.status).toBe(400);
  });
});
