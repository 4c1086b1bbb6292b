/**
 * What every benchmark stands on: a real Temporal dev server, an embedded PostgreSQL with the
 * schema applied, the workflow bundle on disk, and a user with an API key. `stop()` tears it
 * all down, including child processes registered in `children`.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { migrate } from '../src/db/migrate.js';
import { createPool, createStreamPool, type Pool } from '../src/db/pool.js';
import { createApiKey, ensureUser } from '../src/db/users.js';
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres.js';
import { findFreePort } from '../src/dev/process-tree.js';
import { findTemporalCli } from '../src/dev/temporal-cli.js';
import { workflowBundlerOptions, workflowsEntryPath } from '../src/temporal/workflow-bundle.js';
import { CHAT_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes.js';

export interface BenchEnvironment {
  temporalAddress: string;
  databaseUrl: string;
  pool: Pool;
  /** A worker's second pool, for streamed parts, as `chatd worker` makes one. */
  streamPool: Pool;
  bundlePath: string;
  scratch: string;
  apiKey: string;
  children: ChildProcess[];
  stop(): Promise<void>;
}

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export async function startBenchEnvironment(): Promise<BenchEnvironment> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'chatd-bench-'));
  const cliPath = await findTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH });
  const temporal = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cliPath },
      searchAttributes: [...CHAT_SEARCH_ATTRIBUTES],
      extraArgs: ['--log-level', 'error', '--dynamic-config-value', 'system.enableActivityEagerExecution=true'],
    },
  });
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'pg'), port: await findFreePort(), passwordFile: path.join(scratch, 'pg-password'), disposable: true });
  const pool = createPool(postgres.url, { max: 20 });
  const streamPool = createStreamPool(postgres.url);
  await migrate(pool);
  const user = await ensureUser(pool, 'bench', false);
  const apiKey = await createApiKey(pool, user.id);
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsEntryPath(), webpackConfigHook: workflowBundlerOptions, logger: silent });
  const bundlePath = path.join(scratch, 'bundle.js');
  await writeFile(bundlePath, code);
  const children: ChildProcess[] = [];
  return {
    temporalAddress: temporal.address,
    databaseUrl: postgres.url,
    pool,
    streamPool,
    bundlePath,
    scratch,
    apiKey,
    children,
    async stop() {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await pool.end().catch(() => undefined);
      await streamPool.end().catch(() => undefined);
      await temporal.teardown();
      await postgres.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** Runs a benchmark's main function and exits with its outcome. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
