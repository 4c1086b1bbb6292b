/**
 * Process groups: every command runs as the leader of its own group, so signalling the group
 * reaches everything the command started (pipelines, `&` children, test runners' workers).
 *
 * Whether a group still has living members is read from /proc where it exists: orphaned
 * members that died become zombies until something reaps them, and in containers whose
 * PID 1 does not reap, `kill(-pgid, 0)` would report those zombies as alive forever.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Sends `signal` to every process in the group (0 only probes); false when the group no longer exists. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    // The group exists, but holds processes the agent may not signal (another user's).
    if (code === 'EPERM') return true;
    throw error;
  }
}

/** `/proc/<pid>/stat`: "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses. */
function parseStat(stat: string): { state: string; pgrp: number } | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  return fields[0] === undefined || !Number.isInteger(pgrp) ? undefined : { state: fields[0], pgrp };
}

/** Pids of the group's members that are not zombies, or undefined without /proc. */
async function livingMembersFromProc(pgid: number): Promise<number[] | undefined> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  const members: number[] = [];
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
        const parsed = stat === undefined ? undefined : parseStat(stat);
        if (parsed !== undefined && parsed.pgrp === pgid && parsed.state !== 'Z' && parsed.state !== 'X') members.push(Number(entry));
      }),
  );
  return members;
}

export async function processGroupAlive(pgid: number): Promise<boolean> {
  if (!signalProcessGroup(pgid, 0)) return false;
  const members = await livingMembersFromProc(pgid);
  return members === undefined ? true : members.length > 0;
}

const POLL_MS = 50;

/**
 * Asks every group to stop (SIGTERM), waits up to `graceMs` for them to be gone, then kills
 * whatever is left (SIGKILL). Resolves once the groups are gone or have been sent SIGKILL.
 */
export async function stopProcessGroups(pgids: Iterable<number>, graceMs: number): Promise<void> {
  let remaining = [...new Set(pgids)].filter((pgid) => signalProcessGroup(pgid, 'SIGTERM'));
  const deadline = Date.now() + graceMs;
  while (remaining.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const alive = await Promise.all(remaining.map((pgid) => processGroupAlive(pgid)));
    remaining = remaining.filter((_pgid, index) => alive[index]);
  }
  for (const pgid of remaining) signalProcessGroup(pgid, 'SIGKILL');
}

/** Whether a process (pid > 0) or process group (pid < 0) exists; EPERM means it does. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
