/** Starts and kills chat workers in child processes (see worker-process.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { type Harness } from './harness.js';

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
