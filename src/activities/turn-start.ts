/**
 * The first step of a turn started by a send to an idle chat runs while the send's user message
 * is still being written (the workflow schedules both at once). Two ways to wait for it:
 *
 * - `untilTurnStarts`: wait, then read. Used for retries and for messages too large to carry.
 * - Speculation: the step gets the message in its input, builds the prompt from the history
 *   before the turn plus that message (the same prompt the written turn gives), and calls the
 *   model at once. Only its output waits: parts are held back until the turn has started, so
 *   subscribers never see a reply before the message it answers, and the step is written only
 *   after the message (the write is fenced by turn anyway). If the written turn differs from
 *   what the step assumed (another model, another plan mode), the attempt fails and its retry
 *   reads the written turn.
 */
import { ApplicationFailure } from '@temporalio/common';
import { type ChatMessagePart } from '../domain/chat.js';
import { type PartPublisher, type MessagePartEvent } from './part-publisher.js';

const TURN_START_POLL_MS = 2;
/** With a waker, a re-check anyway this often (a NOTIFY can be missed while it reconnects). */
const TURN_START_RECHECK_MS = 25;
const TURN_START_BUDGET_MS = 30_000;

/** What a send's first step knows of the message that starts its turn. */
export interface TurnStart {
  content: ChatMessagePart[];
  /** The model the send asked for; null means the chat's last model (else the default). */
  modelConfigId: string | null;
  apiKeyId: string | null;
  planMode?: boolean;
}

/** `nextChange` for `untilTurnStarts` from a chat event waker: the chat's next NOTIFY, or a re-check. */
export function nextChatEvent(waker: { next(chatId: string, maxWaitMs: number): Promise<void> }, chatId: string): () => Promise<void> {
  return () => waker.next(chatId, TURN_START_RECHECK_MS);
}

export interface StartedTurn {
  turnCount: number;
  modelConfigId: string | null;
  planMode: boolean;
  /** Whether the step's turn has its user message: turn numbers are never reused, so it is this send's. */
  userMessageWritten: boolean;
}

/** The step's turn was superseded (an edit or promotion) before it started: nothing may be written. */
export class TurnSupersededError extends Error {
  override readonly name = 'TurnSupersededError';
}

/**
 * Waits until the chat has reached `turn` (the message and the turn's model are in place). A
 * send whose store was refused cancels the step, which `signal` hears; a store slower than the
 * budget fails the attempt, and the retry waits again.
 */
export async function untilTurnStarts(
  turn: number,
  readTurn: () => Promise<StartedTurn | undefined>,
  heartbeat: () => void,
  signal: AbortSignal,
  /** Resolves when the chat may have changed (its next event); asked before each read. Default: a short poll. */
  nextChange: () => Promise<void> = () => new Promise((resolve) => setTimeout(resolve, TURN_START_POLL_MS)),
): Promise<StartedTurn | undefined> {
  const deadline = Date.now() + TURN_START_BUDGET_MS;
  for (;;) {
    const change = nextChange();
    const chat = await readTurn();
    if (chat === undefined || chat.turnCount >= turn) return chat;
    if (Date.now() > deadline) throw ApplicationFailure.retryable(`turn ${turn} has not started after ${TURN_START_BUDGET_MS} ms`, 'TurnNotStarted');
    heartbeat();
    // Cancelled: the send that started this turn was refused, and the turn rolled back.
    if (signal.aborted) throw signal.reason;
    await change;
  }
}

/**
 * Checks the started turn against what a speculative step assumed. Resolves when they agree;
 * rejects with `TurnSupersededError` when the chat moved past the turn, and with a retryable
 * failure when the written turn differs.
 */
export function confirmSpeculation(started: StartedTurn | undefined, turn: number, assumed: { modelConfigId: string; planMode: boolean }): void {
  if (started === undefined || started.turnCount > turn || !started.userMessageWritten) throw new TurnSupersededError(`turn ${turn} was superseded or refused before it started`);
  if (started.modelConfigId !== assumed.modelConfigId || started.planMode !== assumed.planMode) {
    throw ApplicationFailure.create({ type: 'TurnStartChanged', message: `turn ${turn} started with another model or mode than its first step assumed`, nextRetryDelay: 0 });
  }
}

/**
 * Holds parts back until the gate opens, then passes them on in order; drops them if it fails.
 * The gate is only asked for once there is something to show (the first part, or a flush): the
 * send's write is left to run alone while the model is still being set up.
 */
export function gatedPublisher(inner: PartPublisher, openGate: () => Promise<unknown>): PartPublisher {
  let open = false;
  let closed = false;
  let gate: Promise<unknown> | undefined;
  const held: MessagePartEvent[] = [];
  const ask = (): Promise<unknown> => {
    gate ??= openGate().then(
      () => {
        open = true;
        for (const event of held.splice(0)) inner.publish(event);
      },
      (reason: unknown) => {
        closed = true;
        held.length = 0;
        throw reason;
      },
    );
    return gate;
  };
  return {
    publish(event) {
      if (open) inner.publish(event);
      else if (!closed) {
        held.push(event);
        ask().catch(() => undefined);
      }
    },
    async flush() {
      await ask();
      await inner.flush();
    },
  };
}
