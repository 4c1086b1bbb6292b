/**
 * The `advisor` tool end to end: real Temporal, PostgreSQL and API, the built-in script model
 * (its script's `advice` answers the advisor's nested call), a test tool with a side effect, and
 * the real workspace tools on a real local workspace.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readChatEvents } from '../../db/chat-events.js';
import { EXCLUSIVE_TOOL_ALONE_TEXT, EXCLUSIVE_TOOL_SIBLING_TEXT } from '../../domain/advisor.js';
import { ToolRegistry } from '../chat-tool.js';
import { apiClient, type ApiClient } from '../../../test/support/http.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { recordingModelResolver, type RecordedCall } from '../../../test/support/recording-model.js';
import { killWorkspaceAgents } from '../../../test/support/workspace-agents.js';
import { createWorkspaceService } from '../../workspaces/workspace-service.js';
import { WorkspaceTemplate } from '../../workspaces/workspace-template.js';
import { createWorkspaceTools } from '../workspace/workspace-tools.js';
import { createChat, script, toolResultParts, waitForIdle } from '../../../test/support/chat-helpers.js';

describe('the advisor tool', () => {
  let harness: Harness;
  let alice: ApiClient;
  let admin: ApiClient;
  /** Calls of the side-effect tool, by its `label` argument. */
  const marked: string[] = [];
  let dataDir: string;
  /** The tool names offered to the model, per model call (the chat's steps only: side calls have no tools). */
  const calls: RecordedCall[] = [];

  beforeAll(async () => {
    const markTool = {
      name: 'mark',
      description: 'Records a label.',
      inputSchema: z.object({ label: z.string() }),
      idempotent: true,
      execute: async (input: unknown) => {
        marked.push((input as { label: string }).label);
        return { result: 'marked', isError: false };
      },
    };
    const resolveModel = recordingModelResolver(() => harness.secretBox, calls, { withToolsOnly: true });
    harness = await startHarness({ startWorker: false });
    // Real workspace tools too, so a step can mix the advisor with `execute` on a real agent.
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'chatd-advisor-'));
    const workspaces = createWorkspaceService({ pool: harness.pool, sealer: harness.secretBox, templates: [WorkspaceTemplate.parse({ name: 'plain', description: 'An empty directory.' })], dataDir });
    await harness.startWorker({ tools: new ToolRegistry([markTool, ...createWorkspaceTools({ pool: harness.pool, workspaces })]), resolveModel, modelSideCalls: false });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    admin = apiClient(harness.apiUrl, harness.admin.key);
  });

  afterAll(async () => {
    await killWorkspaceAgents(dataDir);
    await harness?.stop();
  });

  beforeEach(() => {
    calls.length = 0;
  });

  const configure = async (settings: Record<string, unknown>): Promise<void> => {
    const response = await admin.raw('PUT', '/api/v1/settings/advisor', settings);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  };

  it('is admin-only settings, off by default', async () => {
    expect((await alice.get('/api/v1/settings/advisor')).status).toBe(403);
    expect((await alice.raw('PUT', '/api/v1/settings/advisor', { enabled: true })).status).toBe(403);
    expect((await admin.get('/api/v1/settings/advisor')).body).toEqual({ enabled: false, model_config_id: null, max_output_tokens: 16_384, max_uses_per_turn: 0 });
    expect((await admin.raw('PUT', '/api/v1/settings/advisor', { enabled: true, max_uses_per_turn: -1 })).status).toBe(400);
  });

  it('answers with streamed advice, and the cap gives limit_reached with no uses left', async () => {
    await configure({ enabled: true, max_uses_per_turn: 1 });
    const chat = await createChat(alice, {
      content: script({
        steps: [{ toolCalls: [{ name: 'advisor', args: { question: 'Which fix?' } }] }, { toolCalls: [{ name: 'advisor', args: { question: 'And again?' } }] }, { text: 'Done.' }],
        advice: 'Fix the migration first, then the cache.',
      }),
    });
    await waitForIdle(alice, chat.id);
    const results = await toolResultParts(alice, chat.id);
    expect(results).toHaveLength(2);
    expect(results[0].is_error).toBe(false);
    expect(results[0].result).toEqual({ advice: 'Fix the migration first, then the cache.', remaining_uses: 0 });
    expect(results[1].is_error).toBe(true);
    expect(results[1].result).toEqual({ limit_reached: true, remaining_uses: 0 });
    expect(calls[0]!.tools).toContain('advisor');
    // The advice streamed as tool-result deltas before the result was stored.
    const events = await readChatEvents(harness.pool, chat.id, 0);
    const parts = events.flatMap((event) => (event.type === 'message_part' && event.payload.role === 'tool' ? [event.payload.part as { type: string; result_delta?: string }] : []));
    const deltas = parts.filter((part) => part.type === 'tool-result' && part.result_delta !== undefined);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((part) => part.result_delta).join('')).toBe('Fix the migration first, then the cache.');
    // Its usage is charged to the key that started the turn.
    const { rows } = await harness.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM chat_messages WHERE chat_id = $1 AND idempotency_key LIKE 'advisor:%' AND api_key_id IS NOT NULL`, [chat.id]);
    expect(rows[0]!.n).toBe(1);
  });

  it('runs neither call of a step that calls advisor with another tool', async () => {
    await configure({ enabled: true });
    const chat = await createChat(alice, {
      content: script({
        steps: [{ toolCalls: [{ name: 'advisor', args: { question: 'Safe?' } }, { name: 'mark', args: { label: 'mixed' } }] }, { text: 'Understood.' }],
        advice: 'unused',
      }),
    });
    const settled = await waitForIdle(alice, chat.id);
    expect(settled.status).toBe('waiting');
    const results = await toolResultParts(alice, chat.id);
    expect(results.map((part) => [part.tool_name, part.result, part.is_error])).toEqual([
      ['advisor', EXCLUSIVE_TOOL_ALONE_TEXT, true],
      ['mark', EXCLUSIVE_TOOL_SIBLING_TEXT, true],
    ]);
    expect(marked).not.toContain('mixed');
  });

  it('runs neither the advisor nor execute when a step calls both: the command never reaches the workspace', async () => {
    await configure({ enabled: true });
    const chat = await createChat(alice, {
      content: script({
        steps: [
          { toolCalls: [{ name: 'create_workspace', args: { template_id: 'plain' } }] },
          { toolCalls: [{ name: 'execute', args: { command: 'touch ran-beside-the-advisor' } }, { name: 'advisor', args: { question: 'Safe?' } }] },
          { toolCalls: [{ name: 'execute', args: { command: 'ls' } }] },
          { text: 'Understood.' },
        ],
        advice: 'unused',
      }),
    });
    expect((await waitForIdle(alice, chat.id)).status).toBe('waiting');
    const results = await toolResultParts(alice, chat.id);
    expect(results.map((part) => [part.tool_name, part.is_error])).toEqual([
      ['create_workspace', false],
      ['execute', true],
      ['advisor', true],
      ['execute', false],
    ]);
    expect(results[1].result).toBe(EXCLUSIVE_TOOL_SIBLING_TEXT);
    expect(results[2].result).toBe(EXCLUSIVE_TOOL_ALONE_TEXT);
    // The workspace works (the later `ls` ran), and the mixed step's command never did.
    expect(results[3].result.output).not.toContain('ran-beside-the-advisor');
    const root = path.join(dataDir, 'workspaces', results[0].result.workspace_id, 'root');
    expect(existsSync(root)).toBe(true);
    expect(existsSync(path.join(root, 'ran-beside-the-advisor'))).toBe(false);
  });

  it('is not offered when disabled, nor in a child chat', async () => {
    await configure({ enabled: false });
    const disabled = await createChat(alice, { content: script({ steps: [{ toolCalls: [{ name: 'advisor', args: { question: 'Hm?' } }] }, { text: 'ok' }], advice: 'x' }) });
    await waitForIdle(alice, disabled.id);
    expect(calls[0]!.tools).not.toContain('advisor');
    expect(calls[0]!.tools).toContain('mark');
    expect((await toolResultParts(alice, disabled.id))[0]).toMatchObject({ result: 'advisor is not available in this chat', is_error: true });

    await configure({ enabled: true });
    const parent = await createChat(alice, { content: script({ steps: [{ text: 'parent' }] }) });
    const child = await createChat(alice, { content: script({ steps: [{ text: 'first' }] }) });
    await waitForIdle(alice, parent.id);
    await waitForIdle(alice, child.id);
    await harness.pool.query('UPDATE chats SET parent_chat_id = $1 WHERE id = $2', [parent.id, child.id]);
    calls.length = 0;
    const sent = await alice.post(`/api/v1/chats/${child.id}/messages`, { content: script({ steps: [{ toolCalls: [{ name: 'advisor', args: { question: 'Hm?' } }] }, { text: 'ok' }], advice: 'x' }) });
    expect(sent.status, JSON.stringify(sent.body)).toBeLessThan(300);
    await waitForIdle(alice, child.id);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((call) => !call.tools.includes('advisor'))).toBe(true);
    // The gating matrix keeps the advisor from sub-agents: a call is answered like any inactive tool.
    expect((await toolResultParts(alice, child.id)).at(-1)).toMatchObject({ tool_name: 'advisor', result: 'Tool not active in this turn: advisor', is_error: true });
  });
});
