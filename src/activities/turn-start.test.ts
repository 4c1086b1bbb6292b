import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { type MessagePartEvent, type PartPublisher } from './part-publisher.js';
import { confirmSpeculation, gatedPublisher, TurnSupersededError, untilTurnStarts } from './turn-start.js';

/** A publisher that records what reaches it. */
function recordingPublisher(): PartPublisher & { published: string[]; flushes: number } {
  const recorder = {
    published: [] as string[],
    flushes: 0,
    publish(event: MessagePartEvent) {
      recorder.published.push(String(event.part.text));
    },
    async flush() {
      recorder.flushes++;
    },
  };
  return recorder;
}

const part = (text: string): MessagePartEvent => ({ role: 'assistant', part: { type: 'text', text } });

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (reason: unknown) => void } {
  let resolve!: () => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe('a gated publisher', () => {
  it('asks for the gate only once there is a part, then passes held parts on in order before new ones', async () => {
    const inner = recordingPublisher();
    const gate = deferred();
    let asked = 0;
    const publisher = gatedPublisher(inner, () => {
      asked++;
      return gate.promise;
    });
    expect(asked).toBe(0);
    publisher.publish(part('a'));
    publisher.publish(part('b'));
    expect(asked).toBe(1);
    expect(inner.published).toEqual([]);
    gate.resolve();
    await publisher.flush();
    publisher.publish(part('c'));
    expect(inner.published).toEqual(['a', 'b', 'c']);
    expect(asked).toBe(1);
  });

  it('drops held parts and fails its flush when the gate fails', async () => {
    const inner = recordingPublisher();
    const publisher = gatedPublisher(inner, () => Promise.reject(new TurnSupersededError('superseded')));
    publisher.publish(part('never shown'));
    await expect(publisher.flush()).rejects.toBeInstanceOf(TurnSupersededError);
    publisher.publish(part('nor this'));
    expect(inner.published).toEqual([]);
    expect(inner.flushes).toBe(0);
  });
});

describe('confirming a speculative first step', () => {
  const assumed = { modelConfigId: 'model-a', planMode: false };

  it('accepts the turn it assumed', () => {
    expect(() => confirmSpeculation({ turnCount: 3, modelConfigId: 'model-a', planMode: false, userMessageWritten: true }, 3, assumed)).not.toThrow();
  });

  it('reports a turn the chat moved past, or a chat that is gone, as superseded', () => {
    expect(() => confirmSpeculation({ turnCount: 4, modelConfigId: 'model-a', planMode: false, userMessageWritten: true }, 3, assumed)).toThrow(TurnSupersededError);
    expect(() => confirmSpeculation(undefined, 3, assumed)).toThrow(TurnSupersededError);
    // The chat reached the number, but not with this turn's message: the send was refused.
    expect(() => confirmSpeculation({ turnCount: 3, modelConfigId: 'model-a', planMode: false, userMessageWritten: false }, 3, assumed)).toThrow(TurnSupersededError);
  });

  it('fails the attempt, to be retried at once, when the turn started with another model or mode', () => {
    for (const started of [
      { turnCount: 3, modelConfigId: 'model-b', planMode: false, userMessageWritten: true },
      { turnCount: 3, modelConfigId: 'model-a', planMode: true, userMessageWritten: true },
    ]) {
      let failure: unknown;
      try {
        confirmSpeculation(started, 3, assumed);
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect((failure as ApplicationFailure).type).toBe('TurnStartChanged');
      expect((failure as ApplicationFailure).nonRetryable).toBe(false);
    }
  });
});

describe('waiting for a turn to start', () => {
  it('returns the turn once the chat reaches it, heartbeating while it waits', async () => {
    const counts = [2, 2, 3];
    let heartbeats = 0;
    const started = await untilTurnStarts(
      3,
      async () => ({ turnCount: counts.shift() ?? 3, modelConfigId: 'm', planMode: false, userMessageWritten: true }),
      () => heartbeats++,
      new AbortController().signal,
    );
    expect(started?.turnCount).toBe(3);
    expect(heartbeats).toBe(2);
  });

  it('stops waiting when the step is cancelled', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled: the send was refused'));
    await expect(untilTurnStarts(3, async () => ({ turnCount: 2, modelConfigId: 'm', planMode: false, userMessageWritten: false }), () => undefined, controller.signal)).rejects.toThrow('the send was refused');
  });
});
