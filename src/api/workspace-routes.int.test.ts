import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChat, waitForIdle } from '../../test/support/chat-helpers.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { apiClient, type ApiClient } from '../../test/support/http.js';
import { createWorkspaceStore } from '../db/workspaces.js';

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

/** A workspace row as create_workspace leaves it before building, bound to a new chat of the user's. */
async function workspaceOf(api: ApiClient, name: string): Promise<{ id: string; chatId: string }> {
  const chat = await createChat(api, { content: 'hello', model_config_id: harness.echoModelId });
  await waitForIdle(api, chat.id);
  const inserted = await createWorkspaceStore(harness.pool).insertForChat(chat.id, { id: randomUUID(), name, template: 'blank', provider: 'local', parameters: { colour: 'red' } }, `op-${name}`);
  if (inserted.outcome !== 'created') throw new Error(inserted.outcome);
  return { id: inserted.row.id, chatId: chat.id };
}

describe('the workspace API', () => {
  it('lists only the caller’s workspaces, newest first, and answers 404 for another user’s', async () => {
    const first = await workspaceOf(alice, 'alice-first');
    const second = await workspaceOf(alice, 'alice-second');
    const bobs = await workspaceOf(bob, 'bob-only');

    const listed = await alice.get('/api/v1/workspaces');
    expect(listed.status).toBe(200);
    expect(listed.body.workspaces.map((workspace: { id: string }) => workspace.id)).toEqual([second.id, first.id]);
    expect(listed.body.workspaces[0]).toMatchObject({ name: 'alice-second', template: 'blank', provider: 'local', status: 'pending', agent_status: 'not_ready', operation: 'create', parameters: { colour: 'red' } });
    expect(JSON.stringify(listed.body)).not.toMatch(/token|agent_url|agent_pid/);

    expect((await alice.get(`/api/v1/workspaces/${first.id}`)).body).toMatchObject({ id: first.id, name: 'alice-first' });
    for (const path of [`/api/v1/workspaces/${bobs.id}`, `/api/v1/workspaces/${randomUUID()}`, '/api/v1/workspaces/not-a-uuid']) {
      const missing = await alice.get(path);
      expect(missing.status, path).toBe(404);
      expect(missing.body.message).toBe('Workspace not found.');
    }
  });

  it('lists the configured templates', async () => {
    const templates = await alice.get('/api/v1/templates');
    expect(templates.status).toBe(200);
    expect(templates.body.templates).toEqual([{ name: 'blank', description: 'An empty directory.', parameters: [], startup_script: null, files: [], external: false }]);
    expect((await alice.get('/api/v1/templates/blank')).body.name).toBe('blank');
    expect(await alice.get('/api/v1/templates/nope')).toMatchObject({ status: 404, body: { message: 'Template not found.' } });
  });

  it('binds a chat to the caller’s workspace when it is created or patched, and refuses another user’s', async () => {
    const own = await workspaceOf(alice, 'alice-bind');
    const bobs = await workspaceOf(bob, 'bob-bind');

    const created = await alice.post('/api/v1/chats', { content: 'with a workspace', workspace_id: own.id, model_config_id: harness.echoModelId });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.workspace_id).toBe(own.id);
    await waitForIdle(alice, created.body.id);

    const foreign = await alice.post('/api/v1/chats', { content: 'with bob’s workspace', workspace_id: bobs.id, model_config_id: harness.echoModelId });
    expect(foreign).toMatchObject({ status: 404, body: { message: 'Workspace not found.' } });

    const unbound = await alice.patch(`/api/v1/chats/${created.body.id}`, { workspace_id: null });
    expect(unbound.status, JSON.stringify(unbound.body)).toBe(200);
    expect(unbound.body.workspace_id).toBeNull();
    const rebound = await alice.patch(`/api/v1/chats/${created.body.id}`, { workspace_id: own.id, title: 'Renamed' });
    expect(rebound.body).toMatchObject({ workspace_id: own.id, title: 'Renamed' });
    // Other fields leave the binding alone.
    expect((await alice.patch(`/api/v1/chats/${created.body.id}`, { title: 'Again' })).body.workspace_id).toBe(own.id);

    expect(await alice.patch(`/api/v1/chats/${created.body.id}`, { workspace_id: bobs.id })).toMatchObject({ status: 404, body: { message: 'Workspace not found.' } });
    const bad = await alice.patch(`/api/v1/chats/${created.body.id}`, { workspace_id: 'not-a-uuid' });
    expect(bad.status).toBe(400);
    expect(bad.body.validations[0]).toEqual({ field: 'workspace_id', detail: 'workspace_id must be a UUID.' });
    expect((await alice.get(`/api/v1/chats/${created.body.id}`)).body.workspace_id).toBe(own.id);
  });
});
