/** write_file: creates or replaces a file inside the workspace, atomically, creating parent directories. */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AgentError, withFileErrors } from './agent-error.js';
import { type WriteFileRequest, type WriteFileResult } from './agent-protocol.js';
import { writeFileAtomically } from './atomic-write.js';
import { resolveWorkspacePath, type WorkspaceRoot } from './workspace-path.js';

export async function writeWorkspaceFile(root: WorkspaceRoot, request: WriteFileRequest): Promise<WriteFileResult> {
  const shownPath = request.path;
  const real = await resolveWorkspacePath(root, shownPath);
  return withFileErrors(shownPath, async () => {
    const existing = await stat(real).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (existing?.isDirectory()) throw new AgentError(400, `"${shownPath}" is a directory; write_file writes files`);
    if (existing !== undefined && !existing.isFile()) throw new AgentError(400, `"${shownPath}" is not a regular file`);
    try {
      await mkdir(path.dirname(real), { recursive: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') throw new AgentError(400, `cannot create the directory for "${shownPath}": a part of its path is a file`);
      throw error;
    }
    const data = Buffer.from(request.content, 'utf8');
    await writeFileAtomically(real, data, existing === undefined ? {} : { existing });
    return { path: real, bytes_written: data.length, created: existing === undefined };
  });
}
