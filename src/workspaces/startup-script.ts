/**
 * Runs a template's startup script through a workspace agent and waits for it, for any
 * provider whose agent is up. The script runs in the background under an execute id derived
 * from the build, so a retried build attaches to the same run (the agent's execute is
 * exactly-once per id) instead of starting it again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type AgentClient } from '../agent/agent-client.js';
import { parameterVariable } from './workspace-template.js';
import { type ProviderContext, type StartedWorkspace } from './workspace-provider.js';

/** How much of a failed script's output the model gets: its end, where the error usually is. */
export const STARTUP_OUTPUT_TAIL_CHARS = 2_000;

export interface StartupScriptRun {
  client: AgentClient;
  buildId: string;
  script: string | undefined;
  workdir: string;
  /** Exported to the script: template parameters as CHATD_PARAM_<NAME>, plus anything the provider adds. */
  parameters: Record<string, string>;
  extraEnv?: Record<string, string>;
  budgetMs: number;
  pollMs: number;
  context: ProviderContext;
}

function startupExecuteId(buildId: string): string {
  return `startup:${buildId}`;
}

/** Single-quotes a value for POSIX sh. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The command the agent runs: the variables exported, then the script unchanged. */
export function startupCommand(script: string, parameters: Record<string, string>, extraEnv: Record<string, string> = {}): string {
  const variables = { ...extraEnv, ...Object.fromEntries(Object.entries(parameters).map(([name, value]) => [parameterVariable(name), value])) };
  const exports = Object.entries(variables).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  return [...exports, script].join('\n');
}

const tail = (output: string): string => (output.length <= STARTUP_OUTPUT_TAIL_CHARS ? output : `…${output.slice(-STARTUP_OUTPUT_TAIL_CHARS)}`);

export async function runStartupScript(run: StartupScriptRun): Promise<Pick<StartedWorkspace, 'agentStatus' | 'startup'>> {
  if (run.script === undefined || run.script.trim() === '') return { agentStatus: 'ready' };
  const { client, context } = run;
  context.heartbeat({ phase: 'startup_script' });
  const deadline = Date.now() + run.budgetMs;
  const started = await client.execute({
    id: startupExecuteId(run.buildId),
    command: startupCommand(run.script, run.parameters, run.extraEnv),
    workdir: run.workdir,
    // Past our own budget, so the timeout below is ours to report; the agent then ends the script.
    timeoutMs: run.budgetMs + 2 * run.pollMs,
    background: true,
  });
  const processId = started.background_process_id;
  if (processId === undefined) {
    // It never went to the background: it could not start, or it already finished.
    if (started.success && started.exit_code === 0) return { agentStatus: 'ready' };
    return { agentStatus: 'startup_scripts_failed', startup: { exitCode: started.exit_code ?? null, outputTail: tail([started.output, started.error].filter(Boolean).join('\n')) } };
  }
  let output = started.output;
  for (;;) {
    context.signal.throwIfAborted();
    context.heartbeat({ phase: 'startup_script' });
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { agentStatus: 'startup_scripts_timeout', startup: { exitCode: null, outputTail: tail(output) } };
    const polledAt = Date.now();
    const status = await client.processOutput({ processId, waitTimeoutMs: Math.min(run.pollMs, remaining) });
    output = status.output;
    if (!status.running) {
      if (status.exit_code === 0) return { agentStatus: 'ready' };
      return { agentStatus: 'startup_scripts_failed', startup: { exitCode: status.exit_code ?? null, outputTail: tail(output) } };
    }
    // The agent may answer at once instead of waiting; poll at most every pollMs either way.
    const waited = Date.now() - polledAt;
    if (waited < run.pollMs) await sleep(Math.min(run.pollMs - waited, Math.max(0, deadline - Date.now())), undefined, { signal: context.signal });
  }
}
