/**
 * read_file (text, with line numbers, a window of lines at a time) and read_file_bytes (the
 * raw bytes, for attaching a workspace file to a chat). Both stay inside the workspace root.
 */
import { type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { AgentError, formatBytes, withFileErrors } from './agent-error.js';
import {
  READ_FILE_DEFAULT_LIMIT,
  READ_FILE_MAX_BYTES,
  READ_FILE_MAX_LINE_CHARS,
  type ReadFileBytesRequest,
  type ReadFileBytesResult,
  type ReadFileRequest,
  type ReadFileResult,
} from './agent-protocol.js';
import { resolveWorkspacePath, type WorkspaceRoot } from './workspace-path.js';

/** Binary files are recognised by a NUL byte near the start, as git and grep do. */
const BINARY_SNIFF_BYTES = 8000;
/** `cat -n` pads line numbers to this width. */
const LINE_NUMBER_WIDTH = 6;

async function statRegularFile(real: string, shownPath: string): Promise<Stats> {
  const stats = await stat(real);
  if (stats.isDirectory()) throw new AgentError(400, `"${shownPath}" is a directory, not a file; list it with execute (ls)`);
  if (!stats.isFile()) throw new AgentError(400, `"${shownPath}" is not a regular file`);
  return stats;
}

/** The file's lines, without the empty "line" after a final newline. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

export async function readWorkspaceFile(root: WorkspaceRoot, request: ReadFileRequest): Promise<ReadFileResult> {
  const shownPath = request.path;
  const real = await resolveWorkspacePath(root, shownPath);
  return withFileErrors(shownPath, async () => {
    const stats = await statRegularFile(real, shownPath);
    if (stats.size > READ_FILE_MAX_BYTES) {
      throw new AgentError(
        413,
        `file "${shownPath}" is ${formatBytes(stats.size)}, more than read_file's limit of ${formatBytes(READ_FILE_MAX_BYTES)}; read a part of it with execute (for example sed -n '1,200p' or grep -n)`,
      );
    }
    const buffer = await readFile(real);
    if (buffer.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
      throw new AgentError(400, `file "${shownPath}" looks binary (it contains NUL bytes); read_file shows text files only, inspect it with execute (file, xxd, …)`);
    }
    const lines = splitLines(buffer.toString('utf8'));
    const offset = request.offset ?? 1;
    const limit = request.limit ?? READ_FILE_DEFAULT_LIMIT;
    if (offset > 1 && offset > lines.length) {
      throw new AgentError(400, `offset ${offset} is past the end of "${shownPath}", which has ${lines.length} line${lines.length === 1 ? '' : 's'}`);
    }
    const window = lines.slice(offset - 1, offset - 1 + limit);
    let lineCut = false;
    const content = window
      .map((line, index) => {
        let shown = line;
        if (line.length > READ_FILE_MAX_LINE_CHARS) {
          shown = `${line.slice(0, READ_FILE_MAX_LINE_CHARS)} … [line cut at ${READ_FILE_MAX_LINE_CHARS} characters]`;
          lineCut = true;
        }
        return `${String(offset + index).padStart(LINE_NUMBER_WIDTH)}\t${shown}`;
      })
      .join('\n');
    return {
      path: real,
      content,
      total_lines: lines.length,
      offset,
      lines_returned: window.length,
      truncated: lineCut || offset - 1 + window.length < lines.length,
    };
  });
}

export async function readWorkspaceFileBytes(root: WorkspaceRoot, request: ReadFileBytesRequest): Promise<ReadFileBytesResult> {
  const shownPath = request.path;
  const real = await resolveWorkspacePath(root, shownPath);
  return withFileErrors(shownPath, async () => {
    const stats = await statRegularFile(real, shownPath);
    const tooLarge = () => new AgentError(413, `file "${shownPath}" is ${formatBytes(stats.size)}, more than the limit of ${formatBytes(request.max_bytes)}`);
    if (stats.size > request.max_bytes) throw tooLarge();
    const bytes = await readFile(real);
    // The file may have grown since stat.
    if (bytes.length > request.max_bytes) throw tooLarge();
    return { path: real, size: bytes.length, content_base64: bytes.toString('base64') };
  });
}
