/** The spend-limit gate every route that starts a turn passes through. */
import { type UsageLedger } from '../db/usage.js';
import { type Logger } from '../logger.js';
import { HttpError } from './http-error.js';

/**
 * Refuses a new turn when the user's spend reached their limit, with 409 and the figures.
 * Fails open: an error while computing spend lets the request through (logged), as in the
 * reference, so an accounting fault never stops chats.
 */
export async function assertWithinSpendLimit(usage: UsageLedger | undefined, userId: string, logger: Logger | undefined): Promise<void> {
  if (usage === undefined) return;
  let status;
  try {
    status = await usage.limitStatus(userId);
  } catch (error) {
    logger?.warn({ err: error }, 'spend limit check failed; allowing the request');
    return;
  }
  if (status !== null && status.spent_micros >= status.limit_micros) {
    throw new HttpError(409, 'Chat usage limit exceeded.', undefined, undefined, { spent_micros: status.spent_micros, limit_micros: status.limit_micros, resets_at: status.resets_at });
  }
}
