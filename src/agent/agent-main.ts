/**
 * `chatd agent`: the workspace agent process. One per workspace, long-lived, started detached
 * by spawnAgent so that it outlives the worker that started it.
 *
 * Lifecycle: read the token, listen on 127.0.0.1 (port 0), then write agent.json atomically;
 * its appearance is the readiness signal. On SIGTERM/SIGINT or POST /v1/shutdown: end every
 * process group the agent started (SIGTERM, SIGKILL after KILL_GRACE_MS) and close the
 * workspace's MCP servers (which ends their processes), remove agent.json, exit 0.
 */
import { constants } from 'node:fs';
import { access, readFile, rm } from 'node:fs/promises';
import { type AddressInfo } from 'node:net';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import { createLogger, type Logger } from '../logger.js';
import { commandEnvironment } from './agent-environment.js';
import { type AgentInfo } from './agent-protocol.js';
import { createAgentApp } from './agent-server.js';
import { agentInfoPath, agentTokenPath, executionLedgerPath, readAgentInfo } from './agent-state.js';
import { writeFileAtomically } from './atomic-write.js';
import { BackgroundProcesses } from './background-processes.js';
import { CommandExecutions, KILL_GRACE_MS } from './command-executions.js';
import { ExecutionLedger } from './execution-ledger.js';
import { WorkspaceMcp } from './workspace-mcp.js';
import { openWorkspaceRoot } from './workspace-path.js';

export interface RunAgentOptions {
  root: string;
  stateDir: string;
  logger?: Logger;
}

/** Models write bash more often than POSIX sh; use bash where the workspace has it. */
async function findShell(): Promise<string> {
  for (const candidate of ['/bin/bash', '/usr/bin/bash']) {
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return '/bin/sh';
}

async function readToken(stateDir: string): Promise<string> {
  // Exactly the bytes spawnAgent wrote; a newline at the end of a hand-written file is not part of it.
  const token = (await readFile(agentTokenPath(stateDir), 'utf8')).replace(/\r?\n$/, '');
  if (token === '') throw new Error(`the agent token file ${agentTokenPath(stateDir)} is empty`);
  return token;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Starts the agent and resolves once it is ready (agent.json written). The process then lives
 * until it is told to stop, and exits 0 after stopping.
 */
export async function runAgent(options: RunAgentOptions): Promise<AgentInfo> {
  const logger = options.logger ?? createLogger('info', 'chatd-agent');
  const stateDir = path.resolve(options.stateDir);
  const root = await openWorkspaceRoot(options.root).catch((error: unknown) => {
    throw new Error(`cannot open the workspace root ${path.resolve(options.root)}: ${(error as Error).message}`);
  });
  const token = await readToken(stateDir);
  const ledger = await ExecutionLedger.open(executionLedgerPath(stateDir));
  const processes = new BackgroundProcesses();
  // spawnAgent built this environment from an allowlist: no chatd secret is in it.
  const environment = commandEnvironment(process.env);
  const executions = new CommandExecutions({ root, ledger, processes, shell: await findShell(), environment });
  const mcp = new WorkspaceMcp({ root, environment, logger });
  const startedAt = new Date();

  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> =>
    (stopping ??= (async () => {
      logger.info({ reason }, 'stopping: ending every process group and MCP server this agent started');
      await Promise.all([executions.stopAll(KILL_GRACE_MS), mcp.close()]);
      // A newer agent may have taken over this state directory; its agent.json stays.
      const info = await readAgentInfo(stateDir).catch(() => undefined);
      if (info?.pid === process.pid) await rm(agentInfoPath(stateDir), { force: true });
      await ledger.close();
      logger.info('stopped');
    })());
  const stopAndExit = (reason: string) => {
    stop(reason).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'could not stop cleanly');
        process.exit(1);
      },
    );
  };

  const app = createAgentApp({ token, root, startedAt, executions, processes, mcp, logger, stop, afterShutdownAnswered: () => process.exit(0) });
  const server = createServer(app);
  const url = await listen(server);
  const info: AgentInfo = { url, pid: process.pid, started_at: startedAt.toISOString() };
  await writeFileAtomically(agentInfoPath(stateDir), `${JSON.stringify(info)}\n`, { mode: 0o600 });
  process.once('SIGTERM', () => stopAndExit('SIGTERM'));
  process.once('SIGINT', () => stopAndExit('SIGINT'));
  logger.info({ url, root: root.path, shell: executions.shell }, 'workspace agent ready');
  return info;
}
