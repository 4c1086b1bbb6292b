/**
 * Skills: task instructions the model reads on demand. Workspace skills live in the
 * workspace (`.agents/skills/<name>/SKILL.md`, with a small front matter); personal skills are
 * stored per user through the API. This module holds the rules both sides share (names, the
 * front matter, which paths inside a skill may be read) and the API's schemas. Pure.
 */
import { z } from 'zod';

/**
 * The instruction files chatd looks for, in this order, in the home directory and then the
 * workspace directory. Names are the ones coding agents already use, so a repository written
 * for them works unchanged.
 */
export const INSTRUCTION_FILE_NAMES = ['AGENTS.md', 'CLAUDE.md', '.github/copilot-instructions.md'] as const;

/** Where a workspace's skills live, relative to its root: one directory per skill. */
export const WORKSPACE_SKILLS_DIRECTORY = '.agents/skills';
export const SKILL_FILE_NAME = 'SKILL.md';
/** A user may store at most this many personal skills. */
export const MAX_PERSONAL_SKILLS = 100;
/** At most this many workspace skills are listed (the index is in every system prompt). */
export const MAX_WORKSPACE_SKILLS = 100;
export const SKILL_DESCRIPTION_MAX_CHARS = 1024;
export const SKILL_BODY_MAX_CHARS = 256 * 1024;
/** read_skill_file refuses files larger than this. */
export const SKILL_FILE_MAX_BYTES = 512 * 1024;

/** Names double as directory names and as the last part of `personal/<name>`: a slug. */
export const SKILL_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

export const SkillName = z
  .string()
  .regex(SKILL_NAME_PATTERN, 'must be 1 to 64 lowercase letters, digits or hyphens, starting with a letter or digit (e.g. "release-notes")');

export const PutSkillRequest = z.strictObject({
  description: z.string().trim().min(1, 'must not be empty: the model picks skills by their description').max(SKILL_DESCRIPTION_MAX_CHARS),
  body: z.string().min(1, 'must not be empty').max(SKILL_BODY_MAX_CHARS),
});
export type PutSkillRequest = z.infer<typeof PutSkillRequest>;

export const PersonalSkillSummary = z.object({
  name: z.string(),
  description: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type PersonalSkillSummary = z.infer<typeof PersonalSkillSummary>;

export const PersonalSkill = PersonalSkillSummary.extend({ body: z.string() });
export type PersonalSkill = z.infer<typeof PersonalSkill>;

export const PersonalSkillList = z.object({ skills: z.array(PersonalSkillSummary), limit: z.number().int() });

export interface SkillFrontMatter {
  name?: string;
  description?: string;
  /** The text after the front matter (all of it when there is none). */
  body: string;
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length >= 2 && ((trimmed.startsWith('"') && trimmed.endsWith('"')) || (trimmed.startsWith("'") && trimmed.endsWith("'")))) return trimmed.slice(1, -1);
  return trimmed;
}

/**
 * Reads a SKILL.md: an optional front matter between `---` lines at the very top, of which only
 * one-line `name:` and `description:` keys matter (no YAML parser: other keys, lists and block
 * values are ignored rather than failing the skill). A file without a closing `---` has no
 * front matter.
 */
export function parseSkillFrontMatter(text: string): SkillFrontMatter {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = source.split(/\r?\n/);
  if (lines[0]?.trim() !== '---') return { body: source };
  const end = lines.findIndex((line, index) => index > 0 && line.trim() === '---');
  if (end === -1) return { body: source };
  const result: SkillFrontMatter = { body: lines.slice(end + 1).join('\n').replace(/^\n+/, '') };
  for (const line of lines.slice(1, end)) {
    const match = /^(name|description)\s*:\s*(.*)$/.exec(line);
    if (match === null) continue;
    const value = unquote(match[2]!);
    if (value === '' || value === '|' || value === '>') continue;
    if (match[1] === 'name') result.name = value;
    else result.description = value;
  }
  return result;
}

/**
 * Why `requested` may not be read as a file of a skill, or undefined when it may. Paths are
 * relative to the skill's directory: never absolute, never through `..`, never a hidden file
 * or directory (which is where secrets such as `.env` live).
 */
export function skillFilePathProblem(requested: string): string | undefined {
  if (requested.trim() === '') return 'path must not be empty';
  if (requested.includes('\0')) return 'path must not contain a NUL byte';
  if (requested.startsWith('/') || requested.startsWith('\\') || /^[A-Za-z]:/.test(requested)) return `path "${requested}" is absolute; give a path relative to the skill's directory, e.g. "scripts/check.sh"`;
  const segments = requested.split(/[\\/]/).filter((segment) => segment !== '' && segment !== '.');
  if (segments.length === 0) return `path "${requested}" names the skill's directory itself; give a file inside it`;
  if (segments.includes('..')) return `path "${requested}" goes up with ".."; only files inside the skill's directory can be read`;
  if (segments.some((segment) => segment.startsWith('.'))) return `path "${requested}" names a hidden file or directory; hidden files of a skill cannot be read`;
  return undefined;
}

/** The path relative to the skill's directory, in its normal form (checked first with skillFilePathProblem). */
export function normalizeSkillFilePath(requested: string): string {
  return requested
    .split(/[\\/]/)
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}
