/**
 * One command started by the agent: `<shell> -c <command>` as the leader of a new process
 * group, stdin from /dev/null, stdout and stderr interleaved into one output sink.
 */
import { spawn } from 'node:child_process';
import { type OutputSink } from './command-output.js';

export interface CommandExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartCommandOptions {
  shell: string;
  command: string;
  cwd: string;
  env: Record<string, string>;
  output: OutputSink;
}

/**
 * After the leader exits, how long to keep reading its pipe. A child it left behind (`cmd &`)
 * can hold the pipe open for ever; the command counts as finished when its leader exits.
 */
const PIPE_DRAIN_MS = 250;

export class RunningCommand {
  /** Set once the leader has exited and its output has been read. */
  exit: CommandExit | undefined;

  private constructor(
    /** Also the process group id: the leader of a new group has pgid = pid. */
    readonly pid: number,
    readonly startedAt: Date,
    readonly exited: Promise<CommandExit>,
  ) {
    void exited.then((exit) => (this.exit = exit));
  }

  /** Spawns the command; rejects when it cannot be started at all (no shell, bad cwd). */
  static async start(options: StartCommandOptions): Promise<RunningCommand> {
    // `exec 2>&1` makes stderr share stdout's pipe, so the two stay in the order they were
    // written; on the same line as the command so the shell's error line numbers still match.
    const child = spawn(options.shell, ['-c', `exec 2>&1; ${options.command}`], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    // Later errors (a failed kill) are reported through the exit status instead.
    child.on('error', () => undefined);
    const startedAt = new Date();
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => options.output.write(chunk));
    const exited = new Promise<CommandExit>((resolve) => {
      child.once('exit', (exitCode, signal) => {
        const finish = () => {
          clearTimeout(timer);
          resolve({ exitCode, signal });
        };
        const timer = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish();
        }, PIPE_DRAIN_MS);
        child.once('close', finish);
      });
    });
    return new RunningCommand(child.pid!, startedAt, exited);
  }
}
