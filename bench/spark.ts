/**
 * `npm run bench -- spark [--path DIR] [--scale 250000,1000000] [--rank 32] [--iters 10] [--reg 0.05] [--alpha 2]
 * [--master local[2]] [--driver-memory 2g] [--where local,spark] [--no-eval]`: the same implicit ALS fitted in-process (recsys
 * `ials` with Spark's regularisation: regExponent 1, Cholesky) and on Spark (`recsys spark als`'s path: Parquet
 * via DuckDB, pyspark ALS, factors imported), scored on the same held-out 20 % (NDCG@10, ROEM, full ranking,
 * training items excluded). Data: MovieLens 100K (ratings ≥ 3, 10-core; --path, or shared/data/ml-100k next to
 * the repository; skipped when absent) and planted-cluster synthetic sets of the --scale sizes (interactions).
 * Skipped with a message when pyspark or Java is missing. Times: recsys = fit; Spark = the Spark fit alone and
 * the whole run (JVM start, Parquet out and in, import). `--where local` (or `spark`) runs one side only (scale runs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { IdMap } from '../src/data/id-map.js';
import { Interactions } from '../src/data/interactions.js';
import { evaluateModel } from '../src/eval/evaluate.js';
import { parseMetric } from '../src/eval/metrics.js';
import { randomSplit } from '../src/eval/splits.js';
import { getKernels } from '../src/linalg/index.js';
import { createModel, type Recommender } from '../src/models/index.js';
import { checkSparkEnvironment } from '../src/sparkjob/environment.js';
import { fitOnSpark } from '../src/spark/fit.js';
import { sparkConf } from '../src/sparkjob/job.js';
import { recsysModelFor, SPARK_ALS_PARAMS } from '../src/sparkjob/params.js';
import { findData, flag, loadMl100k } from './_movielens.js';

/** Users in taste clusters over a catalogue: ~perUser distinct items each, 85 % from the user's cluster (Zipf-like). */
export function plantedClusters(nInteractions: number, seed = 5): Interactions {
  const perUser = 40;
  const nUsers = Math.max(50, Math.round(nInteractions / perUser));
  const nItems = Math.max(100, Math.round(nUsers / 4));
  const clusters = 20;
  const per = Math.max(5, Math.floor(nItems / clusters));
  const rng = new Rng(seed);
  const u: number[] = [];
  const i: number[] = [];
  const v: number[] = [];
  for (let user = 0; user < nUsers; user++) {
    const c = user % clusters;
    const seen = new Set<number>();
    const n = perUser / 2 + rng.int(perUser);
    let guard = 0;
    while (seen.size < n && guard++ < 10 * n) {
      const item = rng.uniform() < 0.85 ? Math.min(nItems - 1, c * per + Math.floor(Math.pow(rng.uniform(), 2) * per)) : rng.int(nItems);
      if (seen.has(item)) continue;
      seen.add(item);
      u.push(user);
      i.push(item);
      v.push(1 + rng.int(5));
    }
  }
  return Interactions.fromCoo({ users: IdMap.range(nUsers), items: IdMap.range(nItems), userIdx: Int32Array.from(u), itemIdx: Int32Array.from(i), values: Float32Array.from(v) }).interactions;
}

interface Row {
  data: string;
  where: string;
  seconds: string;
  ndcg: string;
  roem: string;
}

async function score(model: Recommender, train: Interactions, test: Interactions, skip: boolean): Promise<{ ndcg: number; roem: number }> {
  if (skip) return { ndcg: NaN, roem: NaN };
  const m = (await evaluateModel(model, train, test, { metrics: [parseMetric('ndcg@10'), parseMetric('roem')], bootstrap: 0 })).metrics;
  return { ndcg: m['ndcg@10'].mean, roem: m.roem.mean };
}

export async function run(args: string[]): Promise<void> {
  const env = await checkSparkEnvironment().catch((e: Error) => e);
  if (env instanceof Error) {
    process.stdout.write(`spark: skipped — ${env.message}\n`);
    return;
  }
  const params = SPARK_ALS_PARAMS.parse('bench', {
    implicitPrefs: true, rank: flag(args, '--rank') ?? '32', maxIter: flag(args, '--iters') ?? '10', regParam: flag(args, '--reg') ?? '0.05', alpha: flag(args, '--alpha') ?? '2',
  });
  const master = flag(args, '--master') ?? 'local[2]';
  const where = (flag(args, '--where') ?? 'local,spark').split(',');
  const noEval = args.includes('--no-eval'); // scale runs: the full-ranking evaluation of 300k users costs more than the fit
  const conf = sparkConf({ shufflePartitions: 4, driverMemory: flag(args, '--driver-memory') ?? '2g' });
  const { modelType, hyperparameters } = recsysModelFor(params);
  const sets: { name: string; data: () => Interactions }[] = [];
  const ml = findData(args);
  if (ml && !args.includes('--no-movielens')) sets.push({ name: 'ml-100k (ratings ≥ 3, 10-core)', data: () => loadMl100k(ml) });
  else if (!args.includes('--no-movielens')) process.stdout.write('spark: ml-100k/u.data not found (give --path DIR, or put MovieLens 100K in shared/data/ml-100k next to the repository); synthetic sets only\n');
  for (const n of (flag(args, '--scale') ?? '250000').split(',').map(Number).filter((x) => x > 0)) sets.push({ name: `synthetic clusters ${n.toLocaleString('en-US')}`, data: () => plantedClusters(n) });
  process.stdout.write(`spark: implicit ALS rank ${params.rank}, maxIter ${params.maxIter}, regParam ${params.regParam}, alpha ${params.alpha}; recsys ials ${JSON.stringify(hyperparameters)}; Spark ${master}, ${conf['spark.driver.memory']} driver; ${cpus().length} cores (${cpus()[0]?.model ?? '?'})\n`);
  const rows: Row[] = [];
  for (const set of sets) {
    const data = set.data();
    const split = randomSplit(data, { testRatio: 0.2, seed: 1 });
    const label = `${set.name}: ${data.nUsers} × ${data.nItems}, ${split.train.nnz.toLocaleString('en-US')} train`;
    if (where.includes('local')) {
      const local = createModel(modelType, hyperparameters);
      const t0 = performance.now();
      await local.fit(split.train);
      const seconds = (performance.now() - t0) / 1000;
      const s = await score(local, split.train, split.test, noEval);
      rows.push({ data: label, where: 'recsys in-process', seconds: seconds.toFixed(1), ndcg: s.ndcg.toFixed(4), roem: s.roem.toFixed(4) });
      process.stdout.write(`  ${label}: recsys ${seconds.toFixed(1)} s, NDCG@10 ${s.ndcg.toFixed(4)}, ROEM ${s.roem.toFixed(4)}\n`);
    }
    if (!where.includes('spark')) continue;
    const workDir = mkdtempSync(join(tmpdir(), 'recsys-bench-spark-'));
    try {
      const t0 = performance.now();
      const fit = await fitOnSpark({ train: split.train, params, master, conf, workDir, python: env.python });
      const wall = (performance.now() - t0) / 1000;
      const s = await score(fit.opened.model, split.train, split.test, noEval);
      const fitSeconds = Number(fit.outcome.result.fitSeconds);
      rows.push({ data: label, where: `Spark ${master}`, seconds: `${fitSeconds.toFixed(1)} (run ${wall.toFixed(1)})`, ndcg: s.ndcg.toFixed(4), roem: s.roem.toFixed(4) });
      process.stdout.write(`  ${label}: Spark fit ${fitSeconds.toFixed(1)} s (whole run ${wall.toFixed(1)} s), NDCG@10 ${s.ndcg.toFixed(4)}, ROEM ${s.roem.toFixed(4)}\n`);
    } catch (e) {
      rows.push({ data: label, where: `Spark ${master}`, seconds: `failed: ${(e as Error).message.split('\n')[0].slice(0, 80)}`, ndcg: '', roem: '' });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  process.stdout.write('\n| data | where | fit s | NDCG@10 | ROEM |\n|---|---|---|---|---|\n');
  for (const r of rows) process.stdout.write(`| ${r.data} | ${r.where} | ${r.seconds} | ${r.ndcg} | ${r.roem} |\n`);
  await (await getKernels()).close();
}
