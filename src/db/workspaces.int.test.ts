import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/harness.js';
import { createChatStore } from './chat-store.js';
import { migrate } from './migrate.js';
import { createPool, type Pool } from './pool.js';
import { ensureUser } from './users.js';
import { createWorkspaceStore, type WorkspaceStore } from './workspaces.js';

let pool: Pool;
let store: WorkspaceStore;
let ownerId: string;

beforeAll(async () => {
  pool = createPool(await createTestDatabase(), { max: 4 });
  await migrate(pool);
  ownerId = (await ensureUser(pool, 'workspace-store-test', false)).id;
  await pool.query(`INSERT INTO model_configs (id, provider, model, display_name, is_default) VALUES ($1, 'echo', 'echo', 'Echo', true)`, [randomUUID()]);
  store = createWorkspaceStore(pool);
});

afterAll(async () => {
  await pool.end();
});

async function newChat(): Promise<string> {
  const chatId = randomUUID();
  await createChatStore(pool).createChat({
    chatId,
    turn: 1,
    create: { ownerId, title: 'workspace test', content: [{ type: 'text', text: 'hi' }], modelConfigId: null, systemPrompt: null, labels: {}, dynamicTools: [], clientMessageId: null },
  });
  return chatId;
}

async function newWorkspace(operationId = `op-${randomUUID()}`) {
  const chatId = await newChat();
  const inserted = await store.insertForChat(chatId, { id: randomUUID(), name: `ws-${randomUUID().slice(0, 8)}`, template: 'blank', provider: 'local', parameters: {} }, operationId);
  if (inserted.outcome !== 'created') throw new Error(`expected a new workspace, got ${inserted.outcome}`);
  return { chatId, row: inserted.row, operationId };
}

describe('the workspace store', () => {
  it('binds a new workspace to its chat at once, and gives a second insert for that chat the bound one', async () => {
    const { chatId, row } = await newWorkspace();
    const { rows } = await pool.query('SELECT workspace_id FROM chats WHERE id = $1', [chatId]);
    expect(rows[0].workspace_id).toBe(row.id);
    expect(row).toMatchObject({ status: 'pending', operation_kind: 'create', build_number: 0 });

    const again = await store.insertForChat(chatId, { id: randomUUID(), name: 'another-name', template: 'blank', provider: 'local', parameters: {} }, 'another-op');
    expect(again).toMatchObject({ outcome: 'bound', row: { id: row.id } });
    expect((await store.listByOwner(ownerId)).filter((workspace) => workspace.name === 'another-name')).toEqual([]);
  });

  it('refuses a second workspace with a name the owner already uses', async () => {
    const { row } = await newWorkspace();
    const clash = await store.insertForChat(await newChat(), { id: randomUUID(), name: row.name, template: 'blank', provider: 'local', parameters: {} }, 'op');
    expect(clash).toEqual({ outcome: 'name_taken' });
  });

  it('keeps a workspace from another operation while the lease is live, and lets it go once the lease lapses', async () => {
    const { row, operationId } = await newWorkspace();
    const leaseMs = 400;
    expect(await store.claimOperation({ id: row.id, operationId: 'stop-1', kind: 'stop', leaseMs })).toMatchObject({ claimed: false, row: { operation_id: operationId } });
    await sleep(leaseMs + 100);
    const taken = await store.claimOperation({ id: row.id, operationId: 'stop-1', kind: 'stop', leaseMs });
    expect(taken).toMatchObject({ claimed: true, resumed: false, row: { operation_id: 'stop-1', operation_kind: 'stop' } });

    // The owner that lost its lease can neither renew it nor write.
    expect(await store.renewOperation(row.id, operationId)).toBe(false);
    expect(await store.finishOperation(row.id, operationId, { status: 'running', agentStatus: 'ready' })).toBeUndefined();
    expect((await store.get(row.id))!.status).toBe('pending');
  });

  it('lets the same operation re-claim its own workspace at once, as a retry after a crash does', async () => {
    const { row, operationId } = await newWorkspace();
    const first = await store.claimOperation({ id: row.id, operationId, kind: 'create', leaseMs: 60_000 });
    expect(first).toMatchObject({ claimed: true, resumed: true });
    const building = await store.beginBuild(row.id, operationId, true);
    expect(building).toMatchObject({ status: 'starting', agent_status: 'connecting', build_number: 1 });
    // The retry keeps the build number, so the build's startup script is not run again.
    expect(await store.claimOperation({ id: row.id, operationId, kind: 'create', leaseMs: 60_000 })).toMatchObject({ claimed: true, resumed: true, row: { build_number: 1 } });
    expect(await store.beginBuild(row.id, operationId, false)).toMatchObject({ build_number: 1 });

    const finished = await store.finishOperation(row.id, operationId, { status: 'running', agentStatus: 'ready', agent: { url: 'http://127.0.0.1:1', tokenSealed: 'v1:sealed', pid: 42 } });
    expect(finished).toMatchObject({ status: 'running', agent_status: 'ready', agent_url: 'http://127.0.0.1:1', agent_token_sealed: 'v1:sealed', agent_pid: 42, operation_id: null, operation_kind: null });
    expect(await store.claimOperation({ id: row.id, operationId: 'stop-2', kind: 'stop', leaseMs: 60_000 })).toMatchObject({ claimed: true, resumed: false });
  });

  it('lets a cancelled operation’s lease lapse at once without forgetting whose it was', async () => {
    const { row, operationId } = await newWorkspace();
    await store.abandonOperation(row.id, operationId);
    expect(await store.claimOperation({ id: row.id, operationId, kind: 'create', leaseMs: 60_000 })).toMatchObject({ claimed: true, resumed: true });
    await store.abandonOperation(row.id, operationId);
    expect(await store.claimOperation({ id: row.id, operationId: 'other', kind: 'stop', leaseMs: 60_000 })).toMatchObject({ claimed: true, resumed: false });
  });

  it('lets exactly one of two concurrent operations take a free workspace', async () => {
    const { row, operationId } = await newWorkspace();
    await store.finishOperation(row.id, operationId, { status: 'stopped', agentStatus: 'not_ready' });
    const claims = await Promise.all(['a', 'b', 'c'].map((id) => store.claimOperation({ id: row.id, operationId: id, kind: 'start', leaseMs: 60_000 })));
    expect(claims.filter((claim) => claim?.claimed)).toHaveLength(1);
  });
});
