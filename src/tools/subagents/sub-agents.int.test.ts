/**
 * Sub-agents end to end: real Temporal (children are child workflows of their parent's chat
 * workflow), PostgreSQL and API. The script model plays both chats: a child's task prompt is
 * itself a script. A middleware records what each step was offered and told.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_GRANDCHILDREN_TEXT } from '../../domain/sub-agents.js';
import { generateSecretKey, parseSecretKey, SecretBox } from '../../security/secret-box.js';
import { chatWorkflowId } from '../../workflows/definitions.js';
import { createWorkspaceService } from '../../workspaces/workspace-service.js';
import { ToolRegistry } from '../chat-tool.js';
import { createWorkspaceTools } from '../workspace/workspace-tools.js';
import { apiClient, type ApiClient, waitFor } from '../../../test/support/http.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { recordingModelResolver, type RecordedCall } from '../../../test/support/recording-model.js';
import { createChat, listMessages, script, textOf, toolResultParts, waitForFirstDelta, waitForIdle, waitForStatus, type ScriptInput } from '../../../test/support/chat-helpers.js';

/** The child chat a finished `spawn_agent` call started. */
async function spawnedChild(api: ApiClient, parentId: string): Promise<string> {
  const spawned = (await toolResultParts(api, parentId)).filter((part) => part.tool_name === 'spawn_agent' && !part.is_error);
  expect(spawned.length).toBeGreaterThan(0);
  return spawned.at(-1).result.chat_id as string;
}

describe('sub-agents', () => {
  let harness: Harness;
  let alice: ApiClient;
  let bob: ApiClient;
  const seen: RecordedCall[] = [];

  const sendTurn = async (chatId: string, steps: ScriptInput['steps']): Promise<any> => {
    const sent = await alice.post(`/api/v1/chats/${chatId}/messages`, { content: script({ steps }) });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    return waitForIdle(alice, chatId);
  };

  beforeAll(async () => {
    const resolveModel = recordingModelResolver(() => harness.secretBox, seen);
    harness = await startHarness({ startWorker: false, activityDependencies: { resolveModel, modelSideCalls: false } });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    bob = apiClient(harness.apiUrl, harness.bob.key);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'chatd-sub-agents-'));
    const workspaces = createWorkspaceService({ pool: harness.pool, sealer: new SecretBox(parseSecretKey(generateSecretKey())), templates: [], dataDir });
    await harness.startWorker({ tools: new ToolRegistry(createWorkspaceTools({ pool: harness.pool, workspaces })) });
  });

  afterAll(async () => {
    await harness?.stop();
  });

  beforeEach(() => {
    seen.length = 0;
  });

  it('spawns a read-only explore sub-agent as a child workflow and returns its final answer to wait_agent', async () => {
    const childScript = script({ steps: [{ toolCalls: [{ name: 'write_file', args: { path: 'x.txt', content: 'no' } }] }, { text: 'The answer is 42.' }] });
    const parent = await createChat(alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'spawn_agent', args: { type: 'explore', prompt: childScript, title: 'Find the answer' } }] }, { text: 'spawned' }] }),
    });
    expect((await waitForIdle(alice, parent.id)).status).toBe('waiting');
    const childId = await spawnedChild(alice, parent.id);

    const child = (await alice.get(`/api/v1/chats/${childId}`)).body;
    expect(child).toMatchObject({ parent_chat_id: parent.id, root_chat_id: parent.id, agent_type: 'explore', title: 'Find the answer' });
    expect((await bob.get(`/api/v1/chats/${childId}`)).status).toBe(404);
    const listed = await alice.get(`/api/v1/chats?parent_chat_id=${parent.id}`);
    expect(listed.body.chats.map((chat: { id: string }) => chat.id)).toEqual([childId]);
    const description = await harness.client.workflow.getHandle(chatWorkflowId(childId)).describe();
    expect(description.parentExecution?.workflowId).toBe(chatWorkflowId(parent.id));

    await sendTurn(parent.id, [{ toolCalls: [{ name: 'wait_agent', args: { chat_id: childId } }, { name: 'list_agents', args: {} }] }, { text: 'done' }]);
    const results = await toolResultParts(alice, parent.id);
    expect(results.find((part) => part.tool_name === 'wait_agent')).toMatchObject({ is_error: false, result: { chat_id: childId, status: 'completed', answer: 'The answer is 42.' } });
    expect(results.find((part) => part.tool_name === 'list_agents').result).toMatchObject({ total: 1, agents: [{ chat_id: childId, type: 'explore', title: 'Find the answer' }] });

    // The explore child was read-only and told it is a sub-agent; its write was not run.
    const childSteps = seen.filter((step) => step.system.includes('You are a sub-agent'));
    expect(childSteps.length).toBeGreaterThan(0);
    expect(new Set(childSteps[0]!.tools)).toEqual(new Set(['read_file', 'execute', 'process_output']));
    expect((await toolResultParts(alice, childId))[0]).toMatchObject({ tool_name: 'write_file', result: 'Tool not active in this turn: write_file', is_error: true });
    // Status labels are for root chats only.
    expect(child.last_turn_summary).toBeNull();
  });

  it('refuses a sub-agent that tries to start its own sub-agent', async () => {
    const childScript = script({ steps: [{ toolCalls: [{ name: 'spawn_agent', args: { type: 'general', prompt: 'nested' } }] }, { text: 'could not delegate' }] });
    const parent = await createChat(alice, { content: script({ steps: [{ toolCalls: [{ name: 'spawn_agent', args: { type: 'general', prompt: childScript } }] }, { text: 'ok' }] }) });
    await waitForIdle(alice, parent.id);
    const childId = await spawnedChild(alice, parent.id);
    await waitForIdle(alice, childId);
    expect((await toolResultParts(alice, childId))[0]).toMatchObject({ tool_name: 'spawn_agent', result: NO_GRANDCHILDREN_TEXT, is_error: true });
    const { rows } = await harness.pool.query('SELECT count(*)::int AS count FROM chats WHERE parent_chat_id = $1', [childId]);
    expect(rows[0].count).toBe(0);
  });

  it('makes the sub-agents of a chat in plan mode read-only planners, on the parent\'s model unless one is named', async () => {
    const parent = await createChat(alice, {
      plan_mode: true,
      content: script({
        steps: [
          { toolCalls: [{ name: 'spawn_agent', args: { type: 'general', prompt: script({ steps: [{ text: 'looked around' }] }) } }] },
          { toolCalls: [{ name: 'spawn_agent', args: { type: 'general', prompt: script({ steps: [{ text: 'on echo' }] }), model_config_id: harness.echoModelId } }] },
          { text: 'ok' },
        ],
      }),
    });
    await waitForIdle(alice, parent.id);
    const [first, second] = (await toolResultParts(alice, parent.id)).map((part) => part.result.chat_id as string);
    const planner = await waitForIdle(alice, first!);
    expect(planner).toMatchObject({ plan_mode: true, agent_type: 'general', last_model_config_id: harness.scriptModelId });
    expect((await waitForIdle(alice, second!)).last_model_config_id).toBe(harness.echoModelId);
    const childSteps = seen.filter((step) => step.system.includes('You are a sub-agent'));
    expect(childSteps[0]!.system).toContain('You are in Plan Mode as a sub-agent');
    expect(new Set(childSteps[0]!.tools)).toEqual(new Set(['read_file', 'execute', 'process_output']));
  });

  it('answers spawn_agent with an error result the model can fix for bad input or an unknown model', async () => {
    const parent = await createChat(alice, {
      content: script({
        steps: [
          { toolCalls: [{ name: 'spawn_agent', args: { type: 'painter', prompt: 'x' } }] },
          { toolCalls: [{ name: 'spawn_agent', args: { type: 'general', prompt: 'x', model_config_id: '00000000-0000-4000-8000-000000000000' } }] },
          { text: 'ok' },
        ],
      }),
    });
    await waitForIdle(alice, parent.id);
    const results = await toolResultParts(alice, parent.id);
    expect(results.map((part) => part.is_error)).toEqual([true, true]);
    expect(results[0].result).toContain('Invalid input for spawn_agent: type');
    expect(results[1].result).toContain('Unknown or disabled model config');
  });

  it('steers a sub-agent with message_agent and interrupt_agent, and waits with a timeout', async () => {
    const parent = await createChat(alice, { content: script({ steps: [{ toolCalls: [{ name: 'spawn_agent', args: { type: 'general', prompt: script({ steps: [{ text: 'first task done' }] }) } }] }, { text: 'ok' }] }) });
    await waitForIdle(alice, parent.id);
    const childId = await spawnedChild(alice, parent.id);
    await waitForIdle(alice, childId);

    // 20 s of streaming: the interrupt always lands in the middle of it.
    const slow = script({ steps: [{ text: 'working ', repeat: 50, chunks: 200, delayMs: 100 }] });
    await sendTurn(parent.id, [
      { toolCalls: [{ name: 'message_agent', args: { chat_id: childId, message: slow } }] },
      { toolCalls: [{ name: 'wait_agent', args: { chat_id: childId, timeout_seconds: 1 } }] },
      { toolCalls: [{ name: 'interrupt_agent', args: { chat_id: childId } }] },
      { toolCalls: [{ name: 'wait_agent', args: { chat_id: childId, timeout_seconds: 30 } }] },
      { toolCalls: [{ name: 'message_agent', args: { chat_id: '00000000-0000-4000-8000-000000000000', message: 'hi' } }] },
      { text: 'steered' },
    ]);
    const results = await toolResultParts(alice, parent.id);
    const [sent, waited, interrupted, waitedAfterInterrupt, stranger] = results.slice(-5);
    expect(sent).toMatchObject({ tool_name: 'message_agent', is_error: false, result: { chat_id: childId, queued: false } });
    expect(waited).toMatchObject({ tool_name: 'wait_agent', is_error: false, result: { status: 'timed_out', timed_out: true } });
    expect(interrupted).toMatchObject({ tool_name: 'interrupt_agent', is_error: false, result: { interrupted: true } });
    // The partial answer is reported as such, not as a finished one.
    expect(waitedAfterInterrupt).toMatchObject({ tool_name: 'wait_agent', is_error: false, result: { chat_id: childId, status: 'interrupted' } });
    expect((waitedAfterInterrupt.result as { answer: string }).answer).toMatch(/^(working )+/);
    expect(stranger).toMatchObject({ tool_name: 'message_agent', is_error: true });
    expect(stranger.result).toContain('belongs to this chat');
    const idleChild = await waitForIdle(alice, childId);
    expect(idleChild.status).toBe('waiting');
    const { messages } = await listMessages(alice, childId);
    // The interrupted step kept its partial output.
    expect(textOf(messages.at(-1)).length).toBeLessThan('working '.length * 50);
  });

  it('interrupting the parent interrupts its running sub-agent, and archiving the parent archives it', async () => {
    const slowChild = script({ steps: [{ text: 'a long investigation', chunks: 200, delayMs: 100 }] });
    const parent = await createChat(alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'spawn_agent', args: { type: 'general', prompt: slowChild } }] }, { text: 'parent keeps talking', chunks: 200, delayMs: 100 }] }),
    });
    const childId = await waitFor(async () => {
      const { rows } = await harness.pool.query<{ id: string }>('SELECT id FROM chats WHERE parent_chat_id = $1', [parent.id]);
      return rows[0]?.id;
    }, 'the sub-agent chat to exist');
    await waitForFirstDelta(harness.pool, childId);
    expect((await alice.post(`/api/v1/chats/${parent.id}/interrupt`)).status).toBe(200);
    await waitForStatus(alice, parent.id, 'waiting');
    const child = await waitForStatus(alice, childId, 'waiting');
    expect(child.archived).toBe(false);

    expect((await alice.patch(`/api/v1/chats/${parent.id}`, { archived: true })).status).toBe(200);
    await waitFor(async () => ((await alice.get(`/api/v1/chats/${childId}`)).body.archived === true ? true : undefined), 'the sub-agent to be archived');
    const unarchive = await alice.patch(`/api/v1/chats/${childId}`, { archived: false });
    expect(unarchive.status).toBe(400);
    expect(unarchive.body.message).toBe('Cannot unarchive a sub-agent chat while its parent chat is archived.');
  });
});
