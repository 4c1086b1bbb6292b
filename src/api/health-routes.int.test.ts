import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPool } from '../db/pool.js';
import { findFreePort } from '../dev/process-tree.js';
import { createLogger } from '../logger.js';
import { startApiServer, type RunningApi } from '../main/api.js';
import { apiClient } from '../../test/support/http.js';
import { createTestDatabase } from '../../test/support/harness.js';

describe('health endpoints', () => {
  let connection: Connection;
  let healthy: RunningApi;
  let brokenDatabase: RunningApi;
  const pools: Array<ReturnType<typeof createPool>> = [];

  beforeAll(async () => {
    connection = await Connection.connect({ address: inject('temporalAddress') });
    const client = new Client({ connection });
    const logger = createLogger('silent');
    const goodPool = createPool(await createTestDatabase());
    const deadPool = createPool(`postgres://nobody:nothing@127.0.0.1:${await findFreePort()}/none`);
    pools.push(goodPool, deadPool);
    healthy = await startApiServer({ pool: goodPool, temporalClient: client, logger, taskQueue: 'health', host: '127.0.0.1', port: 0 });
    brokenDatabase = await startApiServer({ pool: deadPool, temporalClient: client, logger, taskQueue: 'health', host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await healthy.close();
    await brokenDatabase.close();
    for (const pool of pools) await pool.end();
    await connection.close();
  });

  it('answers /healthz while the process is up', async () => {
    const response = await apiClient(healthy.url).get('/healthz');
    expect(response).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('answers /readyz with 200 when PostgreSQL and Temporal are reachable', async () => {
    const response = await apiClient(healthy.url).get('/readyz');
    expect(response.status).toBe(200);
    expect(response.body.checks).toEqual({ postgres: 'ok', temporal: 'ok' });
  });

  it('answers /readyz with 503 naming PostgreSQL when the database is unreachable', async () => {
    const response = await apiClient(brokenDatabase.url).get('/readyz');
    expect(response.status).toBe(503);
    expect(response.body.message).toBe('Not ready: PostgreSQL unreachable.');
    expect(response.body.checks.temporal).toBe('ok');
  });

  it('answers an unknown route with a JSON 404', async () => {
    const response = await apiClient(healthy.url).get('/nope');
    expect(response.status).toBe(404);
    expect(response.body.message).toBe('No route for GET /nope.');
  });
});
