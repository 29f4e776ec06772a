/**
 * The Parquet files recsys and Spark exchange, written and read with DuckDB: the interactions recsys hands to
 * Spark (columns user INT, item INT, rating FLOAT: recsys's dense indices, so Spark's integer id columns need no
 * mapping and the external ids stay in recsys's id maps), and the factor tables Spark's ALSModel writes
 * (`userFactors` / `itemFactors`: id INT, features ARRAY<FLOAT>, a directory of part files).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Interactions } from '../data/interactions.js';
import { sqlString, withDuck } from '../data/duck.js';

/** Writes the non-zero entries of `x` to the Parquet file `file` (user, item, rating). */
export async function writeInteractionsParquet(x: Interactions, file: string): Promise<void> {
  await withDuck(async (db) => {
    await db.exec('CREATE TABLE interactions (user INTEGER, item INTEGER, rating FLOAT)');
    const appender = await db.connection.createAppender('interactions');
    try {
      for (let u = 0; u < x.nUsers; u++) {
        for (let j = x.rowPtr[u]; j < x.rowPtr[u + 1]; j++) {
          appender.appendInteger(u);
          appender.appendInteger(x.colIdx[j]);
          appender.appendFloat(x.values[j]);
          appender.endRow();
        }
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    await db.exec(`COPY interactions TO ${sqlString(file)} (FORMAT parquet)`);
  }, { threads: 1 });
}

/** The Parquet part files of a table Spark wrote to `dir`; throws naming `dir` when there are none. */
function partFiles(dir: string, what: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: the ${what} Parquet directory the Spark job should have written is missing`);
  const parts = readdirSync(dir).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(dir, f));
  if (parts.length === 0) throw new Error(`${dir}: the ${what} directory holds no .parquet part files`);
  return parts;
}

/**
 * Reads a factor table Spark wrote to `dir` into an n × rank row-major matrix (rows without an entry stay 0:
 * users or items without training interactions). Every id must be an integer in [0, n) appearing once, every
 * features list must hold `rank` finite values; a violation throws naming the directory and the id.
 */
export async function readFactorsParquet(dir: string, what: string, n: number, rank: number): Promise<Float32Array> {
  const parts = partFiles(dir, what);
  const list = `[${parts.map(sqlString).join(', ')}]`;
  return withDuck(async (db) => {
    let columns: { name: string; type: string }[];
    try {
      columns = (await db.rows(`DESCRIBE SELECT * FROM read_parquet(${list})`)).map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    } catch (e) {
      throw new Error(`${dir}: cannot read the ${what} Parquet files (${(e as Error).message.split('\n')[0]})`);
    }
    const id = columns.find((c) => c.name === 'id');
    const features = columns.find((c) => c.name === 'features');
    if (!id || !features) throw new Error(`${dir}: the ${what} table needs columns id and features, found ${columns.map((c) => `${c.name} ${c.type}`).join(', ')}`);
    if (!/^(TINYINT|SMALLINT|INTEGER|BIGINT)$/.test(id.type)) throw new Error(`${dir}: column id of the ${what} table is ${id.type}, expected an integer`);
    if (!/^(FLOAT|DOUBLE)\[\]$/.test(features.type)) throw new Error(`${dir}: column features of the ${what} table is ${features.type}, expected a list of floats`);
    const bad = await db.rows(`SELECT id, len(features) AS len FROM read_parquet(${list}) WHERE id IS NULL OR id < 0 OR id >= ${n} OR features IS NULL OR len(features) <> ${rank} OR list_count(list_filter(features, x -> isnan(x) OR isinf(x))) > 0 LIMIT 1`);
    if (bad.length > 0) {
      const r = bad[0];
      const len = r.len === null ? 'no features' : `${String(r.len)} features`;
      throw new Error(`${dir}: ${what} row with id ${String(r.id)} is invalid (ids must be in [0, ${n}), features ${rank} finite values; it has ${len} or non-finite values)`);
    }
    const dup = await db.rows(`SELECT id, count(*) AS c FROM read_parquet(${list}) GROUP BY id HAVING count(*) > 1 LIMIT 1`);
    if (dup.length > 0) throw new Error(`${dir}: ${what} id ${String(dup[0].id)} appears ${String(dup[0].c)} times`);
    const { columns: [ids, pos, values] } = await db.columns(
      `SELECT id::INTEGER, (p - 1)::INTEGER, v::FLOAT FROM (SELECT id, generate_subscripts(features, 1) AS p, unnest(features) AS v FROM read_parquet(${list}))`,
      ['int32', 'int32', 'float32'], n * rank,
    );
    const out = new Float32Array(n * rank);
    for (let j = 0; j < ids.length; j++) out[ids[j] * rank + pos[j]] = values[j];
    return out;
  }, { threads: 1 });
}
