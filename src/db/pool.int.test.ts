import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/harness.js';
import { createPool, sqlLiteral, withTransaction, type Pool } from './pool.js';

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

describe('sqlLiteral', () => {
  it('quotes a value so that it stays one value, whatever it holds', async () => {
    const hostile = `x'); DROP TABLE pool_test_rows; --\\`;
    const { rows } = await pool.query(`SELECT ${sqlLiteral(hostile)} AS value, ${sqlLiteral(null)} AS nothing`);
    expect(rows).toEqual([{ value: hostile, nothing: null }]);
    expect((await pool.query('SELECT count(*)::int AS count FROM pool_test_rows')).rows[0].count).toBeGreaterThan(0);
  });
});
