/**
 * Read models over the chat tables, for the API and for activities. Reads never change chat
 * state; every query a user can reach is scoped by owner, so another user's chat is simply
 * not found.
 */
import { type AgentType, type ChatRole } from '../domain/tool-policy.js';
import { effectiveThresholdPercent } from '../domain/compaction.js';
import { type ModelConfigRecord } from '../llm/model-registry.js';
import { type PromptSourceMessage } from '../prompt/to-model-messages.js';
import { type ChatRow, type MessageRow, type QueuedRow } from './chat-rows.js';
import { prepared, type Queryable } from './pool.js';

/** What a model step needs from the chat row. */
export interface TurnContext {
  turnCount: number;
  dynamicTools: unknown;
  modelConfig: ModelConfigRecord | undefined;
  role: ChatRole;
  /** The owner's compaction threshold for the model config, else the config's, else the default. */
  compactionThresholdPercent: number;
}

export interface ChatListFilter {
  ownerId: string;
  archived?: boolean;
  status?: string;
  parentChatId?: string;
  labels?: Record<string, string>;
  /** Cursor: the `updated_at|id` of the last chat of the previous page. */
  after?: { updatedAt: string; id: string };
  limit: number;
}

export function createChatReads(db: Queryable) {
  return {
    async getChat(chatId: string): Promise<ChatRow | undefined> {
      const { rows } = await db.query<ChatRow>('SELECT * FROM chats WHERE id = $1', [chatId]);
      return rows[0];
    },

    /**
     * What a model step needs from the chat row, with its current model config, in one query;
     * `compactionThresholdPercent` is the owner's override for that config, else the config's.
     */
    async getTurnContext(chatId: string, options: { speculativeModelConfigId?: string | null } = {}): Promise<TurnContext | undefined> {
      // A speculative first step resolves the model as the send's write will: the requested one
      // if enabled, else the chat's last if enabled, else the default (see resolveModelConfigId).
      const speculative = options.speculativeModelConfigId !== undefined;
      const modelJoin = speculative
        ? `LEFT JOIN LATERAL (SELECT * FROM model_configs WHERE enabled AND (id = $2::uuid OR id = c.last_model_config_id OR is_default)
             ORDER BY (id = $2::uuid) DESC NULLS LAST, (id = c.last_model_config_id) DESC NULLS LAST, is_default DESC LIMIT 1) m ON true`
        : 'LEFT JOIN model_configs m ON m.id = c.last_model_config_id';
      const { rows } = await db.query<{
        turn_count: number;
        dynamic_tools: unknown;
        plan_mode: boolean;
        parent_chat_id: string | null;
        agent_type: AgentType | null;
        model: ModelConfigRecord | null;
        user_threshold: number | null;
      }>(
        prepared(
          speculative ? 'turn-context-speculative' : 'turn-context',
          `SELECT c.turn_count, c.dynamic_tools, c.plan_mode, c.parent_chat_id, c.agent_type,
                  (SELECT t.threshold_percent FROM user_compaction_thresholds t WHERE t.user_id = c.owner_id AND t.model_config_id = m.id) AS user_threshold,
                  CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object('id', m.id, 'provider', m.provider, 'model', m.model, 'display_name', m.display_name,
                    'context_limit', m.context_limit, 'max_output_tokens', m.max_output_tokens, 'compression_threshold', m.compression_threshold, 'prices', m.prices, 'provider_options', m.provider_options, 'provider_tools', m.provider_tools,
                    'endpoint', CASE WHEN p.id IS NULL THEN NULL ELSE json_build_object('name', p.name, 'kind', p.kind, 'base_url', p.base_url,
                      'api_key_ciphertext', p.api_key_ciphertext, 'enabled', p.enabled, 'allow_user_api_key', p.allow_user_api_key,
                      'allow_central_api_key_fallback', p.allow_central_api_key_fallback, 'user_api_key_ciphertext', k.api_key_ciphertext) END) END AS model
           FROM chats c ${modelJoin} LEFT JOIN providers p ON p.name = m.provider
             LEFT JOIN user_provider_keys k ON k.provider_id = p.id AND k.user_id = c.owner_id
           WHERE c.id = $1`,
          speculative ? [chatId, options.speculativeModelConfigId] : [chatId],
        ),
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      return {
        turnCount: row.turn_count,
        dynamicTools: row.dynamic_tools,
        modelConfig: row.model ?? undefined,
        role: { isChild: row.parent_chat_id !== null, planMode: row.plan_mode, agentType: row.agent_type },
        compactionThresholdPercent: effectiveThresholdPercent(row.model?.compression_threshold, row.user_threshold),
      };
    },

    async getOwnedChat(chatId: string, ownerId: string): Promise<ChatRow | undefined> {
      const { rows } = await db.query<ChatRow>('SELECT * FROM chats WHERE id = $1 AND owner_id = $2', [chatId, ownerId]);
      return rows[0];
    },

    async listChats(filter: ChatListFilter): Promise<ChatRow[]> {
      const conditions = ['owner_id = $1'];
      const values: unknown[] = [filter.ownerId];
      if (filter.archived !== undefined) {
        values.push(filter.archived);
        conditions.push(`archived = $${values.length}`);
      }
      if (filter.status !== undefined) {
        values.push(filter.status);
        conditions.push(`status = $${values.length}`);
      }
      if (filter.parentChatId !== undefined) {
        values.push(filter.parentChatId);
        conditions.push(`parent_chat_id = $${values.length}`);
      }
      if (filter.labels !== undefined && Object.keys(filter.labels).length > 0) {
        values.push(JSON.stringify(filter.labels));
        conditions.push(`labels @> $${values.length}::jsonb`);
      }
      if (filter.after !== undefined) {
        values.push(filter.after.updatedAt, filter.after.id);
        conditions.push(`(updated_at, id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`);
      }
      values.push(filter.limit);
      const { rows } = await db.query<ChatRow>(
        `SELECT * FROM chats WHERE ${conditions.join(' AND ')} ORDER BY updated_at DESC, id DESC LIMIT $${values.length}`,
        values,
      );
      return rows;
    },

    /** Visible messages, newest first when paging backwards from `beforeId`. */
    async listMessages(chatId: string, options: { beforeId?: number; limit: number }): Promise<{ messages: MessageRow[]; hasMore: boolean }> {
      const { rows } = await db.query<MessageRow>(
        `SELECT * FROM chat_messages WHERE chat_id = $1 AND NOT deleted AND visibility <> 'model' AND ($2::bigint IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3`,
        [chatId, options.beforeId ?? null, options.limit + 1],
      );
      const hasMore = rows.length > options.limit;
      return { messages: rows.slice(0, options.limit).reverse(), hasMore };
    },

    async getMessage(chatId: string, messageId: number): Promise<MessageRow | undefined> {
      const { rows } = await db.query<MessageRow>('SELECT * FROM chat_messages WHERE chat_id = $1 AND id = $2 AND NOT deleted', [chatId, messageId]);
      return rows[0];
    },

    async listQueued(chatId: string): Promise<QueuedRow[]> {
      const { rows } = await db.query<QueuedRow>(`SELECT * FROM chat_queued_messages WHERE chat_id = $1 AND state = 'queued' ORDER BY position, id`, [chatId]);
      return rows;
    },

    /** A queued message in any state (it may have run or been deleted since). */
    async getQueued(chatId: string, queuedId: number): Promise<QueuedRow | undefined> {
      const { rows } = await db.query<QueuedRow>('SELECT * FROM chat_queued_messages WHERE chat_id = $1 AND id = $2', [chatId, queuedId]);
      return rows[0];
    },

    /**
     * The prompt: every model-visible, non-deleted message in commit order, starting from the
     * chat's latest summary (system messages stay). The summary's `chat_summarized` call and
     * result are left out: the call is user-only, so its result would reach the model as an
     * orphan that providers refuse, and the summary message already says the same.
     */
    /**
     * The prompt's messages. `beforeTurn` leaves out rows written for that turn or later (a
     * speculative first step builds the turn's prompt before its user message is written).
     */
    async loadPromptMessages(chatId: string, options: { beforeTurn?: number } = {}): Promise<PromptSourceMessage[]> {
      const { rows } = await db.query<MessageRow>(
        prepared(
          'prompt-messages',
          `SELECT role, content, api_key_id, model_config_id, provider_response_id FROM chat_messages
           WHERE chat_id = $1 AND NOT deleted AND visibility <> 'user' AND NOT (compressed AND role <> 'user')
             AND (role = 'system' OR id >= COALESCE((SELECT max(id) FROM chat_messages WHERE chat_id = $1 AND compressed AND role = 'user' AND NOT deleted), 0))
             AND ($2::int IS NULL OR idempotency_key IS NULL OR idempotency_key !~ '^turn:[0-9]+:' OR split_part(idempotency_key, ':', 2)::int < $2::int)
           ORDER BY id`,
          [chatId, options.beforeTurn ?? null],
        ),
      );
      return rows.map((row) => ({ role: row.role, content: row.content, apiKeyId: row.api_key_id, modelConfigId: row.model_config_id, providerResponseId: row.provider_response_id }));
    },

    /**
     * What a first step waits for, once the send's write commits: the chat's turn, its model and
     * mode, and whether `turn` has its user message (a turn without one never started).
     */
    async getStartedTurn(chatId: string, turn: number): Promise<{ turnCount: number; modelConfigId: string | null; planMode: boolean; userMessageWritten: boolean } | undefined> {
      const { rows } = await db.query<{ turn_count: number; last_model_config_id: string | null; plan_mode: boolean; user_message_written: boolean }>(
        prepared(
          'started-turn',
          `SELECT c.turn_count, c.last_model_config_id, c.plan_mode,
             EXISTS (SELECT 1 FROM chat_messages m WHERE m.chat_id = c.id AND m.idempotency_key = 'turn:' || $2::int || ':user' AND NOT m.deleted) AS user_message_written
           FROM chats c WHERE c.id = $1`,
          [chatId, turn],
        ),
      );
      const row = rows[0];
      return row === undefined ? undefined : { turnCount: row.turn_count, modelConfigId: row.last_model_config_id, planMode: row.plan_mode, userMessageWritten: row.user_message_written };
    },

    async isUsableModelConfig(id: string): Promise<boolean> {
      const { rows } = await db.query('SELECT 1 FROM model_configs WHERE id = $1 AND enabled', [id]);
      return rows.length > 0;
    },

    /** Models users may pick: enabled, on a provider that is not disabled. */
    async listEnabledModels(): Promise<Array<{ id: string; provider: string; model: string; display_name: string; context_limit: number; is_default: boolean }>> {
      const { rows } = await db.query<{ id: string; provider: string; model: string; display_name: string; context_limit: number; is_default: boolean }>(
        `SELECT m.id, m.provider, m.model, m.display_name, m.context_limit, m.is_default FROM model_configs m
         WHERE m.enabled AND NOT EXISTS (SELECT 1 FROM providers p WHERE p.name = m.provider AND NOT p.enabled)
         ORDER BY m.is_default DESC, m.display_name`,
      );
      return rows;
    },

    /** Running chats whose last recorded progress is older than `minutes`. */
    async listStuckChats(minutes: number): Promise<ChatRow[]> {
      const { rows } = await db.query<ChatRow>(
        `SELECT * FROM chats WHERE status IN ('running', 'interrupting') AND last_progress_at < now() - make_interval(mins => $1) ORDER BY last_progress_at`,
        [minutes],
      );
      return rows;
    },
  };
}

export type ChatReads = ReturnType<typeof createChatReads>;
