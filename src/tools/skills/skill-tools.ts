/**
 * `read_skill` and `read_skill_file`: the skills listed in `<available-skills>`, read when the
 * model needs them. Workspace skills are read through the workspace agent (always the current
 * files, inside the workspace root); personal skills from `user_skills`, only the chat owner's.
 * A name is `personal/<name>`, `workspace/<name>`, or bare (the workspace's skill, else the
 * owner's personal one). Every failure is a result that says what to do.
 */
import { z } from 'zod';
import { AgentRequestError, AgentUnreachableError } from '../../agent/agent-client.js';
import { normalizeSkillFilePath, parseSkillFrontMatter, SKILL_FILE_MAX_BYTES, SKILL_FILE_NAME, skillFilePathProblem, WORKSPACE_SKILLS_DIRECTORY } from '../../domain/skill.js';
import { type Pool } from '../../db/pool.js';
import { getUserSkill } from '../../db/user-skills.js';
import { parseSkillReference } from '../../instructions/skill-index.js';
import { type ChatTool, type ToolResult } from '../chat-tool.js';
import { AGENT_TIMEOUT_TEXT, type WorkspaceAgents } from '../workspace/agent-call.js';

export const ReadSkillInput = z.object({
  name: z.string().min(1).describe('The skill\'s name exactly as listed in <available-skills>, e.g. "deploy" or "personal/release-notes".'),
});
export type ReadSkillInput = z.infer<typeof ReadSkillInput>;

export const ReadSkillFileInput = z.object({
  name: z.string().min(1).describe('The skill\'s name as listed in <available-skills>.'),
  path: z.string().min(1).describe('A file inside the skill\'s directory, relative to it, e.g. "scripts/check.sh".'),
});
export type ReadSkillFileInput = z.infer<typeof ReadSkillFileInput>;

const KIB = 1024;

/** A workspace file read, or why not: missing (try elsewhere) or a result to give the model. */
type WorkspaceRead = { bytes: Buffer } | { missing: true; reason: string } | { failed: ToolResult };

async function readWorkspaceFile(agents: WorkspaceAgents, chatId: string, relativePath: string): Promise<WorkspaceRead> {
  const lookup = await agents.agentFor(chatId);
  if (!('client' in lookup)) return { missing: true, reason: lookup.message };
  try {
    return { bytes: (await lookup.client.readFileBytes({ path: relativePath, maxBytes: SKILL_FILE_MAX_BYTES })).bytes };
  } catch (error) {
    if (error instanceof AgentRequestError && error.status === 404) return { missing: true, reason: `the workspace has no ${relativePath}` };
    if (error instanceof AgentRequestError && error.status === 413) {
      return { failed: { result: `${relativePath} is larger than read_skill_file's limit of ${SKILL_FILE_MAX_BYTES / KIB} KiB; read a part of it with read_file or execute instead`, isError: true } };
    }
    if (error instanceof AgentRequestError) return { failed: { result: error.message, isError: true } };
    if (error instanceof AgentUnreachableError) return { failed: { result: AGENT_TIMEOUT_TEXT, isError: true } };
    throw error;
  }
}

async function chatOwner(pool: Pool, chatId: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ owner_id: string }>('SELECT owner_id FROM chats WHERE id = $1', [chatId]);
  return rows[0]?.owner_id;
}

function notFound(reference: string, reasons: string[]): ToolResult {
  return { result: `no skill named "${reference}"${reasons.length === 0 ? '' : ` (${reasons.join('; ')})`}. Use a name exactly as listed in <available-skills>.`, isError: true };
}

export function createSkillTools(dependencies: { pool: Pool; agents: WorkspaceAgents }): ChatTool[] {
  const { pool, agents } = dependencies;

  return [
    {
      name: 'read_skill',
      description: 'Read a skill listed in <available-skills>: its full instructions. Read a skill before starting a task that matches its description.',
      inputSchema: ReadSkillInput,
      idempotent: true,
      async execute(input, context) {
        const request = input as ReadSkillInput;
        const reference = parseSkillReference(request.name);
        if ('problem' in reference) return { result: reference.problem, isError: true };
        const reasons: string[] = [];
        if (reference.source !== 'personal') {
          const read = await readWorkspaceFile(agents, context.chatId, `${WORKSPACE_SKILLS_DIRECTORY}/${reference.name}/${SKILL_FILE_NAME}`);
          if ('failed' in read) return read.failed;
          if ('bytes' in read) {
            const skill = parseSkillFrontMatter(read.bytes.toString('utf8'));
            return {
              result: { name: reference.name, source: 'workspace', directory: `${WORKSPACE_SKILLS_DIRECTORY}/${reference.name}`, description: skill.description ?? '', body: skill.body },
              isError: false,
            };
          }
          reasons.push(read.reason);
        }
        if (reference.source !== 'workspace') {
          const owner = await chatOwner(pool, context.chatId);
          const skill = owner === undefined ? undefined : await getUserSkill(pool, owner, reference.name);
          if (skill !== undefined) return { result: { name: `personal/${skill.name}`, source: 'personal', description: skill.description, body: skill.body }, isError: false };
          reasons.push('you have no personal skill of that name');
        }
        return notFound(request.name, reasons);
      },
    },
    {
      name: 'read_skill_file',
      description: `Read a file inside a workspace skill's directory (scripts, templates, references its instructions mention), by a path relative to that directory. At most ${SKILL_FILE_MAX_BYTES / KIB} KiB; hidden files cannot be read.`,
      inputSchema: ReadSkillFileInput,
      idempotent: true,
      async execute(input, context) {
        const request = input as ReadSkillFileInput;
        const reference = parseSkillReference(request.name);
        if ('problem' in reference) return { result: reference.problem, isError: true };
        const problem = skillFilePathProblem(request.path);
        if (problem !== undefined) return { result: problem, isError: true };
        if (reference.source === 'personal') return { result: 'personal skills have no files: read_skill gives their whole text', isError: true };
        const relative = normalizeSkillFilePath(request.path);
        const read = await readWorkspaceFile(agents, context.chatId, `${WORKSPACE_SKILLS_DIRECTORY}/${reference.name}/${relative}`);
        if ('failed' in read) return read.failed;
        if ('missing' in read) return { result: `skill "${request.name}" has no file ${relative} (${read.reason}); list the skill's directory with execute (ls ${WORKSPACE_SKILLS_DIRECTORY}/${reference.name})`, isError: true };
        if (read.bytes.includes(0)) return { result: `${relative} looks binary; read_skill_file shows text files only`, isError: true };
        return { result: { name: request.name, path: relative, size_bytes: read.bytes.length, content: read.bytes.toString('utf8') }, isError: false };
      },
    },
  ];
}
