/**
 * How long workspace operations may take, in one place. A create or start runs three phases,
 * each with its own budget: the build (the provider makes the workspace exist), the agent
 * connecting, and the template's startup script. Tests shorten them through the service's and
 * provider's constructor options; nothing else should.
 */
export const WORKSPACE_BUDGETS = {
  /** The provider's own work (directories, containers, machines). */
  buildMs: 10 * 60_000,
  /** From starting the agent until it answers `health()`. */
  agentConnectMs: 2 * 60_000,
  /** The startup script, from its launch until it exits. */
  startupScriptMs: 10 * 60_000,
  /** Between polls of a remote build or of a running startup script. */
  pollMs: 2_000,
  /** Between polls for a local agent process: it is up in well under a second, so waiting 2 s would be most of the wait. */
  localAgentPollMs: 100,
  /** Per attempt to reach an agent. */
  dialTimeoutMs: 5_000,
  /** An operation holds the workspace this long past its last renewal; a crashed owner's lease lapses after it. */
  operationLeaseMs: 30_000,
  /** Between attempts to take the workspace from another live operation. */
  operationWaitPollMs: 2_000,
} as const;

export type WorkspaceBudgets = { [K in keyof typeof WORKSPACE_BUDGETS]: number };

export function workspaceBudgets(overrides: Partial<WorkspaceBudgets> = {}): WorkspaceBudgets {
  return { ...WORKSPACE_BUDGETS, ...overrides };
}
