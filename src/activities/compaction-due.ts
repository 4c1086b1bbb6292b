/**
 * Adds the compaction decision to a model step's result, so the workflow learns from the step
 * itself whether to summarise (no extra activity round trip when it is not due).
 */
import { Usage } from '../domain/chat.js';
import { compactionCheck } from '../domain/compaction.js';
import { type LlmStepResult } from './activity-types.js';

/** The `llmStep` result with `compactionDue` set only when due (histories stay as they were otherwise). */
export function withCompactionDue(
  result: LlmStepResult,
  usage: unknown,
  chat: { modelConfig?: { context_limit: number } | undefined; compactionThresholdPercent: number },
): LlmStepResult {
  const parsed = Usage.safeParse(usage);
  const check = compactionCheck(parsed.success ? parsed.data : null, chat.modelConfig?.context_limit, chat.compactionThresholdPercent);
  return check.due ? { ...result, compactionDue: true } : result;
}
