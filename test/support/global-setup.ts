/**
 * Starts ONE real Temporal dev server and ONE real PostgreSQL for the whole test run, and
 * bundles the workflow code once. Tests isolate themselves with their own database and task
 * queue (see harness.ts). Set DATABASE_URL to use an existing PostgreSQL server instead of
 * the embedded one, and TEMPORAL_CLI_PATH to pick the `temporal` binary.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../../src/dev/embedded-postgres.js';
import { findFreePort } from '../../src/dev/process-tree.js';
import { findTemporalCli } from '../../src/dev/temporal-cli.js';
import { workflowBundlerOptions, workflowsEntryPath } from '../../src/temporal/workflow-bundle.js';
import { CHAT_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCliPath: string;
    databaseUrl: string;
    workflowBundlePath: string;
  }
}

let environment: TestWorkflowEnvironment | undefined;
let postgres: EmbeddedPostgresServer | undefined;
let scratch: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  const cliPath = await findTemporalCli({ cliPath: process.env.TEMPORAL_CLI_PATH });
  const [env, databaseUrl, bundlePath] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: cliPath },
        searchAttributes: [...CHAT_SEARCH_ATTRIBUTES],
        extraArgs: ['--log-level', 'error', '--dynamic-config-value', 'system.enableActivityEagerExecution=true'],
      },
    }),
    (async () => {
      if (process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '') return process.env.DATABASE_URL;
      // A world-traversable scratch directory: as root, PostgreSQL runs as `postgres`.
      scratch = await mkdtemp(path.join(os.tmpdir(), 'chatd-test-'));
      postgres = await startEmbeddedPostgres({
        dataDir: path.join(scratch, 'pg'),
        port: await findFreePort(),
        passwordFile: path.join(scratch, 'pg-password'),
        disposable: true,
      });
      return postgres.url;
    })(),
    (async () => {
      const { code } = await bundleWorkflowCode({ workflowsPath: workflowsEntryPath(), webpackConfigHook: workflowBundlerOptions, logger: quietLogger });
      const directory = path.resolve('.test-data');
      await mkdir(directory, { recursive: true });
      const file = path.join(directory, 'workflow-bundle.js');
      await writeFile(file, code);
      return file;
    })(),
  ]);
  environment = env;
  project.provide('temporalAddress', env.address);
  project.provide('temporalCliPath', cliPath);
  project.provide('databaseUrl', databaseUrl);
  project.provide('workflowBundlePath', bundlePath);
}

export async function teardown(): Promise<void> {
  await environment?.teardown();
  await postgres?.stop();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
