/**
 * Turn starts written by this worker process, for the speculative first step of the same send
 * (usually on the same worker: eager activities run where their workflow task ran). The step's
 * gate learns from the write itself that its turn started, as it committed, instead of from a
 * NOTIFY and a read of the chat: the send's first token waits on that gate, and its read would
 * compete with the write for the database. A step that finds no write here (another worker, a
 * retry after a restart) or whose write failed reads the database as before.
 */
import { type StartedTurn } from './turn-start.js';

/** How long a finished write is remembered: far longer than a step takes to reach its gate. */
const REMEMBER_MS = 30_000;

export class LocalTurnStarts {
  private readonly writes = new Map<string, Promise<StartedTurn | undefined>>();

  /** Records the write of `turn`'s user message; `write` resolves with the turn as committed. */
  track(chatId: string, turn: number, write: Promise<StartedTurn>): void {
    const key = `${chatId}:${turn}`;
    const outcome = write.then(
      (started): StartedTurn | undefined => started,
      (): StartedTurn | undefined => undefined,
    );
    this.writes.set(key, outcome);
    void outcome.then(() => {
      const timer = setTimeout(() => {
        if (this.writes.get(key) === outcome) this.writes.delete(key);
      }, REMEMBER_MS);
      timer.unref();
    });
  }

  /** The turn as this process's write committed it; undefined when no write here succeeded. */
  find(chatId: string, turn: number): Promise<StartedTurn | undefined> | undefined {
    return this.writes.get(`${chatId}:${turn}`);
  }

  /** Writes remembered (in progress or finished within REMEMBER_MS). */
  get size(): number {
    return this.writes.size;
  }
}
