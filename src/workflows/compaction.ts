/**
 * Context compaction as the chat workflow runs it. Sandbox-pure.
 *
 * - After a step whose context reached the threshold (`compactionDue` from `llmStep`), the turn
 *   runs `compactChat`. A compaction never fails the turn: a failed one is simply not there.
 * - On request (the `compact` Update), the same activity runs with source `manual`, and its
 *   refusals (nothing to compact, failed) go back to the API.
 *
 * Compaction after a step is new in recorded histories, hence the patch; it is asked only when
 * a step reports `compactionDue`, which no step recorded before the change did.
 */
import { isCancellation, patched, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { ChatActivities } from '../activities/index.js';
import { type LlmStepResult } from '../activities/activity-types.js';
import { CHAT_COMMAND_ERRORS } from '../domain/chat-command-error.js';
import { type CompactionResult } from '../domain/compaction.js';
import { refuse } from './chat-state.js';

export const COMPACTION_PATCH = 'compaction';

/** One summarising model call (90 s) and its write; retried like the side calls. */
const compaction = proxyActivities<ChatActivities>({
  startToCloseTimeout: '3 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 2, nonRetryableErrorTypes: Object.keys(CHAT_COMMAND_ERRORS) },
});

/** Summarises the chat when the step says it is due; true when a summary was stored. */
export async function compactIfDue(chatId: string, turn: number, step: LlmStepResult): Promise<boolean> {
  if (step.compactionDue !== true || !patched(COMPACTION_PATCH)) return false;
  try {
    const outcome = await compaction.compactChat({ chatId, turn, compactionId: uuid4(), source: 'automatic' });
    return outcome.compacted;
  } catch (error) {
    // An interrupt still stops the turn; anything else leaves the chat unsummarised.
    if (isCancellation(error)) throw error;
    return false;
  }
}

/** The owner's `POST /compact`: summarises whatever the threshold says; `apiKeyId` pays. */
export async function compactOnRequest(chatId: string, turn: number, apiKeyId: string | null): Promise<CompactionResult> {
  const outcome = await compaction.compactChat({ chatId, turn, compactionId: uuid4(), source: 'manual', apiKeyId });
  if (outcome.result === undefined) refuse('CompactionFailed');
  return outcome.result;
}
