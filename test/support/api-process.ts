/**
 * A chatd API server in its own process, for multi-replica stream tests: kill it mid-turn and
 * reconnect to another. Configured by DATABASE_URL, TEMPORAL_ADDRESS, TASK_QUEUE; prints
 * "api ready <url>" once listening.
 */
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../../src/db/pool.js';
import { createLogger } from '../../src/logger.js';
import { startApiServer } from '../../src/main/api.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

const databaseUrl = required('DATABASE_URL');
const pool = createPool(databaseUrl);
const connection = await Connection.connect({ address: required('TEMPORAL_ADDRESS') });
const api = await startApiServer({
  pool,
  temporalClient: new Client({ connection }),
  logger: createLogger('warn'),
  taskQueue: required('TASK_QUEUE'),
  host: '127.0.0.1',
  port: 0,
  databaseUrl,
});
process.stdout.write(`api ready ${api.url}\n`);
