/**
 * Keeps every file operation and working directory inside the workspace root. A requested
 * path is resolved the way the kernel would (relative to the root, symlinks followed, and
 * for a path that does not exist yet, through its nearest existing ancestor) and the real
 * result must lie inside realpath(root). Callers then use the returned real path, never the
 * requested one, so the path that was checked is the path that is used.
 */
import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { AgentError } from './agent-error.js';

const MAX_SYMLINK_HOPS = 40;

/** The workspace root, as given and as its real path. */
export interface WorkspaceRoot {
  path: string;
  realPath: string;
}

export async function openWorkspaceRoot(root: string): Promise<WorkspaceRoot> {
  const absolute = path.resolve(root);
  return { path: absolute, realPath: await realpath(absolute) };
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The real path `candidate` leads to, whether or not it exists. A dangling symlink is
 * followed to where it points, so writing "through" it cannot leave the root.
 */
async function realPathAllowingMissing(candidate: string, hops = 0): Promise<string> {
  if (hops > MAX_SYMLINK_HOPS) throw Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP' });
  try {
    return await realpath(candidate);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ENOTDIR') throw error;
  }
  const parent = path.dirname(candidate);
  if (parent === candidate) return candidate;
  const realParent = await realPathAllowingMissing(parent, hops);
  const joined = path.join(realParent, path.basename(candidate));
  const stats = await lstat(joined).catch(() => undefined);
  if (stats?.isSymbolicLink()) {
    return realPathAllowingMissing(path.resolve(realParent, await readlink(joined)), hops + 1);
  }
  return joined;
}

export function isInside(realRoot: string, realTarget: string): boolean {
  const relative = path.relative(realRoot, realTarget);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/**
 * Resolves `requested` (relative to the root, or absolute inside it) to a real path inside
 * the root, or throws a 400 that names the requested path.
 */
export async function resolveWorkspacePath(root: WorkspaceRoot, requested: string): Promise<string> {
  if (requested.includes('\0')) throw new AgentError(400, `path ${JSON.stringify(requested)} contains a NUL byte`);
  const outside = new AgentError(400, `path ${JSON.stringify(requested)} is outside the workspace (${root.path}); use a path inside it`);
  const lexical = path.isAbsolute(requested) ? path.resolve(requested) : path.resolve(root.realPath, requested);
  // An absolute path through a symlinked root (say /tmp -> /private/tmp) resolves to the real root too.
  const real = await realPathAllowingMissing(lexical).catch((error: unknown) => {
    if (errorCode(error) === 'ELOOP') throw new AgentError(400, `path ${JSON.stringify(requested)} goes through too many levels of symbolic links (a symlink loop?)`);
    throw error;
  });
  if (!isInside(root.realPath, real)) throw outside;
  return real;
}
