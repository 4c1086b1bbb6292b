/**
 * The execute operation, and its guarantee: a command starts AT MOST ONCE per execute id.
 *
 * - A repeated id whose command still runs attaches to it and waits (up to the new call's
 *   timeout) for the same result; a repeated id whose command finished gets the recorded result.
 * - Every id is recorded in the ledger, durably, before its command is spawned. An id found
 *   there from an earlier life of the agent gets an "unknown result" answer, never a second run.
 * - The map entry for an id is created synchronously, before the first await, so two
 *   concurrent calls with one id cannot both start the command.
 *
 * Finished results are kept for at least RESULT_RETENTION_MS, or the last RESULT_RETENTION_COUNT
 * executions, whichever keeps more.
 */
import { stat } from 'node:fs/promises';
import { type Logger } from '../logger.js';
import { AgentError, formatBytes } from './agent-error.js';
import { BACKGROUND_OUTPUT_BYTES, OUTPUT_CAP_BYTES, type ExecuteRequest, type ExecuteResult } from './agent-protocol.js';
import { type BackgroundProcesses } from './background-processes.js';
import { HeadOutput, TailOutput } from './command-output.js';
import { type ExecutionLedger } from './execution-ledger.js';
import { processGroupAlive, signalProcessGroup, stopProcessGroups } from './process-group.js';
import { RunningCommand } from './running-command.js';
import { settlesWithin } from './settles-within.js';
import { resolveWorkspacePath, type WorkspaceRoot } from './workspace-path.js';

const RESULT_RETENTION_MS = 24 * 60 * 60 * 1000;
const RESULT_RETENTION_COUNT = 1000;
/** Between SIGTERM and SIGKILL when a command times out or the agent stops. */
export const KILL_GRACE_MS = 2_000;

export const EARLIER_RUN_ERROR =
  'This command was started by an earlier run of the workspace agent; its result is unknown. Check the workspace state before running it again.';
const FORGOTTEN_ERROR =
  'This command was started more than a day ago and its result is no longer kept. Check the workspace state before running it again.';

interface Execution {
  done: Promise<ExecuteResult>;
  finishedAt?: number;
}

export interface CommandExecutionsOptions {
  root: WorkspaceRoot;
  ledger: ExecutionLedger;
  processes: BackgroundProcesses;
  shell: string;
  environment: Record<string, string>;
}

/**
 * A command whose trimmed text ends in a single `&` (not `&&`, not an escaped `\&`) is meant
 * to run in the background; the `&` itself is dropped so the shell does not detach it from us.
 */
export function splitTrailingAmpersand(command: string): { command: string; background: boolean } {
  const trimmed = command.trim();
  if (trimmed.endsWith('&') && !trimmed.endsWith('&&') && !trimmed.endsWith('\\&')) {
    return { command: trimmed.slice(0, -1).trimEnd(), background: true };
  }
  return { command, background: false };
}

function formatSeconds(milliseconds: number): string {
  const seconds = milliseconds / 1000;
  return `${Number.isInteger(seconds) ? seconds : Number(seconds.toFixed(1))}s`;
}

function unknownResult(error: string): ExecuteResult {
  return { success: false, output: '', exit_code: null, wall_duration_ms: 0, truncated: false, error };
}

export class CommandExecutions {
  private readonly executions = new Map<string, Execution>();
  /** Every process group this agent started, so stopping the agent can end them all. */
  private readonly groups = new Set<number>();
  private stopping = false;

  constructor(private readonly options: CommandExecutionsOptions) {}

  get shell(): string {
    return this.options.shell;
  }

  async execute(request: ExecuteRequest, logger: Logger): Promise<ExecuteResult> {
    const existing = this.executions.get(request.id);
    if (existing !== undefined) return this.attach(existing, request.timeout_ms);
    if (this.options.ledger.startedInEarlierLife(request.id)) return unknownResult(EARLIER_RUN_ERROR);
    if (this.options.ledger.startedInThisLife(request.id)) return unknownResult(FORGOTTEN_ERROR);
    if (this.stopping) throw new AgentError(503, 'the workspace agent is shutting down; start the workspace again');

    const execution: Execution = { done: this.start(request, logger.child({ execution_id: request.id })) };
    this.executions.set(request.id, execution);
    void execution.done.then(
      () => {
        execution.finishedAt = Date.now();
        this.forgetOldResults();
      },
      // Nothing was started (bad request, ledger unwritable): the id stays free to try again.
      () => this.executions.delete(request.id),
    );
    return execution.done;
  }

  /** Ends every process group this agent started: SIGTERM, then SIGKILL after `graceMs`. */
  async stopAll(graceMs: number): Promise<void> {
    this.stopping = true;
    await stopProcessGroups(this.groups, graceMs);
  }

  private async attach(execution: Execution, timeoutMs: number): Promise<ExecuteResult> {
    if (await settlesWithin(execution.done, timeoutMs)) return execution.done;
    return {
      ...unknownResult(
        `The command started by an earlier call with this id is still running after ${formatSeconds(timeoutMs)} of waiting. Call execute again with the same id to keep waiting for it.`,
      ),
      wall_duration_ms: timeoutMs,
    };
  }

  private async start(request: ExecuteRequest, logger: Logger): Promise<ExecuteResult> {
    const split = splitTrailingAmpersand(request.command);
    const background = request.background || split.background;
    if (split.command.trim() === '') throw new AgentError(400, 'command is empty');
    const cwd = await this.resolveWorkdir(request.workdir);

    const startedAt = new Date();
    await this.options.ledger.record(request.id, startedAt);
    const output = background ? new TailOutput(BACKGROUND_OUTPUT_BYTES) : new HeadOutput(OUTPUT_CAP_BYTES);
    let running: RunningCommand;
    try {
      running = await RunningCommand.start({ shell: this.options.shell, command: split.command, cwd, env: this.options.environment, output });
    } catch (error) {
      logger.warn({ err: error }, 'command could not be started');
      return { ...unknownResult(`could not start the command: ${(error as Error).message}`), wall_duration_ms: Date.now() - startedAt.getTime() };
    }
    this.groups.add(running.pid);
    // Started while the agent was stopping: stopAll has already taken its list of groups.
    if (this.stopping) signalProcessGroup(running.pid, 'SIGKILL');
    // Forget ended groups promptly: once a group is empty its id may be reused by someone else's.
    const forgetEnded = () => void this.forgetEndedGroups().catch((error: unknown) => logger.warn({ err: error }, 'could not check which process groups ended'));
    forgetEnded();
    void running.exited.then(forgetEnded);
    logger.info({ command_pid: running.pid, background }, 'command started');

    if (background) {
      const processId = this.options.processes.add(split.command, running, output as TailOutput);
      void running.exited.then((exit) => logger.info({ command_pid: running.pid, exit_code: exit.exitCode, signal: exit.signal, process_id: processId }, 'background process exited'));
      return {
        success: true,
        output: '',
        exit_code: null,
        wall_duration_ms: Date.now() - startedAt.getTime(),
        truncated: false,
        background_process_id: processId,
        note: `${split.background ? 'The trailing & was turned into a background run. ' : ''}Started in the background as process ${processId}. Read its output with process_output (which can also wait for it to finish), see it in process_list, and stop it with process_signal.`,
      };
    }

    const finishedInTime = await settlesWithin(running.exited, request.timeout_ms);
    if (!finishedInTime) await stopProcessGroups([running.pid], KILL_GRACE_MS);
    const exit = await running.exited;
    const head = output as HeadOutput;
    const wallDurationMs = Date.now() - startedAt.getTime();
    logger.info({ command_pid: running.pid, exit_code: exit.exitCode, signal: exit.signal, timed_out: !finishedInTime, wall_duration_ms: wallDurationMs }, 'command finished');
    const error = !finishedInTime
      ? `command timed out after ${formatSeconds(request.timeout_ms)}`
      : exit.signal !== null
        ? `command was killed by ${exit.signal}`
        : undefined;
    return {
      success: finishedInTime && exit.exitCode === 0,
      output: head.text(),
      exit_code: exit.exitCode,
      wall_duration_ms: wallDurationMs,
      truncated: head.truncated,
      ...(error === undefined ? {} : { error }),
      ...(head.truncated
        ? { note: `Output was cut at ${formatBytes(OUTPUT_CAP_BYTES)}; only its beginning is shown. Redirect the output to a file and read parts of it with read_file, or filter it (grep, tail).` }
        : {}),
    };
  }

  private async resolveWorkdir(workdir: string | undefined): Promise<string> {
    if (workdir === undefined) return this.options.root.realPath;
    const resolved = await resolveWorkspacePath(this.options.root, workdir);
    const stats = await stat(resolved).catch(() => undefined);
    if (stats === undefined) throw new AgentError(400, `workdir "${workdir}" does not exist; create it first or run from an existing directory`);
    if (!stats.isDirectory()) throw new AgentError(400, `workdir "${workdir}" is not a directory`);
    return resolved;
  }

  private forgetOldResults(): void {
    if (this.executions.size <= RESULT_RETENTION_COUNT) return;
    const cutoff = Date.now() - RESULT_RETENTION_MS;
    // Map order is start order, so the oldest come first.
    for (const [id, execution] of this.executions) {
      if (this.executions.size <= RESULT_RETENTION_COUNT) break;
      if (execution.finishedAt !== undefined && execution.finishedAt < cutoff) this.executions.delete(id);
    }
  }

  /** Drops groups whose processes are all gone, so the set tracks what is still running. */
  private async forgetEndedGroups(): Promise<void> {
    for (const pgid of [...this.groups]) if (!(await processGroupAlive(pgid))) this.groups.delete(pgid);
  }
}
