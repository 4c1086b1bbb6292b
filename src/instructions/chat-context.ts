/**
 * The chat context chatd adds to a model step's system prompt: the instruction files of the
 * chat's workspace agent (home and workspace directories) and the `<available-skills>` index
 * (workspace skills and the owner's personal skills).
 *
 * Invariants:
 * - `promptSections` never throws and never waits more than the lookup timeout (5 s) on an
 *   agent: a workspace that is down, stopped or slow gives no workspace sections this step.
 * - Instruction files are read once per agent (B58): they are recorded on the chat
 *   (`chats.last_injected_context`, with the agent's key) and re-read only when the chat's
 *   workspace has a new agent (a rebuild) or nothing was recorded yet. A lookup that found
 *   no file records an empty list, so it is not repeated every step.
 * - The workspace skill listing is cached per agent for a few minutes, so a step where
 *   nothing changed costs two small queries and no agent call.
 */
import { type WorkspaceContextResult } from '../agent/agent-client.js';
import { type Pool } from '../db/pool.js';
import { listUserSkills } from '../db/user-skills.js';
import { type Logger } from '../logger.js';
import { type WorkspaceAgents } from '../tools/workspace/agent-call.js';
import { type InjectedContext, parseInjectedContext, recordInjectedContext, renderInstructionFile } from './injected-context.js';
import { buildSkillIndex, renderSkillIndex, type SkillSummary } from './skill-index.js';

export const CONTEXT_LOOKUP_TIMEOUT_MS = 5_000;
export const SKILL_LISTING_TTL_MS = 5 * 60_000;
/** Agents whose skill listings are kept; the oldest is dropped past this. */
const MAX_CACHED_AGENTS = 1_000;

export interface ChatContextOptions {
  pool: Pool;
  /** Finds the chat's workspace agent (the workspace service). */
  agents: WorkspaceAgents;
  lookupTimeoutMs?: number;
  skillListingTtlMs?: number;
  logger?: Logger;
}

export interface PromptSectionsInput {
  chatId: string;
}

export interface ChatContext {
  /** The blocks to append to the chat's system prompt, in order; empty when there is nothing. */
  promptSections(input: PromptSectionsInput): Promise<string[]>;
}

interface ChatContextRow {
  owner_id: string;
  last_injected_context: unknown;
  workspace_id: string | null;
  build_number: number | null;
  workspace_status: string | null;
}

interface WorkspaceSections {
  instructionFiles: InjectedContext['instruction_files'];
  skills: SkillSummary[];
}

/** A workspace's agent changes with every build (the agent is spawned anew). */
export function agentKeyOf(workspace: { id: string; build_number: number }): string {
  return `${workspace.id}:${workspace.build_number}`;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function createChatContext(options: ChatContextOptions): ChatContext {
  const { pool, agents } = options;
  const lookupTimeoutMs = options.lookupTimeoutMs ?? CONTEXT_LOOKUP_TIMEOUT_MS;
  const ttlMs = options.skillListingTtlMs ?? SKILL_LISTING_TTL_MS;
  const skillListings = new Map<string, { skills: SkillSummary[]; readAt: number }>();

  function remember(agentKey: string, skills: SkillSummary[]): void {
    skillListings.delete(agentKey);
    skillListings.set(agentKey, { skills, readAt: Date.now() });
    if (skillListings.size > MAX_CACHED_AGENTS) skillListings.delete(skillListings.keys().next().value!);
  }

  /** Asks the agent; records instruction files when none are recorded for it. */
  async function lookUp(chatId: string, recorded: InjectedContext | undefined): Promise<WorkspaceSections | undefined> {
    const lookup = await agents.agentFor(chatId);
    if (!('client' in lookup)) return undefined;
    const agentKey = agentKeyOf(lookup.workspace);
    const known = recorded?.agent_key === agentKey ? recorded : undefined;
    const answer: WorkspaceContextResult = await lookup.client.context({ instructionFiles: known === undefined, timeoutMs: lookupTimeoutMs });
    let instructionFiles = known?.instruction_files;
    if (instructionFiles === undefined) {
      instructionFiles = answer.instruction_files;
      await recordInjectedContext(pool, chatId, {
        agent_key: agentKey,
        workspace_id: lookup.workspace.id,
        os: answer.os,
        home_directory: answer.home_directory,
        workspace_directory: answer.workspace_directory,
        instruction_files: instructionFiles,
        recorded_at: new Date().toISOString(),
      });
    }
    remember(agentKey, answer.skills);
    return { instructionFiles, skills: answer.skills };
  }

  async function workspaceSections(chatId: string, row: ChatContextRow): Promise<WorkspaceSections | undefined> {
    if (row.workspace_id === null || row.build_number === null || row.workspace_status !== 'running') return undefined;
    const recorded = parseInjectedContext(row.last_injected_context);
    const agentKey = agentKeyOf({ id: row.workspace_id, build_number: row.build_number });
    const current = recorded?.agent_key === agentKey ? recorded : undefined;
    const listing = skillListings.get(agentKey);
    // Nothing changed: no agent call at all.
    if (current !== undefined && listing !== undefined && Date.now() - listing.readAt < ttlMs) return { instructionFiles: current.instruction_files, skills: listing.skills };
    try {
      return await withTimeout(lookUp(chatId, recorded), lookupTimeoutMs, 'the workspace context lookup');
    } catch (error) {
      options.logger?.warn({ err: error, chat_id: chatId }, 'workspace context lookup failed; the step goes on without it');
      // The agent did not answer: what was recorded for it still holds.
      return current === undefined ? undefined : { instructionFiles: current.instruction_files, skills: listing?.skills ?? [] };
    }
  }

  return {
    async promptSections({ chatId }) {
      try {
        const { rows } = await pool.query<ChatContextRow>(
          `SELECT c.owner_id, c.last_injected_context, w.id AS workspace_id, w.build_number, w.status AS workspace_status
             FROM chats c LEFT JOIN workspaces w ON w.id = c.workspace_id
            WHERE c.id = $1`,
          [chatId],
        );
        const row = rows[0];
        if (row === undefined) return [];
        const [workspace, personal] = await Promise.all([workspaceSections(chatId, row), listUserSkills(pool, row.owner_id)]);
        const sections = (workspace?.instructionFiles ?? []).map(renderInstructionFile);
        const index = renderSkillIndex(buildSkillIndex(workspace?.skills ?? [], personal));
        if (index !== undefined) sections.push(index);
        return sections;
      } catch (error) {
        // The prompt context is an addition: a step never fails for want of it.
        options.logger?.warn({ err: error, chat_id: chatId }, 'could not build the chat context; the step goes on without it');
        return [];
      }
    },
  };
}
