import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/harness.js';
import { createPool, executeAndCommit, prepared, runBeforeCommit, sqlLiteral, withTransaction, type Pool } from './pool.js';

let pool: Pool;

beforeAll(async () => {
  pool = createPool(await createTestDatabase(), { max: 4 });
  await pool.query('CREATE TABLE pool_test_rows (id integer PRIMARY KEY, label text)');
  await pool.query(`INSERT INTO pool_test_rows VALUES (1, 'one')`);
});

afterAll(async () => {
  await pool.end();
});

describe('withTransaction', () => {
  it('hands the opening statement’s rows to the work and holds its row locks until commit', async () => {
    const seen = await withTransaction<string[], { label: string }>(
      pool,
      async (client, opening) => {
        // Another connection cannot take the row the opening statement locked.
        await expect(pool.query('SELECT 1 FROM pool_test_rows WHERE id = 1 FOR UPDATE NOWAIT')).rejects.toThrow(/could not obtain lock/);
        await client.query(`UPDATE pool_test_rows SET label = 'changed' WHERE id = 1`);
        return opening.map((row) => row.label);
      },
      'SELECT label FROM pool_test_rows WHERE id = 1 FOR UPDATE',
    );
    expect(seen).toEqual(['one']);
    const { rows } = await pool.query('SELECT label FROM pool_test_rows WHERE id = 1 FOR UPDATE NOWAIT');
    expect(rows).toEqual([{ label: 'changed' }]);
  });

  it('rolls back what the opening statement wrote when the work fails', async () => {
    await expect(
      withTransaction(
        pool,
        async () => {
          throw new Error('the work failed');
        },
        `INSERT INTO pool_test_rows VALUES (2, 'two') RETURNING id`,
      ),
    ).rejects.toThrow('the work failed');
    const { rows } = await pool.query('SELECT id FROM pool_test_rows WHERE id = 2');
    expect(rows).toEqual([]);
  });
});

describe('executeAndCommit', () => {
  const insertRow = (id: number, label: string | null) =>
    prepared('pool-test-insert', 'INSERT INTO pool_test_rows (id, label) VALUES ($1, $2) RETURNING id, label', [id, label]);

  it('commits the statement with its transaction, on a connection’s first use and on later ones', async () => {
    const url = await createTestDatabase();
    const single = createPool(url, { max: 1 });
    // Read back on another connection: only committed rows show there.
    const other = createPool(url, { max: 1 });
    try {
      await single.query('CREATE TABLE pool_test_rows (id integer PRIMARY KEY, label text, touched boolean NOT NULL DEFAULT false)');
      const labels = [`plain`, `it's "quoted" \\ and {"json": [1, 2]}`, null];
      for (const [index, label] of labels.entries()) {
        // One connection: the first call prepares the statement, the later ones reuse it.
        const rows = await withTransaction(single, async (client) => {
          await client.query('UPDATE pool_test_rows SET touched = true');
          return executeAndCommit<{ id: number; label: string | null }>(client, insertRow(index + 10, label));
        });
        expect(rows).toEqual([{ id: index + 10, label }]);
      }
      const { rows } = await other.query('SELECT id, label, touched FROM pool_test_rows ORDER BY id');
      expect(rows).toEqual([
        { id: 10, label: 'plain', touched: true },
        { id: 11, label: labels[1], touched: true },
        { id: 12, label: null, touched: false },
      ]);
    } finally {
      await single.end();
      await other.end();
    }
  });

  it('rolls the whole transaction back when the statement fails, and the connection works on', async () => {
    const single = createPool(await createTestDatabase(), { max: 1 });
    try {
      await single.query('CREATE TABLE pool_test_rows (id integer PRIMARY KEY, label text)');
      await withTransaction(single, (client) => executeAndCommit(client, insertRow(1, 'first')));
      await expect(
        withTransaction(single, async (client) => {
          await client.query(`UPDATE pool_test_rows SET label = 'changed'`);
          return executeAndCommit(client, insertRow(1, 'duplicate'));
        }),
      ).rejects.toThrow(/duplicate key/);
      await withTransaction(single, (client) => executeAndCommit(client, insertRow(2, 'second')));
      const { rows } = await single.query('SELECT id, label FROM pool_test_rows ORDER BY id');
      expect(rows).toEqual([
        { id: 1, label: 'first' },
        { id: 2, label: 'second' },
      ]);
    } finally {
      await single.end();
    }
  });

  it('refuses values it has no literal for, and any use outside a transaction’s end, before sending anything', async () => {
    await expect(withTransaction(pool, (client) => executeAndCommit(client, prepared('pool-test-array', 'SELECT $1::int[] AS list', [[1, 2]])))).rejects.toThrow(/no literal for a object/);
    const client = await pool.connect();
    try {
      await expect(executeAndCommit(client, insertRow(98, 'loose'))).rejects.toThrow(/only as the last statement of a withTransaction/);
    } finally {
      client.release();
    }
    expect((await pool.query('SELECT id FROM pool_test_rows WHERE id = 98')).rows).toEqual([]);
  });

  it('refuses to commit ahead of writes that wait for the commit', async () => {
    await expect(
      withTransaction(pool, async (client) => {
        await runBeforeCommit(client, async () => undefined);
        return executeAndCommit(client, insertRow(99, 'never'));
      }),
    ).rejects.toThrow(/waiting for the commit/);
    expect((await pool.query('SELECT id FROM pool_test_rows WHERE id = 99')).rows).toEqual([]);
  });
});

describe('sqlLiteral', () => {
  it('quotes a value so that it stays one value, whatever it holds', async () => {
    const hostile = `x'); DROP TABLE pool_test_rows; --\\`;
    const { rows } = await pool.query(`SELECT ${sqlLiteral(hostile)} AS value, ${sqlLiteral(null)} AS nothing`);
    expect(rows).toEqual([{ value: hostile, nothing: null }]);
    expect((await pool.query('SELECT count(*)::int AS count FROM pool_test_rows')).rows[0].count).toBeGreaterThan(0);
  });
});
