/**
 * Context compaction rules: when a step's context has grown close enough to the model's limit
 * that the conversation is summarised, and what the stored summary looks like. Pure and
 * workflow-safe: the `llmStep` activity asks `compactionCheck` after every step, the
 * compaction activity builds its messages from the constants here.
 */
import { z } from 'zod';
import { type Usage } from './chat.js';

/** The threshold when neither the user nor the model config sets a valid one (percent of the context limit). */
export const DEFAULT_COMPACTION_THRESHOLD_PERCENT = 70;
/** A threshold of 100 % never compacts: a context can only reach its limit by failing. */
export const COMPACTION_DISABLED_PERCENT = 100;
/** Summaries after a turn's final step that let the turn go on, per turn. */
export const MAX_COMPACTIONS_PER_TURN = 3;
/** How long the summarising model call may take. */
export const COMPACTION_TIMEOUT_MS = 90_000;
export const COMPACTION_MAX_OUTPUT_TOKENS = 4_096;

/** The tool name under which users see a compaction in the transcript. */
export const CHAT_SUMMARIZED_TOOL = 'chat_summarized';

/** Starts the model-only message that replaces everything before it in later prompts. */
export const SUMMARY_PREFIX =
  'The following is a summary of the earlier conversation. The messages it replaces are no longer shown to you; continue from it as if they were.\n\n';

export const COMPACTION_PROMPT = [
  'You summarise a conversation between a user and an AI agent so the agent can continue the work without the original messages.',
  'Keep: the user’s goals and constraints, decisions made, facts learned, names of files, commands, tools and identifiers, the results of tool calls that still matter, and what remains to be done.',
  'Drop: pleasantries, repetition, and tool output that no longer matters.',
  'Write plain prose and short lists, in the language of the conversation. Do not address the user and do not call tools.',
].join('\n');

export const CompactionSource = z.enum(['automatic', 'manual']);
export type CompactionSource = z.infer<typeof CompactionSource>;

/** A threshold as users and admins set it: a whole percentage, 1–100 (100 disables). */
export const ThresholdPercent = z.number().int().min(1).max(100);

export const SetCompactionThresholdRequest = z.strictObject({
  model_config_id: z.uuid(),
  /** Null removes the override: the model config's threshold applies again. */
  threshold_percent: ThresholdPercent.nullable(),
});
export type SetCompactionThresholdRequest = z.infer<typeof SetCompactionThresholdRequest>;

/** What the `chat_summarized` tool result holds (also the body `POST /compact` answers). */
export const CompactionResult = z.object({
  summary: z.string(),
  source: CompactionSource,
  threshold_percent: z.number().int(),
  /** The latest step's context tokens as a percentage of the limit. */
  usage_percent: z.number(),
  context_tokens: z.number().int(),
  context_limit_tokens: z.number().int(),
});
export type CompactionResult = z.infer<typeof CompactionResult>;

export const CompactionThresholdList = z.object({ thresholds: z.array(z.object({ model_config_id: z.uuid(), threshold_percent: ThresholdPercent })) });

/** A stored or configured threshold; anything that is not a whole 1–100 becomes the default. */
export function normalizeThresholdPercent(value: unknown): number {
  const parsed = ThresholdPercent.safeParse(value);
  return parsed.success ? parsed.data : DEFAULT_COMPACTION_THRESHOLD_PERCENT;
}

/** The user's override wins over the model config's threshold; each is normalised. */
export function effectiveThresholdPercent(modelThreshold: unknown, userThreshold: unknown): number {
  return normalizeThresholdPercent(userThreshold ?? modelThreshold);
}

/**
 * The tokens a step's prompt occupied. The AI SDK's input count already includes cache reads
 * and writes (chatd prices the uncached rest as input minus both, see `costMicros`), so adding
 * them again would count them twice; the cache counts are the floor for a provider that reports
 * them outside its input. A step that reported no input falls back to its total.
 */
export function contextTokens(usage: Pick<Usage, 'input_tokens' | 'output_tokens' | 'cache_read_tokens' | 'cache_write_tokens'>): number {
  const input = Math.max(usage.input_tokens, usage.cache_read_tokens + usage.cache_write_tokens);
  return input > 0 ? input : usage.input_tokens + usage.output_tokens;
}

export interface CompactionCheck {
  due: boolean;
  contextTokens: number;
  contextLimitTokens: number;
  /** Context tokens as a percentage of the limit, rounded to two decimals. */
  usagePercent: number;
  thresholdPercent: number;
}

/**
 * Whether a step's usage calls for a summary: its context tokens reach `thresholdPercent` of
 * the model's context limit. Never at 100 %, without usage, or without a positive limit.
 */
export function compactionCheck(usage: Usage | null | undefined, contextLimitTokens: number | null | undefined, thresholdPercent: unknown): CompactionCheck {
  const threshold = normalizeThresholdPercent(thresholdPercent);
  const limit = typeof contextLimitTokens === 'number' && contextLimitTokens > 0 ? contextLimitTokens : 0;
  const tokens = usage === null || usage === undefined ? 0 : contextTokens(usage);
  const usagePercent = limit === 0 ? 0 : Math.round((tokens / limit) * 10_000) / 100;
  const due = threshold < COMPACTION_DISABLED_PERCENT && limit > 0 && tokens > 0 && (tokens / limit) * 100 >= threshold;
  return { due, contextTokens: tokens, contextLimitTokens: limit, usagePercent, thresholdPercent: threshold };
}
