import { afterAll, describe, expect, it } from 'vitest';
import { getKernels } from '../../src/linalg/index.js';
import { SCORE_IS_RANKING, SMALL_MODELS } from './all-models.js';
import { randomMatrix } from './fixtures.js';

afterAll(async () => (await getKernels()).close());

const train = randomMatrix(20, 15, 0.3, 7);
const users = Int32Array.from({ length: 20 }, (_, u) => u);

function row(items: Int32Array, k: number, r: number): number[] {
  return Array.from(items.subarray(r * k, (r + 1) * k));
}

describe.each(Object.keys(SMALL_MODELS))('%s recommend contract', (name) => {
  it('excludes seen items, respects filterItems and candidates, pads with -1/-Infinity', async () => {
    const m = SMALL_MODELS[name]();
    await m.fit(train);
    const k = 5;
    const r = await m.recommend(users, k);
    expect(r.items.length).toBe(20 * k);
    for (let u = 0; u < 20; u++) {
      const seen = new Set(train.userItems(u));
      const items = row(r.items, k, u).filter((i) => i >= 0);
      expect(new Set(items).size).toBe(items.length);
      for (const i of items) expect(seen.has(i)).toBe(false);
      const unseen = 15 - seen.size;
      expect(items.length).toBe(Math.min(k, unseen));
      for (let j = 1; j < k; j++) expect(r.scores[u * k + j]).toBeLessThanOrEqual(r.scores[u * k + j - 1]);
    }
    const filtered = await m.recommend(users, k, { filterItems: [0, 1, 2, 3] });
    for (const i of filtered.items) expect([0, 1, 2, 3]).not.toContain(i);
    const cand = await m.recommend(users, k, { candidates: [4, 5, 6] });
    for (let u = 0; u < 20; u++) {
      const allowed = [4, 5, 6].filter((i) => !train.userItems(u).includes(i));
      const got = row(cand.items, k, u);
      expect(got.filter((i) => i >= 0).sort()).toEqual(allowed.sort());
      for (let j = allowed.length; j < k; j++) {
        expect(got[j]).toBe(-1);
        expect(cand.scores[u * k + j]).toBe(-Infinity);
      }
    }
    const big = await m.recommend(Int32Array.from([0]), 20, { excludeSeen: false });
    expect(Array.from(big.items.subarray(15))).toEqual([-1, -1, -1, -1, -1]);
    expect(new Set(big.items.subarray(0, 15)).size).toBe(15);
  });

  it('rejects bad users and k', async () => {
    const m = SMALL_MODELS[name]();
    await expect(m.recommend(users, 3)).rejects.toThrow(/before fit/);
    await m.fit(train);
    await expect(m.recommend([20], 3)).rejects.toThrow(/outside/);
    await expect(m.recommend([0], 0)).rejects.toThrow(/positive integer/);
    await expect(m.recommend([0], 3, { candidates: [99] })).rejects.toThrow(/outside/);
  });

  if (SCORE_IS_RANKING.includes(name)) {
    it('ranks by its own score', async () => {
      const m = SMALL_MODELS[name]();
      await m.fit(train);
      const r = await m.recommend(users, 15, { excludeSeen: false });
      const u = Int32Array.from({ length: 20 * 15 }, (_, j) => Math.floor(j / 15));
      const s = await m.score!(u, r.items);
      for (let j = 0; j < s.length; j++) expect(s[j]).toBeCloseTo(r.scores[j], 4);
    });
  }
});

describe('recommendForHistory', () => {
  const WITH_HISTORY = ['ials', 'ials-cholesky-log', 'als', 'pure-svd', 'ease', 'item-knn', 'item-knn-bm25'];
  it.each(WITH_HISTORY)('%s: excludes the history, honours filters and matches recommend for a training user', async (name) => {
    const m = SMALL_MODELS[name]();
    await m.fit(train);
    const rfh = m.recommendForHistory?.bind(m);
    expect(rfh).toBeDefined();
    const history = { items: train.userItems(2).slice(), values: train.userValues(2).slice() };
    const r = await rfh!(history, 4, { filterItems: [0] });
    for (const i of r.items) {
      expect(Array.from(history.items)).not.toContain(i);
      expect(i).not.toBe(0);
    }
    if (!name.startsWith('ials') && name !== 'als') {
      // EASE, item-KNN and PureSVD score a history exactly as the training row.
      const direct = await m.recommend([2], 4, { filterItems: [0] });
      expect(Array.from(r.items)).toEqual(Array.from(direct.items));
    }
    await expect(rfh!({ items: Int32Array.from([99]) }, 3)).rejects.toThrow(/history item 99 outside/);
  });

  it.each(['bpr', 'biased-mf', 'rating-biases'])('%s cannot fold users in and says so by leaving the methods undefined', (name) => {
    const m = SMALL_MODELS[name]();
    expect(m.recommendForHistory).toBeUndefined();
    expect((m as { foldIn?: unknown }).foldIn).toBeUndefined();
  });
});
