/**
 * Liveness and readiness. `/healthz` says the process is up; `/readyz` checks that PostgreSQL
 * and Temporal answer, and names whatever does not (503), so a load balancer and a person
 * reading the response both know what to fix.
 */
import { Router } from 'express';
import { type Client } from '@temporalio/client';
import { type Pool } from '../db/pool.js';

const CHECK_TIMEOUT_MS = 2_000;

async function withTimeout<T>(work: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function createHealthRouter(dependencies: { pool: Pool; temporalClient: Client }): Router {
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
    const checks = await Promise.allSettled([
      withTimeout(dependencies.pool.query('SELECT 1'), 'PostgreSQL'),
      withTimeout(dependencies.temporalClient.connection.workflowService.getSystemInfo({}), 'Temporal'),
    ]);
    const [postgres, temporal] = checks.map((check) => (check.status === 'fulfilled' ? 'ok' : `unreachable: ${String((check.reason as Error).message)}`));
    const ready = postgres === 'ok' && temporal === 'ok';
    const failing = [postgres === 'ok' ? undefined : 'PostgreSQL', temporal === 'ok' ? undefined : 'Temporal'].filter(Boolean);
    response.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not ready',
      ...(ready ? {} : { message: `Not ready: ${failing.join(' and ')} unreachable.` }),
      checks: { postgres, temporal },
    });
  });
  return router;
}
