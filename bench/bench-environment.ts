/**
 * What every benchmark stands on: a real Temporal dev server, an embedded PostgreSQL with the
 * schema applied, the workflow bundle on disk, and a user with an API key. `stop()` tears it
 * all down, including child processes registered in `children`.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import pg from 'pg';
import { CHAT_EVENTS_CHANNEL } from '../src/db/chat-events.js';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';
import { startApiServer } from '../src/main/api.js';
import { createChatWorker } from '../src/main/worker.js';
import { ThreadedStreamWriter } from '../src/activities/threaded-stream-writer.js';
import { createPool, type Pool } from '../src/db/pool.js';
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
  /** The worker's stream writer, on its own thread and connections, as `chatd worker` makes it. */
  streamWriter: ThreadedStreamWriter;
  bundlePath: string;
  scratch: string;
  apiKey: string;
  children: ChildProcess[];
  stop(): Promise<void>;
}

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export async function startBenchEnvironment(): Promise<BenchEnvironment> {
  const metricsAddress = process.env.BENCH_METRICS === undefined ? undefined : `127.0.0.1:${await findFreePort()}`;
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    ...(metricsAddress === undefined ? {} : { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } }),
  });
  if (metricsAddress !== undefined) process.env.BENCH_METRICS_URL = `http://${metricsAddress}/metrics`;
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
  const streamWriter = new ThreadedStreamWriter(postgres.url);
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
    streamWriter,
    bundlePath,
    scratch,
    apiKey,
    children,
    async stop() {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await pool.end().catch(() => undefined);
      await streamWriter.close().catch(() => undefined);
      await temporal.teardown();
      await postgres.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** The value below which `fraction` of `values` fall (nearest rank). */
export function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

/** chatd as `chatd start` runs it: a worker and the API in this process, on `taskQueue`. */
export async function startInProcessChatd(bench: BenchEnvironment, taskQueue: string): Promise<{ client: Client; apiUrl: string; stop(): Promise<void> }> {
  const connection = await Connection.connect({ address: bench.temporalAddress });
  const client = new Client({ connection });
  const { worker } = await createChatWorker({
    address: bench.temporalAddress,
    namespace: 'default',
    taskQueue,
    activityDependencies: { pool: bench.pool, streamWriter: bench.streamWriter },
    workflowBundle: { codePath: bench.bundlePath },
  });
  const workerRun = worker.run();
  const api = await startApiServer({ pool: bench.pool, temporalClient: client, logger: createLogger('silent'), taskQueue, host: '127.0.0.1', port: 0 });
  return {
    client,
    apiUrl: api.url,
    async stop() {
      await api.close();
      worker.shutdown();
      await workerRun;
      await connection.close();
    },
  };
}

/** A connection LISTENing to the chat event log's NOTIFYs, as API processes do. */
export async function listenToChatEvents(bench: BenchEnvironment): Promise<pg.Client> {
  const listener = new pg.Client({ connectionString: bench.databaseUrl });
  await listener.connect();
  await listener.query(`LISTEN ${CHAT_EVENTS_CHANNEL}`);
  return listener;
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

/** Sums and counts of the Temporal core SDK's latency histograms (with BENCH_METRICS set), by name and labels. */
export async function coreLatencySnapshot(): Promise<Map<string, { sum: number; count: number }>> {
  const snapshot = new Map<string, { sum: number; count: number }>();
  const url = process.env.BENCH_METRICS_URL;
  if (url === undefined) return snapshot;
  const text = await (await fetch(url)).text();
  for (const line of text.split('\n')) {
    const match = /^(\w+)_(sum|count)(\{[^}]*\})? ([\d.e+-]+)$/.exec(line);
    if (match === null || !match[1]!.includes('latency')) continue;
    const labels = (match[3] ?? '').replace(/,?(namespace|service_name|task_queue|workflow_type)="[^"]*"/g, '');
    const key = `${match[1]}${labels === '{}' ? '' : labels}`;
    const entry = snapshot.get(key) ?? { sum: 0, count: 0 };
    entry[match[2] as 'sum' | 'count'] += Number(match[4]);
    snapshot.set(key, entry);
  }
  return snapshot;
}

/** Prints the mean of each core latency histogram between two snapshots. */
export function printCoreLatencies(before: Map<string, { sum: number; count: number }>, after: Map<string, { sum: number; count: number }>): void {
  if (after.size === 0) return;
  console.log('\nTemporal core SDK latencies over the window (mean ms, count):');
  for (const [key, value] of [...after].sort()) {
    const count = value.count - (before.get(key)?.count ?? 0);
    if (count > 0) console.log(`  ${key.padEnd(70)} ${((value.sum - (before.get(key)?.sum ?? 0)) / count).toFixed(2).padStart(8)}  ${count}`);
  }
}
