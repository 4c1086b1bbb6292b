/**
 * The background processes of this agent's life, by process id (`bg-…`): their recent output,
 * whether they still run, and signalling them. Finished ones stay listed (with their exit
 * code) until MAX_FINISHED_KEPT newer ones have finished.
 */
import { randomBytes } from 'node:crypto';
import { AgentError } from './agent-error.js';
import { OUTPUT_CAP_BYTES, type ProcessInfo, type ProcessOutput, type ProcessOutputRequest, type ProcessSignalRequest, type ProcessSignalResult } from './agent-protocol.js';
import { type TailOutput } from './command-output.js';
import { signalProcessGroup } from './process-group.js';
import { type RunningCommand } from './running-command.js';
import { settlesWithin } from './settles-within.js';

const MAX_FINISHED_KEPT = 100;
/** How long process_signal waits to report whether the process is gone. */
const SIGNAL_SETTLE_MS = 2_000;

interface BackgroundProcess {
  id: string;
  command: string;
  running: RunningCommand;
  output: TailOutput;
}

export class BackgroundProcesses {
  private readonly processes = new Map<string, BackgroundProcess>();

  add(command: string, running: RunningCommand, output: TailOutput): string {
    // Random rather than counted, so an id from an earlier agent life never names a new process.
    const id = `bg-${randomBytes(4).toString('hex')}`;
    this.processes.set(id, { id, command, running, output });
    this.forgetOldFinished();
    return id;
  }

  async output(request: ProcessOutputRequest): Promise<ProcessOutput> {
    const entry = this.find(request.process_id);
    await settlesWithin(entry.running.exited, request.wait_timeout_ms);
    const { text, truncated } = entry.output.text(OUTPUT_CAP_BYTES);
    return {
      process_id: entry.id,
      command: entry.command,
      running: entry.running.exit === undefined,
      exit_code: entry.running.exit?.exitCode ?? null,
      output: text,
      truncated,
    };
  }

  list(): ProcessInfo[] {
    return [...this.processes.values()].map((entry) => ({
      process_id: entry.id,
      command: entry.command,
      running: entry.running.exit === undefined,
      exit_code: entry.running.exit?.exitCode ?? null,
      started_at: entry.running.startedAt.toISOString(),
      pid: entry.running.pid,
    }));
  }

  /**
   * Signals the whole process group, even after the leader has exited: children it left
   * behind are still in the group (and Linux does not reuse a pid while its group lives).
   */
  async signal(request: ProcessSignalRequest): Promise<ProcessSignalResult> {
    const entry = this.find(request.process_id);
    const signalled = signalProcessGroup(entry.running.pid, request.signal === 'kill' ? 'SIGKILL' : 'SIGTERM');
    if (signalled) await settlesWithin(entry.running.exited, SIGNAL_SETTLE_MS);
    return { process_id: entry.id, signalled, running: entry.running.exit === undefined };
  }

  private find(processId: string): BackgroundProcess {
    const entry = this.processes.get(processId);
    if (entry === undefined) {
      throw new AgentError(404, `there is no background process "${processId}"; process_list shows the processes this workspace agent knows`);
    }
    return entry;
  }

  private forgetOldFinished(): void {
    const finished = [...this.processes.values()].filter((entry) => entry.running.exit !== undefined);
    for (const entry of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_KEPT))) this.processes.delete(entry.id);
  }
}
