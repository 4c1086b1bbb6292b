/**
 * The chat context when the workspace agent does not answer: a real HTTP server that accepts
 * requests and never replies stands in for a hung agent. The step must get its sections within
 * the lookup budget, from what was recorded for that agent, and never an exception.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../agent/agent-client.js';
import { type Workspace } from '../domain/workspace.js';
import { type WorkspaceAgents } from '../tools/workspace/agent-call.js';
import { createChat, waitForIdle } from '../../test/support/chat-helpers.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';
import { createChatContext } from './chat-context.js';
import { type InjectedContext, recordInjectedContext } from './injected-context.js';

const LOOKUP_TIMEOUT_MS = 300;

describe('the chat context with a workspace agent that never answers', () => {
  let harness: Harness;
  let alice: ApiClient;
  let hungAgent: http.Server;
  let agents: WorkspaceAgents;
  const workspaceId = randomUUID();

  beforeAll(async () => {
    harness = await startHarness();
    alice = apiClient(harness.apiUrl, harness.alice.key);
    hungAgent = http.createServer(() => {
      // Accepts the request and never answers, like an agent stuck on a full disk.
    });
    await new Promise<void>((resolve) => hungAgent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hungAgent.address() as AddressInfo).port}`;
    await harness.pool.query(`INSERT INTO workspaces (id, owner_id, name, template, status, build_number) VALUES ($1, $2, 'hung', 'blank', 'running', 3)`, [workspaceId, harness.alice.id]);
    // Only the id and build number of the lookup's workspace matter to the chat context.
    const workspace = { id: workspaceId, build_number: 3 } as Workspace;
    agents = { agentFor: async () => ({ workspace, client: new AgentClient({ url, token: 'token' }) }) };
    expect((await alice.raw('PUT', '/api/v1/skills/notes', { description: 'Keep notes.', body: 'Write NOTES.md.' })).status).toBe(201);
  });

  afterAll(async () => {
    hungAgent?.closeAllConnections();
    hungAgent?.close();
    await harness?.stop();
  });

  async function chatOnWorkspace(): Promise<string> {
    const chat = await createChat(alice, { content: 'hi', model_config_id: harness.echoModelId });
    await waitForIdle(alice, chat.id);
    await harness.pool.query('UPDATE chats SET workspace_id = $2 WHERE id = $1', [chat.id, workspaceId]);
    return chat.id as string;
  }

  it('gives the personal skills within the lookup budget when nothing was recorded', async () => {
    const chatId = await chatOnWorkspace();
    const context = createChatContext({ pool: harness.pool, agents, lookupTimeoutMs: LOOKUP_TIMEOUT_MS });
    const started = Date.now();
    const sections = await context.promptSections({ chatId });
    expect(Date.now() - started).toBeLessThan(LOOKUP_TIMEOUT_MS + 1_000);
    expect(sections).toEqual([expect.stringContaining('- personal/notes: Keep notes.')]);
    const { rows } = await harness.pool.query('SELECT last_injected_context FROM chats WHERE id = $1', [chatId]);
    expect(rows[0].last_injected_context).toBeNull();
  });

  it('keeps the instruction files recorded for the same agent while it does not answer', async () => {
    const chatId = await chatOnWorkspace();
    const recorded: InjectedContext = {
      agent_key: `${workspaceId}:3`,
      workspace_id: workspaceId,
      os: 'linux',
      home_directory: null,
      workspace_directory: '/work',
      instruction_files: [{ directory: 'workspace', path: '/work/AGENTS.md', content: 'Recorded rules.\n', truncated: false }],
      recorded_at: new Date().toISOString(),
    };
    await recordInjectedContext(harness.pool, chatId, recorded);
    const context = createChatContext({ pool: harness.pool, agents, lookupTimeoutMs: LOOKUP_TIMEOUT_MS });
    const sections = await context.promptSections({ chatId });
    expect(sections).toHaveLength(2);
    expect(sections[0]).toContain('<instruction-file path="/work/AGENTS.md" directory="workspace" truncated="false">\nRecorded rules.\n</instruction-file>');
    expect(sections[1]).toContain('personal/notes');
  });

  it('ignores what was recorded for an earlier agent of the workspace', async () => {
    const chatId = await chatOnWorkspace();
    await recordInjectedContext(harness.pool, chatId, {
      agent_key: `${workspaceId}:2`,
      workspace_id: workspaceId,
      os: 'linux',
      home_directory: null,
      workspace_directory: '/work',
      instruction_files: [{ directory: 'workspace', path: '/work/AGENTS.md', content: 'Old rules.\n', truncated: false }],
      recorded_at: new Date().toISOString(),
    });
    const sections = await createChatContext({ pool: harness.pool, agents, lookupTimeoutMs: LOOKUP_TIMEOUT_MS }).promptSections({ chatId });
    expect(sections.join('\n')).not.toContain('Old rules.');
  });
});
