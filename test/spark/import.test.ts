import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withDuck } from '../../src/data/duck.js';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { openModel } from '../../src/models/index.js';
import { stageSparkModel, publishModelDir } from '../../src/spark/import.js';
import { readFactorsParquet, writeInteractionsParquet } from '../../src/sparkjob/parquet.js';
import { SPARK_ALS_PARAMS } from '../../src/sparkjob/params.js';
import { rejection } from '../rejection.js';

const root = mkdtempSync(join(tmpdir(), 'recsys-spark-import-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string): string => join(root, `${name}-${n++}`);

/** 3 users (u-a, u-b, u-c), 4 items (x, y, z, w); u-c has no interactions. */
function train(): Interactions {
  return Interactions.fromCoo({
    users: IdMap.fromIds(['u-a', 'u-b', 'u-c']),
    items: IdMap.fromIds(['x', 'y', 'z', 'w']),
    userIdx: Int32Array.from([0, 0, 1, 1]),
    itemIdx: Int32Array.from([0, 1, 1, 2]),
    values: Float32Array.from([1, 3, 2, 5]),
  }).interactions;
}

/** A Spark-style factor table: a directory with a Parquet part file of (id INT, features FLOAT[]). */
async function factorDir(dir: string, rows: [number | null, number[] | null][], sql = 'INTEGER', list = 'FLOAT[]'): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const values = rows.map(([id, f]) => `(${id === null ? 'NULL' : id}::${sql}, ${f === null ? 'NULL' : `[${f.map((v) => (Number.isFinite(v) ? String(v) : `'${v}'::FLOAT`)).join(', ')}]`}::${list})`).join(', ');
  await withDuck((db) => db.exec(`COPY (SELECT * FROM (VALUES ${values}) t(id, features)) TO '${join(dir, 'part-00000-abc.snappy.parquet')}' (FORMAT parquet)`));
  writeFileSync(join(dir, '_SUCCESS'), '');
  return dir;
}

const USER_F: [number, number[]][] = [[0, [1, 0]], [1, [0, 2]]];
const ITEM_F: [number, number[]][] = [[0, [0.5, 0]], [1, [0.1, 0.1]], [2, [0, 1]], [3, [3, 3]]];

async function jobOutput(user = USER_F as [number | null, number[] | null][], item = ITEM_F as [number | null, number[] | null][]): Promise<string> {
  const dir = fresh('job');
  await factorDir(join(dir, 'userFactors'), user);
  await factorDir(join(dir, 'itemFactors'), item);
  return dir;
}

describe('Spark factors → recsys model directory', () => {
  it('imports implicit ALS as an ials model: external ids kept, scores are the factor dot products, missing users get zero vectors', async () => {
    const params = SPARK_ALS_PARAMS.parse('t', { implicitPrefs: true, rank: 2, regParam: 0.5, alpha: 4, maxIter: 3 });
    const staged = fresh('model');
    const { model, manifest } = await stageSparkModel(staged, { jobOutput: await jobOutput(), train: train(), params, provenance: { input: 'x.csv' } });
    expect(manifest.modelType).toBe('ials');
    expect(manifest.users).toEqual(['u-a', 'u-b', 'u-c']);
    expect(manifest.items).toEqual(['x', 'y', 'z', 'w']);
    expect(manifest.hyperparameters).toMatchObject({ factors: 2, iterations: 3, reg: 0.5, alpha: 4, regExponent: 1, solver: 'cholesky' });
    expect(manifest.provenance).toEqual({ input: 'x.csv' });
    // u-b = (0, 2): scores x 0, y 0.2, z 2, w 6; seen y and z are excluded → w, x.
    const top = await model.recommend([1], 2);
    expect(Array.from(top.items)).toEqual([3, 0]);
    expect(top.scores[0]).toBeCloseTo(6, 5);
    const s = await model.score!(Int32Array.from([0, 2, 0]), Int32Array.from([3, 3, 0]));
    expect(s[0]).toBeCloseTo(3, 5);
    expect(s[1]).toBe(0); // u-c: no Spark row → zero vector
    expect(s[2]).toBeCloseTo(0.5, 5);
    // The staged directory loads like any saved model, and publishing copies it atomically.
    const out = fresh('published');
    await publishModelDir(staged, out, { what: 'model directory', recognize: () => null });
    expect(readdirSync(out).sort()).toEqual(readdirSync(staged).sort());
    const reopened = await openModel(out);
    expect(Array.from((await reopened.model.recommend([0], 2)).items)).toEqual([3, 2]);
  });

  it('imports explicit ALS as an als model predicting the factor dot product (NaN for a cold user or item)', async () => {
    const params = SPARK_ALS_PARAMS.parse('t', { rank: 2 });
    const { model, manifest } = await stageSparkModel(fresh('model'), { jobOutput: await jobOutput(), train: train(), params, provenance: {} });
    expect(manifest.modelType).toBe('als');
    expect(manifest.hyperparameters).toMatchObject({ scaleByCount: true, coldStart: 'drop', factors: 2 });
    const s = await model.score!(Int32Array.from([1, 0, 2, 1]), Int32Array.from([2, 1, 0, 3]));
    expect(s[0]).toBeCloseTo(2, 5);
    expect(s[1]).toBeCloseTo(0.1, 5);
    expect(Number.isNaN(s[2])).toBe(true); // u-c: no training ratings (Spark's coldStartStrategy)
    expect(Number.isNaN(s[3])).toBe(true); // w: no training ratings
  });

  it('rejects damaged factor tables naming the directory, and writes no model', async () => {
    const params = SPARK_ALS_PARAMS.parse('t', { implicitPrefs: true, rank: 2 });
    const cases: [string, () => Promise<string>, RegExp][] = [
      ['wrong rank', () => jobOutput([[0, [1, 0, 0]], [1, [0, 2]]]), /userFactors: userFactors row with id 0 is invalid.*3 features/],
      ['id out of range', () => jobOutput(USER_F, [...ITEM_F, [4, [1, 1]]]), /itemFactors: itemFactors row with id 4 is invalid \(ids must be in \[0, 4\)/],
      ['NaN feature', () => jobOutput([[0, [1, NaN]]]), /userFactors row with id 0 is invalid.*non-finite/],
      ['duplicate id', () => jobOutput([[0, [1, 0]], [0, [1, 0]]]), /userFactors: userFactors id 0 appears 2 times/],
      ['null id', () => jobOutput([[null, [1, 0]]]), /userFactors row with id null is invalid/],
      ['text features', async () => {
        const dir = fresh('job');
        await factorDir(join(dir, 'userFactors'), [[0, null]], 'INTEGER', 'VARCHAR');
        await factorDir(join(dir, 'itemFactors'), ITEM_F);
        return dir;
      }, /userFactors: column features of the userFactors table is VARCHAR, expected a list of floats/],
      ['missing table', async () => {
        const dir = fresh('job');
        await factorDir(join(dir, 'userFactors'), USER_F);
        return dir;
      }, /itemFactors: the itemFactors Parquet directory the Spark job should have written is missing/],
      ['no part files', async () => {
        const dir = await jobOutput();
        rmSync(join(dir, 'itemFactors', 'part-00000-abc.snappy.parquet'));
        return dir;
      }, /itemFactors: the itemFactors directory holds no \.parquet part files/],
      ['not Parquet', async () => {
        const dir = await jobOutput();
        writeFileSync(join(dir, 'itemFactors', 'part-00000-abc.snappy.parquet'), 'not parquet');
        return dir;
      }, /itemFactors: cannot read the itemFactors Parquet files/],
    ];
    for (const [what, make, message] of cases) {
      const staged = fresh('model');
      const e = await rejection(stageSparkModel(staged, { jobOutput: await make(), train: train(), params, provenance: {} }));
      expect(e.message, what).toMatch(message);
      expect(existsSync(staged), what).toBe(false);
    }
  });

  it('writes the interactions for Spark as Parquet (user, item, rating) in recsys indices', async () => {
    const file = join(fresh('parquet'), 'x.parquet');
    mkdirSync(join(file, '..'));
    await writeInteractionsParquet(train(), file);
    const rows = await withDuck((db) => db.rows(`SELECT user, item, rating, typeof(user) AS t FROM read_parquet('${file}') ORDER BY user, item`));
    expect(rows.map((r) => [r.user, r.item, r.rating])).toEqual([[0, 0, 1], [0, 1, 3], [1, 1, 2], [1, 2, 5]]);
    expect(rows[0].t).toBe('INTEGER');
  });

  it('reads Spark\'s BIGINT ids and DOUBLE features too', async () => {
    const dir = await factorDir(fresh('f'), [[1, [0.25, -1]]], 'BIGINT', 'DOUBLE[]');
    expect(Array.from(await readFactorsParquet(dir, 'userFactors', 2, 2))).toEqual([0, 0, 0.25, -1]);
  });
});
