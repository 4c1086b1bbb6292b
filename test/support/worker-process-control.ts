/** Starts and kills chat workers in child processes (see worker-process.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { apiClient, type ApiClient } from './http.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  kill(): Promise<void>;
}

/** `workspaces` adds the workspace tools, on local workspaces under `dataDir`. */
export async function spawnWorkerProcess(harness: Harness, toolLog: string, workspaces?: { dataDir: string; secretKey: string; templates?: unknown[] }): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
    env: {
      ...process.env,
      DATABASE_URL: harness.databaseUrl,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TASK_QUEUE: harness.taskQueue,
      WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      TOOL_LOG: toolLog,
      ...(workspaces === undefined ? {} : { WORKSPACE_DATA_DIR: workspaces.dataDir, CHATD_SECRET_KEY: workspaces.secretKey }),
      ...(workspaces?.templates === undefined ? {} : { WORKSPACE_TEMPLATES: JSON.stringify(workspaces.templates) }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited with ${code}:\n${output}`));
    });
  });
  return {
    child,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** What a crash suite works with; filled in by its `beforeAll`. */
export interface WorkerProcessSuite {
  harness: Harness;
  alice: ApiClient;
  /** A directory of the suite's own (tool logs, workspace data). */
  scratch: string;
  /** Worker processes a test started; each is killed after the test. */
  workers: WorkerProcess[];
}

/**
 * Sets up a suite whose workers are child processes it starts and SIGKILLs: a harness with no
 * in-process worker, alice's client, a scratch directory, and after each test no worker left.
 */
export function useWorkerProcessSuite(scratchPrefix: string): WorkerProcessSuite {
  const suite = { workers: [] as WorkerProcess[] } as WorkerProcessSuite;
  beforeAll(async () => {
    suite.harness = await startHarness({ startWorker: false });
    suite.alice = apiClient(suite.harness.apiUrl, suite.harness.alice.key);
    suite.scratch = await mkdtemp(path.join(os.tmpdir(), scratchPrefix));
  });
  afterEach(async () => {
    for (const worker of suite.workers.splice(0)) await worker.kill();
  });
  afterAll(async () => {
    await suite.harness?.stop();
  });
  return suite;
}
