/**
 * Ends every workspace agent a test started under a data directory. Agents outlive workers by
 * design, so tests stop them explicitly, whatever state a failed test left them in.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readAgentInfo } from '../../src/agent/agent-state.js';

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

export async function killWorkspaceAgents(dataDir: string | undefined): Promise<void> {
  if (dataDir === undefined || dataDir === '') return;
  const workspaces = path.join(dataDir, 'workspaces');
  const ids = await readdir(workspaces).catch(() => [] as string[]);
  const infos = await Promise.all(ids.map((id) => readAgentInfo(path.join(workspaces, id, 'agent')).catch(() => undefined)));
  const pids = infos.flatMap((info) => (info === undefined ? [] : [info.pid]));
  // SIGTERM lets an agent end its own process groups; then nothing is left to chance.
  for (const pid of pids) signal(pid, 'SIGTERM');
  if (pids.length > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
  for (const pid of pids) signal(-pid, 'SIGKILL');
}
