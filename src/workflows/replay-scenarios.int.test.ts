/**
 * Scenario tests of the chat workflow that also produce its replay histories: each scenario
 * runs a real chat, checks the outcome, then replays the chat's history against the current
 * bundle. With UPDATE_REPLAY_HISTORIES=1 the histories are written to test/replay/, where
 * replay.test.ts replays them on every run.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chatIdFor } from '../api/chat-id.js';
import { ToolRegistry } from '../tools/chat-tool.js';
import { apiClient, type ApiClient, waitFor } from '../../test/support/http.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { createChat, listMessages, script, slowScript, textOf, waitForFirstDelta, waitForIdle, waitForStatus } from '../../test/support/chat-helpers.js';
import { createTestTools, type ToolRun } from '../../test/support/test-tools.js';
import { CHAT_WORKFLOW_TYPE, chatViewQuery, chatWorkflowId } from './definitions.js';

const REPLAY_DIRECTORY = path.resolve('test/replay');
const execFileAsync = promisify(execFile);

describe('chat workflow scenarios (with replay histories)', () => {
  let harness: Harness;
  let alice: ApiClient;
  const runs: ToolRun[] = [];

  beforeAll(async () => {
    harness = await startHarness({ activityDependencies: { tools: new ToolRegistry(createTestTools({ runs })) } });
    alice = apiClient(harness.apiUrl, harness.alice.key);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  /** Replays the chat's history against the current bundle and, when asked, saves it. */
  async function checkReplay(chatId: string, name: string, runId?: string): Promise<void> {
    const history = await harness.client.workflow.getHandle(chatWorkflowId(chatId), runId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, chatWorkflowId(chatId));
    if (process.env.UPDATE_REPLAY_HISTORIES === '1') {
      // The CLI writes the same JSON the Temporal UI downloads.
      const { stdout } = await execFileAsync(
        inject('temporalCliPath'),
        ['workflow', 'show', '--workflow-id', chatWorkflowId(chatId), ...(runId === undefined ? [] : ['--run-id', runId]), '--address', inject('temporalAddress'), '--namespace', 'default', '--output', 'json'],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      await writeFile(path.join(REPLAY_DIRECTORY, `${name}.json`), stdout);
    }
  }

  it('plain turn, then a message to the idle chat', async () => {
    const chat = await createChat(alice, { content: script({ steps: [{ text: 'plain answer', reasoning: 'thinking' }] }) });
    await waitForStatus(alice, chat.id, 'waiting');
    const { messages } = await listMessages(alice, chat.id);
    expect(messages[1].content).toEqual([
      { type: 'reasoning', text: 'thinking' },
      { type: 'text', text: 'plain answer' },
    ]);
    // A second message to the now idle chat starts its turn while the message is stored.
    const second = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: script({ steps: [{ text: 'second answer' }] }) });
    expect(second.body.queued).toBe(false);
    await waitForIdle(alice, chat.id);
    const after = await listMessages(alice, chat.id);
    expect(after.messages.map(textOf).slice(2)).toEqual([expect.stringContaining('second answer'), 'second answer']);
    await checkReplay(chat.id, 'plain-turn');
  });

  it('tool turn: parallel calls, results in call order, unknown tools and failures as results', async () => {
    const content = script({
      steps: [
        {
          text: 'calling tools',
          toolCalls: [
            { name: 'add', args: { numbers: [1, 2], delay_ms: 400 } },
            { name: 'add', args: { numbers: [3, 4], delay_ms: 400 } },
            { name: 'no_such_tool', args: {} },
            { name: 'fail', args: {} },
            { name: 'add', args: { numbers: 'not numbers' } },
          ],
        },
        { text: 'all done' },
      ],
    });
    const before = runs.length;
    const chat = await createChat(alice, { content });
    await waitForStatus(alice, chat.id, 'waiting');
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'tool', 'tool', 'tool', 'assistant']);
    const calls = messages[1].content.filter((part: { type: string }) => part.type === 'tool-call');
    const results = messages.slice(2, 7).map((message) => message.content[0]);
    expect(results.map((result) => result.tool_call_id)).toEqual(calls.map((call: { tool_call_id: string }) => call.tool_call_id));
    expect(results[0]).toMatchObject({ result: { sum: 3 }, is_error: false });
    expect(results[1]).toMatchObject({ result: { sum: 7 }, is_error: false });
    expect(results[2]).toMatchObject({ result: 'Tool not found: no_such_tool', is_error: true });
    expect(results[3]).toMatchObject({ result: 'this tool always fails', is_error: true });
    expect(results[4].is_error).toBe(true);
    expect(results[4].result).toMatch(/^Invalid input for add: numbers/);
    expect(textOf(messages[7])).toBe('all done');
    const adds = runs.slice(before).filter((run) => run.tool === 'add');
    expect(adds).toHaveLength(2);
    // Parallel: the second add started before the first finished.
    expect(Math.max(adds[0]!.startedAt, adds[1]!.startedAt)).toBeLessThan(Math.min(adds[0]!.finishedAt, adds[1]!.finishedAt));
    await checkReplay(chat.id, 'tool-turn');
  });

  it('a stop-after tool ends the turn only when it succeeds', async () => {
    const chat = await createChat(alice, {
      content: script({
        steps: [
          { text: 'try', toolCalls: [{ name: 'finish', args: { ok: false } }] },
          { text: 'again', toolCalls: [{ name: 'finish', args: { ok: true } }] },
          { text: 'never reached' },
        ],
      }),
    });
    await waitForStatus(alice, chat.id, 'waiting');
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool']);
    expect(messages.map(textOf)).not.toContain('never reached');
  });

  it('queue and auto-promote', async () => {
    const chat = await createChat(alice, { content: script(slowScript('first turn', 5, 80)) });
    await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'queued one', model_config_id: harness.echoModelId });
    await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'queued two', model_config_id: harness.echoModelId });
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map(textOf)).toEqual([expect.stringContaining('script:'), 'first turn', 'queued one', 'You said: queued one', 'queued two', 'You said: queued two']);
    await checkReplay(chat.id, 'queue-auto-promote');
  });

  it('edit', async () => {
    const chat = await createChat(alice, { content: 'before edit', model_config_id: harness.echoModelId });
    await waitForStatus(alice, chat.id, 'waiting');
    const { messages } = await listMessages(alice, chat.id);
    const edited = await alice.patch(`/api/v1/chats/${chat.id}/messages/${messages[0].id}`, { content: 'after edit' });
    expect(edited.status).toBe(200);
    await waitForIdle(alice, chat.id);
    const after = await listMessages(alice, chat.id);
    expect(after.messages.map(textOf)).toEqual(['after edit', 'You said: after edit']);
    await checkReplay(chat.id, 'edit');
  });

  it('edit during a running turn fences the old turn’s writes', async () => {
    const chat = await createChat(alice, { content: script(slowScript('the old turn keeps talking', 26, 80)) });
    await waitForFirstDelta(harness.pool, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    const edited = await alice.patch(`/api/v1/chats/${chat.id}/messages/${messages[0].id}`, { content: 'replacement', model_config_id: harness.echoModelId });
    expect(edited.status).toBe(200);
    await waitForIdle(alice, chat.id);
    const after = await listMessages(alice, chat.id);
    expect(after.messages.map(textOf)).toEqual(['replacement', 'You said: replacement']);
  });

  it('interrupt', async () => {
    const chat = await createChat(alice, { content: script(slowScript('interrupt this long reply please', 30, 100)) });
    await waitForFirstDelta(harness.pool, chat.id);
    expect((await alice.post(`/api/v1/chats/${chat.id}/interrupt`)).status).toBe(200);
    await waitForStatus(alice, chat.id, 'waiting');
    const { messages } = await listMessages(alice, chat.id);
    expect(messages).toHaveLength(2);
    await checkReplay(chat.id, 'interrupt');
  });

  it('interrupt during tool execution keeps the step and answers calls without results', async () => {
    const chat = await createChat(alice, { content: script({ steps: [{ text: 'slow tool', toolCalls: [{ name: 'add', args: { numbers: [1], delay_ms: 5_000 } }] }] }) });
    await waitFor(async () => ((await listMessages(alice, chat.id)).messages.length >= 2 ? true : undefined), 'the tool step to be persisted');
    expect((await alice.post(`/api/v1/chats/${chat.id}/interrupt`)).status).toBe(200);
    await waitForStatus(alice, chat.id, 'waiting');
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
    expect(messages[2].content[0]).toMatchObject({ result: 'tool call was interrupted before it produced a result', is_error: true });
  });

  it('requires_action: client tools pause the turn and their results continue it', async () => {
    const chat = await createChat(alice, {
      content: script({ steps: [{ text: 'need the client', toolCalls: [{ name: 'client_lookup', args: { q: 'x' } }, { name: 'add', args: { numbers: [2, 2] } }] }, { text: 'thanks' }] }),
      dynamic_tools: [{ name: 'client_lookup', description: 'Looks something up on the client.', input_schema: { type: 'object' } }],
    });
    await waitForStatus(alice, chat.id, 'requires_action');
    const { messages } = await listMessages(alice, chat.id);
    const lookup = messages[1].content.find((part: { tool_name?: string }) => part.tool_name === 'client_lookup');
    const other = (await alice.post(`/api/v1/chats/${chat.id}/tool-results`, { results: [] })).body;
    expect(other).toEqual({ message: 'Missing tool result.' });
    const unexpected = await alice.post(`/api/v1/chats/${chat.id}/tool-results`, { results: [{ tool_call_id: lookup.tool_call_id, output: 1 }, { tool_call_id: 'nope', output: 1 }] });
    expect(unexpected).toEqual({ status: 400, body: { message: 'Unexpected tool result.' } });
    const duplicate = await alice.post(`/api/v1/chats/${chat.id}/tool-results`, { results: [{ tool_call_id: lookup.tool_call_id, output: 1 }, { tool_call_id: lookup.tool_call_id, output: 2 }] });
    expect(duplicate).toEqual({ status: 400, body: { message: 'Duplicate tool_call_id in results.' } });
    const noOutput = await alice.post(`/api/v1/chats/${chat.id}/tool-results`, { results: [{ tool_call_id: lookup.tool_call_id }] });
    expect(noOutput.status).toBe(400);
    expect(noOutput.body.validations[0].detail).toBe('Tool result output must be valid JSON.');
    const accepted = await alice.post(`/api/v1/chats/${chat.id}/tool-results`, { results: [{ tool_call_id: lookup.tool_call_id, output: { found: true } }] });
    expect(accepted.status).toBe(204);
    await waitForStatus(alice, chat.id, 'waiting');
    const late = await alice.post(`/api/v1/chats/${chat.id}/tool-results`, { results: [{ tool_call_id: lookup.tool_call_id, output: 1 }] });
    expect(late).toEqual({ status: 409, body: { message: 'Chat is not waiting for tool results.' } });
    const after = await listMessages(alice, chat.id);
    expect(after.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant']);
    expect(after.messages.slice(2, 4).map((message) => message.content[0].result)).toEqual([{ sum: 4 }, { found: true }]);
    await checkReplay(chat.id, 'requires-action');
  });

  it('interrupt in requires_action answers the pending calls and goes to waiting', async () => {
    const chat = await createChat(alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'client_lookup', args: {} }] }] }),
      dynamic_tools: [{ name: 'client_lookup' }],
    });
    await waitForStatus(alice, chat.id, 'requires_action');
    expect((await alice.post(`/api/v1/chats/${chat.id}/interrupt`)).status).toBe(200);
    await waitForStatus(alice, chat.id, 'waiting');
    const { messages } = await listMessages(alice, chat.id);
    expect(messages[2].content[0]).toMatchObject({ result: 'Tool execution interrupted by user', is_error: true });
  });

  it('promote in requires_action answers the pending calls and runs the promoted message', async () => {
    const chat = await createChat(alice, {
      content: script({ steps: [{ toolCalls: [{ name: 'client_lookup', args: {} }] }] }),
      dynamic_tools: [{ name: 'client_lookup' }],
    });
    await waitForStatus(alice, chat.id, 'requires_action');
    const queued = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'skip it', model_config_id: harness.echoModelId });
    expect(queued.body.queued).toBe(true);
    const promoted = await alice.post(`/api/v1/chats/${chat.id}/queue/${queued.body.queued_message.id}/promote`);
    expect(promoted.status).toBe(202);
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'user', 'assistant']);
    expect(messages[2].content[0].result).toBe('Tool execution interrupted by user');
    expect(textOf(messages[4])).toBe('You said: skip it');
  });

  it('compaction: a final step at the threshold is summarised and the turn goes on, then a compaction on request', async () => {
    const admin = apiClient(harness.apiUrl, harness.admin.key);
    const model = (await admin.post('/api/v1/model-configs', { provider: 'script', model: 'script', context_limit: 1_000 })).body.id;
    const chat = await createChat(alice, {
      model_config_id: model,
      content: script({ steps: [{ text: 'nearly full', inputTokens: 800 }], compaction: { summary: 'the summary', steps: [{ text: 'continued' }] } }),
    });
    await waitForIdle(alice, chat.id);
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'assistant', 'tool', 'assistant']);
    const manual = await alice.post(`/api/v1/chats/${chat.id}/compact`);
    expect(manual.status).toBe(200);
    expect(manual.body.source).toBe('manual');
    await checkReplay(chat.id, 'compaction');
  });

  it('continue-as-new with a queue in flight loses nothing', async () => {
    const clientMessageId = 'can-scenario';
    const chatId = chatIdFor(harness.alice.id, clientMessageId);
    // Start the chat's workflow with a low threshold; the API's create then uses it (USE_EXISTING).
    const started = await harness.client.workflow.start(CHAT_WORKFLOW_TYPE, {
      workflowId: chatWorkflowId(chatId),
      taskQueue: harness.taskQueue,
      args: [{ chatId, ownerId: harness.alice.id, continueAsNewAfterEvents: 30 }],
    });
    const chat = await createChat(alice, { content: script(slowScript('turn one', 4, 60)), client_message_id: clientMessageId });
    expect(chat.id).toBe(chatId);
    for (let index = 0; index < 4; index++) {
      const sent = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: `message ${index}`, model_config_id: harness.echoModelId, client_message_id: `m${index}` });
      expect(sent.status).toBe(200);
    }
    await waitForIdle(alice, chat.id);
    const handle = harness.client.workflow.getHandle(chatWorkflowId(chatId));
    // The chat settles (and says so in PostgreSQL) just before its workflow continues as new.
    const newRunId = await waitFor(async () => {
      const description = await handle.describe();
      return description.runId !== started.firstExecutionRunId ? description.runId : undefined;
    }, 'the workflow to continue as new');
    expect(newRunId).not.toBe(started.firstExecutionRunId);
    // The dedupe table crossed continue-as-new: a resend is recognised.
    const resend = await alice.post(`/api/v1/chats/${chat.id}/messages`, { content: 'message 0', client_message_id: 'm0' });
    expect(resend.status, JSON.stringify(resend.body)).toBe(200);
    expect(resend.body.message?.id ?? resend.body.queued_message?.id).toBeDefined();
    const view = await handle.query(chatViewQuery);
    expect(view.status).toBe('waiting');
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.filter((message) => message.role === 'user').map(textOf).slice(1)).toEqual(['message 0', 'message 1', 'message 2', 'message 3']);
    expect(messages.filter((message) => message.role === 'assistant').map(textOf).slice(1)).toEqual(['You said: message 0', 'You said: message 1', 'You said: message 2', 'You said: message 3']);
    // The first run is the one that ends in ContinuedAsNew.
    await checkReplay(chat.id, 'continue-as-new', started.firstExecutionRunId);
  });
  it('sub-agent: a parent spawns a child workflow, messages it, and its interrupt reaches the running child', async () => {
    const childScript = script({ steps: [{ text: 'child answer' }] });
    const parent = await createChat(alice, { content: script({ steps: [{ toolCalls: [{ name: 'spawn_agent', args: { type: 'explore', prompt: childScript } }] }, { text: 'spawned' }] }) });
    await waitForIdle(alice, parent.id);
    const { messages } = await listMessages(alice, parent.id);
    const childId = messages[2].content[0].result.chat_id as string;
    await waitForIdle(alice, childId);
    const sent = await alice.post(`/api/v1/chats/${parent.id}/messages`, {
      content: script({ steps: [{ toolCalls: [{ name: 'message_agent', args: { chat_id: childId, message: script(slowScript('slow child', 40, 100)) } }] }, { text: 'parent keeps streaming', chunks: 40, delayMs: 100 }] }),
    });
    expect(sent.status).toBe(200);
    await waitForFirstDelta(harness.pool, childId);
    expect((await alice.post(`/api/v1/chats/${parent.id}/interrupt`)).status).toBe(200);
    await waitForStatus(alice, childId, 'waiting');
    await waitForIdle(alice, parent.id);
    await checkReplay(parent.id, 'sub-agent-parent');
    await checkReplay(childId, 'sub-agent-child');
  });
});
