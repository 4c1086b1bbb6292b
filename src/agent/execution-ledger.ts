/**
 * `<stateDir>/executions.jsonl`: one line per execute id, appended and fsynced BEFORE the
 * command is spawned. This is what makes "at most once per id" survive a crash of the agent:
 * an agent that finds an id here from an earlier life knows the command may have run, and
 * says so, instead of running it a second time.
 *
 * The file only grows; an id costs about a hundred bytes.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AgentError } from './agent-error.js';

const LedgerLine = z.object({ id: z.string(), started_at: z.string(), agent_pid: z.number() });
type LedgerLine = z.infer<typeof LedgerLine>;

export class ExecutionLedger {
  private readonly startedThisLife = new Set<string>();
  private appending: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly file: FileHandle,
    private readonly startedEarlier: ReadonlySet<string>,
  ) {}

  static async open(filePath: string): Promise<ExecutionLedger> {
    const existing = await readFile(filePath, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    const ids = new Set<string>();
    for (const line of existing.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const parsed = LedgerLine.safeParse(JSON.parse(line));
        if (parsed.success) ids.add(parsed.data.id);
      } catch {
        // A line torn by a crash mid-append: its command was never spawned (spawning waits for the fsync).
      }
    }
    const file = await open(filePath, 'a', 0o600);
    // A newly created ledger must survive a crash too: make its directory entry durable.
    const directory = await open(path.dirname(filePath), 'r');
    await directory.sync().finally(() => directory.close());
    // Start on a fresh line if the last append was torn.
    if (existing !== '' && !existing.endsWith('\n')) await file.appendFile('\n');
    return new ExecutionLedger(file, ids);
  }

  startedInEarlierLife(id: string): boolean {
    return this.startedEarlier.has(id);
  }

  startedInThisLife(id: string): boolean {
    return this.startedThisLife.has(id);
  }

  /** Durably records that `id` is about to start; resolves once the line is on disk. */
  async record(id: string, startedAt: Date): Promise<void> {
    if (this.closed) throw new AgentError(503, 'the workspace agent is shutting down; start the workspace again');
    const line: LedgerLine = { id, started_at: startedAt.toISOString(), agent_pid: process.pid };
    const append = this.appending.then(async () => {
      await this.file.appendFile(`${JSON.stringify(line)}\n`);
      await this.file.datasync();
    });
    // One append at a time, and a failed append does not block the ones after it.
    this.appending = append.catch(() => undefined);
    await append;
    this.startedThisLife.add(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.appending;
    await this.file.close();
  }
}
