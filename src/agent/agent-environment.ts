/**
 * The environments of the agent and of the commands it runs. The agent is started with an
 * environment built from an allowlist, never a copy of chatd's: chatd holds database URLs
 * and key-sealing secrets, and every command the model runs could print them.
 */

/** The only variables a spawned agent inherits from the process that spawns it. */
export const AGENT_ENVIRONMENT_ALLOWLIST = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'] as const;

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Set for every command: nothing may wait for a person at a prompt, a pager or an editor,
 * and output stays plain text. CHATD_AGENT lets scripts notice they run for an AI agent.
 */
export const NON_INTERACTIVE_ENVIRONMENT: Readonly<Record<string, string>> = {
  GIT_EDITOR: 'true',
  GIT_TERMINAL_PROMPT: '0',
  PAGER: 'cat',
  GIT_PAGER: 'cat',
  TERM: 'dumb',
  NO_COLOR: '1',
  DEBIAN_FRONTEND: 'noninteractive',
  CHATD_AGENT: 'true',
};

/** The allowlisted part of `source`, plus `extra` (the workspace's own variables). */
export function agentLaunchEnvironment(source: Record<string, string | undefined>, extra: Record<string, string> = {}): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of AGENT_ENVIRONMENT_ALLOWLIST) {
    const value = source[name];
    if (value !== undefined) environment[name] = value;
  }
  environment.PATH ??= DEFAULT_PATH;
  return { ...environment, ...extra };
}

/** A command's environment: the agent's own (already scrubbed at launch) plus the non-interactive settings. */
export function commandEnvironment(agentEnvironment: Record<string, string | undefined>): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(agentEnvironment)) if (value !== undefined) environment[name] = value;
  return { ...environment, ...NON_INTERACTIVE_ENVIRONMENT };
}
