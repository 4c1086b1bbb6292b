/**
 * What the agent tells chatd for a chat's system prompt: the instruction files of its home
 * and workspace directories (AGENTS.md and friends, each cut to a bounded size) and the
 * workspace's skills (`.agents/skills/<name>/SKILL.md`: name and description only; bodies are
 * read on demand through read_file_bytes). Nothing here fails for a missing or unreadable
 * file: it is left out, so one bad file never hides the others.
 */
import { open, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MAX_WORKSPACE_SKILLS, parseSkillFrontMatter, SKILL_DESCRIPTION_MAX_CHARS, SKILL_FILE_NAME, SKILL_NAME_PATTERN, WORKSPACE_SKILLS_DIRECTORY } from '../domain/skill.js';
import {
  INSTRUCTION_FILE_MAX_BYTES,
  INSTRUCTION_FILE_NAMES,
  SKILL_META_MAX_BYTES,
  type InstructionFile,
  type WorkspaceContextResult,
  type WorkspaceSkillInfo,
} from './agent-protocol.js';
import { isInside, resolveWorkspacePath, type WorkspaceRoot } from './workspace-path.js';

/** Reads at most `maxBytes` of a regular file; undefined when it is missing or not a regular file. */
async function readCapped(file: string, maxBytes: number): Promise<{ text: string; truncated: boolean } | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return undefined;
    // One byte more than the cap tells a file of exactly the cap from a longer one.
    const buffer = Buffer.alloc(maxBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const truncated = bytesRead > maxBytes;
    let text = buffer.subarray(0, Math.min(bytesRead, maxBytes)).toString('utf8');
    // A cut through a multi-byte character leaves a replacement character: drop it.
    if (truncated) text = text.replace(/\uFFFD$/, '');
    return { text, truncated };
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

async function instructionFilesIn(directory: 'home' | 'workspace', base: string, root: WorkspaceRoot): Promise<InstructionFile[]> {
  const files: InstructionFile[] = [];
  for (const name of INSTRUCTION_FILE_NAMES) {
    let file = path.join(base, name);
    // Workspace files go through the path check, so a symlink cannot pull in a file from elsewhere.
    if (directory === 'workspace') {
      file = await resolveWorkspacePath(root, name).catch(() => '');
      if (file === '') continue;
    }
    const read = await readCapped(file, INSTRUCTION_FILE_MAX_BYTES);
    if (read === undefined || read.text.trim() === '') continue;
    files.push({ directory, path: file, content: read.text, truncated: read.truncated });
  }
  return files;
}

/** Notes about directories that are not skills, at most this many (the answer stays bounded). */
const MAX_SKIPPED_NOTES = 20;

async function workspaceSkills(root: WorkspaceRoot): Promise<{ skills: WorkspaceSkillInfo[]; skipped: Array<{ directory: string; reason: string }> }> {
  const skills: WorkspaceSkillInfo[] = [];
  const notes: Array<{ directory: string; reason: string }> = [];
  const skipped = {
    push(note: { directory: string; reason: string }): void {
      if (notes.length < MAX_SKIPPED_NOTES) notes.push(note);
    },
  };
  const skillsRoot = await resolveWorkspacePath(root, WORKSPACE_SKILLS_DIRECTORY).catch(() => undefined);
  if (skillsRoot === undefined) return { skills, skipped: notes };
  const entries = await readdir(skillsRoot, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || !(entry.isDirectory() || entry.isSymbolicLink())) continue;
    // Past the cap nothing more is read, and one note says so (the answer stays bounded).
    if (skills.length >= MAX_WORKSPACE_SKILLS) {
      skipped.push({ directory: `${WORKSPACE_SKILLS_DIRECTORY}/${entry.name}`, reason: `more than ${MAX_WORKSPACE_SKILLS} skills: this one and any after it were not read` });
      break;
    }
    const directory = `${WORKSPACE_SKILLS_DIRECTORY}/${entry.name}`;
    if (!SKILL_NAME_PATTERN.test(entry.name)) {
      skipped.push({ directory, reason: 'the directory name is not a skill name (lowercase letters, digits and hyphens)' });
      continue;
    }
    const skillFile = await resolveWorkspacePath(root, `${directory}/${SKILL_FILE_NAME}`).catch(() => undefined);
    const read = skillFile === undefined || !isInside(skillsRoot, skillFile) ? undefined : await readCapped(skillFile, SKILL_META_MAX_BYTES);
    if (read === undefined) {
      skipped.push({ directory, reason: `no ${SKILL_FILE_NAME}` });
      continue;
    }
    const description = parseSkillFrontMatter(read.text).description;
    if (description === undefined) {
      skipped.push({ directory, reason: `${SKILL_FILE_NAME} has no description in its front matter` });
      continue;
    }
    skills.push({ name: entry.name, description: description.slice(0, SKILL_DESCRIPTION_MAX_CHARS) });
  }
  return { skills, skipped: notes };
}

export async function readWorkspaceContext(root: WorkspaceRoot, options: { instructionFiles: boolean; homeDirectory?: string }): Promise<WorkspaceContextResult> {
  const home = options.homeDirectory ?? os.homedir();
  const homeDirectory = home === '' ? null : path.resolve(home);
  // A workspace that is the home directory would list its files twice.
  const readHome = options.instructionFiles && homeDirectory !== null && path.resolve(homeDirectory) !== root.realPath && homeDirectory !== root.path;
  const [homeFiles, workspaceFiles, { skills, skipped }] = await Promise.all([
    readHome ? instructionFilesIn('home', homeDirectory, root) : [],
    options.instructionFiles ? instructionFilesIn('workspace', root.realPath, root) : [],
    workspaceSkills(root),
  ]);
  return {
    os: process.platform,
    home_directory: homeDirectory,
    workspace_directory: root.path,
    instruction_files: [...homeFiles, ...workspaceFiles],
    skills,
    skipped_skills: skipped,
  };
}
