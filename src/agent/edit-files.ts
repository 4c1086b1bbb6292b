/**
 * edit_files: search-and-replace edits over one or more files, all or nothing. Every edit is
 * checked against the in-memory text (several edits to one file apply in order) before any
 * file is written; if one edit cannot be applied, no file changes and the error names each
 * failing edit by index and path and says how to fix it.
 */
import { type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { AgentError, fileSystemError, formatBytes, withFileErrors } from './agent-error.js';
import { READ_FILE_MAX_BYTES, type EditFilesRequest, type EditFilesResult, type FileEdit } from './agent-protocol.js';
import { writeFileAtomically } from './atomic-write.js';
import { resolveWorkspacePath, type WorkspaceRoot } from './workspace-path.js';

interface PendingFile {
  stats: Stats;
  text: string;
  replacements: number;
}

/** Non-overlapping occurrences of `needle` (non-empty) in `haystack`. */
export function countOccurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let index = haystack.indexOf(needle); index !== -1; index = haystack.indexOf(needle, index + needle.length)) count += 1;
  return count;
}

/** Replaces the first occurrence literally (String.replace would expand `$&` and friends in new_text). */
function replaceFirst(text: string, oldText: string, newText: string): string {
  const index = text.indexOf(oldText);
  return text.slice(0, index) + newText + text.slice(index + oldText.length);
}

async function loadFile(real: string, shownPath: string): Promise<PendingFile> {
  const stats = await stat(real);
  if (!stats.isFile()) throw new AgentError(400, `"${shownPath}" is not a regular file`);
  if (stats.size > READ_FILE_MAX_BYTES) throw new AgentError(413, `the file is ${formatBytes(stats.size)}, more than the ${formatBytes(READ_FILE_MAX_BYTES)} edit_files handles`);
  const bytes = await readFile(real);
  const text = bytes.toString('utf8');
  // Decoding would replace invalid bytes, and writing back would then corrupt the file.
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new AgentError(400, 'the file is not valid UTF-8 text; change it with execute instead');
  return { stats, text, replacements: 0 };
}

/** Applies `edit` to `file` in memory, or returns what is wrong with it. */
function applyEdit(file: PendingFile, edit: FileEdit, editedBefore: boolean): string | undefined {
  if (edit.old_text === '') return 'old_text is empty; copy the exact text to replace from the file (to replace a whole file, use write_file)';
  const count = countOccurrences(file.text, edit.old_text);
  if (count === 0) {
    const after = editedBefore ? ' (after the earlier edits to this file in this call)' : '';
    return `old_text was not found${after}; read the file again and copy the text exactly, including whitespace and indentation`;
  }
  if (count > 1 && edit.replace_all !== true) {
    return `old_text matches ${count} places; include more surrounding lines so it matches exactly one, or set replace_all: true to replace every one`;
  }
  file.text = edit.replace_all === true ? file.text.split(edit.old_text).join(edit.new_text) : replaceFirst(file.text, edit.old_text, edit.new_text);
  file.replacements += edit.replace_all === true ? count : 1;
  return undefined;
}

export async function editWorkspaceFiles(root: WorkspaceRoot, request: EditFilesRequest): Promise<EditFilesResult> {
  const files = new Map<string, PendingFile>();
  const unreadable = new Map<string, string>();
  const problems: string[] = [];
  for (const [index, edit] of request.edits.entries()) {
    const label = `edits[${index}] (${edit.path})`;
    let real: string;
    try {
      real = await resolveWorkspacePath(root, edit.path);
    } catch (error) {
      if (!(error instanceof AgentError)) throw error;
      problems.push(`${label}: ${error.message}`);
      continue;
    }
    let file = files.get(real);
    if (file === undefined && !unreadable.has(real)) {
      try {
        file = await loadFile(real, edit.path);
        files.set(real, file);
      } catch (error) {
        const known = error instanceof AgentError ? error : fileSystemError(error, edit.path);
        if (known === undefined) throw error;
        unreadable.set(real, known.status === 404 ? 'the file does not exist; create it with write_file' : known.message);
      }
    }
    if (file === undefined) {
      problems.push(`${label}: ${unreadable.get(real)}`);
      continue;
    }
    const problem = applyEdit(file, edit, file.replacements > 0);
    if (problem !== undefined) problems.push(`${label}: ${problem}`);
  }
  if (problems.length > 0) {
    const count = problems.length === 1 ? 'an edit cannot' : `${problems.length} edits cannot`;
    throw new AgentError(400, `No file was changed: ${count} be applied.\n${problems.map((problem) => `- ${problem}`).join('\n')}`);
  }
  for (const [real, file] of files) {
    await withFileErrors(real, () => writeFileAtomically(real, file.text, { existing: file.stats }));
  }
  return { files: [...files].map(([real, file]) => ({ path: real, replacements: file.replacements })) };
}
