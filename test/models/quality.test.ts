/** Learned models recover planted structure that popularity cannot see; rating models beat their baselines. */
import { afterAll, describe, expect, it } from 'vitest';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { getKernels, referenceKernels } from '../../src/linalg/index.js';
import { Rng } from '../../src/core/rng.js';
import { BiasedMfRecommender } from '../../src/models/factorization/biased-mf.js';
import { BprRecommender } from '../../src/models/factorization/bpr.js';
import { EaseRecommender } from '../../src/models/neighbors/ease.js';
import { IalsRecommender } from '../../src/models/factorization/ials.js';
import { ItemKnnRecommender } from '../../src/models/neighbors/item-knn.js';
import { PopularityRecommender } from '../../src/models/baselines/popularity.js';
import { PureSvdRecommender } from '../../src/models/factorization/pure-svd.js';
import { AlsRecommender } from '../../src/models/factorization/als.js';
import { RatingBaselineRecommender } from '../../src/models/baselines/rating-baselines.js';
import type { Recommender } from '../../src/models/contract.js';
import { ndcgAt, plantedBlocks } from './fixtures.js';

afterAll(async () => (await getKernels()).close());

describe('planted block structure', () => {
  const { train, test, itemBlock } = plantedBlocks(300, 120, 4, 0.3, 0.02, 21);
  const users = Int32Array.from({ length: 300 }, (_, u) => u);
  let popNdcg = 0;
  // The best a model can do knowing only the blocks: unseen items of the user's own block first.
  const oracle = new Int32Array(300 * 10).fill(-1);
  for (let u = 0; u < 300; u++) {
    const seen = new Set(train.userItems(u));
    let f = 0;
    for (let i = 0; i < 120 && f < 10; i++) if (itemBlock[i] === u % 4 && !seen.has(i)) oracle[u * 10 + f++] = i;
  }
  const oracleNdcg = ndcgAt(oracle, 10, users, test);

  it('popularity is near chance on it', async () => {
    const pop = new PopularityRecommender();
    await pop.fit(train);
    popNdcg = ndcgAt((await pop.recommend(users, 10)).items, 10, users, test);
    expect(popNdcg).toBeLessThan(0.5 * oracleNdcg);
  });

  const models: [string, () => Recommender][] = [
    ['ials', () => new IalsRecommender({ factors: 8, iterations: 8, alpha: 5, reg: 0.1 })],
    ['bpr (2 worker threads)', () => new BprRecommender({ factors: 8, epochs: 40, threads: 2 })],
    // The reference implementation's bprEpoch (one chunk, float64).
    ['bpr (reference kernels)', () => new BprRecommender({ factors: 8, epochs: 40, threads: 1 }).useKernels(referenceKernels)],
    ['item-knn', () => new ItemKnnRecommender({ neighbors: 30 })],
    ['ease', () => new EaseRecommender({ reg: 20 })],
    ['pure-svd', () => new PureSvdRecommender({ factors: 4 })],
  ];
  it.each(models)('%s: NDCG@10 well above popularity, similar items share the block', async (_name, make) => {
    const m = make();
    await m.fit(train);
    const ndcg = ndcgAt((await m.recommend(users, 10)).items, 10, users, test);
    expect(ndcg).toBeGreaterThan(2 * popNdcg);
    expect(ndcg).toBeGreaterThan(0.85 * oracleNdcg);
    let same = 0;
    for (const item of [0, 1, 2, 3, 17, 50]) {
      const s = await m.similarItems!(item, 5);
      for (const j of s.items) if (itemBlock[j] === itemBlock[item]) same++;
    }
    expect(same / 30).toBeGreaterThan(0.8);
  });
});

/** Ratings r = μ + b_u + b_i + p_uᵀq_i + noise on a random 25% of cells, split 80/20. */
function plantedRatings(seed: number): { train: Interactions; test: { u: Int32Array; i: Int32Array; r: Float32Array } } {
  const rng = new Rng(seed);
  const nU = 200;
  const nI = 150;
  const bu = Float64Array.from({ length: nU }, () => rng.normal() * 0.8);
  const bi = Float64Array.from({ length: nI }, () => rng.normal() * 0.8);
  const pu = Float64Array.from({ length: nU * 2 }, () => rng.normal() * 0.7);
  const qi = Float64Array.from({ length: nI * 2 }, () => rng.normal() * 0.7);
  const tr: number[][] = [];
  const te: number[][] = [];
  for (let u = 0; u < nU; u++) {
    for (let i = 0; i < nI; i++) {
      if (rng.uniform() > 0.25) continue;
      const r = 3.5 + bu[u] + bi[i] + pu[2 * u] * qi[2 * i] + pu[2 * u + 1] * qi[2 * i + 1] + rng.normal() * 0.3;
      (rng.uniform() < 0.8 ? tr : te).push([u, i, r]);
    }
  }
  const train = Interactions.fromCoo({ users: IdMap.range(nU), items: IdMap.range(nI), userIdx: Int32Array.from(tr, (t) => t[0]), itemIdx: Int32Array.from(tr, (t) => t[1]), values: Float32Array.from(tr, (t) => t[2]) }).interactions;
  return { train, test: { u: Int32Array.from(te, (t) => t[0]), i: Int32Array.from(te, (t) => t[1]), r: Float32Array.from(te, (t) => t[2]) } };
}

async function rmse(m: Recommender, t: { u: Int32Array; i: Int32Array; r: Float32Array }): Promise<number> {
  const s = await m.score!(t.u, t.i);
  let e = 0;
  for (let j = 0; j < s.length; j++) e += (s[j] - t.r[j]) ** 2;
  return Math.sqrt(e / s.length);
}

describe('rating models on planted biases and factors', () => {
  const { train, test } = plantedRatings(5);
  it('biased MF and ALS beat the biases baseline, which beats the global mean and the random baselines', async () => {
    const results: Record<string, number> = {};
    const models: [string, Recommender][] = [
      ['uniform', new RatingBaselineRecommender('uniform')],
      ['sampled', new RatingBaselineRecommender('sampled')],
      ['majority', new RatingBaselineRecommender('majority')],
      ['mean', new RatingBaselineRecommender('mean')],
      ['biases', new RatingBaselineRecommender('biases', { regUser: 2, regItem: 2 })],
      ['biased-mf', new BiasedMfRecommender({ factors: 4, epochs: 40, lr: 0.01 })],
      ['als', new AlsRecommender({ factors: 2, iterations: 10, reg: 0.05 })],
    ];
    for (const [name, m] of models) {
      await m.fit(train);
      results[name] = await rmse(m, test);
    }
    expect(results['biased-mf']).toBeLessThan(0.8 * results.biases);
    expect(results.biases).toBeLessThan(0.8 * results.mean);
    expect(results.mean).toBeLessThan(results.sampled);
    expect(results.mean).toBeLessThan(results.uniform);
    expect(results.als).toBeLessThan(results.mean);
  });
});
