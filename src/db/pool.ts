/**
 * PostgreSQL access: the pool factory and the one transaction helper every repository uses.
 * BIGINT columns (message ids, event sequence numbers) are parsed as JS numbers: they stay
 * far below 2^53 in any chat.
 */
import pg from 'pg';

pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export function createPool(connectionString: string, options: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'chatd',
    idleTimeoutMillis: 30_000,
  });
  // An idle client's error (e.g. the server restarted) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** The worker's pool for streamed message parts (see ActivityDependencies.streamPool). */
export function createStreamPool(connectionString: string): pg.Pool {
  return createPool(connectionString, { max: 10, applicationName: 'chatd-stream' });
}

/** A named statement with its values (see `prepared`). */
export interface PreparedStatement {
  name: string;
  text: string;
  values: unknown[];
}

/**
 * A statement PostgreSQL parses and plans once per connection (a named prepared statement), for
 * the hot paths: planning the larger CTE statements costs more than running them (a send's
 * turn-start write: 3.5 → 1.8 ms alone on this machine). One name per text. Never `*` in one:
 * a migration adding a column under a running process would change its result type, which
 * PostgreSQL refuses for a prepared statement ("cached plan must not change result type").
 */
export function prepared(name: string, text: string, values: unknown[]): PreparedStatement {
  return { name, text, values };
}

const commitHooks = new WeakMap<Queryable, Array<() => Promise<void>>>();
/** Transactions their work already committed (`executeAndCommit`); withTransaction sends no COMMIT. */
const committedByWork = new WeakSet<PoolClient>();
/** The named statements each connection has prepared, as far as this process has seen them succeed. */
const preparedOn = new WeakMap<PoolClient, Set<string>>();

/**
 * Runs `statement` (see `prepared`) as the last statement of the transaction `client` is in and
 * commits, in one round trip once the connection has prepared it: `EXECUTE name(literals); COMMIT`
 * over the simple query protocol, which reuses the plan PostgreSQL made for the named statement.
 * A connection's first use takes two round trips (the statement, prepared on the way, then COMMIT).
 * Only inside `withTransaction`, with no `runBeforeCommit` writes pending.
 */
export async function executeAndCommit<Row extends pg.QueryResultRow>(client: PoolClient, statement: PreparedStatement): Promise<Row[]> {
  const hooks = commitHooks.get(client);
  if (hooks === undefined || committedByWork.has(client)) throw new Error('executeAndCommit: only as the last statement of a withTransaction');
  if (hooks.length > 0) throw new Error('executeAndCommit: writes are waiting for the commit');
  // Every value must have a literal, on the connection's first use too.
  const literals = statement.values.map(valueLiteral);
  const known = preparedOn.get(client) ?? new Set<string>();
  preparedOn.set(client, known);
  let rows: Row[];
  if (known.has(statement.name)) {
    const results = (await client.query<Row>(`EXECUTE ${pg.escapeIdentifier(statement.name)}(${literals.join(', ')}); COMMIT`)) as unknown as Array<pg.QueryResult<Row>>;
    rows = results[0]!.rows;
  } else {
    rows = (await client.query<Row>(prepared(statement.name, statement.text, statement.values))).rows;
    known.add(statement.name);
    await client.query('COMMIT');
  }
  committedByWork.add(client);
  return rows;
}

/** A parameter value as the literal `EXECUTE` takes, typed by the prepared statement. */
function valueLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean' || typeof value === 'number') return sqlLiteral(String(value));
  if (typeof value === 'string') return sqlLiteral(value);
  throw new Error(`executeAndCommit: no literal for a ${typeof value} parameter`);
}

/**
 * Runs `write` as late as possible in the current transaction: just before COMMIT when `db` is
 * a client inside `withTransaction`, at once otherwise. For writes that take a lock shared by
 * many transactions (the watch feed's per-user sequence), this holds that lock for one
 * statement and the commit instead of the whole transaction.
 */
export async function runBeforeCommit(db: Queryable, write: () => Promise<void>): Promise<void> {
  const hooks = commitHooks.get(db);
  if (hooks === undefined) await write();
  else if (committedByWork.has(db as PoolClient)) throw new Error('runBeforeCommit: the transaction has already committed');
  else hooks.push(write);
}

/**
 * Runs `work` in a transaction, committing on success and rolling back on any error.
 * `opening`: the transaction's first statement, sent in the same round trip as BEGIN (a round
 * trip a write that a send's first token waits on cannot spare); its rows go to `work`. It
 * goes over the simple query protocol, which takes several statements but no parameters, so
 * its values must be inlined with `sqlLiteral`.
 */
export async function withTransaction<T, Opening extends pg.QueryResultRow = never>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, openingRows: Opening[]) => Promise<T>,
  opening?: string,
): Promise<T> {
  const client = await pool.connect();
  const hooks: Array<() => Promise<void>> = [];
  commitHooks.set(client, hooks);
  try {
    let openingRows: Opening[] = [];
    if (opening === undefined) await client.query('BEGIN');
    else {
      // Several statements answer with one result each: BEGIN's, then the opening statement's.
      const results = (await client.query<Opening>(`BEGIN; ${opening}`)) as unknown as Array<pg.QueryResult<Opening>>;
      openingRows = results[1]!.rows;
    }
    const result = await work(client, openingRows);
    if (committedByWork.has(client)) return result;
    for (const hook of hooks) await hook();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    committedByWork.delete(client);
    commitHooks.delete(client);
    client.release();
  }
}

/** A value as an SQL literal, for statements that cannot take parameters (see `withTransaction`). */
export function sqlLiteral(value: string | null): string {
  return value === null ? 'NULL' : pg.escapeLiteral(value);
}
