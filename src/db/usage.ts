/**
 * Spend accounting from the usage stored with each assistant step, and the per-user limits
 * the API checks before starting a turn.
 */
import { randomUUID } from 'node:crypto';
import { periodBounds, UsageLimit, type SetUsageLimitRequest, type UsagePeriod, type UsageTotals } from '../domain/usage.js';
import { type Pool } from './pool.js';

interface LimitRow {
  user_id: string | null;
  limit_micros: number;
  period: UsagePeriod;
  updated_at: Date;
}

const limitFromRow = (row: LimitRow): UsageLimit => UsageLimit.parse({ ...row, updated_at: row.updated_at.toISOString() });

const TOTALS = `coalesce(sum((m.usage->>'input_tokens')::bigint), 0)::bigint AS input_tokens,
  coalesce(sum((m.usage->>'output_tokens')::bigint), 0)::bigint AS output_tokens,
  coalesce(sum((m.usage->>'reasoning_tokens')::bigint), 0)::bigint AS reasoning_tokens,
  coalesce(sum((m.usage->>'cache_read_tokens')::bigint), 0)::bigint AS cache_read_tokens,
  coalesce(sum((m.usage->>'cache_write_tokens')::bigint), 0)::bigint AS cache_write_tokens,
  coalesce(sum((m.usage->>'cost_micros')::bigint), 0)::bigint AS cost_micros,
  count(*)::int AS steps`;

export interface LimitStatus {
  limit_micros: number;
  period: UsagePeriod;
  spent_micros: number;
  resets_at: string;
}

export function createUsageLedger(pool: Pool) {
  const ledger = {
    async listLimits(): Promise<UsageLimit[]> {
      const { rows } = await pool.query<LimitRow>('SELECT user_id, limit_micros, period, updated_at FROM usage_limits ORDER BY user_id NULLS FIRST');
      return rows.map(limitFromRow);
    },

    /** Sets the default limit (`userId` null) or a user's; undefined when the user does not exist. */
    async setLimit(userId: string | null, input: SetUsageLimitRequest): Promise<UsageLimit | undefined> {
      if (userId !== null) {
        const { rows } = await pool.query('SELECT 1 FROM users WHERE id = $1', [userId]);
        if (rows.length === 0) return undefined;
      }
      const conflict = userId === null ? '((user_id IS NULL)) WHERE user_id IS NULL' : '(user_id) WHERE user_id IS NOT NULL';
      const { rows } = await pool.query<LimitRow>(
        `INSERT INTO usage_limits (id, user_id, limit_micros, period) VALUES ($1, $2, $3, $4)
         ON CONFLICT ${conflict} DO UPDATE SET limit_micros = EXCLUDED.limit_micros, period = EXCLUDED.period, updated_at = now()
         RETURNING user_id, limit_micros, period, updated_at`,
        [randomUUID(), userId, input.limit_micros, input.period],
      );
      return limitFromRow(rows[0]!);
    },

    async clearLimit(userId: string | null): Promise<void> {
      await pool.query(userId === null ? 'DELETE FROM usage_limits WHERE user_id IS NULL' : 'DELETE FROM usage_limits WHERE user_id = $1', userId === null ? [] : [userId]);
    },

    async totals(userId: string, from: Date, to: Date): Promise<{ total: UsageTotals; byModel: Array<UsageTotals & { model_config_id: string | null }> }> {
      const { rows } = await pool.query<UsageTotals & { model_config_id: string | null; is_total: number }>(
        `SELECT m.model_config_id, GROUPING(m.model_config_id) AS is_total, ${TOTALS}
         FROM chat_messages m JOIN chats c ON c.id = m.chat_id
         WHERE c.owner_id = $1 AND m.usage IS NOT NULL AND m.created_at >= $2 AND m.created_at < $3
         GROUP BY ROLLUP (m.model_config_id)
         ORDER BY GROUPING(m.model_config_id), m.model_config_id`,
        [userId, from, to],
      );
      // ROLLUP adds the grand total (GROUPING = 1), also for no rows at all.
      const strip = ({ is_total: _isTotal, model_config_id: _model, ...totals }: (typeof rows)[number]): UsageTotals => totals;
      const total = rows.find((row) => row.is_total === 1);
      return {
        total: strip(total!),
        byModel: rows.filter((row) => row.is_total === 0).map((row) => ({ ...strip(row), model_config_id: row.model_config_id })),
      };
    },

    /** Spend per API key the steps were attributed to (a deleted key shows as null). */
    async totalsByKey(userId: string, from: Date, to: Date): Promise<Array<UsageTotals & { api_key_id: string | null; key_prefix: string | null; key_name: string | null }>> {
      const { rows } = await pool.query<UsageTotals & { api_key_id: string | null; key_prefix: string | null; key_name: string | null }>(
        `SELECT m.api_key_id, k.key_prefix, k.name AS key_name, ${TOTALS}
         FROM chat_messages m JOIN chats c ON c.id = m.chat_id LEFT JOIN api_keys k ON k.id = m.api_key_id
         WHERE c.owner_id = $1 AND m.usage IS NOT NULL AND m.created_at >= $2 AND m.created_at < $3
         GROUP BY m.api_key_id, k.key_prefix, k.name ORDER BY cost_micros DESC`,
        [userId, from, to],
      );
      return rows;
    },

    /** The user's limit (their own, else the default) and what they spent this period; null when unlimited. */
    async limitStatus(userId: string, now = new Date()): Promise<LimitStatus | null> {
      const { rows } = await pool.query<LimitRow>('SELECT user_id, limit_micros, period, updated_at FROM usage_limits WHERE user_id = $1 OR user_id IS NULL ORDER BY user_id NULLS LAST LIMIT 1', [userId]);
      const limit = rows[0];
      if (limit === undefined) return null;
      const { start, end } = periodBounds(limit.period, now);
      const { total } = await ledger.totals(userId, start, end);
      return { limit_micros: limit.limit_micros, period: limit.period, spent_micros: total.cost_micros, resets_at: end.toISOString() };
    },
  };
  return ledger;
}

export type UsageLedger = ReturnType<typeof createUsageLedger>;
