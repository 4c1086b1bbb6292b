import { describe, expect, it } from 'vitest';
import { fallbackChatTitle, normalizeGeneratedTitle, normalizeTurnStatusLabel, regenerationInput } from './chat-title.js';

describe('chat titles', () => {
  it.each([
    ['Fix the flaky login test', 'Fix the flaky login test'],
    ['one two three four five six seven', 'one two three four five six…'],
    ['   ', 'New Chat'],
    ['x'.repeat(200), `${'x'.repeat(79)}…`],
  ])('the fallback title of %j is %j', (text, title) => {
    expect(fallbackChatTitle(text)).toBe(title);
  });

  it.each([
    ['  "Deploy the   billing service"  ', 'Deploy the billing service'],
    ['', null],
    ['""', null],
    ['one two three four five six seven eight', 'one two three four five six seven eight'],
    ['one two three four five six seven eight nine', null],
  ])('a proposed title %j is stored as %j', (proposed, stored) => {
    expect(normalizeGeneratedTitle(proposed)).toBe(stored);
  });

  it('cuts a long title to 80 characters', () => {
    expect(normalizeGeneratedTitle(`${'a'.repeat(100)} b`)).toBe('a'.repeat(80));
  });

  it('regenerates from the first turn and the last three, with the latest message capped', () => {
    const turns = Array.from({ length: 6 }, (_unused, index) => ({ user: `question ${index + 1}`, assistant: `answer ${index + 1}` }));
    const input = regenerationInput(turns);
    expect(input).toContain('User: question 1');
    expect(input).toContain('[... 2 earlier turns omitted ...]');
    expect(input).not.toContain('question 2\n');
    expect(input).toContain('User: question 6\nAssistant: answer 6');
    expect(input.endsWith('Latest user message:\nquestion 6')).toBe(true);
    expect(regenerationInput([{ user: 'y'.repeat(5000), assistant: '' }]).endsWith(`\n${'y'.repeat(1000)}`)).toBe(true);
  });
});

describe('turn status labels', () => {
  it.each([
    ['Reviewed deployment logs', 'Reviewed deployment logs'],
    ['Fixed failing tests.', 'Fixed failing tests'],
    ['Done', null],
    ['one two three four five six', null],
    ['Waiting\nfor input', null],
    ['Fixed it. Tests pass', null],
    ['The build is green', null],
    ['Agent fixed the build', null],
    ['We fixed the build', null],
    ['Build fixed after agent found bug', null],
  ])('%j becomes %j', (proposed, label) => {
    expect(normalizeTurnStatusLabel(proposed)).toBe(label);
  });
});
