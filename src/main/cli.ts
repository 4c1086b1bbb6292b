#!/usr/bin/env node
/**
 * The `chatd` command: production entrypoints (`api`, `worker`, `migrate`), the all-in-one
 * development `start`, and operator commands (`users create`, `chats stuck`). Configuration
 * comes from the environment, parsed once (see src/config/config.ts).
 */
import path from 'node:path';
import { Command } from 'commander';
import { type Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { runAgent } from '../agent/agent-main.js';
import { loadConfig, dataDirectory, ConfigError, type Config } from '../config/config.js';
import { createChatReads } from '../db/chat-reads.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { ThreadedStreamWriter } from '../activities/threaded-stream-writer.js';
import { createApiKey, ensureUser } from '../db/users.js';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../dev/embedded-postgres.js';
import { findTemporalCli } from '../dev/temporal-cli.js';
import { startTemporalDevServer, type TemporalDevServer } from '../dev/temporal-dev-server.js';
import { createLogger, type Logger } from '../logger.js';
import { connectClient, ensureSearchAttributes } from '../temporal/connection.js';
import { startApiServer } from './api.js';
import { parseSecretKey, SecretBox } from '../security/secret-box.js';
import { ensureDevelopmentApiKey, ensureDevelopmentModels, ensureDevelopmentSecretKey } from './dev-setup.js';
import { createChatTools } from './chat-tools.js';
import { createChatWorker } from './worker.js';
import { loadWorkspaceTemplates, type WorkspaceTemplate } from '../workspaces/workspace-template.js';

const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

function requireDatabaseUrl(config: Config): string {
  if (config.DATABASE_URL === undefined) throw new ConfigError('DATABASE_URL is required for this command (chatd start runs an embedded PostgreSQL instead).');
  return config.DATABASE_URL;
}

const STOP_STEP_TIMEOUT_MS = 15_000;

/** Resolves when `stop` finishes or after STOP_STEP_TIMEOUT_MS, so one stuck step cannot block the rest. */
async function boundedStop(stop: () => Promise<unknown>, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      logger.warn('a shutdown step did not finish in time; moving on');
      resolve();
    }, STOP_STEP_TIMEOUT_MS);
  });
  await Promise.race([stop().catch((error: unknown) => logger.warn({ err: error }, 'error while stopping')), timeout]);
  clearTimeout(timer);
}

/**
 * Runs `stop` callbacks in reverse order once, on SIGINT/SIGTERM. With Ctrl-C in a terminal the
 * embedded servers get the signal too and may already be gone; every step tolerates that.
 */
function onShutdown(logger: Logger, stops: Array<() => Promise<unknown>>): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // With Ctrl-C the embedded servers die alongside us, in any order: a connection that fails
    // while we stop is expected and must not turn a clean stop into a crash with exit code 1.
    const tolerate = (error: unknown) => logger.warn({ err: error }, 'error while shutting down (ignored)');
    process.on('uncaughtException', tolerate);
    process.on('unhandledRejection', tolerate);
    void (async () => {
      for (const stop of [...stops].reverse()) await boundedStop(stop, logger);
      process.exit(0);
    })();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

async function withPool<T>(config: Config, work: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(requireDatabaseUrl(config), { max: 2 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

/** The SecretBox for provider keys, when a key is configured. */
function secretBoxOption(key: string | undefined): { secretBox?: SecretBox } {
  return key === undefined ? {} : { secretBox: new SecretBox(parseSecretKey(key)) };
}

/** The API server's options from the configuration, for `chatd api` and `chatd start` alike. */
function apiServerOptions(
  config: Config,
  parts: { pool: Pool; temporalClient: Client; logger: Logger; databaseUrl: string; secrets: { secretBox?: SecretBox }; templates: WorkspaceTemplate[] },
): Parameters<typeof startApiServer>[0] {
  return {
    pool: parts.pool,
    temporalClient: parts.temporalClient,
    logger: parts.logger,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    host: config.CHATD_HTTP_HOST,
    port: config.CHATD_HTTP_PORT,
    databaseUrl: parts.databaseUrl,
    ...parts.secrets,
    templates: parts.templates,
  };
}

async function runApi(config: Config, logger: Logger): Promise<void> {
  const templates = loadWorkspaceTemplates(config.CHATD_TEMPLATES_FILE);
  const pool = createPool(requireDatabaseUrl(config));
  const temporalClient = await connectClient(config.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
  const api = await startApiServer(apiServerOptions(config, { pool, temporalClient, logger, databaseUrl: requireDatabaseUrl(config), secrets: secretBoxOption(config.CHATD_SECRET_KEY), templates }));
  logger.info({ url: api.url }, 'chatd API listening');
  onShutdown(logger, [() => pool.end(), () => temporalClient.connection.close(), () => api.close()]);
}

async function runWorker(config: Config, logger: Logger): Promise<void> {
  const pool = createPool(requireDatabaseUrl(config), { max: 20 });
  const streamWriter = new ThreadedStreamWriter(requireDatabaseUrl(config));
  const secrets = secretBoxOption(config.CHATD_SECRET_KEY);
  const templates = loadWorkspaceTemplates(config.CHATD_TEMPLATES_FILE);
  const { worker, connection } = await createChatWorker({
    address: config.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activityDependencies: { pool, streamWriter, ...secrets, ...createChatTools({ pool, config, templates, secretBox: secrets.secretBox, logger }) },
    shutdownGraceSeconds: config.CHATD_WORKER_SHUTDOWN_GRACE_SECONDS,
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'chatd worker running');
  await worker.run();
  await connection.close();
  await streamWriter.close();
  await pool.end();
}

async function runMigrate(config: Config, logger: Logger): Promise<void> {
  const applied = await withPool(config, migrate);
  logger.info({ applied }, applied.length === 0 ? 'database schema is up to date' : 'applied migrations');
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS });
  try {
    const added = await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
    logger.info({ added }, 'Temporal search attributes registered');
  } finally {
    await connection.close();
  }
}

/** Everything in one process, with embedded PostgreSQL and Temporal unless configured otherwise. */
async function runStart(config: Config, logger: Logger): Promise<void> {
  const dataDir = dataDirectory(config);
  // Before anything starts: a bad templates file should fail at once.
  const templates = loadWorkspaceTemplates(config.CHATD_TEMPLATES_FILE);
  const stops: Array<() => Promise<unknown>> = [];
  onShutdown(logger, stops);
  try {
    let databaseUrl = config.DATABASE_URL;
    if (databaseUrl === undefined) {
      logger.info('starting embedded PostgreSQL');
      const postgres: EmbeddedPostgresServer = await startEmbeddedPostgres({
        dataDir: path.join(dataDir, 'pg'),
        port: config.CHATD_EMBEDDED_PG_PORT,
        passwordFile: path.join(dataDir, 'pg-password'),
        log: (line) => logger.debug({ component: 'postgres' }, line),
      });
      stops.push(() => postgres.stop());
      databaseUrl = postgres.url;
    }
    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl = config.CHATD_TEMPORAL_UI_URL;
    if (temporalAddress === undefined) {
      const cliPath = await findTemporalCli({ cliPath: config.TEMPORAL_CLI_PATH, log: (line) => logger.info(line) });
      logger.info({ cliPath }, 'starting Temporal dev server');
      const temporal: TemporalDevServer = await startTemporalDevServer({
        cliPath,
        dataDir,
        port: config.CHATD_TEMPORAL_PORT,
        uiPort: config.CHATD_TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
      });
      stops.push(() => temporal.stop());
      temporalAddress = temporal.address;
      temporalUiUrl ??= temporal.uiUrl;
    }
    const pool = createPool(databaseUrl, { max: 20 });
    stops.push(() => pool.end());
    const streamWriter = new ThreadedStreamWriter(databaseUrl);
    stops.push(() => streamWriter.close());
    await migrate(pool);
    await ensureDevelopmentModels(pool);
    const apiKey = await ensureDevelopmentApiKey(pool, dataDir);
    const secrets = secretBoxOption(config.CHATD_SECRET_KEY ?? (await ensureDevelopmentSecretKey(dataDir)));

    const temporalClient: Client = await connectClient(temporalAddress, config.TEMPORAL_NAMESPACE);
    stops.push(() => temporalClient.connection.close());
    await ensureSearchAttributes(temporalClient.connection as Connection, config.TEMPORAL_NAMESPACE);

    const { worker, connection } = await createChatWorker({
      address: temporalAddress,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activityDependencies: { pool, streamWriter, ...secrets, ...createChatTools({ pool, config, templates, secretBox: secrets.secretBox, logger }) },
      shutdownGraceSeconds: config.CHATD_WORKER_SHUTDOWN_GRACE_SECONDS,
    });
    const workerDone = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await workerDone;
      await connection.close();
    });

    const api = await startApiServer(apiServerOptions(config, { pool, temporalClient, logger, databaseUrl, secrets, templates }));
    stops.push(() => api.close());
    process.stdout.write(
      [
        '',
        'chatd is running.',
        `  API:          ${api.url}  (try ${api.url}/readyz)`,
        `  Temporal UI:  ${temporalUiUrl ?? '(external Temporal; set CHATD_TEMPORAL_UI_URL to show it here)'}`,
        `  API key:      ${apiKey}`,
        '',
        `  curl -s -H "Authorization: Bearer ${apiKey}" -H 'Content-Type: application/json' \\`,
        `    -d '{"content":"Hello"}' ${api.url}/api/v1/chats`,
        '',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    for (const stop of [...stops].reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

/** The Temporal SDK logs to the console itself: keep it at warnings unless chatd logs in detail. */
function installTemporalRuntime(level: Config['CHATD_LOG_LEVEL']): void {
  const detailed = level === 'trace' || level === 'debug';
  // chatd handles SIGINT/SIGTERM itself, stopping the API, the worker and the embedded servers in order.
  Runtime.install({ logger: new DefaultLogger(detailed ? 'INFO' : 'WARN'), shutdownSignals: [] });
}

async function main(argv: string[]): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.CHATD_LOG_LEVEL);
  const program = new Command();
  program.name('chatd').description('Durable AI-agent chat service on Temporal and PostgreSQL.');
  // The workspace agent never talks to Temporal: one per workspace, it should not carry a Temporal runtime.
  program.hook('preAction', (_program, command) => {
    if (command.name() !== 'agent') installTemporalRuntime(config.CHATD_LOG_LEVEL);
  });
  program.command('api').description('Serve the HTTP API.').action(() => runApi(config, logger));
  program.command('worker').description('Run a Temporal worker for chat workflows and activities.').action(() => runWorker(config, logger));
  program.command('migrate').description('Apply database migrations and register Temporal search attributes.').action(() => runMigrate(config, logger));
  program.command('start').description('Run everything in one process (embedded PostgreSQL and Temporal unless DATABASE_URL / TEMPORAL_ADDRESS are set).').action(() => runStart(config, logger));
  program
    .command('agent')
    .description('Run the workspace agent: commands, files and background processes of one workspace behind an authenticated loopback HTTP API (started by the workspace provider).')
    .requiredOption('--root <dir>', 'the workspace directory')
    .requiredOption('--state-dir <dir>', 'holds the token, agent.json and the execution ledger')
    .action(async (options: { root: string; stateDir: string }) => {
      await runAgent({ root: options.root, stateDir: options.stateDir, logger: createLogger(config.CHATD_LOG_LEVEL, 'chatd-agent') });
    });

  const users = program.command('users').description('Manage users.');
  users
    .command('create <name>')
    .description('Create a user (or reuse one) and print a new API key for it.')
    .option('--admin', 'grant admin rights')
    .action((name: string, options: { admin?: boolean }) =>
      withPool(config, async (pool) => {
        const user = await ensureUser(pool, name, options.admin === true);
        const key = await createApiKey(pool, user.id, 'cli');
        process.stdout.write(`user ${user.name} (${user.id})${user.isAdmin ? ' [admin]' : ''}\napi key: ${key}\n`);
      }),
    );

  const chats = program.command('chats').description('Inspect chats.');
  chats
    .command('stuck')
    .description('List running chats with no progress for N minutes.')
    .option('--minutes <n>', 'minutes without progress', '10')
    .action((options: { minutes: string }) =>
      withPool(config, async (pool) => {
        const minutes = Number(options.minutes);
        if (!Number.isFinite(minutes) || minutes < 0) throw new ConfigError('--minutes must be a non-negative number');
        const rows = await createChatReads(pool).listStuckChats(minutes);
        if (rows.length === 0) process.stdout.write(`no running chat has been without progress for ${minutes} minutes\n`);
        for (const row of rows) {
          process.stdout.write(`${row.id}  ${row.status}  owner=${row.owner_id}  turn=${row.turn_count}  last progress ${row.last_progress_at.toISOString()}  workflow chat/${row.id}\n`);
        }
      }),
    );
  await program.parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`chatd: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
