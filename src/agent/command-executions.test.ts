import { describe, expect, it } from 'vitest';
import { splitTrailingAmpersand } from './command-executions.js';

describe('splitTrailingAmpersand', () => {
  it.each([
    ['npm run dev &', { command: 'npm run dev', background: true }],
    ['  sleep 5 &  \n', { command: 'sleep 5', background: true }],
    ['make && make test', { command: 'make && make test', background: false }],
    ['make &&', { command: 'make &&', background: false }],
    ['echo \\&', { command: 'echo \\&', background: false }],
    ['a & b', { command: 'a & b', background: false }],
  ])('reads %j as %j', (command, expected) => {
    expect(splitTrailingAmpersand(command)).toEqual(expected);
  });
});
