/**
 * A running chatd for integration tests, on the shared Temporal server and PostgreSQL started
 * by global-setup.ts: its own database (isolation), its own task queue, an in-process worker
 * and API server, two users with API keys, and the built-in `echo` and `script` models.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import pg from 'pg';
import { inject } from 'vitest';
import { type ActivityDependencies } from '../../src/activities/index.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { createApiKey, ensureUser } from '../../src/db/users.js';
import { generateSecretKey, parseSecretKey, SecretBox } from '../../src/security/secret-box.js';
import { createLogger } from '../../src/logger.js';
import { startApiServer, type RunningApi } from '../../src/main/api.js';
import { createChatWorker } from '../../src/main/worker.js';
import { useDiagnosticClient } from './workflow-diagnostics.js';

let runtimeInstalled = false;
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this process.
  }
}

/** Creates an empty database on the shared server and returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const adminUrl = inject('databaseUrl');
  const name = `chatd_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestUser {
  id: string;
  key: string;
}

export interface Harness {
  pool: Pool;
  databaseUrl: string;
  client: Client;
  taskQueue: string;
  apiUrl: string;
  alice: TestUser;
  bob: TestUser;
  /** An admin (manages providers, model configs and limits). */
  admin: TestUser;
  echoModelId: string;
  scriptModelId: string;
  /** The key that seals secrets for this harness's API and workers. */
  secretBox: SecretBox;
  /** Starts an in-process worker (one is started by default unless `startWorker: false`). */
  startWorker(dependencies?: Partial<ActivityDependencies>): Promise<Worker>;
  stop(): Promise<void>;
}

export async function startHarness(options: { startWorker?: boolean; activityDependencies?: Partial<ActivityDependencies> } = {}): Promise<Harness> {
  installQuietRuntime();
  const databaseUrl = await createTestDatabase();
  const pool = createPool(databaseUrl, { max: 20 });
  await migrate(pool);
  const echoModelId = randomUUID();
  const scriptModelId = randomUUID();
  await pool.query(
    `INSERT INTO model_configs (id, provider, model, display_name, is_default) VALUES ($1, 'script', 'script', 'Script', true), ($2, 'echo', 'echo', 'Echo', false)`,
    [scriptModelId, echoModelId],
  );
  const aliceUser = await ensureUser(pool, 'alice', false);
  const bobUser = await ensureUser(pool, 'bob', false);
  const adminUser = await ensureUser(pool, 'admin', true);
  const alice = { id: aliceUser.id, key: await createApiKey(pool, aliceUser.id) };
  const bob = { id: bobUser.id, key: await createApiKey(pool, bobUser.id) };
  const admin = { id: adminUser.id, key: await createApiKey(pool, adminUser.id) };
  // API and workers share one secret key, as in production, so stored provider keys round-trip.
  const secretBox = new SecretBox(parseSecretKey(generateSecretKey()));

  const address = inject('temporalAddress');
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  useDiagnosticClient(client);
  const taskQueue = `chatd-test-${randomUUID()}`;
  const workers: Array<{ worker: Worker; done: Promise<void>; close: () => Promise<void> }> = [];
  const logger = createLogger('silent');

  const startWorker = async (dependencies: Partial<ActivityDependencies> = {}): Promise<Worker> => {
    const { worker, connection: workerConnection } = await createChatWorker({
      address,
      namespace: 'default',
      taskQueue,
      activityDependencies: { pool, secretBox, ...options.activityDependencies, ...dependencies },
      workflowBundle: { codePath: inject('workflowBundlePath') },
      shutdownGraceSeconds: 1,
    });
    const done = worker.run();
    workers.push({ worker, done, close: () => workerConnection.close() });
    return worker;
  };
  if (options.startWorker !== false) await startWorker();

  const api: RunningApi = await startApiServer({ pool, temporalClient: client, logger, taskQueue, host: '127.0.0.1', port: 0, databaseUrl, streamKeepAliveMs: 300, secretBox });

  return {
    pool,
    databaseUrl,
    client,
    taskQueue,
    apiUrl: api.url,
    alice,
    bob,
    admin,
    echoModelId,
    scriptModelId,
    secretBox,
    startWorker,
    async stop() {
      await api.close();
      for (const entry of workers) {
        if (entry.worker.getState() === 'RUNNING') entry.worker.shutdown();
        await entry.done.catch(() => undefined);
        await entry.close();
      }
      await connection.close();
      await pool.end();
    },
  };
}
