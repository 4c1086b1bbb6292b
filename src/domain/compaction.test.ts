import { describe, expect, it } from 'vitest';
import { compactionCheck, contextTokens, DEFAULT_COMPACTION_THRESHOLD_PERCENT, effectiveThresholdPercent, normalizeThresholdPercent } from './compaction.js';

const usage = (input: number, extra: Partial<{ output: number; cacheRead: number; cacheWrite: number }> = {}) => ({
  input_tokens: input,
  output_tokens: extra.output ?? 10,
  reasoning_tokens: 0,
  cache_read_tokens: extra.cacheRead ?? 0,
  cache_write_tokens: extra.cacheWrite ?? 0,
  cost_micros: 0,
});

describe('the compaction threshold decision', () => {
  it.each([
    ['exactly at the threshold compacts', 700, 1_000, 70, true],
    ['one token below the threshold does not', 699, 1_000, 70, false],
    ['over the limit compacts', 1_500, 1_000, 70, true],
    ['a threshold of 100 never compacts, even over the limit', 5_000, 1_000, 100, false],
    ['a low threshold compacts early', 100, 1_000, 10, true],
    ['a zero context limit never compacts', 700, 0, 70, false],
  ])('%s', (_name, input, limit, threshold, due) => {
    expect(compactionCheck(usage(input), limit, threshold).due).toBe(due);
  });

  it('does not compact a step without usage', () => {
    expect(compactionCheck(null, 1_000, 70).due).toBe(false);
  });

  it('reports the usage percentage with the tokens and limit it came from', () => {
    expect(compactionCheck(usage(725), 1_000, 70)).toEqual({ due: true, contextTokens: 725, contextLimitTokens: 1_000, usagePercent: 72.5, thresholdPercent: 70 });
  });

  it.each([
    ['a missing value', undefined],
    ['null', null],
    ['zero', 0],
    ['a negative value', -5],
    ['more than 100', 150],
    ['a fraction', 55.5],
    ['a string', '50'],
  ])('treats %s as the default threshold of 70', (_name, value) => {
    expect(normalizeThresholdPercent(value)).toBe(DEFAULT_COMPACTION_THRESHOLD_PERCENT);
  });

  it('lets the user override beat the model config, and falls back to the model config without one', () => {
    expect(effectiveThresholdPercent(80, 40)).toBe(40);
    expect(effectiveThresholdPercent(80, null)).toBe(80);
    expect(effectiveThresholdPercent(undefined, undefined)).toBe(70);
  });

  it('counts input tokens, which already include cache reads and writes, without counting the cache twice', () => {
    expect(contextTokens(usage(1_000, { cacheRead: 600, cacheWrite: 100 }))).toBe(1_000);
  });

  it('takes the cache counts as the floor when a provider reports them outside its input', () => {
    expect(contextTokens(usage(50, { cacheRead: 600, cacheWrite: 100 }))).toBe(700);
  });

  it('falls back to the total when a step reports no input tokens', () => {
    expect(contextTokens(usage(0, { output: 42 }))).toBe(42);
  });
});
