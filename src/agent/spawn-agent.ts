/**
 * Starting a workspace agent (what `chatd agent` runs) as a detached process: its own process group
 * and session, output to a log file, not waited on, so it survives the worker that spawned
 * it. Readiness is signalled by <stateDir>/agent.json (see waitForAgentReady).
 *
 * The agent's environment is built from an allowlist plus the workspace's own variables:
 * chatd's secrets (database URL, key-sealing key, provider keys) must never reach a command
 * the model runs.
 */
import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { agentLaunchEnvironment } from './agent-environment.js';
import { agentTokenPath } from './agent-state.js';
import { writeFileAtomically } from './atomic-write.js';

export interface SpawnAgentOptions {
  /** The workspace directory every command and file operation is confined to. */
  root: string;
  /** Holds the token, agent.json and the execution ledger; created if missing. */
  stateDir: string;
  token: string;
  /** The agent's stdout and stderr (JSON log lines) are appended here. */
  logFile: string;
  /** The workspace's own environment variables, on top of the allowlist. */
  env?: Record<string, string>;
}

/**
 * The command line that runs the agent: its light entrypoint (agent-cli), the same agent as
 * `chatd agent` without the rest of chatd. From TypeScript sources (this module is a .ts file)
 * it runs through tsx, imported by absolute URL; compiled, the .js file. Paths come from this
 * module's URL, never the working directory.
 */
export function agentCommandLine(options: { root: string; stateDir: string }): { command: string; args: string[]; cwd: string } {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? './agent-cli.ts' : './agent-cli.js', import.meta.url));
  const stateDir = path.resolve(options.stateDir);
  const agentArgs = ['--root', path.resolve(options.root), '--state-dir', stateDir];
  if (!fromSource) return { command: process.execPath, args: [entry, ...agentArgs], cwd: stateDir };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  // tsx reads the tsconfig.json it finds from the working directory up: make that chatd's own.
  const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
  return { command: process.execPath, args: ['--import', tsx, entry, ...agentArgs], cwd: packageRoot };
}

export async function spawnAgent(options: SpawnAgentOptions): Promise<{ pid: number }> {
  const stateDir = path.resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFileAtomically(agentTokenPath(stateDir), options.token, { mode: 0o600 });
  await mkdir(path.dirname(path.resolve(options.logFile)), { recursive: true });
  const log = await open(options.logFile, 'a', 0o600);
  try {
    const { command, args, cwd } = agentCommandLine(options);
    const child = spawn(command, args, {
      cwd,
      env: agentLaunchEnvironment(process.env, options.env),
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    return { pid: child.pid! };
  } finally {
    await log.close();
  }
}
