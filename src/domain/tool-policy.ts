/**
 * Which tools a chat may use in a turn: the gating matrix of the reference system, decided
 * from the chat's role (root or sub-agent, plan mode, sub-agent type). One decision serves
 * the tools offered to the model, the disposition of the calls it makes, and the system
 * prompt, so they never disagree. Workflow-safe: imports zod only.
 */
import { z } from 'zod';

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
type ToolGroup = 'read' | 'write' | 'workspace-setup' | 'workspace-stop' | 'plan' | 'question' | 'delegate' | 'manage' | 'advisor';

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
  process_list: 'manage',
  process_signal: 'manage',
  message_agent: 'manage',
  interrupt_agent: 'manage',
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
    case 'workspace-stop':
    case 'manage':
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

/** Workspace and remote MCP tools: never in plan mode or for read-only sub-agents. */
export function mcpToolsAllowed(role: ChatRole): boolean {
  return !role.planMode && !isReadOnly(role);
}

/** Client-executed tools declared on the chat: skipped in plan mode and for read-only sub-agents. */
export function dynamicToolsAllowed(role: ChatRole): boolean {
  return !role.planMode && !isReadOnly(role);
}

/** Tools whose success ends the turn in this role (the plan hand-off and the question). */
export function stopsTurnAfter(name: string, role: ChatRole): boolean {
  return !role.isChild && role.planMode && (name === 'propose_plan' || name === 'ask_user_question');
}

/** In plan mode, writes are limited to Markdown files: the plan is the only thing to write. */
export function planModeAllowsWrite(path: string): boolean {
  return path.toLowerCase().endsWith('.md');
}

export const ROOT_CHAT: ChatRole = { isChild: false, planMode: false, agentType: null };

function assertNever(value: never): never {
  throw new Error(`unexpected tool group: ${String(value)}`);
}
