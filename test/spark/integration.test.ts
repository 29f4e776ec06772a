/**
 * The generated PySpark job on a real Spark (local mode): `recsys spark als` on a small synthetic data set with
 * planted taste clusters, compared with recsys's own iALS fitted with the mapped parameters on the same training
 * part (NDCG@10 and ROEM on the same held-out part, and the per-user score rank agreement); the ROEM evaluator
 * on a hand-computed case; and `recsys spark search` writing the local search's JSON-lines format. Skipped with
 * a message when pyspark or Java is missing (CI installs pyspark; Java 17 is on the machine).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';

import { loadInteractionsFile } from '../../src/data/index.js';
import { Interactions } from '../../src/data/interactions.js';
import { evaluateModel } from '../../src/eval/evaluate.js';
import { parseMetric, percentileRankTerms } from '../../src/eval/metrics.js';
import { readTrials } from '../../src/eval/search.js';
import { createModel, openModel } from '../../src/models/index.js';
import { checkSparkEnvironment } from '../../src/sparkjob/environment.js';
import { runJob, sparkConf } from '../../src/sparkjob/job.js';
import { recsysModelFor, SPARK_ALS_PARAMS } from '../../src/sparkjob/params.js';
import { runCli } from '../cli/helpers.js';

const env = await checkSparkEnvironment().catch((e: Error) => e);
const unavailable = env instanceof Error ? env.message : null;
if (unavailable) process.stderr.write(`test/spark/integration: skipped, Spark is not available here: ${unavailable}\n`);

const root = mkdtempSync(join(tmpdir(), 'recsys-spark-it-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * 240 users in 6 taste clusters over 180 items: each user draws ~24 distinct items, 85 % from the cluster's 30
 * items (Zipf-weighted), the rest uniformly; values 1–5. A held-out 20 % of each user's items is the test part.
 */
function plantedData(): { train: string[]; test: [string, string, number][] } {
  const rng = new Rng(11);
  const train: string[] = ['user,item,rating'];
  const test: [string, string, number][] = [];
  for (let u = 0; u < 240; u++) {
    const c = u % 6;
    const items = new Set<number>();
    const n = 18 + rng.int(13);
    while (items.size < n) {
      if (rng.uniform() < 0.85) {
        const r = Math.min(29, Math.floor(Math.pow(rng.uniform(), 2) * 30));
        items.add(c * 30 + r);
      } else items.add(rng.int(180));
    }
    for (const i of items) {
      const value = 1 + rng.int(5);
      if (rng.uniform() < 0.2) test.push([`user-${u}`, `item-${i}`, value]);
      else train.push(`user-${u},item-${i},${value}`);
    }
  }
  return { train, test };
}

/** The held-out triples in the index space of `train`'s id maps (pairs with an unknown id are dropped). */
function testPart(train: Interactions, test: [string, string, number][]): Interactions {
  const kept = test.filter(([u, i]) => train.users.has(u) && train.items.has(i));
  return Interactions.fromCoo({
    users: train.users, items: train.items,
    userIdx: Int32Array.from(kept, ([u]) => train.users.indexOf(u)),
    itemIdx: Int32Array.from(kept, ([, i]) => train.items.indexOf(i)),
    values: Float32Array.from(kept, ([, , v]) => v),
  }).interactions;
}

/** Spearman correlation of two score vectors (no ties expected in float scores). */
function spearman(a: Float32Array, b: Float32Array): number {
  const ranks = (x: Float32Array): Float64Array => {
    const order = Array.from(x.keys()).sort((p, q) => x[p] - x[q]);
    const r = new Float64Array(x.length);
    order.forEach((idx, k) => { r[idx] = k; });
    return r;
  };
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  let d2 = 0;
  for (let j = 0; j < n; j++) d2 += (ra[j] - rb[j]) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

describe.skipIf(unavailable !== null)('Spark local mode (integration)', () => {
  it('spark als (implicit) agrees with recsys iALS fitted with the same parameters', async () => {
    const { train, test } = plantedData();
    const csv = join(root, 'train.csv');
    writeFileSync(csv, `${train.join('\n')}\n`);
    const out = join(root, 'spark-model');
    const sparkParams = { implicitPrefs: true, rank: 8, maxIter: 10, regParam: 0.05, alpha: 2 };
    const r = await runCli(['spark', 'als', '--input', csv, '--user-col', 'user', '--item-col', 'item', '--value-col', 'rating', '--master', 'local[2]', '--shuffle-partitions', '2', '--driver-memory', '512m',
      ...Object.entries(sparkParams).map(([k, v]) => `--param=${k}=${String(v)}`), '--out', out]);
    expect(r.stderr).not.toMatch(/Spark job failed/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/saved to .* as a ials model/);

    const opened = await openModel(out);
    const ds = await loadInteractionsFile(csv, { user: 'user', item: 'item', value: 'rating' });
    const x = ds.interactions;
    expect(opened.manifest.users).toEqual(x.users.ids()); // external ids preserved, same order as recsys loads them
    expect(opened.manifest.items).toEqual(x.items.ids());
    expect(opened.manifest.provenance).toMatchObject({ input: csv, spark: { master: 'local[2]', params: { rank: 8, implicitPrefs: true } } });

    const { modelType, hyperparameters } = recsysModelFor(SPARK_ALS_PARAMS.parse('t', sparkParams));
    const local = createModel(modelType, hyperparameters);
    await local.fit(x);
    const heldOut = testPart(x, test);
    const metrics = [parseMetric('ndcg@10'), parseMetric('roem')];
    const options = { metrics, bootstrap: 0 };
    const spark = (await evaluateModel(opened.model, x, heldOut, options)).metrics;
    const mine = (await evaluateModel(local, x, heldOut, options)).metrics;
    const popularity = createModel('popularity', {});
    await popularity.fit(x);
    const pop = (await evaluateModel(popularity, x, heldOut, options)).metrics;
    process.stderr.write(`spark vs recsys iALS: NDCG@10 ${spark['ndcg@10'].mean.toFixed(4)} vs ${mine['ndcg@10'].mean.toFixed(4)} (popularity ${pop['ndcg@10'].mean.toFixed(4)}), ROEM ${spark.roem.mean.toFixed(4)} vs ${mine.roem.mean.toFixed(4)}\n`);
    // Both learned the clusters (far above popularity), and agree within a small tolerance: the solvers are the
    // same least squares, the initial factors differ.
    expect(spark['ndcg@10'].mean).toBeGreaterThan(pop['ndcg@10'].mean + 0.05);
    expect(Math.abs(spark['ndcg@10'].mean - mine['ndcg@10'].mean)).toBeLessThan(0.03);
    expect(Math.abs(spark.roem.mean - mine.roem.mean)).toBeLessThan(0.02);
    // Per user, the two models order the catalogue alike.
    const items = Int32Array.from({ length: x.nItems }, (_v, i) => i);
    let rho = 0;
    const users = [0, 37, 101, 199];
    for (const u of users) {
      const us = new Int32Array(x.nItems).fill(u);
      rho += spearman(await opened.model.score!(us, items), await local.score!(us, items)) / users.length;
    }
    expect(rho).toBeGreaterThan(0.8); // measured 0.90 on this data
  }, 240_000);

  it('the job\'s ROEM evaluator matches a hand-computed value', async () => {
    const work = join(root, 'roem');
    mkdirSync(work);
    // user 1 candidates (item 1 trained): 0, 2, 3, 4 → percentile ranks 0, 1/3, 2/3, 1; held out 2 (×2) and 4 (×1).
    // user 2 candidates: 1, 2, 0 → 0, 1/2, 1; held out 1 (×4) and 0 (×1); (2, 9) has no score and is dropped.
    // ROEM = (2·1/3 + 1·1 + 4·0 + 1·1) / (2 + 1 + 4 + 1) = (8/3) / 8 = 1/3.
    const scores = [[1, 0, 0.9], [1, 1, 0.8], [1, 2, 0.7], [1, 3, 0.6], [1, 4, 0.5], [2, 0, 0.1], [2, 1, 0.3], [2, 2, 0.2]];
    const c = { scores, train: [[1, 1]], heldout: [[1, 2, 2], [1, 4, 1], [2, 1, 4], [2, 0, 1], [2, 9, 3]] };
    const { result } = await runJob({ mode: 'roem-selftest', master: 'local[1]', appName: 'roem test', conf: sparkConf({ shufflePartitions: 1, driverMemory: '512m' }), output: join(work, 'out'), case: c }, join(work, 'spec.json'), { python: (env as { python: string }).python });
    expect(result.roem as number).toBeCloseTo(1 / 3, 6);
    // recsys's own ROEM terms on the same rankings give the same value.
    const terms = [
      percentileRankTerms([0, 2, 3, 4], [0.9, 0.7, 0.6, 0.5], new Map([[2, 2], [4, 1]])),
      percentileRankTerms([1, 2, 0], [0.3, 0.2, 0.1], new Map([[1, 4], [0, 1]])),
    ];
    expect(terms.reduce((a, t) => a + t.numerator, 0) / terms.reduce((a, t) => a + t.denominator, 0)).toBeCloseTo(1 / 3, 9);
  }, 120_000);

  it('spark search: CrossValidator + ROEM, results in the local search\'s JSON-lines format; a failing trial is recorded and the others finish', async () => {
    const dir = join(root, 'search');
    mkdirSync(dir);
    const results = join(dir, 'trials.jsonl');
    const config = join(dir, 'search.yaml');
    writeFileSync(config, [
      'name: spark search test',
      'dataset: { name: synthetic, users: 120, items: 60, perUser: 12 }',
      'split: { method: random, testRatio: 0.2 }',
      'metrics: [roem, ndcg@10]',
      'bootstrap: 0',
      'search:',
      '  model: ials',
      // rank 50000: Spark's normal equations need rank·(rank+1)/2 doubles, which overflows its Int array size
      // (NegativeArraySizeException) — a fit that fails in every fold, quickly.
      '  space: { factors: [2, 6, 50000] }',
      '  fixed: { iterations: 4, alpha: 2 }',
      '  folds: 2',
      '  metric: roem',
      `  results: ${results}`,
      '  seed: 3',
    ].join('\n'));
    const r = await runCli(['spark', 'search', config, '--shuffle-partitions', '2', '--driver-memory', '512m']);
    expect(r.stderr).not.toMatch(/Spark job failed/);
    // One trial failed: the run's outcome is a failure, as the local search's is; the table is still printed.
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 of 3 trials failed \(first: \{"alpha":2,"factors":50000,"iterations":4\}: fold 1: java\.lang\.NegativeArraySizeException/);
    const all = readTrials(results);
    expect(all.map((t) => t.params)).toEqual([{ iterations: 4, alpha: 2, factors: 2 }, { iterations: 4, alpha: 2, factors: 6 }, { iterations: 4, alpha: 2, factors: 50000 }]);
    const failed = all[2];
    expect(failed.error).toMatch(/^fold 1: java\.lang\.NegativeArraySizeException/);
    expect(failed.foldValues).toEqual([]);
    expect(Number.isNaN(failed.mean)).toBe(true);
    const trials = all.slice(0, 2);
    for (const t of trials) {
      expect(t.foldValues).toHaveLength(2);
      for (const v of t.foldValues) expect(v).toBeGreaterThan(0), expect(v).toBeLessThan(0.6);
      expect(t.mean).toBeCloseTo((t.foldValues[0] + t.foldValues[1]) / 2, 9);
      expect(t.fitSeconds).toBeGreaterThan(0);
    }
    expect(readFileSync(results, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(r.stdout).toMatch(/3 of 3 trials \(0 resumed from file\), 1 failed; roem: lower is better/);
    expect(r.stdout).toMatch(/failed: fold 1: java\.lang\.NegativeArraySizeException/);
    expect(r.stdout).toMatch(/best refitted on train, on test: roem=0\.\d+, ndcg@10=0\.\d+/);
  }, 240_000);
});


