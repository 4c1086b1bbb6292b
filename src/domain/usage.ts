/**
 * Usage and spend limits. Spend is the sum of `cost_micros` over a user's assistant steps;
 * an optional limit per period (UTC day, week from Monday, or month) blocks new turns once
 * reached.
 */
import { z } from 'zod';
import { Usage } from './chat.js';

export const UsagePeriod = z.enum(['day', 'week', 'month']);
export type UsagePeriod = z.infer<typeof UsagePeriod>;

export const UsageLimit = z.object({
  user_id: z.uuid().nullable(),
  limit_micros: z.number().int(),
  period: UsagePeriod,
  updated_at: z.string(),
});
export type UsageLimit = z.infer<typeof UsageLimit>;

export const SetUsageLimitRequest = z.strictObject({
  limit_micros: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  period: UsagePeriod,
});
export type SetUsageLimitRequest = z.infer<typeof SetUsageLimitRequest>;

export const UsageQuery = z.object({
  from: z.iso.datetime({ offset: true, error: 'from must be an ISO 8601 date-time.' }).optional(),
  to: z.iso.datetime({ offset: true, error: 'to must be an ISO 8601 date-time.' }).optional(),
});

/** A step's usage summed over many steps, with how many there were. */
export const UsageTotals = Usage.extend({ steps: z.number().int() });
export type UsageTotals = z.infer<typeof UsageTotals>;

export const UsageReport = z.object({
  from: z.string(),
  to: z.string(),
  total: UsageTotals,
  by_model: z.array(UsageTotals.extend({ model_config_id: z.uuid().nullable() })),
  /** Per API key the model calls were made for; `key_prefix` identifies the key without revealing it. */
  by_api_key: z.array(UsageTotals.extend({ api_key_id: z.uuid().nullable(), key_prefix: z.string().nullable(), key_name: z.string().nullable() })),
  limit: z.object({ limit_micros: z.number().int(), period: UsagePeriod, spent_micros: z.number().int(), resets_at: z.string() }).nullable(),
});
export type UsageReport = z.infer<typeof UsageReport>;

/** The start of the period containing `at`, and the start of the next one (UTC). */
export function periodBounds(period: UsagePeriod, at: Date): { start: Date; end: Date } {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  const day = at.getUTCDate();
  switch (period) {
    case 'day':
      return { start: new Date(Date.UTC(year, month, day)), end: new Date(Date.UTC(year, month, day + 1)) };
    case 'week': {
      const sinceMonday = (at.getUTCDay() + 6) % 7;
      return { start: new Date(Date.UTC(year, month, day - sinceMonday)), end: new Date(Date.UTC(year, month, day - sinceMonday + 7)) };
    }
    case 'month':
      return { start: new Date(Date.UTC(year, month, 1)), end: new Date(Date.UTC(year, month + 1, 1)) };
    default: {
      const unknown: never = period;
      throw new Error(`unknown period ${String(unknown)}`);
    }
  }
}
