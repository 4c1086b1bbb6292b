/**
 * Instruction files and skills end to end: a chat on a fake OpenAI-compatible provider creates
 * a real local workspace (a real agent) holding AGENTS.md and a skill, and the tests read the
 * request bodies the provider received: the system prompt carries the instruction file and the
 * `<available-skills>` index, `read_skill` and `read_skill_file` read the skill, personal
 * skills join the index under `personal/`, and instruction files are read once per agent.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey, parseSecretKey, SecretBox } from '../security/secret-box.js';
import { ToolRegistry } from '../tools/chat-tool.js';
import { createSkillTools } from '../tools/skills/skill-tools.js';
import { createWorkspaceTools } from '../tools/workspace/workspace-tools.js';
import { createWorkspaceService } from '../workspaces/workspace-service.js';
import { WorkspaceTemplate } from '../workspaces/workspace-template.js';
import { createChat, toolResultParts, waitForIdle } from '../../test/support/chat-helpers.js';
import { fakeToolCall, fakeText } from '../../test/support/fake-llm/fake-reply.js';
import { startFakeLlmServer, type FakeLlmServer } from '../../test/support/fake-llm/fake-llm-server.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';
import { killWorkspaceAgents } from '../../test/support/workspace-agents.js';
import { createChatContext } from './chat-context.js';

const SKILL_MD = '---\nname: deploy\ndescription: Deploy the app to staging.\n---\n# Deploy\nRun scripts/deploy.sh, then check the logs.\n';

const TEMPLATES = [
  WorkspaceTemplate.parse({
    name: 'project',
    description: 'A project with instructions and a skill.',
    files: {
      'AGENTS.md': 'Always run the tests with `make check`.\n',
      '.agents/skills/deploy/SKILL.md': SKILL_MD,
      '.agents/skills/deploy/scripts/deploy.sh': 'echo deploying\n',
      '.agents/skills/deploy/.env': 'TOKEN=secret\n',
      '.agents/skills/deploy/big.log': 'x'.repeat(600 * 1024),
    },
  }),
];

/** The text of every system message of an OpenAI Chat Completions request body. */
function systemText(body: any): string {
  return body.messages
    .filter((message: any) => message.role === 'system')
    .map((message: any) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content)))
    .join('\n');
}

describe('instruction files and skills in the prompt', () => {
  let harness: Harness;
  let fake: FakeLlmServer;
  let alice: ApiClient;
  let dataDir: string;
  let workspaces: ReturnType<typeof createWorkspaceService>;
  let model: string;
  let modelConfigId: string;

  beforeAll(async () => {
    fake = await startFakeLlmServer();
    harness = await startHarness({ startWorker: false });
    alice = apiClient(harness.apiUrl, harness.alice.key);
    const admin = apiClient(harness.apiUrl, harness.admin.key);
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'chatd-chat-context-'));
    workspaces = createWorkspaceService({ pool: harness.pool, sealer: new SecretBox(parseSecretKey(generateSecretKey())), templates: TEMPLATES, dataDir });
    const chatContext = createChatContext({ pool: harness.pool, agents: workspaces });
    await harness.startWorker({
      tools: new ToolRegistry([...createWorkspaceTools({ pool: harness.pool, workspaces }), ...createSkillTools({ pool: harness.pool, agents: workspaces })]),
      promptSections: chatContext.promptSections,
      // Titles and turn labels would send the fake provider requests of their own.
      modelSideCalls: false,
    });
    const provider = await admin.post('/api/v1/providers', { name: 'fake', kind: 'openai-chat', base_url: fake.baseUrl('openai-chat'), api_key: 'sk-fake' });
    expect(provider.status, JSON.stringify(provider.body)).toBe(201);
    model = `model-${randomUUID().slice(0, 8)}`;
    const config = await admin.post('/api/v1/model-configs', { provider: 'fake', model });
    expect(config.status, JSON.stringify(config.body)).toBe(201);
    modelConfigId = config.body.id;
    // Alice's personal skills: one shares the workspace skill's name. Bob's must never show.
    expect((await alice.raw('PUT', '/api/v1/skills/deploy', { description: 'My own way to deploy.', body: 'Ask me first.' })).status).toBe(201);
    expect((await alice.raw('PUT', '/api/v1/skills/notes', { description: 'Keep notes.', body: 'Write NOTES.md.' })).status).toBe(201);
    expect((await apiClient(harness.apiUrl, harness.bob.key).raw('PUT', '/api/v1/skills/bobs-secret', { description: 'Bob only.', body: 'Hidden.' })).status).toBe(201);
  });

  afterAll(async () => {
    await killWorkspaceAgents(dataDir);
    await harness?.stop();
    await fake?.close();
  });

  /** Sends (or creates the chat with) a message and waits for the turn; returns the requests it made. */
  async function turn(content: string, chatId?: string): Promise<{ chatId: string; systems: string[] }> {
    const before = fake.requests.length;
    let id = chatId;
    if (id === undefined) id = (await createChat(alice, { content, model_config_id: modelConfigId })).id as string;
    else expect((await alice.post(`/api/v1/chats/${id}/messages`, { content, model_config_id: modelConfigId })).status).toBe(200);
    const idle = await waitForIdle(alice, id);
    expect(idle.status, JSON.stringify(idle.last_error)).toBe('waiting');
    expect(fake.unexpected).toEqual([]);
    return { chatId: id, systems: fake.requests.slice(before).map((request) => systemText(request.body)) };
  }

  let chatId: string;
  let workspaceRoot: string;

  it('puts the instruction file and the skill index in the system prompt, and reads skills with read_skill and read_skill_file', async () => {
    fake.reply(
      model,
      fakeToolCall('create_workspace', { template_id: 'project' }),
      fakeToolCall('read_skill', { name: 'workspace/deploy' }),
      fakeToolCall('read_skill', { name: 'personal/deploy' }),
      fakeToolCall('read_skill_file', { name: 'workspace/deploy', path: 'scripts/deploy.sh' }),
      fakeToolCall('read_skill_file', { name: 'deploy', path: '../../../AGENTS.md' }),
      fakeToolCall('read_skill_file', { name: 'deploy', path: '.env' }),
      fakeToolCall('read_skill', { name: 'bobs-secret' }),
      fakeToolCall('read_skill_file', { name: 'deploy', path: 'big.log' }),
      fakeText('done'),
    );
    const result = await turn('Deploy the app.');
    chatId = result.chatId;
    expect(result.systems).toHaveLength(9);
    const [beforeWorkspace, afterWorkspace] = result.systems as [string, string];

    // Before the workspace exists: personal skills only, no instruction file.
    expect(beforeWorkspace).not.toContain('<instruction-file');
    expect(beforeWorkspace).toContain('- personal/deploy: My own way to deploy.');
    expect(beforeWorkspace).toContain('- personal/notes: Keep notes.');
    expect(beforeWorkspace).not.toContain('workspace/deploy');

    // With the workspace: its AGENTS.md, delimited and named, then the index with the collision resolved.
    expect(afterWorkspace).toMatch(/<instruction-file path="[^"]*\/root\/AGENTS\.md" directory="workspace" truncated="false">\nAlways run the tests with `make check`\.\n<\/instruction-file>/);
    expect(afterWorkspace).toContain('<available-skills>');
    expect(afterWorkspace).toContain('- workspace/deploy: Deploy the app to staging.');
    expect(afterWorkspace).toContain('- personal/deploy: My own way to deploy.');
    expect(afterWorkspace.indexOf('<instruction-file')).toBeLessThan(afterWorkspace.indexOf('<available-skills>'));
    for (const system of result.systems) expect(system).not.toContain('bobs-secret');

    const results = (await toolResultParts(alice, chatId)).map((part) => ({ tool: part.tool_name, result: part.result, isError: part.is_error }));
    expect(results.map((entry) => [entry.tool, entry.isError])).toEqual([
      ['create_workspace', false],
      ['read_skill', false],
      ['read_skill', false],
      ['read_skill_file', false],
      ['read_skill_file', true],
      ['read_skill_file', true],
      ['read_skill', true],
      ['read_skill_file', true],
    ]);
    expect(results[1]!.result).toMatchObject({ name: 'deploy', source: 'workspace', description: 'Deploy the app to staging.', body: '# Deploy\nRun scripts/deploy.sh, then check the logs.\n' });
    expect(results[2]!.result).toMatchObject({ name: 'personal/deploy', source: 'personal', body: 'Ask me first.' });
    expect(results[3]!.result).toMatchObject({ path: 'scripts/deploy.sh', content: 'echo deploying\n' });
    expect(String(results[4]!.result)).toContain('..');
    expect(String(results[5]!.result)).toContain('hidden');
    expect(String(results[6]!.result)).toContain('no skill named "bobs-secret"');
    expect(String(results[7]!.result)).toContain('larger than read_skill_file\'s limit of 512 KiB');

    workspaceRoot = path.join(dataDir, 'workspaces', results[0]!.result.workspace_id, 'root');
    const { rows } = await harness.pool.query('SELECT last_injected_context FROM chats WHERE id = $1', [chatId]);
    expect(rows[0].last_injected_context).toMatchObject({
      agent_key: `${results[0]!.result.workspace_id}:1`,
      instruction_files: [expect.objectContaining({ directory: 'workspace', truncated: false, content: 'Always run the tests with `make check`.\n' })],
    });
  });

  it('reads instruction files once per agent: an edit reaches the prompt only when the workspace gets a new agent', async () => {
    await writeFile(path.join(workspaceRoot, 'AGENTS.md'), 'Use `npm test` now.\n');
    fake.reply(model, fakeText('same as before'));
    const again = await turn('Anything new?', chatId);
    expect(again.systems[0]).toContain('make check');
    expect(again.systems[0]).not.toContain('npm test');
    // A worker that never saw this chat (a restart) uses what was recorded for the agent.
    const fresh = createChatContext({ pool: harness.pool, agents: workspaces });
    const sections = (await fresh.promptSections({ chatId })).join('\n');
    expect(sections).toContain('make check');
    expect(sections).toContain('- workspace/deploy: Deploy the app to staging.');
    expect(await fresh.promptSections({ chatId: randomUUID() })).toEqual([]);

    fake.reply(model, fakeToolCall('stop_workspace', {}), fakeToolCall('start_workspace', {}), fakeText('restarted'));
    const rebuilt = await turn('Restart the workspace.', chatId);
    expect(rebuilt.systems).toHaveLength(3);
    const [running, stopped, restarted] = rebuilt.systems as [string, string, string];
    expect(running).toContain('make check');
    // A stopped workspace gives no workspace sections; personal skills stay.
    expect(stopped).not.toContain('<instruction-file');
    expect(stopped).not.toContain('workspace/deploy');
    expect(stopped).toContain('personal/deploy');
    expect(restarted).toContain('Use `npm test` now.');
    expect(restarted).not.toContain('make check');
  });
});
