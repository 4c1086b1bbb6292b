/**
 * Workspace rows and the operation lease that serialises creates, starts and stops.
 *
 * An operation (identified by an id that stays the same across retries, e.g. the tool call's)
 * claims a workspace by writing its id into `operation_id`, and keeps it by renewing
 * `operation_heartbeat_at`. Another operation may take the row only once that lease has lapsed
 * (its owner crashed); the same operation re-claims its own row at once, so a retried activity
 * resumes instead of waiting for itself. Every write an operation makes is fenced on
 * `operation_id`, so an owner that lost its lease changes nothing.
 *
 * The agent token is stored sealed (`agent_token_sealed`); rows leave this module as `Workspace`
 * resources without it.
 */
import { type AgentStatus, Workspace, type WorkspaceOperationKind, type WorkspaceStatus } from '../domain/workspace.js';
import { type Pool, type Queryable, withTransaction } from './pool.js';

export interface WorkspaceRow {
  id: string;
  owner_id: string;
  name: string;
  template: string;
  provider: string;
  parameters: Record<string, string>;
  status: WorkspaceStatus;
  agent_status: AgentStatus;
  agent_url: string | null;
  agent_token_sealed: string | null;
  agent_pid: number | null;
  operation_id: string | null;
  operation_kind: WorkspaceOperationKind | null;
  operation_heartbeat_at: Date | null;
  build_number: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The API resource; `operation` shows only while its lease is live (an abandoned one is not in progress). */
export function workspaceFromRow(row: WorkspaceRow, leaseMs: number, now = Date.now()): Workspace {
  const live = row.operation_kind !== null && row.operation_heartbeat_at !== null && row.operation_heartbeat_at.getTime() > now - leaseMs;
  return Workspace.parse({
    id: row.id,
    owner_id: row.owner_id,
    name: row.name,
    template: row.template,
    provider: row.provider,
    parameters: row.parameters,
    status: row.status,
    agent_status: row.agent_status,
    operation: live ? row.operation_kind : null,
    build_number: row.build_number,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  });
}

export interface NewWorkspace {
  id: string;
  name: string;
  template: string;
  provider: string;
  parameters: Record<string, string>;
}

export type InsertForChatOutcome =
  | { outcome: 'created'; row: WorkspaceRow }
  /** The chat already had a workspace (a retry, or a concurrent create that won). */
  | { outcome: 'bound'; row: WorkspaceRow }
  | { outcome: 'name_taken' }
  | { outcome: 'no_chat' };

export type ClaimOutcome =
  /** `resumed`: the row was already this operation's (a retry after a crash). */
  | { claimed: true; row: WorkspaceRow; resumed: boolean }
  /** Another operation holds a live lease. */
  | { claimed: false; row: WorkspaceRow };

/** What an operation records when it ends. `agent: null` forgets the agent; absent keeps it. */
export interface OperationResult {
  status: WorkspaceStatus;
  agentStatus: AgentStatus;
  agent?: { url: string; tokenSealed: string; pid: number | null } | null;
  lastError?: string | null;
}

export function createWorkspaceStore(pool: Pool) {
  const one = async (db: Queryable, sql: string, values: unknown[]): Promise<WorkspaceRow | undefined> => (await db.query<WorkspaceRow>(sql, values)).rows[0];
  const get = (id: string): Promise<WorkspaceRow | undefined> => one(pool, 'SELECT * FROM workspaces WHERE id = $1', [id]);

  return {
    get,

    /** The workspace when `ownerId` owns it; another user's is indistinguishable from a missing one. */
    async getOwned(ownerId: string, id: string): Promise<WorkspaceRow | undefined> {
      return one(pool, `SELECT * FROM workspaces WHERE id = $1 AND owner_id = $2 AND status <> 'deleted'`, [id, ownerId]);
    },

    /** The owner's workspaces, newest first. */
    async listByOwner(ownerId: string): Promise<WorkspaceRow[]> {
      const { rows } = await pool.query<WorkspaceRow>(`SELECT * FROM workspaces WHERE owner_id = $1 AND status <> 'deleted' ORDER BY created_at DESC, id`, [ownerId]);
      return rows;
    },

    /** The chat's owner and bound workspace; undefined when there is no such chat. */
    async forChat(chatId: string): Promise<{ ownerId: string; workspace: WorkspaceRow | undefined } | undefined> {
      const { rows } = await pool.query<{ owner_id: string; workspace_id: string | null }>('SELECT owner_id, workspace_id FROM chats WHERE id = $1', [chatId]);
      const chat = rows[0];
      if (chat === undefined) return undefined;
      return { ownerId: chat.owner_id, workspace: chat.workspace_id === null ? undefined : await get(chat.workspace_id) };
    },

    /**
     * Inserts a workspace already claimed by `operationId` and binds it to the chat in the same
     * transaction, under the chat's row lock: concurrent creates for one chat make one
     * workspace, and a crash after this point keeps the binding.
     */
    async insertForChat(chatId: string, workspace: NewWorkspace, operationId: string): Promise<InsertForChatOutcome> {
      return withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ owner_id: string; workspace_id: string | null }>('SELECT owner_id, workspace_id FROM chats WHERE id = $1 FOR UPDATE', [chatId]);
        const chat = rows[0];
        if (chat === undefined) return { outcome: 'no_chat' };
        if (chat.workspace_id !== null) {
          const bound = await one(client, 'SELECT * FROM workspaces WHERE id = $1', [chat.workspace_id]);
          if (bound !== undefined) return { outcome: 'bound', row: bound };
        }
        const inserted = await one(
          client,
          `INSERT INTO workspaces (id, owner_id, name, template, provider, parameters, status, operation_id, operation_kind, operation_heartbeat_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, 'create', now()) ON CONFLICT (owner_id, name) DO NOTHING RETURNING *`,
          [workspace.id, chat.owner_id, workspace.name, workspace.template, workspace.provider, JSON.stringify(workspace.parameters), operationId],
        );
        if (inserted === undefined) return { outcome: 'name_taken' };
        await client.query('UPDATE chats SET workspace_id = $2 WHERE id = $1', [chatId, inserted.id]);
        return { outcome: 'created', row: inserted };
      });
    },

    /** Compare-and-set of the operation lease; see the module comment. */
    async claimOperation(input: { id: string; operationId: string; kind: WorkspaceOperationKind; leaseMs: number }): Promise<ClaimOutcome | undefined> {
      return withTransaction(pool, async (client) => {
        const { rows } = await client.query<WorkspaceRow & { lease_lapsed: boolean }>(
          `SELECT *, operation_heartbeat_at IS NULL OR operation_heartbeat_at < now() - $2 * interval '1 millisecond' AS lease_lapsed FROM workspaces WHERE id = $1 FOR UPDATE`,
          [input.id, input.leaseMs],
        );
        const current = rows[0];
        if (current === undefined) return undefined;
        const { lease_lapsed: lapsed, ...row } = current;
        const resumed = row.operation_id === input.operationId;
        if (row.operation_id !== null && !resumed && !lapsed) return { claimed: false, row };
        const claimed = await one(client, 'UPDATE workspaces SET operation_id = $2, operation_kind = $3, operation_heartbeat_at = now(), updated_at = now() WHERE id = $1 RETURNING *', [
          input.id,
          input.operationId,
          input.kind,
        ]);
        return { claimed: true, row: claimed!, resumed };
      });
    },

    /** Renews the lease; false when the operation lost it. */
    async renewOperation(id: string, operationId: string): Promise<boolean> {
      const { rowCount } = await pool.query('UPDATE workspaces SET operation_heartbeat_at = now() WHERE id = $1 AND operation_id = $2', [id, operationId]);
      return rowCount === 1;
    },

    /** Marks a create or start under way; a new build gets the next build number, a resumed one keeps its own. */
    async beginBuild(id: string, operationId: string, newBuild: boolean): Promise<WorkspaceRow | undefined> {
      return one(
        pool,
        `UPDATE workspaces SET status = 'starting', agent_status = 'connecting', last_error = NULL, build_number = build_number + $3, updated_at = now()
         WHERE id = $1 AND operation_id = $2 RETURNING *`,
        [id, operationId, newBuild ? 1 : 0],
      );
    },

    async beginStop(id: string, operationId: string): Promise<WorkspaceRow | undefined> {
      return one(pool, `UPDATE workspaces SET status = 'stopping', updated_at = now() WHERE id = $1 AND operation_id = $2 RETURNING *`, [id, operationId]);
    },

    /** Records the operation's outcome and releases the lease, in one statement. */
    async finishOperation(id: string, operationId: string, result: OperationResult): Promise<WorkspaceRow | undefined> {
      const agent = result.agent;
      return one(
        pool,
        `UPDATE workspaces SET status = $3, agent_status = $4,
           agent_url = CASE WHEN $5 THEN $6 ELSE agent_url END,
           agent_token_sealed = CASE WHEN $5 THEN $7 ELSE agent_token_sealed END,
           agent_pid = CASE WHEN $5 THEN $8::integer ELSE agent_pid END,
           last_error = CASE WHEN $9 THEN $10 ELSE last_error END,
           operation_id = NULL, operation_kind = NULL, operation_heartbeat_at = NULL, updated_at = now()
         WHERE id = $1 AND operation_id = $2 RETURNING *`,
        [id, operationId, result.status, result.agentStatus, agent !== undefined, agent?.url ?? null, agent?.tokenSealed ?? null, agent?.pid ?? null, result.lastError !== undefined, result.lastError ?? null],
      );
    },

    /**
     * Gives the lease up without finishing (the operation was cancelled): it lapses at once, so
     * another operation need not wait for it, and a retry of this one still resumes.
     */
    async abandonOperation(id: string, operationId: string): Promise<void> {
      await pool.query(`UPDATE workspaces SET operation_heartbeat_at = 'epoch', updated_at = now() WHERE id = $1 AND operation_id = $2`, [id, operationId]);
    },
  };
}

export type WorkspaceStore = ReturnType<typeof createWorkspaceStore>;
