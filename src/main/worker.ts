/**
 * Worker composition root: connects to Temporal, builds the activities with their
 * dependencies, and runs the chat workflow's task queue.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../activities/index.js';
import { workflowBundlerOptions, workflowsEntryPath } from '../temporal/workflow-bundle.js';

export interface ChatWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  activityDependencies: ActivityDependencies;
  shutdownGraceSeconds?: number;
  /** A prebuilt bundle (tests build one per run); otherwise the worker bundles the sources. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
}

export async function createChatWorker(options: ChatWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle === undefined
      ? { workflowsPath: workflowsEntryPath(), bundlerOptions: { webpackConfigHook: workflowBundlerOptions } }
      : { workflowBundle: options.workflowBundle }),
    activities: createActivities(options.activityDependencies),
    shutdownGraceTime: `${options.shutdownGraceSeconds ?? 10}s`,
    // Past the grace time, stop even if the server is unreachable (e.g. it shut down first).
    shutdownForceTime: `${(options.shutdownGraceSeconds ?? 10) + 5}s`,
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
  return { worker, connection };
}
