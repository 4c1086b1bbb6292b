/**
 * Plan mode end to end: real Temporal, PostgreSQL, API and a real local workspace agent; the
 * script model plays the agent, and a middleware records what each model step was offered
 * and told (tools and system prompt).
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSecretKey, parseSecretKey, SecretBox } from '../../security/secret-box.js';
import { createWorkspaceService } from '../../workspaces/workspace-service.js';
import { WorkspaceTemplate } from '../../workspaces/workspace-template.js';
import { ToolRegistry } from '../chat-tool.js';
import { createWorkspaceTools } from '../workspace/workspace-tools.js';
import { apiClient, type ApiClient } from '../../../test/support/http.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { createChat, listMessages, script, toolResultParts, waitForIdle } from '../../../test/support/chat-helpers.js';
import { killWorkspaceAgents } from '../../../test/support/workspace-agents.js';
import { recordingModelResolver, type RecordedCall } from '../../../test/support/recording-model.js';

const TEMPLATES = [WorkspaceTemplate.parse({ name: 'repo', description: 'A small repository.', files: { 'main.ts': 'export const answer = 41;\n' } })];

describe('plan mode', () => {
  let harness: Harness;
  let alice: ApiClient;
  let dataDir: string;
  const seen: RecordedCall[] = [];

  beforeAll(async () => {
    const resolveModel = recordingModelResolver(() => harness.secretBox, seen, { withToolsOnly: true });
    harness = await startHarness({ startWorker: false, activityDependencies: { resolveModel, modelSideCalls: false } });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'chatd-plan-mode-'));
    const workspaces = createWorkspaceService({ pool: harness.pool, sealer: new SecretBox(parseSecretKey(generateSecretKey())), templates: TEMPLATES, dataDir });
    await harness.startWorker({ tools: new ToolRegistry(createWorkspaceTools({ pool: harness.pool, workspaces })) });
  });

  afterAll(async () => {
    await killWorkspaceAgents(dataDir);
    await harness?.stop();
  });

  beforeEach(() => {
    seen.length = 0;
  });

  it('offers the planning tools, tells the model it is planning, writes only Markdown, and ends the turn when the plan is proposed', async () => {
    const chat = await createChat(alice, {
      plan_mode: true,
      content: script({
        steps: [
          { toolCalls: [{ name: 'create_workspace', args: { template_id: 'repo' } }] },
          { toolCalls: [{ name: 'write_file', args: { path: 'main.ts', content: 'export const answer = 42;\n' } }] },
          { toolCalls: [{ name: 'write_file', args: { path: 'PLAN.md', content: '# Plan\n\n1. Change the answer to 42.\n' } }] },
          { toolCalls: [{ name: 'process_list', args: {} }] },
          { toolCalls: [{ name: 'propose_plan', args: { path: 'PLAN.md' } }] },
          { text: 'this step never runs' },
        ],
      }),
    });
    expect(chat.plan_mode).toBe(true);
    const idle = await waitForIdle(alice, chat.id);
    expect(idle.status).toBe('waiting');

    const offered = new Set(seen[0]!.tools);
    for (const name of ['propose_plan', 'ask_user_question', 'write_file', 'edit_files', 'read_file', 'execute', 'spawn_agent', 'wait_agent']) expect(offered).toContain(name);
    for (const name of ['process_list', 'process_signal', 'message_agent', 'interrupt_agent', 'stop_workspace', 'advisor']) expect(offered).not.toContain(name);
    expect(seen[0]!.system).toContain('You are in Plan Mode.');

    const results = await toolResultParts(alice, chat.id);
    expect(results.map((part) => [part.tool_name, part.is_error])).toEqual([
      ['create_workspace', false],
      ['write_file', true],
      ['write_file', false],
      ['process_list', true],
      ['propose_plan', false],
    ]);
    expect(results[1].result).toContain('In plan mode only Markdown plan files (.md) can be written');
    expect(results[3].result).toBe('Tool not active in this turn: process_list');
    expect(results[4].result).toMatchObject({ kind: 'plan', path: 'PLAN.md', plan: '# Plan\n\n1. Change the answer to 42.\n' });
    const planFile = await harness.pool.query<{ kind: string; data: Buffer }>('SELECT kind, data FROM chat_files WHERE id = $1', [results[4].result.file_id]);
    expect(planFile.rows[0]).toMatchObject({ kind: 'plan' });
    expect(planFile.rows[0]!.data.toString('utf8')).toContain('Change the answer to 42.');

    // The proposal ended the turn: the step after it was never asked for.
    const { messages } = await listMessages(alice, chat.id);
    expect(messages.filter((message) => message.role === 'assistant')).toHaveLength(5);
    expect(seen).toHaveLength(5);
  });

  it('goes on after a failed proposal or question, and stops after a question is asked', async () => {
    const chat = await createChat(alice, {
      plan_mode: true,
      content: script({
        steps: [
          { toolCalls: [{ name: 'propose_plan', args: { path: 'plan.txt' } }] },
          { toolCalls: [{ name: 'ask_user_question', args: { questions: [{ header: 'Scope', question: 'Which one?', options: [{ label: 'Only one' }] }] } }] },
          {
            toolCalls: [
              {
                name: 'ask_user_question',
                args: { questions: [{ header: 'Scope', question: 'Which module first?', options: [{ label: 'api', description: 'The HTTP layer' }, { label: 'db' }] }] },
              },
            ],
          },
          { text: 'this step never runs' },
        ],
      }),
    });
    expect((await waitForIdle(alice, chat.id)).status).toBe('waiting');
    const results = await toolResultParts(alice, chat.id);
    expect(results.map((part) => [part.tool_name, part.is_error])).toEqual([
      ['propose_plan', true],
      ['ask_user_question', true],
      ['ask_user_question', false],
    ]);
    expect(results[0].result).toContain('the plan must be a Markdown file (.md)');
    expect(results[1].result).toContain('give 2 to 4 options');
    expect(results[2].result).toMatchObject({ awaiting_answer: true, questions: [{ question: 'Which module first?' }] });
    expect(seen).toHaveLength(3);
  });

  it('switches with a message: a message sent with plan_mode false leaves plan mode for its turn and after', async () => {
    const chat = await createChat(alice, { plan_mode: true, content: script({ steps: [{ text: 'planning' }] }) });
    await waitForIdle(alice, chat.id);
    expect(seen.at(-1)!.system).toContain('You are in Plan Mode.');

    const sent = await alice.post(`/api/v1/chats/${chat.id}/messages`, { plan_mode: false, content: script({ steps: [{ text: 'building' }] }) });
    expect(sent.status).toBe(200);
    const idle = await waitForIdle(alice, chat.id);
    expect(idle.plan_mode).toBe(false);
    expect(seen.at(-1)!.system).not.toContain('Plan Mode');
    expect(seen.at(-1)!.tools).not.toContain('propose_plan');
    expect(seen.at(-1)!.tools).toContain('process_list');

    const patched = await alice.patch(`/api/v1/chats/${chat.id}`, { plan_mode: true });
    expect(patched.status).toBe(200);
    expect(patched.body.plan_mode).toBe(true);
  });
});
