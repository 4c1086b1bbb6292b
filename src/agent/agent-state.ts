/**
 * The agent's state directory: `token` (mode 0600, written by whoever spawns the agent),
 * `agent.json` (written by the agent once it listens, removed when it stops) and
 * `executions.jsonl` (the execute ledger). This module names the files and reads agent.json.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { AgentInfo } from './agent-protocol.js';
import { processExists } from './process-group.js';

export function agentTokenPath(stateDir: string): string {
  return path.join(stateDir, 'token');
}

export function agentInfoPath(stateDir: string): string {
  return path.join(stateDir, 'agent.json');
}

export function executionLedgerPath(stateDir: string): string {
  return path.join(stateDir, 'executions.jsonl');
}

/** The agent.json of a ready agent, or undefined when there is none (not started yet, or stopped). */
export async function readAgentInfo(stateDir: string): Promise<AgentInfo | undefined> {
  let text: string;
  try {
    text = await readFile(agentInfoPath(stateDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return AgentInfo.parse(JSON.parse(text));
}

const POLL_MS = 50;

/**
 * Waits for the agent with process id `pid` to write agent.json. Fails early, pointing at
 * the log, when that process exits first (a bad root, an unreadable token).
 */
export async function waitForAgentReady(options: { stateDir: string; pid: number; timeoutMs: number; logFile?: string }): Promise<AgentInfo> {
  const deadline = Date.now() + options.timeoutMs;
  const seeLog = options.logFile === undefined ? '' : `; see ${options.logFile}`;
  for (;;) {
    const info = await readAgentInfo(options.stateDir);
    if (info?.pid === options.pid) return info;
    if (!processExists(options.pid)) throw new Error(`the workspace agent (pid ${options.pid}) exited before it was ready${seeLog}`);
    if (Date.now() > deadline) throw new Error(`the workspace agent (pid ${options.pid}) was not ready within ${options.timeoutMs} ms${seeLog}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
