import { describe, expect, it } from 'vitest';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { compareEvaluations, evaluateModel } from '../../src/eval/evaluate.js';
import { parseMetric } from '../../src/eval/metrics.js';
import { kuaiRecSplit, strongGeneralization } from '../../src/eval/splits.js';
import { syntheticDataset } from '../../src/eval/synthetic.js';
import { PopularityRecommender } from '../../src/models/baselines/popularity.js';
import type { RecommendOptions, Recommender, TopK } from '../../src/models/contract.js';

const metrics = (...names: string[]) => names.map(parseMetric);

/** Scores item i as `table[u][i]` (missing = 0); records the calls it gets. */
class TableModel implements Recommender {
  readonly name = 'table';
  calls: { users: number[]; k: number; options: RecommendOptions }[] = [];
  constructor(private readonly table: number[][], private readonly train: Interactions) {}
  async fit(): Promise<void> {}
  async recommend(users: ArrayLike<number>, k: number, options: RecommendOptions = {}): Promise<TopK> {
    this.calls.push({ users: [...Array.from(users)], k, options });
    const items = new Int32Array(users.length * k).fill(-1);
    const scores = new Float32Array(users.length * k).fill(-Infinity);
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      const seen = new Set(options.excludeSeen === false ? [] : this.train.userItems(u));
      const pool = options.candidates ? [...Array.from(options.candidates)] : this.table[u].map((_, i) => i);
      const ranked = pool.filter((i) => !seen.has(i)).sort((a, b) => (this.table[u][b] ?? 0) - (this.table[u][a] ?? 0) || a - b).slice(0, k);
      ranked.forEach((i, j) => { items[r * k + j] = i; scores[r * k + j] = this.table[u][i] ?? 0; });
    }
    return { k, items, scores };
  }
}

function matrix(nU: number, nI: number, entries: [number, number, number][]): Interactions {
  return Interactions.fromCoo({
    users: IdMap.range(nU), items: IdMap.range(nI),
    userIdx: Int32Array.from(entries.map((e) => e[0])), itemIdx: Int32Array.from(entries.map((e) => e[1])), values: Float32Array.from(entries.map((e) => e[2])),
  }).interactions;
}

describe('full-ranking protocol', () => {
  // 3 users, 6 items. User 2's only test entry is below the threshold → excluded and counted.
  const train = matrix(3, 6, [[0, 0, 5], [1, 1, 5], [2, 2, 5]]);
  const test = matrix(3, 6, [[0, 3, 5], [0, 4, 2], [1, 5, 4], [2, 3, 1]]);
  const table = [[9, 0, 8, 7, 1, 6], [0, 9, 0, 0, 0, 5], [0, 0, 0, 0, 0, 0]];

  it('excludes seen items, applies the relevance threshold, and computes per-user values', async () => {
    const model = new TableModel(table, train);
    const r = await evaluateModel(model, train, test, { metrics: metrics('precision@2', 'recall@2', 'ndcg@3', 'mrr'), relevanceThreshold: 3, bootstrap: 0 });
    expect([...r.users]).toEqual([0, 1]);
    expect(r.usersWithoutRelevant).toBe(1);
    // user 0 ranks [2, 3, 5, ...] (0 is seen): relevant {3}; user 1 ranks [5, 0, ...]: relevant {5}
    expect([...r.perUser['precision@2']]).toEqual([0.5, 0.5]);
    expect([...r.perUser['recall@2']]).toEqual([1, 1]);
    expect(r.perUser.mrr[0]).toBeCloseTo(0.5, 12);
    expect(r.perUser.mrr[1]).toBe(1);
    expect(r.metrics['ndcg@3'].mean).toBeCloseTo((1 / Math.log2(3) + 1) / 2, 10);
    expect(model.calls[0].options.excludeSeen).toBe(true);
    // mrr without @k needs the full ranking: k = number of items
    expect(model.calls[0].k).toBe(6);
  });

  it('can keep users without relevant items (their top-k metrics are 0)', async () => {
    const r = await evaluateModel(new TableModel(table, train), train, test, { metrics: metrics('recall@2', 'auc'), relevanceThreshold: 3, keepUsersWithoutRelevant: true, bootstrap: 0 });
    expect([...r.users]).toEqual([0, 1, 2]);
    expect(r.usersWithoutRelevant).toBe(1);
    expect(r.perUser['recall@2'][2]).toBe(0);
    expect(r.perUser.auc[2]).toBeNaN();
    expect(r.metrics['recall@2'].mean).toBeCloseTo(2 / 3, 12);
  });

  it('compares two evaluations user by user', async () => {
    const good = await evaluateModel(new TableModel(table, train), train, test, { metrics: metrics('recall@1'), bootstrap: 0 });
    const flat = await evaluateModel(new TableModel([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], train), train, test, { metrics: metrics('recall@1'), bootstrap: 0 });
    // good: user 0 top-1 = 2 (miss, recall 0), user 1 top-1 = 5 (hit, 1/1), user 2 top-1 = 5 (miss);
    // flat (ties → lowest index): user 0 → 1 (miss), user 1 → 0 (miss), user 2 → 0 (miss)
    expect([...good.perUser['recall@1']]).toEqual([0, 1, 0]);
    expect([...flat.perUser['recall@1']]).toEqual([0, 0, 0]);
    const c = compareEvaluations(good, flat, 'recall@1');
    expect(c.tTest.meanDiff).toBeCloseTo(1 / 3, 12);
    expect(c.wilcoxon.n).toBe(1);
    expect(() => compareEvaluations(good, flat, 'ndcg@10')).toThrow(/no per-user values/);
  });

  it('batches users through recommend', async () => {
    const model = new TableModel(table, train);
    await evaluateModel(model, train, test, { metrics: metrics('recall@2'), batchSize: 1, bootstrap: 0 });
    expect(model.calls.map((c) => c.users)).toEqual([[0], [1], [2]]);
  });

  it('k larger than the candidate count pads and still divides precision by k', async () => {
    const model = new TableModel(table, train);
    const r = await evaluateModel(model, train, test, { metrics: metrics('precision@10', 'hitrate@10'), candidates: Int32Array.from([3, 4]), relevanceThreshold: 3, bootstrap: 0 });
    expect(r.perUser['precision@10'][0]).toBeCloseTo(1 / 10, 12);
    expect(r.perUser['hitrate@10'][1]).toBe(0); // user 1's relevant item 5 is not a candidate
  });

  it('reports RMSE when the model has score(), a note when it has not', async () => {
    const model = new TableModel(table, train);
    const r = await evaluateModel(model, train, test, { metrics: metrics('rmse'), bootstrap: 0 });
    expect(r.metrics.rmse.mean).toBeNaN();
    expect(r.notes[0]).toMatch(/has no score\(\)/);
  });
});

describe('relevance: value >= threshold', () => {
  // User 0: item 1 exactly at the threshold (relevant), item 2 just below (not). User 1: only an entry at the
  // threshold, so the user is evaluated. The model ranks item 2 first, then item 1, then item 3.
  const train = matrix(2, 5, [[0, 0, 1], [1, 0, 1]]);
  const test = matrix(2, 5, [[0, 1, 3], [0, 2, 2.5], [1, 3, 3]]);
  const table = [[0, 5, 9, 1, 0], [0, 5, 9, 1, 0]];

  it('an entry equal to the threshold is relevant (full protocol)', async () => {
    const r = await evaluateModel(new TableModel(table, train), train, test, { metrics: metrics('precision@1', 'recall@2', 'ndcg@3'), relevanceThreshold: 3, bootstrap: 0 });
    expect([...r.users]).toEqual([0, 1]);
    expect(r.usersWithoutRelevant).toBe(0);
    // user 0 ranks [2, 1, 3]: item 2 (2.5 < 3) is a miss, item 1 (= 3) a hit at rank 2
    expect(r.perUser['precision@1'][0]).toBe(0);
    expect(r.perUser['recall@2'][0]).toBe(1);
    expect(r.perUser['ndcg@3'][0]).toBeCloseTo(1 / Math.log2(3), 12);
    // user 1 ranks [2, 1, 3]: its one relevant item 3 at rank 3
    expect(r.perUser['ndcg@3'][1]).toBeCloseTo(1 / Math.log2(4), 12);
  });

  it('an entry equal to the threshold is relevant (sampled protocol)', async () => {
    const r = await evaluateModel(new TableModel(table, train), train, test, { metrics: metrics('hitrate@5'), protocol: 'sampled', negatives: 1, relevanceThreshold: 3, bootstrap: 0 });
    expect([...r.users]).toEqual([0, 1]);
    expect(r.perUser['hitrate@5'][0]).toBe(1);
  });

  it('the KuaiRec split\'s watch_ratio >= 2 holds at exactly 2', async () => {
    const users = IdMap.range(2);
    const items = IdMap.range(4);
    const big = Interactions.fromCoo({ users, items, userIdx: Int32Array.from([0, 1]), itemIdx: Int32Array.from([0, 0]), values: Float32Array.from([1, 1]) }).interactions;
    const small = Interactions.fromCoo({ users, items, userIdx: Int32Array.from([0, 0, 1, 1]), itemIdx: Int32Array.from([1, 2, 1, 2]), values: Float32Array.from([2, 1.999, 1.5, 1]) }).interactions;
    const s = kuaiRecSplit({ name: 'k', description: '', valueKind: 'watch_ratio', interactions: big, eventColumns: {}, test: small, report: { files: [], rowsRead: 0, rowsKept: 0, duplicates: { policy: 'last', merged: 0, pairs: 0 }, issues: [], notes: [] } });
    const r = await evaluateModel(new TableModel([[0, 1, 2, 0], [0, 1, 2, 0]], s.train), s.train, s.test, { metrics: metrics('recall@2'), candidates: s.candidates, excludeSeen: s.excludeSeen, relevanceThreshold: s.relevanceThreshold, bootstrap: 0 });
    expect([...r.users]).toEqual([0]);
    expect(r.usersWithoutRelevant).toBe(1);
    expect(r.perUser['recall@2'][0]).toBe(1);
  });
});

describe('sampled protocol', () => {
  it('ranks each relevant item against N sampled non-interacted items', async () => {
    const ds = syntheticDataset({ users: 40, items: 300, perUser: 10, seed: 2 });
    const data = ds.interactions;
    const keep = new Uint8Array(data.nnz);
    for (let u = 0; u < data.nUsers; u++) keep[data.rowPtr[u]] = 1; // first entry of each user → test
    const test = data.selectEntries(keep);
    const train = data.selectEntries(keep.map((x) => 1 - x));
    // Oracle: test items score 1, others 0
    const table = Array.from({ length: data.nUsers }, (_, u) => { const row = new Array<number>(data.nItems).fill(0); for (const i of test.userItems(u)) row[i] = 1; return row; });
    const oracle = new TableModel(table, train);
    const r = await evaluateModel(oracle, train, test, { metrics: metrics('hitrate@1', 'auc'), protocol: 'sampled', negatives: 100, bootstrap: 0 });
    expect(r.metrics['hitrate@1'].mean).toBe(1);
    expect(r.metrics.auc.mean).toBe(1);
    for (const c of oracle.calls) {
      expect(c.options.candidates!.length).toBe(101);
      expect(c.options.excludeSeen).toBe(false);
      const own = new Set([...train.userItems(c.users[0]), ...test.userItems(c.users[0])]);
      expect(Array.from(c.options.candidates!).slice(1).some((i) => own.has(i))).toBe(false);
      expect(new Set(c.options.candidates!).size).toBe(101);
    }
  });
});

describe('held-out users (strong generalization)', () => {
  it('scores test users from their fold-in histories via recommendForHistory', async () => {
    const ds = syntheticDataset({ users: 200, items: 100, perUser: 15, seed: 4 });
    const s = strongGeneralization(ds.interactions, { testUsers: 30, seed: 1 });
    const pop = new PopularityRecommender();
    await pop.fit(s.train);
    const r = await evaluateModel(pop, s.train, s.test, { metrics: metrics('recall@10'), foldIn: s.testFoldIn, bootstrap: 0 });
    expect(r.users.length).toBeGreaterThan(20);
    expect(r.metrics['recall@10'].mean).toBeGreaterThan(0.1);
    const bare: Recommender = { name: 'bare', fit: async () => {}, recommend: pop.recommend.bind(pop) };
    await expect(evaluateModel(bare, s.train, s.test, { metrics: metrics('recall@10'), foldIn: s.testFoldIn })).rejects.toThrow(/cannot score held-out users/);
  });
});
