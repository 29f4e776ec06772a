/** KNNBaseline against a 4×4 matrix computed by hand. */
import { afterAll, describe, expect, it } from 'vitest';
import { getKernels } from '../../src/linalg/index.js';
import { fitBiases } from '../../src/models/baselines/biases.js';
import { KnnBaselineRecommender } from '../../src/models/neighbors/knn-baseline.js';
import { fromTriples } from './fixtures.js';

afterAll(async () => {
  await (await getKernels()).close();
});

// μ = 45/15 = 3; (u0, i3) is unrated. With huge bias penalties every baseline is μ, so d = r − 3.
const R = [
  [5, 4, 1, 0],
  [4, 5, 2, 4],
  [1, 2, 5, 2],
  [2, 1, 4, 3],
];
const train = fromTriples(4, 4, R.flatMap((row, u) => row.flatMap((r, i) => (r ? [[u, i, r] as [number, number, number]] : []))));
const flat = { regUser: 1e12, regItem: 1e12 };
const predict = async (params: Record<string, unknown>, u = 0, i = 3): Promise<number> => {
  const m = new KnnBaselineRecommender({ ...flat, ...params });
  await m.fit(train);
  return (await m.score(Int32Array.of(u), Int32Array.of(i)))[0];
};

describe('knn-baseline', () => {
  it('pearson_baseline similarities with shrinkage, by hand', async () => {
    const m = new KnnBaselineRecommender({ ...flat, shrinkage: 100 });
    await m.fit(train);
    const s = m.similarities!;
    // i3 vs i0 over u1..u3: d3 = (1, −1, 0), d0 = (1, −2, −1): 3 / √(2·6), shrunk by (3 − 1)/(3 − 1 + 100)
    expect(s.data[3 * 4 + 0]).toBeCloseTo((3 / Math.sqrt(12)) * (2 / 102), 6);
    expect(s.data[0 * 4 + 3]).toBeCloseTo((3 / Math.sqrt(12)) * (2 / 102), 6);
    // i3 vs i1: d1 = (2, −1, −2): 3 / √(2·9); i3 vs i2: d2 = (−1, 2, 1): −3 / √(2·6)
    expect(s.data[3 * 4 + 1]).toBeCloseTo((3 / Math.sqrt(18)) * (2 / 102), 6);
    expect(s.data[3 * 4 + 2]).toBeCloseTo((-3 / Math.sqrt(12)) * (2 / 102), 6);
    expect(s.data[2 * 4 + 2]).toBe(1);
  });

  it('predicts μ + Σ s·(r − b) / Σ s over the k most similar positive neighbours', async () => {
    const s0 = 3 / Math.sqrt(12);
    const s1 = 3 / Math.sqrt(18);
    // u0 rated i0 (d = 2), i1 (d = 1), i2 (negative similarity: left out)
    expect(await predict({ shrinkage: 0 })).toBeCloseTo(3 + (2 * s0 + 1 * s1) / (s0 + s1), 5); // 4.5505
    expect(await predict({ shrinkage: 0, neighbors: 1 })).toBeCloseTo(5, 5); // i0 only
    expect(await predict({ shrinkage: 0, minNeighbors: 3 })).toBeCloseTo(3, 5); // two positive neighbours < min_k
  });

  it('user-based: the neighbours are the users who rated the item', async () => {
    // u0 vs u1 over i0..i2: (2, 1, −2)·(1, 2, −1) = 6 > 0; u2 and u3 correlate negatively. u1's d on i3 is 1.
    expect(await predict({ shrinkage: 0, userBased: true })).toBeCloseTo(4, 5);
  });

  it("uses Surprise's ALS baselines (reg_u 15, reg_i 10, 10 epochs) by default and clips to the rating range", async () => {
    const m = new KnnBaselineRecommender();
    await m.fit(train);
    const want = fitBiases(train, 15, 10, 10);
    expect(Array.from(m.baselines!.userBias)).toEqual(Array.from(want.userBias));
    expect(Array.from(m.baselines!.itemBias)).toEqual(Array.from(want.itemBias));
    // a user who only rates 5s next to item 0 predicts above 5 before clipping
    const t2 = fromTriples(3, 2, [[0, 0, 5], [0, 1, 5], [1, 0, 5], [1, 1, 5], [2, 0, 5], [2, 1, 1]]);
    const c = new KnnBaselineRecommender({ regUser: 0, regItem: 0, shrinkage: 0 });
    await c.fit(t2);
    const s = await c.score(Int32Array.of(0, 0), Int32Array.of(0, 1));
    for (const x of s) expect(x).toBeLessThanOrEqual(5);
  });
});
