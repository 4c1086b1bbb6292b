import { describe, expect, it, vi } from 'vitest';
import { LocalTurnStarts } from './local-turn-starts.js';

const started = { turnCount: 3, modelConfigId: 'model-a', planMode: false, userMessageWritten: true };

describe('local turn starts', () => {
  it('hands a waiting step the turn as the write committed it, once the write is done', async () => {
    const starts = new LocalTurnStarts();
    let commit!: (value: typeof started) => void;
    starts.track('chat-1', 3, new Promise((resolve) => (commit = resolve)));
    const waiting = starts.find('chat-1', 3);
    expect(waiting).toBeDefined();
    let answered = false;
    void waiting!.then(() => (answered = true));
    await Promise.resolve();
    expect(answered).toBe(false);
    commit(started);
    await expect(waiting).resolves.toEqual(started);
  });

  it('knows nothing of another chat or turn, and answers undefined for a refused write so the step reads the database', async () => {
    const starts = new LocalTurnStarts();
    starts.track('chat-1', 3, Promise.reject(new Error('Invalid model config ID.')));
    expect(starts.find('chat-1', 4)).toBeUndefined();
    expect(starts.find('chat-2', 3)).toBeUndefined();
    await expect(starts.find('chat-1', 3)).resolves.toBeUndefined();
  });

  it('forgets finished writes after a while, so the map only holds recent sends', async () => {
    vi.useFakeTimers();
    try {
      const starts = new LocalTurnStarts();
      starts.track('chat-1', 3, Promise.resolve(started));
      await vi.advanceTimersByTimeAsync(1_000);
      expect(starts.size).toBe(1);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(starts.size).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
