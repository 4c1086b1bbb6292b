import { describe, expect, it } from 'vitest';
import { builtinToolAllowed, dynamicToolsAllowed, mcpToolAllowed, mcpToolsPossible, planModeAllowsWrite, ROOT_CHAT, stopsTurnAfter, type ChatRole } from './tool-policy.js';

const planRoot: ChatRole = { isChild: false, planMode: true, agentType: null };
const generalChild: ChatRole = { isChild: true, planMode: false, agentType: 'general' };
const exploreChild: ChatRole = { isChild: true, planMode: false, agentType: 'explore' };
const planChild: ChatRole = { isChild: true, planMode: true, agentType: 'general' };

const allowed = (role: ChatRole, names: string[]) => names.filter((name) => builtinToolAllowed(name, role));

const ALL = [
  'read_file', 'execute', 'process_output', 'read_skill', 'read_skill_file', 'write_file', 'edit_files', 'attach_file',
  'list_templates', 'read_template', 'create_workspace', 'start_workspace', 'stop_workspace', 'propose_plan', 'ask_user_question',
  'spawn_agent', 'wait_agent', 'list_agents', 'process_list', 'process_signal', 'message_agent', 'interrupt_agent', 'advisor',
];
const READ = ['read_file', 'execute', 'process_output', 'read_skill', 'read_skill_file'];

describe('the tool gating matrix', () => {
  it('gives a root chat everything but the planning tools', () => {
    expect(allowed(ROOT_CHAT, ALL)).toEqual(ALL.filter((name) => name !== 'propose_plan' && name !== 'ask_user_question'));
  });

  it('gives a root chat in plan mode the planning tools and delegation, but no process control, steering, stopping or advisor', () => {
    expect(allowed(planRoot, ALL)).toEqual([...READ, 'write_file', 'edit_files', 'attach_file', 'list_templates', 'read_template', 'create_workspace', 'start_workspace', 'propose_plan', 'ask_user_question', 'spawn_agent', 'wait_agent', 'list_agents']);
  });

  it('lets a general sub-agent write and manage its processes, but not set up workspaces or delegate', () => {
    expect(allowed(generalChild, ALL)).toEqual([...READ, 'write_file', 'edit_files', 'attach_file', 'process_list', 'process_signal']);
  });

  it('keeps explore sub-agents and sub-agents of a planning chat read-only, with no workspace MCP or client tools', () => {
    for (const role of [exploreChild, planChild]) {
      expect(allowed(role, ALL)).toEqual(READ);
      expect(mcpToolAllowed({ kind: 'workspace' }, role)).toBe(false);
      expect(dynamicToolsAllowed(role)).toBe(false);
    }
    // An explore sub-agent keeps the remote servers its chat took from its parent; a planning one gets none.
    expect([{ kind: 'remote' as const, allowInPlanMode: false }, { kind: 'remote' as const, allowInPlanMode: true }].map((source) => mcpToolAllowed(source, exploreChild))).toEqual([true, true]);
    expect(mcpToolsPossible(planChild)).toBe(false);
    expect(mcpToolAllowed({ kind: 'remote', allowInPlanMode: true }, planChild)).toBe(false);
  });

  it('offers a root chat in plan mode only the MCP servers allowed in plan mode, never the workspace’s', () => {
    const workspace = { kind: 'workspace' as const };
    const allowedRemote = { kind: 'remote' as const, allowInPlanMode: true };
    const otherRemote = { kind: 'remote' as const, allowInPlanMode: false };
    expect([workspace, allowedRemote, otherRemote].map((source) => mcpToolAllowed(source, planRoot))).toEqual([false, true, false]);
    expect([workspace, allowedRemote, otherRemote].map((source) => mcpToolAllowed(source, ROOT_CHAT))).toEqual([true, true, true]);
    expect([workspace, allowedRemote, otherRemote].map((source) => mcpToolAllowed(source, generalChild))).toEqual([true, true, true]);
    expect(mcpToolsPossible(planRoot)).toBe(true);
    expect(dynamicToolsAllowed(planRoot)).toBe(false);
  });

  it('ends a plan-mode root turn after a proposal or a question, and no other turn', () => {
    expect(stopsTurnAfter('propose_plan', planRoot)).toBe(true);
    expect(stopsTurnAfter('ask_user_question', planRoot)).toBe(true);
    expect(stopsTurnAfter('propose_plan', ROOT_CHAT)).toBe(false);
    expect(stopsTurnAfter('execute', planRoot)).toBe(false);
  });
});

describe('writes in plan mode', () => {
  it('allow Markdown plans but not code, instruction files or skills', () => {
    expect(planModeAllowsWrite('PLAN.md')).toBe(true);
    expect(planModeAllowsWrite('docs/plan.MD')).toBe(true);
    expect(planModeAllowsWrite('src/main.ts')).toBe(false);
    expect(planModeAllowsWrite('AGENTS.md')).toBe(false);
    expect(planModeAllowsWrite('sub/CLAUDE.md')).toBe(false);
    expect(planModeAllowsWrite('.github/copilot-instructions.md')).toBe(false);
    expect(planModeAllowsWrite('.agents/skills/deploy/SKILL.md')).toBe(false);
  });
});
