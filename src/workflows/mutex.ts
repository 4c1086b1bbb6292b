/**
 * A FIFO mutex for workflow code. Handlers and the turn's state transitions run one at a time
 * under it, so two commands can never interleave at an `await` (e.g. a send racing an
 * auto-promotion). Deterministic: it only chains promises.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
