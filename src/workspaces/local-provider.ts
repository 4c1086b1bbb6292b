/**
 * The local workspace provider (kind `local`, the default): a workspace is a directory on the
 * worker's host served by a `chatd agent` process.
 *
 *   <dataDir>/workspaces/<workspace id>/root         the files; the agent's --root
 *   <dataDir>/workspaces/<workspace id>/home         the agent's and its commands' HOME
 *   <dataDir>/workspaces/<workspace id>/agent/       the agent's state dir: token, agent.json, agent.log
 *   <dataDir>/workspaces/<workspace id>/agent.pgid   the process group of the agent spawned last
 *   <dataDir>/workspaces/<workspace id>/seeded       written once the template's files are in place
 *
 * The agent is detached (its own process group), so it outlives the worker that started it and
 * any later operation finds it again through agent.json. Every worker that runs a workspace's
 * operations must therefore share the data directory, i.e. run on the same host.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentClient } from '../agent/agent-client.js';
import { type AgentInfo } from '../agent/agent-protocol.js';
import { agentInfoPath, agentTokenPath, readAgentInfo } from '../agent/agent-state.js';
import { spawnAgent } from '../agent/spawn-agent.js';
import { runStartupScript } from './startup-script.js';
import { type WorkspaceBudgets, workspaceBudgets } from './workspace-budgets.js';
import {
  type AgentAddress,
  type BuildContext,
  type InspectedWorkspace,
  type ProviderContext,
  type StartedWorkspace,
  type WorkspaceProvider,
  WorkspaceProviderError,
  type WorkspaceSpec,
} from './workspace-provider.js';
import { type WorkspaceTemplate } from './workspace-template.js';
import { processExists } from '../agent/process-group.js';

/** How long a stopping agent gets to end its commands before its process group is killed. */
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_CHARS = 2_000;

export interface LocalProviderOptions {
  /** chatd's data directory (CHATD_DATA_DIR); workspaces live in its `workspaces/` folder. */
  dataDir: string;
  budgets?: Partial<WorkspaceBudgets>;
  /** Added to the agents' environment. */
  agentEnv?: Record<string, string>;
}

export interface LocalWorkspacePaths {
  directory: string;
  root: string;
  /**
   * The workspace's own home directory. Every local workspace runs as chatd's OS user; with
   * one HOME between them, a file one chat's model writes to `~` (an `~/AGENTS.md`, a git
   * config, shell history) would reach every other user's chats.
   */
  home: string;
  stateDir: string;
  logFile: string;
  agentFile: string;
  tokenFile: string;
  pgidFile: string;
  seededMarker: string;
}

type RecordedAgent = Pick<AgentInfo, 'url' | 'pid'>;

export class LocalWorkspaceProvider implements WorkspaceProvider {
  readonly kind = 'local';
  private readonly budgets: WorkspaceBudgets;
  private readonly workspacesDir: string;

  constructor(private readonly options: LocalProviderOptions) {
    this.budgets = workspaceBudgets(options.budgets);
    this.workspacesDir = path.join(path.resolve(options.dataDir), 'workspaces');
  }

  paths(workspaceId: string): LocalWorkspacePaths {
    // Ids come from the database, but they become paths: never let one climb out.
    if (!/^[0-9a-f-]{36}$/i.test(workspaceId)) throw new Error(`not a workspace id: ${workspaceId}`);
    const directory = path.join(this.workspacesDir, workspaceId);
    const stateDir = path.join(directory, 'agent');
    return {
      directory,
      root: path.join(directory, 'root'),
      home: path.join(directory, 'home'),
      stateDir,
      logFile: path.join(stateDir, 'agent.log'),
      agentFile: agentInfoPath(stateDir),
      tokenFile: agentTokenPath(stateDir),
      pgidFile: path.join(directory, 'agent.pgid'),
      seededMarker: path.join(directory, 'seeded'),
    };
  }

  /** A local create is a start: `start` seeds the files when they never were, so a create that crashed before seeding completes on any later start. */
  async create(spec: WorkspaceSpec, context: BuildContext): Promise<StartedWorkspace> {
    return this.start(spec, context);
  }

  async start(spec: WorkspaceSpec, context: BuildContext): Promise<StartedWorkspace> {
    const paths = this.paths(spec.id);
    context.heartbeat({ phase: 'build' });
    await this.seed(paths, spec.template);
    const agent = (await this.liveAgent(paths)) ?? (await this.spawn(paths, context));
    const startup = await runStartupScript({
      client: this.client(agent),
      buildId: context.buildId,
      script: spec.template.startup_script,
      workdir: paths.root,
      parameters: spec.parameters,
      extraEnv: { CHATD_WORKSPACE_ID: spec.id, CHATD_WORKSPACE_NAME: spec.name },
      budgetMs: this.budgets.startupScriptMs,
      pollMs: this.budgets.pollMs,
      context,
    });
    return { agent, ...startup };
  }

  async stop(spec: WorkspaceSpec, context: ProviderContext): Promise<void> {
    const paths = this.paths(spec.id);
    context.heartbeat({ phase: 'stopping' });
    const live = await this.liveAgent(paths);
    if (live !== undefined) {
      // The agent ends every process group it started, then exits.
      await this.client(live)
        .shutdown()
        .catch(() => undefined);
      const pid = live.pid;
      if (pid !== null) await waitUntil(() => !processExists(pid), STOP_GRACE_MS, context.signal);
    }
    await this.terminate(paths, context.signal, spec.agent?.pid ?? undefined);
  }

  async inspect(spec: WorkspaceSpec): Promise<InspectedWorkspace> {
    const paths = this.paths(spec.id);
    const recorded = await readAgentFile(paths);
    if (recorded === undefined || !processExists(recorded.pid)) return { state: 'stopped' };
    const token = await readToken(paths);
    if (token === undefined) return { state: 'unreachable', detail: 'the agent token file is missing' };
    try {
      await this.probe({ url: recorded.url, token });
      return { state: 'running', agent: { url: recorded.url, token, pid: recorded.pid } };
    } catch (error) {
      return { state: 'unreachable', detail: (error as Error).message };
    }
  }

  private client(agent: Pick<AgentAddress, 'url' | 'token'>): AgentClient {
    return new AgentClient({ url: agent.url, token: agent.token, dialTimeoutMs: this.budgets.dialTimeoutMs });
  }

  /** Resolves when the agent answers `health()` within the dial budget: a hung agent must not hold a probe for the client's default 30 s. */
  private async probe(agent: Pick<AgentAddress, 'url' | 'token'>): Promise<void> {
    await new AgentClient({ url: agent.url, token: agent.token, dialTimeoutMs: this.budgets.dialTimeoutMs, requestTimeoutMs: this.budgets.dialTimeoutMs }).health();
  }

  /** Writes the template's files once. A file already there (a retry, or the user's edit) is never overwritten. */
  private async seed(paths: LocalWorkspacePaths, template: WorkspaceTemplate): Promise<void> {
    await mkdir(paths.root, { recursive: true });
    if (existsSync(paths.seededMarker)) return;
    for (const [relative, content] of Object.entries(template.files ?? {})) {
      const target = path.join(paths.root, relative);
      if (!target.startsWith(paths.root + path.sep)) throw new WorkspaceProviderError(`Template file path "${relative}" leaves the workspace root.`);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    }
    await writeFile(paths.seededMarker, `${new Date().toISOString()}\n`);
  }

  /** The agent recorded in agent.json, when it is alive and answers with the token on disk. */
  private async liveAgent(paths: LocalWorkspacePaths): Promise<AgentAddress | undefined> {
    const recorded = await readAgentFile(paths);
    if (recorded === undefined || !processExists(recorded.pid)) return undefined;
    const token = await readToken(paths);
    if (token === undefined) return undefined;
    try {
      await this.probe({ url: recorded.url, token });
      return { url: recorded.url, token, pid: recorded.pid };
    } catch {
      return undefined;
    }
  }

  /** Starts a new agent (ending any stale one) and waits until it answers. */
  private async spawn(paths: LocalWorkspacePaths, context: BuildContext): Promise<AgentAddress> {
    await this.terminate(paths, context.signal);
    const token = randomBytes(32).toString('base64url');
    await mkdir(paths.home, { recursive: true, mode: 0o700 });
    const { pid: pgid } = await spawnAgent({
      root: paths.root,
      stateDir: paths.stateDir,
      token,
      logFile: paths.logFile,
      // The operator's agent environment may still name another HOME on purpose.
      env: { HOME: paths.home, ...this.options.agentEnv },
    });
    await writeFile(paths.pgidFile, `${pgid}\n`);
    const deadline = Date.now() + this.budgets.agentConnectMs;
    let problem = 'it has not written agent.json yet';
    for (;;) {
      context.signal.throwIfAborted();
      context.heartbeat({ phase: 'agent_connecting' });
      if (!processExists(-pgid)) throw new WorkspaceProviderError(`The workspace agent exited while starting. The end of its log:\n${await logTail(paths)}`);
      const recorded = await readAgentFile(paths);
      if (recorded?.pid === pgid) {
        try {
          await this.probe({ url: recorded.url, token });
          return { url: recorded.url, token, pid: recorded.pid };
        } catch (error) {
          problem = (error as Error).message;
        }
      }
      if (Date.now() >= deadline) {
        await this.terminate(paths, context.signal);
        throw new WorkspaceProviderError(`The workspace agent did not answer within ${Math.round(this.budgets.agentConnectMs / 1000)} s (${problem}). The end of its log:\n${await logTail(paths)}`);
      }
      await sleep(this.budgets.localAgentPollMs, undefined, { signal: context.signal });
    }
  }

  /**
   * Ends whatever agent this workspace has: SIGTERM to the agent (it ends its commands' process
   * groups), then SIGKILL to its process group after a grace period (commands in groups of their
   * own survive that last resort). Processes are signalled
   * only while their command line names this workspace, so a recycled pid is left alone.
   */
  private async terminate(paths: LocalWorkspacePaths, signal: AbortSignal, recordedPid?: number): Promise<void> {
    const recorded = await readAgentFile(paths);
    // The agent leads its own process group, so the pid the database recorded names the group too.
    const pgid = (await readPgid(paths)) ?? recordedPid;
    const agentPid = recorded !== undefined && processExists(recorded.pid) && (await runsIn(recorded.pid, paths)) ? recorded.pid : undefined;
    const group = pgid !== undefined && processExists(-pgid) && (agentPid !== undefined || (await runsIn(pgid, paths))) ? pgid : undefined;
    const running = () => (agentPid !== undefined && processExists(agentPid)) || (group !== undefined && processExists(-group));
    // SIGCONT after SIGTERM: a stopped (hung) agent would otherwise hold the signal until it is killed.
    if (agentPid !== undefined) {
      kill(agentPid, 'SIGTERM');
      kill(agentPid, 'SIGCONT');
    } else if (group !== undefined) {
      kill(-group, 'SIGTERM');
      kill(-group, 'SIGCONT');
    }
    await waitUntil(() => !running(), STOP_GRACE_MS, signal);
    if (running()) {
      if (group !== undefined) kill(-group, 'SIGKILL');
      if (agentPid !== undefined) kill(agentPid, 'SIGKILL');
      await waitUntil(() => !running(), STOP_GRACE_MS, signal);
    }
    await rm(paths.agentFile, { force: true });
    await rm(paths.pgidFile, { force: true });
  }
}

async function readAgentFile(paths: LocalWorkspacePaths): Promise<RecordedAgent | undefined> {
  // Written atomically by the agent; anything unreadable counts as no agent.
  return readAgentInfo(paths.stateDir).catch(() => undefined);
}

async function readToken(paths: LocalWorkspacePaths): Promise<string | undefined> {
  const token = (await readFile(paths.tokenFile, 'utf8').catch(() => '')).trim();
  return token === '' ? undefined : token;
}

async function readPgid(paths: LocalWorkspacePaths): Promise<number | undefined> {
  const pgid = Number.parseInt(await readFile(paths.pgidFile, 'utf8').catch(() => ''), 10);
  return Number.isSafeInteger(pgid) && pgid > 1 ? pgid : undefined;
}

async function logTail(paths: LocalWorkspacePaths): Promise<string> {
  const log = await readFile(paths.logFile, 'utf8').catch(() => '(no log)');
  return log.length <= LOG_TAIL_CHARS ? log : `…${log.slice(-LOG_TAIL_CHARS)}`;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Whether the process's command line names this workspace's state dir (true where /proc is unavailable). */
async function runsIn(pid: number, paths: LocalWorkspacePaths): Promise<boolean> {
  if (!existsSync('/proc/self/cmdline')) return true;
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return commandLine.includes(paths.stateDir);
}

async function waitUntil(done: () => boolean, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(50, undefined, { signal });
}
