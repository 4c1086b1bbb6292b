/**
 * The one list of skills a chat may read: its workspace's and its owner's personal ones,
 * under the names the model uses. Personal skills are always `personal/<name>`; a workspace
 * skill is its bare name, or `workspace/<name>` when a personal skill has the same name, so
 * every entry of the index is unambiguous. `read_skill` also accepts the other spellings
 * (`workspace/<name>` without a collision, a bare name for a personal skill). Pure.
 */
import { SKILL_NAME_PATTERN } from '../domain/skill.js';

export type SkillSource = 'workspace' | 'personal';

export interface SkillSummary {
  name: string;
  description: string;
}

export interface SkillIndexEntry {
  /** What the model passes to read_skill. */
  reference: string;
  source: SkillSource;
  name: string;
  description: string;
}

export const PERSONAL_PREFIX = 'personal/';
export const WORKSPACE_PREFIX = 'workspace/';

export function buildSkillIndex(workspace: readonly SkillSummary[], personal: readonly SkillSummary[]): SkillIndexEntry[] {
  const personalNames = new Set(personal.map((skill) => skill.name));
  return [
    ...workspace.map((skill) => ({
      reference: personalNames.has(skill.name) ? `${WORKSPACE_PREFIX}${skill.name}` : skill.name,
      source: 'workspace' as const,
      name: skill.name,
      description: skill.description,
    })),
    ...personal.map((skill) => ({ reference: `${PERSONAL_PREFIX}${skill.name}`, source: 'personal' as const, name: skill.name, description: skill.description })),
  ];
}

/** Where a read_skill name points: one source, or `any` (the workspace first, then personal). */
export type SkillReference = { source: SkillSource | 'any'; name: string } | { problem: string };

export function parseSkillReference(reference: string): SkillReference {
  const trimmed = reference.trim();
  let source: SkillSource | 'any' = 'any';
  let name = trimmed;
  if (trimmed.startsWith(PERSONAL_PREFIX)) {
    source = 'personal';
    name = trimmed.slice(PERSONAL_PREFIX.length);
  } else if (trimmed.startsWith(WORKSPACE_PREFIX)) {
    source = 'workspace';
    name = trimmed.slice(WORKSPACE_PREFIX.length);
  }
  if (!SKILL_NAME_PATTERN.test(name)) {
    return { problem: `"${reference}" is not a skill name; use a name exactly as listed in <available-skills> (e.g. "deploy", "personal/deploy" or "workspace/deploy")` };
  }
  return { source, name };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The `<available-skills>` block of the system prompt, or undefined when there is no skill. */
export function renderSkillIndex(entries: readonly SkillIndexEntry[]): string | undefined {
  if (entries.length === 0) return undefined;
  return [
    '<available-skills>',
    'Skills are instructions for specific tasks. When a task matches a skill\'s description, call read_skill with the skill\'s name before you start, and read_skill_file for the files its instructions mention.',
    ...entries.map((entry) => `- ${entry.reference}: ${oneLine(entry.description)}`),
    '</available-skills>',
  ].join('\n');
}
