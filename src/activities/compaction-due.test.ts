import { describe, expect, it } from 'vitest';
import { withCompactionDue } from './compaction-due.js';

const step = { accepted: true, messageId: 7, toolCalls: [], finishReason: 'stop' };
const usage = (input: number) => ({ input_tokens: input, output_tokens: 5, reasoning_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_micros: 0 });
const chat = { modelConfig: { context_limit: 1_000 }, compactionThresholdPercent: 70 };

describe('the compaction flag on a model step', () => {
  it('marks a step whose context reached the threshold', () => {
    expect(withCompactionDue(step, usage(700), chat)).toEqual({ ...step, compactionDue: true });
  });

  it('leaves a step below the threshold exactly as it was, without the field', () => {
    expect(withCompactionDue(step, usage(699), chat)).toStrictEqual(step);
  });

  it('does not mark a step whose stored usage is missing or malformed', () => {
    expect(withCompactionDue(step, null, chat)).toStrictEqual(step);
    expect(withCompactionDue(step, { input_tokens: 'lots' }, chat)).toStrictEqual(step);
  });

  it('does not mark a step of a chat without a model config', () => {
    expect(withCompactionDue(step, usage(5_000), { compactionThresholdPercent: 70 })).toStrictEqual(step);
  });
});
