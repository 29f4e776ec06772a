import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateModel } from '../../../src/eval/evaluate.js';
import { parseMetric } from '../../../src/eval/metrics.js';
import type { Interactions } from '../../../src/data/interactions.js';
import { TwoTowerRecommender, recentItems } from '../../../src/models/neural/two-tower.js';
import { PopularityRecommender } from '../../../src/models/baselines/popularity.js';
import { usesFeatures, type Recommender } from '../../../src/models/contract.js';
import { loadModel } from '../../../src/models/index.js';
import { plantedItemFeatures, plantedUserFeatures } from './features-data.js';
import { planted } from './planted.js';

const data = planted();
const features = { itemFeatures: plantedItemFeatures(data), userFeatures: plantedUserFeatures(data) };
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function ndcg10(model: Recommender, train: Interactions = data.train, test: Interactions = data.test, candidates?: Int32Array): Promise<number> {
  const r = await evaluateModel(model, train, test, { metrics: [parseMetric('ndcg@10')], bootstrap: 0, candidates });
  return r.metrics['ndcg@10'].mean;
}

function model(extra: Record<string, unknown> = {}): TwoTowerRecommender {
  const m = new TwoTowerRecommender({ batchSize: 128, epochs: 10, seed: 3, ...extra });
  m.setFeatures(features);
  return m;
}

describe('two-tower retrieval', () => {
  it('learns the planted clusters: NDCG@10 > 0.4, ≥ 3× popularity; loss decreases', async () => {
    const pop = new PopularityRecommender();
    await pop.fit(data.train);
    const popNdcg = await ndcg10(pop);
    const m = model();
    expect(usesFeatures(m)).toBe(true);
    expect(usesFeatures(pop)).toBe(false);
    await m.fit(data.train);
    const ndcg = await ndcg10(m);
    expect(ndcg).toBeGreaterThan(0.4);
    expect(ndcg).toBeGreaterThan(3 * popNdcg);
    expect(m.history.loss[9]).toBeLessThan(m.history.loss[0]);
    // Exported embeddings give the same ranking as recommend (exact retrieval).
    const v = await m.itemEmbeddings();
    expect(v.rows).toBe(120);
    const u = await m.userEmbeddings([7]);
    const seen = new Set(data.train.userItems(7));
    const scores = Array.from({ length: 120 }, (_, i) => {
      let s = 0;
      for (let j = 0; j < 32; j++) s += u.data[j] * v.data[i * 32 + j];
      return seen.has(i) ? -Infinity : s;
    });
    const expected = scores.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 5).map((x) => x[1]);
    expect(Array.from((await m.recommend([7], 5)).items)).toEqual(expected);
    // Similar items of the less popular items (60..119; low indices are popular noise) are mostly from their cluster.
    let same = 0;
    for (let item = 60; item < 120; item++) {
      const sim = await m.similarItems(item, 5);
      expect(Array.from(sim.items)).not.toContain(item);
      same += Array.from(sim.items).filter((i) => data.itemCluster[i] === data.itemCluster[item]).length;
    }
    expect(same / 300).toBeGreaterThan(0.8);
  });

  it('ranks cold-start items (no training interactions) from their features', async () => {
    const cold = (i: number): boolean => i < 24;
    const train = data.all.filterEntries((u, i) => !cold(i) && data.train.find(u, i) >= 0);
    const test = data.all.filterEntries((_u, i) => cold(i));
    const candidates = Int32Array.from({ length: 24 }, (_, i) => i);
    const withFeatures = model();
    await withFeatures.fit(train);
    const idOnly = new TwoTowerRecommender({ batchSize: 128, epochs: 10, seed: 3, useItemFeatures: false });
    await idOnly.fit(train);
    const a = await ndcg10(withFeatures, train, test, candidates);
    const b = await ndcg10(idOnly, train, test, candidates);
    expect(a).toBeGreaterThan(0.6);
    expect(a).toBeGreaterThan(b + 0.15);
  });

  it('is reproducible for a seed, folds in unseen users, and round-trips through save/load', async () => {
    const a = model({ epochs: 2 });
    await a.fit(data.train);
    const b = model({ epochs: 2 });
    await b.fit(data.train);
    const users = Int32Array.from([1, 2, 3]);
    const items = Int32Array.from([4, 5, 6]);
    const sa = await a.score(users, items);
    expect(Array.from(await b.score(users, items))).toEqual(Array.from(sa));
    const hist = { items: data.train.userItems(1) };
    expect((await a.foldIn(hist)).length).toBe(32);
    const fromHistory = await a.recommendForHistory(hist, 10);
    for (const i of fromHistory.items) expect(Array.from(hist.items)).not.toContain(i);
    const dir = await mkdtemp(join(tmpdir(), 'tt-'));
    dirs.push(dir);
    await a.save(join(dir, 'm'));
    const loaded = await loadModel(join(dir, 'm'));
    if (!(loaded instanceof TwoTowerRecommender)) throw new Error(`loaded a ${loaded.name}`);
    expect(Array.from(await loaded.score(users, items))).toEqual(Array.from(sa));
    expect(Array.from((await loaded.recommend(users, 10)).items)).toEqual(Array.from((await a.recommend(users, 10)).items));
    expect(Array.from((await loaded.recommendForHistory(hist, 10)).items)).toEqual(Array.from(fromHistory.items));
  });

  it('recentItems keeps the latest items by timestamp, most recent last', () => {
    const h = recentItems(data.train, 3);
    const u = 5;
    const items = Array.from(data.train.userItems(u));
    const times = Array.from(data.train.userTimes(u)!);
    const latest = items.map((it, j) => [times[j], it]).sort((x, y) => x[0] - y[0]).slice(-3).map((x) => x[1]);
    expect(Array.from(h.idx.subarray(h.ptr[u], h.ptr[u + 1]))).toEqual(latest);
  });

  it('names the bad feature column and rejects bad hyperparameters', async () => {
    const m = new TwoTowerRecommender({ epochs: 1 });
    m.setFeatures({ itemFeatures: { ...features.itemFeatures, numeric: { duration_ms: new Float32Array(3) } } });
    await expect(m.fit(data.train)).rejects.toThrow(/item features: numeric column "duration_ms" has 3 values, expected 120/);
    expect(() => new TwoTowerRecommender({ score: 'l2' })).toThrow(/two-tower: score must be one of cosine, dot/);
    expect(() => new TwoTowerRecommender({ temperature: 0 })).toThrow(/two-tower: temperature must be a number > 0/);
    const none = new TwoTowerRecommender({ positiveThreshold: 5, epochs: 1 });
    await expect(none.fit(data.train)).rejects.toThrow(/no training entries with value >= positiveThreshold/);
  });
});
