/**
 * `npm run bench -- quality [--sample] [--path DIR] [--folds 5] [--clip 5]`: model quality on KuaiRec.
 * `npm run bench -- quality --movielens …`: the RecBole protocol on MovieLens 100K, side by side with RecBole (bench/_movielens.ts).
 * Watch ratios are clipped at `--clip` (default 5; the clipped rows are in the cleaning report) because
 * the heavy right tail (ratios of 100+) otherwise dominates squared errors and SGD steps.
 *
 * Ranking: the KuaiRec unbiased protocol (train big_matrix, test the fully observed small_matrix, all
 * small-matrix items are candidates, relevant = watch_ratio >= 2), NDCG@10 and NDCG@50 of every learned model
 * against popularity (each must beat it on NDCG@10). Ratings: k-fold (default 5) split of the big-matrix
 * watch ratios, RMSE of biased MF and ALS against the global mean and the biases baseline.
 *
 * Data: --path, ../shared/data/kuairec/ or the cache; absent → skipped with a message, unless `--sample`
 * runs on the embedded synthetic kuairec-sample (1,000 users × 1,500 items).
 */
import type { LoadedDataset } from '../src/data/dataset.js';
import { loadDataset } from '../src/data/datasets/registry.js';
import { candidateDirs, findFile } from '../src/data/paths.js';
import { evaluateModel, kFold, kuaiRecSplit, parseMetric, rmse } from '../src/eval/index.js';
import { getKernels } from '../src/linalg/index.js';
import { createModel } from '../src/models/index.js';
import { runMovieLens } from './_movielens.js';

function flag(args: string[], name: string): string | undefined {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
}

/** Ranking models and their hyperparameters for this benchmark. */
export const RANKING_MODELS: [string, Record<string, unknown>][] = [
  ['popularity', {}],
  ['ials', { factors: 64, iterations: 15, alpha: 10, reg: 0.1, confidence: 'log' }],
  ['bpr', { factors: 64, epochs: 30, threads: 0 }],
  ['item-knn', { neighbors: 100 }],
  ['ease', { reg: 500 }],
  ['pure-svd', { factors: 32 }],
];

/** Rating models and their hyperparameters. */
export const RATING_MODELS: [string, Record<string, unknown>][] = [
  ['global-mean', {}],
  ['biases', {}],
  ['biased-mf', { factors: 64, epochs: 40, lr: 0.02, reg: 0.1 }],
  ['als', { factors: 16, iterations: 10, reg: 0.1 }],
];

async function data(args: string[]): Promise<LoadedDataset | null> {
  const clip = Number(flag(args, '--clip') ?? '5');
  if (args.includes('--sample')) return loadDataset('kuairec-sample', { clip });
  const dirs = candidateDirs('kuairec', { path: flag(args, '--path'), dataDir: flag(args, '--data-dir') });
  if (!findFile(dirs, 'big_matrix.csv', ['data', 'KuaiRec 2.0/data'])) return null;
  return loadDataset('kuairec', { path: flag(args, '--path'), dataDir: flag(args, '--data-dir'), clip });
}

/** Runs the benchmark (`--movielens`: the RecBole protocol on MovieLens 100K, see bench/_movielens.ts). */
export async function run(args: string[]): Promise<void> {
  if (args.includes('--movielens')) return runMovieLens(args);
  const ds = await data(args);
  if (!ds) {
    process.stdout.write('quality: skipped — KuaiRec big_matrix.csv not found (give --path, put it in ../shared/data/kuairec/, or run with --sample for the embedded synthetic sample)\n');
    return;
  }
  const kn = await getKernels();
  process.stdout.write(`quality on ${ds.name} (${ds.description}): ${ds.interactions.nUsers} users, ${ds.interactions.nItems} items, ${ds.interactions.nnz} entries\n\n`);
  const split = kuaiRecSplit(ds, { threshold: 2 });
  process.stdout.write(`${split.description}\n`);
  const metrics = ['ndcg@10', 'ndcg@50'].map(parseMetric);
  const table: [string, number, number, number][] = [];
  for (const [name, params] of RANKING_MODELS) {
    const m = createModel(name, params);
    const t0 = performance.now();
    await m.fit(split.train);
    const fitS = (performance.now() - t0) / 1000;
    const r = await evaluateModel(m, split.train, split.test, { metrics, candidates: split.candidates, excludeSeen: split.excludeSeen, relevanceThreshold: split.relevanceThreshold, bootstrap: 0 });
    table.push([name, r.metrics['ndcg@10'].mean, r.metrics['ndcg@50'].mean, fitS]);
  }
  const pop = table[0][1];
  process.stdout.write(`\n${'model'.padEnd(12)} ${'NDCG@10'.padEnd(9)} ${'NDCG@50'.padEnd(9)} ${'fit (s)'.padEnd(8)} vs popularity\n`);
  for (const [name, n10, n50, s] of table) {
    const verdict = name === 'popularity' ? '' : n10 > pop ? `beats (+${(((n10 - pop) / pop) * 100).toFixed(1)}%)` : 'DOES NOT BEAT';
    process.stdout.write(`${name.padEnd(12)} ${n10.toFixed(4).padEnd(9)} ${n50.toFixed(4).padEnd(9)} ${s.toFixed(2).padEnd(8)} ${verdict}\n`);
  }

  const folds = Number(flag(args, '--folds') ?? '5');
  const splits = kFold(ds.interactions, { k: folds, by: 'interaction', seed: 1 });
  const sums = new Map<string, number[]>();
  for (const [f, s] of splits.entries()) {
    const coo = s.test.toCoo();
    for (const [name, params] of RATING_MODELS) {
      const m = createModel(name, params);
      await m.fit(s.train);
      const pred = await m.score!(coo.userIdx, coo.itemIdx);
      const list = sums.get(name) ?? [];
      list.push(rmse(pred, coo.values));
      sums.set(name, list);
    }
    process.stderr.write(`  rating fold ${f + 1}/${folds}\n`);
  }
  process.stdout.write(`\nwatch-ratio RMSE, ${folds}-fold (interaction) cross-validation:\n`);
  for (const [name, list] of sums) {
    const mean = list.reduce((a, b) => a + b, 0) / list.length;
    const sd = Math.sqrt(list.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, list.length - 1));
    process.stdout.write(`${name.padEnd(12)} ${mean.toFixed(4)} ± ${sd.toFixed(4)}\n`);
  }
  await kn.close();
}
