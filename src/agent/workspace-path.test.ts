import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError } from './agent-error.js';
import { openWorkspaceRoot, resolveWorkspacePath, type WorkspaceRoot } from './workspace-path.js';

describe('resolveWorkspacePath', () => {
  let scratch: string;
  let root: WorkspaceRoot;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'chatd-workspace-path-'));
    await mkdir(path.join(scratch, 'real-root', 'src'), { recursive: true });
    // The root is reached through a symlink, as /tmp is on some systems.
    await symlink(path.join(scratch, 'real-root'), path.join(scratch, 'root'));
    await symlink('/etc', path.join(scratch, 'real-root', 'etc-link'));
    await symlink('src', path.join(scratch, 'real-root', 'src-link'));
    await symlink('../../outside/new.txt', path.join(scratch, 'real-root', 'src', 'dangling'));
    await symlink('loop-b', path.join(scratch, 'real-root', 'loop-a'));
    await symlink('loop-a', path.join(scratch, 'real-root', 'loop-b'));
    root = await openWorkspaceRoot(path.join(scratch, 'root'));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it.each([
    ['a relative path', 'src/a.ts', 'src/a.ts'],
    ['the root itself', '.', ''],
    ['a path that climbs out and back in', 'src/../src/b.ts', 'src/b.ts'],
    ['a symlink that stays inside', 'src-link/c.ts', 'src/c.ts'],
    ['a missing file in missing directories', 'new/dir/file.txt', 'new/dir/file.txt'],
  ])('resolves %s to its real path inside the root', async (_name, requested, expected) => {
    expect(await resolveWorkspacePath(root, requested)).toBe(path.join(scratch, 'real-root', expected));
  });

  it('accepts absolute paths through the root as given and through its real path', async () => {
    expect(await resolveWorkspacePath(root, path.join(scratch, 'root', 'src'))).toBe(path.join(scratch, 'real-root', 'src'));
    expect(await resolveWorkspacePath(root, path.join(scratch, 'real-root', 'src'))).toBe(path.join(scratch, 'real-root', 'src'));
  });

  it.each([
    ['..', '../x'],
    ['an absolute path elsewhere', '/etc/passwd'],
    ['a symlink to /etc', 'etc-link/passwd'],
    ['a new file under a symlink to /etc', 'etc-link/new-dir/new.txt'],
    ['a dangling symlink pointing outside', 'src/dangling'],
    ['a sibling directory sharing the root name as a prefix', '../real-root-other/x'],
  ])('refuses %s', async (_name, requested) => {
    const error = await resolveWorkspacePath(root, requested).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).status).toBe(400);
    expect((error as AgentError).message).toBe(`path ${JSON.stringify(requested)} is outside the workspace (${root.path}); use a path inside it`);
  });

  it('refuses a symlink loop instead of following it for ever', async () => {
    const error = await resolveWorkspacePath(root, 'loop-a/x').catch((caught: unknown) => caught);
    expect((error as AgentError).message).toBe('path "loop-a/x" goes through too many levels of symbolic links (a symlink loop?)');
  });
});
