/**
 * Reads about sub-agent chats for the sub-agent tools. Read-only: a child chat's state is
 * written by the child's own workflow; the parent only reads it, always scoped to its own
 * children (a chat id that is not the caller's child is not found).
 */
import { ChatError, type ChatStatus } from '../domain/chat.js';
import { type AgentType } from '../domain/tool-policy.js';
import { type Queryable } from './pool.js';

/** What spawning a sub-agent needs to know about the parent chat. */
export interface ParentFacts {
  ownerId: string;
  parentChatId: string | null;
  planMode: boolean;
  workspaceId: string | null;
  mcpServerIds: string[];
  modelConfigId: string | null;
  /** The key of the parent's latest user message: the child's model calls are charged to it. */
  apiKeyId: string | null;
}

export interface ChildChat {
  chatId: string;
  title: string;
  agentType: AgentType | null;
  status: ChatStatus;
  turnCount: number;
  queuedCount: number;
  lastError: ChatError | null;
  lastTurnSummary: string | null;
  /** Whether its last settled turn was interrupted (its answer is then partial). */
  turnInterrupted: boolean;
  createdAt: Date;
}

interface ChildRow {
  id: string;
  title: string;
  agent_type: AgentType | null;
  status: ChatStatus;
  turn_count: number;
  queued_count: number;
  last_error: unknown;
  last_turn_summary: string | null;
  last_turn_interrupted: boolean;
  created_at: Date;
}

const childFromRow = (row: ChildRow): ChildChat => ({
  chatId: row.id,
  title: row.title,
  agentType: row.agent_type,
  status: row.status,
  turnCount: row.turn_count,
  queuedCount: row.queued_count,
  lastError: row.last_error === null ? null : ChatError.parse(row.last_error),
  lastTurnSummary: row.last_turn_summary,
  turnInterrupted: row.last_turn_interrupted,
  createdAt: row.created_at,
});

const CHILD_COLUMNS = 'id, title, agent_type, status, turn_count, queued_count, last_error, last_turn_summary, last_turn_interrupted, created_at';

export function createSubAgentReads(db: Queryable) {
  return {
    async parentFacts(chatId: string): Promise<ParentFacts | undefined> {
      const { rows } = await db.query<{
        owner_id: string;
        parent_chat_id: string | null;
        plan_mode: boolean;
        workspace_id: string | null;
        mcp_server_ids: string[];
        last_model_config_id: string | null;
        api_key_id: string | null;
      }>(
        `SELECT c.owner_id, c.parent_chat_id, c.plan_mode, c.workspace_id, c.mcp_server_ids, c.last_model_config_id,
           (SELECT api_key_id FROM chat_messages WHERE chat_id = c.id AND role = 'user' AND NOT deleted ORDER BY id DESC LIMIT 1) AS api_key_id
         FROM chats c WHERE c.id = $1`,
        [chatId],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        ownerId: row.owner_id,
        parentChatId: row.parent_chat_id,
        planMode: row.plan_mode,
        workspaceId: row.workspace_id,
        mcpServerIds: row.mcp_server_ids,
        modelConfigId: row.last_model_config_id,
        apiKeyId: row.api_key_id,
      };
    },

    async enabledModelConfig(id: string): Promise<boolean> {
      const { rows } = await db.query('SELECT 1 FROM model_configs WHERE id = $1 AND enabled', [id]);
      return rows.length > 0;
    },

    /** The child `childId` of `parentId`, or undefined when it is not (yet) one. */
    async child(parentId: string, childId: string): Promise<ChildChat | undefined> {
      const { rows } = await db.query<ChildRow>(`SELECT ${CHILD_COLUMNS} FROM chats WHERE id = $1 AND parent_chat_id = $2`, [childId, parentId]);
      return rows[0] === undefined ? undefined : childFromRow(rows[0]);
    },

    async children(parentId: string, page: { limit: number; offset: number }): Promise<{ children: ChildChat[]; total: number }> {
      const [listed, counted] = await Promise.all([
        db.query<ChildRow>(`SELECT ${CHILD_COLUMNS} FROM chats WHERE parent_chat_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`, [parentId, page.limit, page.offset]),
        db.query<{ total: string }>('SELECT count(*) AS total FROM chats WHERE parent_chat_id = $1', [parentId]),
      ]);
      return { children: listed.rows.map(childFromRow), total: Number(counted.rows[0]?.total ?? 0) };
    },

    /** The text of the chat's latest assistant message that has any: a sub-agent's answer. */
    async latestAnswer(chatId: string): Promise<string> {
      const { rows } = await db.query<{ text: string }>(
        `SELECT string_agg(part->>'text', '' ORDER BY ordinality) AS text
         FROM chat_messages m, jsonb_array_elements(m.content) WITH ORDINALITY AS parts(part, ordinality)
         WHERE m.chat_id = $1 AND m.role = 'assistant' AND NOT m.deleted AND part->>'type' = 'text'
         GROUP BY m.id ORDER BY m.id DESC LIMIT 1`,
        [chatId],
      );
      return rows[0]?.text ?? '';
    },
  };
}

export type SubAgentReads = ReturnType<typeof createSubAgentReads>;
