import { describe, expect, it } from 'vitest';
import { sqlIdent, sqlString, withDuck } from '../../src/data/duck.js';

describe('DuckSession.columns', () => {
  it('copies INTEGER/FLOAT/DOUBLE columns across chunks, NULL → -1 / NaN', async () => {
    const n = 5000; // more than two 2048-row chunks
    const { rows, columns } = await withDuck((db) =>
      db.columns(
        `SELECT CAST(CASE WHEN k % 13 = 5 THEN NULL ELSE k END AS INTEGER), CAST(CASE WHEN k % 7 = 0 THEN NULL ELSE k / 2 END AS FLOAT), CASE WHEN k % 11 = 0 THEN NULL ELSE k * 1.5::DOUBLE END FROM range(${n}) t(k) ORDER BY k`,
        ['int32', 'float32', 'float64'],
        16,
      ),
    );
    expect(rows).toBe(n);
    const [a, b, c] = columns;
    for (let k = 0; k < n; k++) {
      expect(a[k]).toBe(k % 13 === 5 ? -1 : k);
      if (k % 7 === 0) expect(Number.isNaN(b[k])).toBe(true);
      else expect(b[k]).toBe(Math.fround(k / 2));
      if (k % 11 === 0) expect(Number.isNaN(c[k])).toBe(true);
      else expect(c[k]).toBe(k * 1.5);
    }
  });

  it('rejects a column whose SQL type does not match the requested kind', async () => {
    await expect(withDuck((db) => db.columns('SELECT 1.5::DOUBLE', ['int32']))).rejects.toThrow(/has type DOUBLE, expected INTEGER/);
  });

  it('quotes literals and identifiers', async () => {
    expect(sqlString("it's")).toBe("'it''s'");
    expect(sqlIdent('a"b')).toBe('"a""b"');
    const rows = await withDuck((db) => db.rows(`SELECT ${sqlString("it's")} AS ${sqlIdent('we"ird')}`));
    expect(rows[0]['we"ird']).toBe("it's");
  });
});
