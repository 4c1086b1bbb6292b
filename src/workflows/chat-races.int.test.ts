import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatIdFor } from '../api/chat-id.js';
import { HttpError } from '../api/http-error.js';
import { createChatCommands } from '../temporal/chat-client.js';
import { apiClient, type ApiClient, waitFor } from '../../test/support/http.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { createChat, listMessages, script, slowScript, textOf, waitForIdle, waitForStatus } from '../../test/support/chat-helpers.js';
import { CHAT_WORKFLOW_TYPE, chatWorkflowId } from './definitions.js';

describe('chat races, failures and operator visibility', () => {
  let harness: Harness;
  let alice: ApiClient;

  beforeAll(async () => {
    harness = await startHarness();
    alice = apiClient(harness.apiUrl, harness.alice.key);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('loses nothing when concurrent sends race the auto-promotion at the end of a turn', async () => {
    const chat = await createChat(alice, { content: script(slowScript('ending soon', 3, 60)) });
    // Fire sends while the turn ends and the queue starts draining.
    const sends = await Promise.all(
      Array.from({ length: 12 }, (_unused, index) =>
        new Promise((resolve) => setTimeout(resolve, index * 25)).then(() =>
          alice.post(`/api/v1/chats/${chat.id}/messages`, { content: `racer ${index}`, model_config_id: harness.echoModelId, client_message_id: `racer-${index}` }),
        ),
      ),
    );
    expect(sends.map((response) => response.status)).toEqual(Array(12).fill(200));
    const idle = await waitForIdle(alice, chat.id);
    expect(idle.status).toBe('waiting');
    const { messages, queued_messages } = await listMessages(alice, chat.id);
    expect(queued_messages).toEqual([]);
    const userTexts = messages.filter((message) => message.role === 'user').map(textOf).slice(1);
    // Every message ran exactly once, in the order the workflow accepted them.
    expect([...userTexts].sort()).toEqual(Array.from({ length: 12 }, (_unused, index) => `racer ${index}`).sort());
    // Each racer ran as its own turn: its user message directly followed by its reply.
    const rest = messages.slice(2);
    for (let index = 0; index < rest.length; index += 2) {
      expect(rest[index].role).toBe('user');
      expect(textOf(rest[index + 1])).toBe(`You said: ${textOf(rest[index])}`);
    }
  });

  it('maps a refusal raised inside the workflow to its HTTP status, not a 500', async () => {
    const chat = await createChat(alice, { content: 'edit target', model_config_id: harness.echoModelId });
    await waitForStatus(alice, chat.id, 'waiting');
    const commands = createChatCommands({ client: harness.client, taskQueue: harness.taskQueue });
    // Skips the API's own checks, as a message deleted between check and command would.
    const refusal = await commands.editMessage(chat.id, { messageId: 987_654, content: [{ type: 'text', text: 'x' }], modelConfigId: null, clientMessageId: null }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(HttpError);
    expect(refusal).toMatchObject({ status: 404, message: 'Chat message not found.' });
  });

  it('rolls back a turn whose first message the store refuses, and the next send runs normally', async () => {
    const chat = await createChat(alice, { content: 'first', model_config_id: harness.echoModelId });
    await waitForStatus(alice, chat.id, 'waiting');
    const disabledModel = '0f0f0f0f-0000-4000-8000-000000000002';
    await harness.pool.query(`INSERT INTO model_configs (id, provider, model, display_name, enabled) VALUES ($1, 'echo', 'echo', 'Disabled', false)`, [disabledModel]);
    const commands = createChatCommands({ client: harness.client, taskQueue: harness.taskQueue });
    // Skips the API's model check, as a config disabled between check and write would.
    const refusal = await commands
      .sendMessage(chat.id, { content: [{ type: 'text', text: 'refused' }], modelConfigId: disabledModel, busyBehavior: 'queue', clientMessageId: null, apiKeyId: null })
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ status: 400, message: 'Invalid model config ID.' });
    const after = await waitForIdle(alice, chat.id);
    expect(after).toMatchObject({ status: 'waiting', last_error: null });
    const next = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'accepted', model_config_id: harness.echoModelId });
    expect(next.body.queued).toBe(false);
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map(textOf)).toEqual(['first', 'You said: first', 'accepted', 'You said: accepted']);
  });

  it('ends a failed turn in error with a structured last_error, and the next send runs normally', async () => {
    const chat = await createChat(alice, { content: 'script:{not json' });
    const failed = await waitForStatus(alice, chat.id, 'error');
    expect(failed.last_error).toMatchObject({ kind: 'generic', retryable: false, message: 'The chat request failed unexpectedly.' });
    // The fixed message is for people; what went wrong is in the detail.
    expect(failed.last_error.detail).toContain('invalid script');
    const next = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'try again', model_config_id: harness.echoModelId });
    expect(next.body.queued).toBe(false);
    const recovered = await waitForStatus(alice, chat.id, 'waiting');
    expect(recovered.last_error).toBeNull();
    const { messages } = await listMessages(alice, chat.id);
    expect(textOf(messages[messages.length - 1])).toBe('You said: try again');
  });

  it('falls back to the chat’s model when a queued message’s model was disabled', async () => {
    const doomedModel = '0f0f0f0f-0000-4000-8000-000000000001';
    await harness.pool.query(`INSERT INTO model_configs (id, provider, model, display_name) VALUES ($1, 'echo', 'echo', 'Doomed')`, [doomedModel]);
    const chat = await createChat(alice, { content: script(slowScript('working', 6, 80)) });
    const queued = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: script({ steps: [{ text: 'ran anyway' }] }), model_config_id: doomedModel });
    expect(queued.body.queued).toBe(true);
    await harness.pool.query('UPDATE model_configs SET enabled = false WHERE id = $1', [doomedModel]);
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map(textOf).slice(-1)).toEqual(['ran anyway']);
    expect(messages[messages.length - 2].model_config_id).toBe(harness.scriptModelId);
  });

  it('times out unanswered client tool calls into error with synthetic results', async () => {
    const clientMessageId = 'dynamic-timeout';
    const chatId = chatIdFor(harness.alice.id, clientMessageId);
    await harness.client.workflow.start(CHAT_WORKFLOW_TYPE, {
      workflowId: chatWorkflowId(chatId),
      taskQueue: harness.taskQueue,
      args: [{ chatId, ownerId: harness.alice.id, dynamicToolTimeoutMs: 1_500 }],
    });
    await createChat(alice, { content: script({ steps: [{ toolCalls: [{ name: 'client_only', args: {} }] }] }), dynamic_tools: [{ name: 'client_only' }], client_message_id: clientMessageId });
    await waitForStatus(alice, chatId, 'requires_action');
    const failed = await waitForStatus(alice, chatId, 'error');
    expect(failed.last_error).toMatchObject({ message: 'Dynamic tool execution timed out', retryable: false });
    const { messages } = await listMessages(alice, chatId);
    expect(messages[2].content[0]).toMatchObject({ result: 'Dynamic tool execution timed out', is_error: true });
  });

  it('keeps search attributes current so operators find chats with one query', async () => {
    const chat = await createChat(alice, { content: script(slowScript('visible to operators', 20, 100)) });
    const running = await waitFor(async () => {
      const found: string[] = [];
      for await (const execution of harness.client.workflow.list({ query: `ChatOwner = "${harness.alice.id}" AND ChatStatus = "running" AND ChatTurn = 1` })) found.push(execution.workflowId);
      return found.includes(chatWorkflowId(chat.id)) ? found : undefined;
    }, 'the running chat to be listed');
    expect(running).toContain(chatWorkflowId(chat.id));
    await waitForStatus(alice, chat.id, 'waiting');
    await waitFor(async () => {
      for await (const execution of harness.client.workflow.list({ query: `WorkflowId = "${chatWorkflowId(chat.id)}" AND ChatStatus = "waiting" AND ChatQueueLength = 0` })) return execution.workflowId;
      return undefined;
    }, 'the waiting chat to be listed');
  });
});
