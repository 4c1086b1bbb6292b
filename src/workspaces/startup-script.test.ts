import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startupCommand } from './startup-script.js';

describe('the startup command', () => {
  it('exports parameters as CHATD_PARAM_<NAME> so that no value can run as code', () => {
    const hostile = `it's $(touch /tmp/pwned) \`id\` "quoted"`;
    const command = startupCommand('printf "%s|%s|%s" "$CHATD_PARAM_REPO" "$CHATD_PARAM_BRANCH_NAME" "$CHATD_WORKSPACE_ID"', { repo: hostile, branch_name: 'main' }, { CHATD_WORKSPACE_ID: 'ws-1' });
    expect(execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8' })).toBe(`${hostile}|main|ws-1`);
  });
});
