/**
 * The writes and reads behind context compaction. A compaction is stored as three messages in
 * one transaction, all marked `compressed`:
 * 1. `user`, visibility `model`: the summary prefix and the summary; later prompts start here;
 * 2. `assistant`, visibility `user`: a `chat_summarized` tool call, so users see where it happened;
 * 3. `tool`, visibility `both`: its result (summary, source, threshold and usage figures).
 * Only the last two are published as `message` events. Keys derive from the turn and the
 * compaction id the workflow chose, so an activity retry finds its rows instead of writing
 * twice, and the write is fenced by the turn like every other turn-scoped write.
 */
import { ChatMessagePart, type Usage } from '../domain/chat.js';
import { CHAT_SUMMARIZED_TOOL, SUMMARY_PREFIX, type CompactionResult } from '../domain/compaction.js';
import { appendChatEvents } from './chat-events.js';
import { chatMessageFromRow, type MessageRow } from './chat-rows.js';
import { type Pool, type PoolClient, withTransaction } from './pool.js';

/** The latest summary message's id, or 0: the prompt starts there. */
const LATEST_SUMMARY = `COALESCE((SELECT max(id) FROM chat_messages WHERE chat_id = $1 AND compressed AND role = 'user' AND NOT deleted), 0)`;

export interface CompactionState {
  /** Model-visible messages (besides system prompts) since the latest summary. */
  messagesSinceSummary: number;
  /** The usage of the chat's latest model step, whose context the threshold is measured on. */
  lastStepUsage: Usage | null;
  /** The latest message the user wrote (not a summary), for the built-in script model. */
  lastUserText: string;
}

export interface StoreCompactionInput {
  chatId: string;
  turn: number;
  compactionId: string;
  result: CompactionResult;
  /** The turn's API key: the summary stands for the turn's user message in later prompts. */
  apiKeyId: string | null;
}

function compactionKey(turn: number, compactionId: string, row: 'summary' | 'call' | 'result'): string {
  return `turn:${turn}:compaction:${compactionId}:${row}`;
}

/** The tool call id users see for a compaction. */
export function summarizedToolCallId(compactionId: string): string {
  return `chat_summarized_${compactionId}`;
}

async function insertCompressed(client: PoolClient, chatId: string, row: { role: string; visibility: string; content: ChatMessagePart[]; key: string; apiKeyId: string | null }): Promise<MessageRow> {
  const { rows } = await client.query<MessageRow>(
    `INSERT INTO chat_messages (chat_id, role, content, idempotency_key, visibility, api_key_id, compressed)
     VALUES ($1, $2, $3, $4, $5, $6, true) RETURNING *`,
    [chatId, row.role, JSON.stringify(row.content), row.key, row.visibility, row.apiKeyId],
  );
  return rows[0]!;
}

export function createChatCompactions(pool: Pool) {
  return {
    async compactionState(chatId: string): Promise<CompactionState> {
      const { rows } = await pool.query<{ pending: number; usage: Usage | null; user_content: unknown }>(
        `SELECT
           (SELECT count(*) FROM chat_messages WHERE chat_id = $1 AND NOT deleted AND NOT compressed AND role <> 'system' AND visibility <> 'user' AND id > ${LATEST_SUMMARY})::int AS pending,
           (SELECT usage FROM chat_messages WHERE chat_id = $1 AND role = 'assistant' AND NOT deleted AND NOT compressed AND usage IS NOT NULL ORDER BY id DESC LIMIT 1) AS usage,
           (SELECT content FROM chat_messages WHERE chat_id = $1 AND role = 'user' AND NOT deleted AND NOT compressed ORDER BY id DESC LIMIT 1) AS user_content`,
        [chatId],
      );
      const row = rows[0]!;
      const parts = ChatMessagePart.array().safeParse(row.user_content);
      const lastUserText = parts.success ? parts.data.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('') : '';
      return { messagesSinceSummary: row.pending, lastStepUsage: row.usage, lastUserText };
    },

    /** The result of a compaction already stored under this id (an earlier attempt finished it). */
    async findCompaction(chatId: string, turn: number, compactionId: string): Promise<CompactionResult | undefined> {
      const { rows } = await pool.query<{ content: ChatMessagePart[] }>('SELECT content FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $2', [
        chatId,
        compactionKey(turn, compactionId, 'result'),
      ]);
      const part = rows[0]?.content[0];
      return part?.type === 'tool-result' ? (part.result as unknown as CompactionResult) : undefined;
    },

    /** Stores the three compaction messages once; false when the turn was superseded. */
    async storeCompaction(input: StoreCompactionInput): Promise<boolean> {
      return withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ turn_count: number }>('SELECT turn_count FROM chats WHERE id = $1 FOR UPDATE', [input.chatId]);
        if (rows[0] === undefined || rows[0].turn_count !== input.turn) return false;
        const existing = await client.query('SELECT 1 FROM chat_messages WHERE chat_id = $1 AND idempotency_key = $2', [input.chatId, compactionKey(input.turn, input.compactionId, 'summary')]);
        if (existing.rows.length > 0) return true;
        const toolCallId = summarizedToolCallId(input.compactionId);
        const { result } = input;
        await insertCompressed(client, input.chatId, {
          role: 'user',
          visibility: 'model',
          content: [{ type: 'text', text: `${SUMMARY_PREFIX}${result.summary}` }],
          key: compactionKey(input.turn, input.compactionId, 'summary'),
          apiKeyId: input.apiKeyId,
        });
        const call = await insertCompressed(client, input.chatId, {
          role: 'assistant',
          visibility: 'user',
          content: [{ type: 'tool-call', tool_call_id: toolCallId, tool_name: CHAT_SUMMARIZED_TOOL, args: { source: result.source, threshold_percent: result.threshold_percent } }],
          key: compactionKey(input.turn, input.compactionId, 'call'),
          apiKeyId: null,
        });
        const answer = await insertCompressed(client, input.chatId, {
          role: 'tool',
          visibility: 'both',
          content: [{ type: 'tool-result', tool_call_id: toolCallId, tool_name: CHAT_SUMMARIZED_TOOL, result: { ...result }, is_error: false }],
          key: compactionKey(input.turn, input.compactionId, 'result'),
          apiKeyId: null,
        });
        await client.query('UPDATE chats SET last_progress_at = now() WHERE id = $1', [input.chatId]);
        await appendChatEvents(client, input.chatId, [call, answer].map((row) => ({ type: 'message', payload: { message: chatMessageFromRow(row) } })));
        return true;
      });
    },

    /** The owner's compaction thresholds, per model config. */
    async listUserThresholds(userId: string): Promise<Array<{ model_config_id: string; threshold_percent: number }>> {
      const { rows } = await pool.query<{ model_config_id: string; threshold_percent: number }>(
        'SELECT model_config_id, threshold_percent FROM user_compaction_thresholds WHERE user_id = $1 ORDER BY model_config_id',
        [userId],
      );
      return rows;
    },

    /** Sets (or with null, removes) the user's threshold for a model config. */
    async setUserThreshold(userId: string, modelConfigId: string, thresholdPercent: number | null): Promise<void> {
      if (thresholdPercent === null) {
        await pool.query('DELETE FROM user_compaction_thresholds WHERE user_id = $1 AND model_config_id = $2', [userId, modelConfigId]);
        return;
      }
      await pool.query(
        `INSERT INTO user_compaction_thresholds (user_id, model_config_id, threshold_percent) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, model_config_id) DO UPDATE SET threshold_percent = EXCLUDED.threshold_percent, updated_at = now()`,
        [userId, modelConfigId, thresholdPercent],
      );
    },
  };
}

export type ChatCompactions = ReturnType<typeof createChatCompactions>;
