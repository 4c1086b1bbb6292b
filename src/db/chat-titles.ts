/**
 * The writes and reads behind generated titles and turn summaries. Unlike the chat store these
 * are not chat state in the workflow's sense (status, queue, messages): a title or a label is
 * written by compare-and-set, so a side activity racing the owner (a rename) or a newer turn
 * (its own label) can never overwrite what came later.
 *
 * - `writeGeneratedTitle` changes the title only while it is still the one the generation
 *   started from, appending `title_change` to the chat's events and the watch feed in the same
 *   transaction.
 * - `writeTurnSummary` stores a label with the turn it describes and never replaces a newer
 *   turn's (or the same turn's final label with an earlier one); it leaves `updated_at` alone.
 * - Usage of these calls is stored like a model step's, as a soft-deleted assistant message
 *   keyed per purpose, so spend and per-key totals include it and no transcript shows it.
 */
import { type ChatMessagePart, type Usage } from '../domain/chat.js';
import { type ModelConfigRecord } from '../llm/model-registry.js';
import { appendChatEvents } from './chat-events.js';
import { type Pool, type Queryable, withTransaction } from './pool.js';
import { appendWatchEvent } from './watch-events.js';

const TITLE_MODEL_SETTING = 'title_model_config_id';

/** A model config with its provider row and the owner's own key, as `resolveModel` takes it. */
const MODEL_RECORD = `json_build_object('id', m.id, 'provider', m.provider, 'model', m.model, 'display_name', m.display_name,
  'context_limit', m.context_limit, 'max_output_tokens', m.max_output_tokens, 'prices', m.prices, 'provider_options', m.provider_options, 'provider_tools', m.provider_tools,
  'endpoint', CASE WHEN p.id IS NULL THEN NULL ELSE json_build_object('name', p.name, 'kind', p.kind, 'base_url', p.base_url,
    'api_key_ciphertext', p.api_key_ciphertext, 'enabled', p.enabled, 'allow_user_api_key', p.allow_user_api_key,
    'allow_central_api_key_fallback', p.allow_central_api_key_fallback, 'user_api_key_ciphertext', k.api_key_ciphertext) END)`;

export interface TitleSource {
  ownerId: string;
  title: string;
  /** The chat's model (what it ran last). */
  modelConfigId: string | null;
  /** The first visible user message's text, and the key it was sent with. */
  firstUserText: string | null;
  firstUserApiKeyId: string | null;
  userMessages: number;
  /** Assistant and tool messages, except those of the turn the title is generated for. */
  assistantMessages: number;
}

export interface ConversationMessage {
  role: 'user' | 'assistant';
  content: ChatMessagePart[];
}

export function createChatTitles(pool: Pool) {
  const titles = {
    /** The admin-pinned model for titles and turn labels, or null (each chat's own model). */
    async getTitleModelConfigId(db: Queryable = pool): Promise<string | null> {
      const { rows } = await db.query<{ value: unknown }>('SELECT value FROM chatd_settings WHERE key = $1', [TITLE_MODEL_SETTING]);
      const value = rows[0]?.value;
      return typeof value === 'string' ? value : null;
    },

    async setTitleModelConfigId(modelConfigId: string | null): Promise<void> {
      if (modelConfigId === null) {
        await pool.query('DELETE FROM chatd_settings WHERE key = $1', [TITLE_MODEL_SETTING]);
        return;
      }
      await pool.query(
        `INSERT INTO chatd_settings (key, value) VALUES ($1, to_jsonb($2::text))
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [TITLE_MODEL_SETTING, modelConfigId],
      );
    },

    /** An enabled model config as a model call needs it, with `ownerId`'s own provider key. */
    async getModelRecord(modelConfigId: string, ownerId: string): Promise<ModelConfigRecord | undefined> {
      const { rows } = await pool.query<{ model: ModelConfigRecord }>(
        `SELECT ${MODEL_RECORD} AS model FROM model_configs m LEFT JOIN providers p ON p.name = m.provider
           LEFT JOIN user_provider_keys k ON k.provider_id = p.id AND k.user_id = $2
         WHERE m.id = $1 AND m.enabled`,
        [modelConfigId, ownerId],
      );
      return rows[0]?.model;
    },

    /** What the title rules look at: the title, the first user message and the message counts. */
    async getTitleSource(chatId: string, turn: number): Promise<TitleSource | undefined> {
      const { rows } = await pool.query<{
        owner_id: string;
        title: string;
        last_model_config_id: string | null;
        first_content: ChatMessagePart[] | null;
        first_api_key_id: string | null;
        users: number;
        assistants: number;
      }>(
        `SELECT c.owner_id, c.title, c.last_model_config_id,
           (SELECT content FROM chat_messages WHERE chat_id = c.id AND role = 'user' AND NOT deleted ORDER BY id LIMIT 1) AS first_content,
           (SELECT api_key_id FROM chat_messages WHERE chat_id = c.id AND role = 'user' AND NOT deleted ORDER BY id LIMIT 1) AS first_api_key_id,
           (SELECT count(*) FROM chat_messages WHERE chat_id = c.id AND role = 'user' AND NOT deleted AND NOT compressed)::int AS users,
           (SELECT count(*) FROM chat_messages WHERE chat_id = c.id AND role IN ('assistant', 'tool') AND NOT deleted
              AND idempotency_key NOT LIKE 'turn:' || $2::int || ':%')::int AS assistants
         FROM chats c WHERE c.id = $1`,
        [chatId, turn],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      const firstUserText = row.first_content === null ? null : row.first_content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join(' ').trim();
      return {
        ownerId: row.owner_id,
        title: row.title,
        modelConfigId: row.last_model_config_id,
        firstUserText,
        firstUserApiKeyId: row.first_api_key_id,
        userMessages: row.users,
        assistantMessages: row.assistants,
      };
    },

    /** The first user message and the last `window` user and assistant messages, in order. */
    async loadConversation(chatId: string, window: number): Promise<ConversationMessage[]> {
      const { rows } = await pool.query<ConversationMessage & { id: number }>(
        `(SELECT id, role, content FROM chat_messages WHERE chat_id = $1 AND role = 'user' AND NOT deleted ORDER BY id LIMIT 1)
         UNION
         (SELECT id, role, content FROM chat_messages WHERE chat_id = $1 AND role IN ('user', 'assistant') AND NOT deleted AND visibility <> 'model' ORDER BY id DESC LIMIT $2)
         ORDER BY id`,
        [chatId, window],
      );
      return rows.map(({ role, content }) => ({ role, content }));
    },

    /** The API key that started `turn` (its user message's), which its model calls are charged to. */
    async turnApiKeyId(chatId: string, turn: number): Promise<string | null> {
      const { rows } = await pool.query<{ api_key_id: string | null }>('SELECT api_key_id FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $2 AND NOT deleted', [
        chatId,
        `turn:${turn}:user`,
      ]);
      return rows[0]?.api_key_id ?? null;
    },

    /** The text of the agent's last step in `turn`, or ''. */
    async latestAssistantText(chatId: string, turn: number): Promise<string> {
      const { rows } = await pool.query<{ content: ChatMessagePart[] }>(
        `SELECT content FROM chat_messages WHERE chat_id = $1 AND role = 'assistant' AND NOT deleted AND idempotency_key LIKE $2 ORDER BY id DESC LIMIT 1`,
        [chatId, `turn:${turn}:step:%`],
      );
      return (rows[0]?.content ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('').trim();
    },

    /**
     * Sets a generated title if the chat still has `expected` (null: whatever it has), with
     * `title_change` on the chat's events and the watch feed. Returns whether it was written.
     */
    async writeGeneratedTitle(input: { chatId: string; title: string; expected: string | null }): Promise<boolean> {
      return withTransaction(pool, async (client) => {
        const { rowCount } = await client.query(
          `UPDATE chats SET title = $2, updated_at = now() WHERE id = $1 AND ($3::text IS NULL OR title = $3) AND title <> $2`,
          [input.chatId, input.title, input.expected],
        );
        if (rowCount !== 1) return false;
        await appendChatEvents(client, input.chatId, [{ type: 'title_change', payload: { title: input.title } }]);
        await appendWatchEvent(client, input.chatId, 'title_change');
        return true;
      });
    },

    /**
     * Stores the label of `turn` unless a newer turn's label (or this turn's final one, when
     * this is not final) is already there. `updated_at` is left alone: a label is not activity.
     */
    async writeTurnSummary(input: { chatId: string; turn: number; final: boolean; label: string }): Promise<boolean> {
      return withTransaction(pool, async (client) => {
        const label = input.label.trim() === '' ? null : input.label.trim();
        const { rowCount } = await client.query(
          `UPDATE chats SET last_turn_summary = $2, last_turn_summary_turn = $3, last_turn_summary_final = $4
           WHERE id = $1 AND (last_turn_summary_turn IS NULL OR last_turn_summary_turn < $3 OR (last_turn_summary_turn = $3 AND $4 AND NOT last_turn_summary_final))`,
          [input.chatId, label, input.turn, input.final],
        );
        if (rowCount !== 1) return false;
        await appendWatchEvent(client, input.chatId, 'summary_change');
        return true;
      });
    },

    /** Records a side call's usage (title, label) once per `key`, attributed to `apiKeyId`. */
    async recordSideUsage(input: { chatId: string; key: string; modelConfigId: string; usage: Usage; apiKeyId: string; text: string }): Promise<void> {
      await pool.query(
        `INSERT INTO chat_messages (chat_id, role, content, model_config_id, idempotency_key, visibility, usage, api_key_id, deleted)
         VALUES ($1, 'assistant', $2, $3, $4, 'model', $5, $6, true)
         ON CONFLICT (chat_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
        [input.chatId, JSON.stringify([{ type: 'text', text: input.text }]), input.modelConfigId, input.key, JSON.stringify(input.usage), input.apiKeyId],
      );
    },

    /** Takes the chat's regeneration lock (a lock older than a minute is stale and taken over). */
    async acquireTitleLock(chatId: string): Promise<boolean> {
      const { rows } = await pool.query(
        `INSERT INTO chat_title_locks (chat_id) VALUES ($1)
         ON CONFLICT (chat_id) DO UPDATE SET locked_at = now() WHERE chat_title_locks.locked_at < now() - interval '1 minute'
         RETURNING chat_id`,
        [chatId],
      );
      return rows.length === 1;
    },

    async releaseTitleLock(chatId: string): Promise<void> {
      await pool.query('DELETE FROM chat_title_locks WHERE chat_id = $1', [chatId]);
    },
  };
  return titles;
}

export type ChatTitles = ReturnType<typeof createChatTitles>;
