/**
 * Which tools a chat may use in a turn: the gating matrix of the reference system, decided
 * from the chat's role (root or sub-agent, plan mode, sub-agent type). One decision serves
 * the tools offered to the model, the disposition of the calls it makes, and the system
 * prompt, so they never disagree. Workflow-safe: imports zod only.
 */
import { z } from 'zod';
import { INSTRUCTION_FILE_NAMES } from './skill.js';

export const AgentType = z.enum(['general', 'explore']);
export type AgentType = z.infer<typeof AgentType>;

export interface ChatRole {
  /** A sub-agent chat has a parent; depth is limited to one. */
  isChild: boolean;
  planMode: boolean;
  /** The sub-agent type of a child chat; null for root chats. */
  agentType: AgentType | null;
}

/** The tool groups of the matrix. Tools that are not listed (none today) fall in `general`. */
type ToolGroup = 'read' | 'write' | 'workspace-setup' | 'workspace-stop' | 'plan' | 'question' | 'delegate' | 'processes' | 'steer-agents' | 'advisor';

const TOOL_GROUPS: Readonly<Record<string, ToolGroup>> = {
  read_file: 'read',
  execute: 'read',
  process_output: 'read',
  read_skill: 'read',
  read_skill_file: 'read',
  write_file: 'write',
  edit_files: 'write',
  attach_file: 'write',
  list_templates: 'workspace-setup',
  read_template: 'workspace-setup',
  create_workspace: 'workspace-setup',
  start_workspace: 'workspace-setup',
  stop_workspace: 'workspace-stop',
  propose_plan: 'plan',
  ask_user_question: 'question',
  spawn_agent: 'delegate',
  wait_agent: 'delegate',
  list_agents: 'delegate',
  process_list: 'processes',
  process_signal: 'processes',
  message_agent: 'steer-agents',
  interrupt_agent: 'steer-agents',
  advisor: 'advisor',
};

/** Read-only roles: explore sub-agents and sub-agents of a chat in plan mode. */
function isReadOnly(role: ChatRole): boolean {
  return role.isChild && (role.agentType === 'explore' || role.planMode);
}

function groupAllowed(group: ToolGroup, role: ChatRole): boolean {
  if (group === 'read') return true;
  if (isReadOnly(role)) return false;
  switch (group) {
    case 'write':
      return true; // in plan mode the tools themselves only accept Markdown plan files
    case 'workspace-setup':
    case 'delegate':
      return !role.isChild;
    case 'plan':
    case 'question':
      return !role.isChild && role.planMode;
    case 'processes':
      // A general sub-agent may start background processes, so it may list and stop them.
      return !role.planMode;
    case 'workspace-stop':
    case 'steer-agents':
    case 'advisor':
      return !role.isChild && !role.planMode;
    default:
      return assertNever(group);
  }
}

/** Whether a built-in tool is active for a chat in this role. */
export function builtinToolAllowed(name: string, role: ChatRole): boolean {
  const group = TOOL_GROUPS[name];
  return group === undefined ? !isReadOnly(role) : groupAllowed(group, role);
}

/**
 * An MCP tool, by where it comes from: every one normally; in a root chat in plan mode only
 * those of remote servers the admin allows in plan mode; for an explore sub-agent only remote
 * ones (the servers its chat took from its parent when it was spawned); never a workspace's
 * server in either; none at all for a plan-mode sub-agent.
 */
export function mcpToolAllowed(source: { kind: 'workspace' | 'remote'; allowInPlanMode?: boolean }, role: ChatRole): boolean {
  if (!mcpToolsPossible(role)) return false;
  if (role.isChild && role.agentType === 'explore') return source.kind === 'remote';
  return !role.planMode || (source.kind === 'remote' && source.allowInPlanMode === true);
}

/** Whether a chat in this role may be offered any MCP tool (else its discovery is not waited for). */
export function mcpToolsPossible(role: ChatRole): boolean {
  return !(role.isChild && role.planMode);
}

/** Client-executed tools declared on the chat: skipped in plan mode and for read-only sub-agents. */
export function dynamicToolsAllowed(role: ChatRole): boolean {
  return !role.planMode && !isReadOnly(role);
}

/** Tools whose success ends the turn in this role (the plan hand-off and the question). */
export function stopsTurnAfter(name: string, role: ChatRole): boolean {
  return !role.isChild && role.planMode && (name === 'propose_plan' || name === 'ask_user_question');
}

/**
 * Instruction files and skills are injected into later prompts (see the chat context), so plan
 * mode may not write them: a plan must not become standing instructions.
 */
const INSTRUCTION_FILE_BASENAMES: ReadonlySet<string> = new Set(INSTRUCTION_FILE_NAMES.map((name) => name.slice(name.lastIndexOf('/') + 1).toLowerCase()));

/** In plan mode, writes are limited to Markdown plan files: the plan is the only thing to write. */
export function planModeAllowsWrite(path: string): boolean {
  const lower = path.toLowerCase();
  const name = lower.slice(lower.lastIndexOf('/') + 1);
  return lower.endsWith('.md') && !INSTRUCTION_FILE_BASENAMES.has(name) && !lower.split('/').includes('.agents');
}

export const ROOT_CHAT: ChatRole = { isChild: false, planMode: false, agentType: null };

function assertNever(value: never): never {
  throw new Error(`unexpected tool group: ${String(value)}`);
}
