import { describe, expect, it } from 'vitest';
import { HeadOutput, TailOutput } from './command-output.js';

describe('HeadOutput', () => {
  it('keeps the first bytes and counts the rest as truncated', () => {
    const output = new HeadOutput(5);
    output.write(Buffer.from('abc'));
    output.write(Buffer.from('defgh'));
    output.write(Buffer.from('ijk'));
    expect(output.text()).toBe('abcde');
    expect(output.truncated).toBe(true);
  });

  it('is not truncated when the output fits exactly', () => {
    const output = new HeadOutput(3);
    output.write(Buffer.from('abc'));
    expect(output.truncated).toBe(false);
    expect(output.text()).toBe('abc');
  });

  it('drops a multi-byte character cut in half by the cap', () => {
    const output = new HeadOutput(4);
    output.write(Buffer.from('ab€c'));
    expect(output.text()).toBe('ab');
  });
});

describe('TailOutput', () => {
  it('keeps the most recent bytes across chunks', () => {
    const output = new TailOutput(6);
    for (const chunk of ['abc', 'def', 'ghi']) output.write(Buffer.from(chunk));
    expect(output.text(100)).toEqual({ text: 'defghi', truncated: true });
  });

  it('shows at most the requested bytes and is whole when nothing was dropped', () => {
    const output = new TailOutput(100);
    output.write(Buffer.from('hello world'));
    expect(output.text(5)).toEqual({ text: 'world', truncated: true });
    expect(output.text(100)).toEqual({ text: 'hello world', truncated: false });
  });

  it('drops a multi-byte character cut in half at the start', () => {
    const output = new TailOutput(4);
    output.write(Buffer.from('a€bc'));
    expect(output.text(100)).toEqual({ text: 'bc', truncated: true });
  });
});
