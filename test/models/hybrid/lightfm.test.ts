/** LightFM-style model: the WARP rule by hand, and cold items placed by their features. */
import { afterAll, describe, expect, it } from 'vitest';
import { emptyFeatures, multiHotFrom } from '../../../src/data/features.js';
import { getKernels } from '../../../src/linalg/index.js';
import { LightFmRecommender, warpSample, warpWeight } from '../../../src/models/hybrid/lightfm.js';
import { fromTriples } from '../fixtures.js';

afterAll(async () => (await getKernels()).close());

describe('WARP', () => {
  it('weighs a violation found at draw N by ln ⌊(n − 1)/N⌋', () => {
    expect(warpWeight(101, 1)).toBeCloseTo(Math.log(100), 12);
    expect(warpWeight(101, 10)).toBeCloseTo(Math.log(10), 12);
    expect(warpWeight(101, 3)).toBeCloseTo(Math.log(33), 12);
    expect(warpWeight(5, 10)).toBe(0);
  });

  it('draws until a negative scores above positive − 1, at most maxSampled times', () => {
    const scores = [0.1, 0.2, 2.5, 3];
    const seq = [0, 1, 2, 3];
    let t = 0;
    expect(warpSample(3, 10, () => seq[t++], (j) => scores[j])).toEqual({ item: 2, trials: 3 }); // 2.5 > 3 − 1
    t = 0;
    expect(warpSample(3, 2, () => seq[t++], (j) => scores[j])).toBeNull();
    t = 0;
    expect(warpSample(0.5, 10, () => seq[t++], (j) => scores[j])).toEqual({ item: 0, trials: 1 });
  });
});

describe('lightfm', () => {
  it('ranks cold items by their features: a user of tag-a items prefers the unseen tag-a item', async () => {
    // Items 0..9: even items tag a, odd tag b. Items 8 (a) and 9 (b) have no interactions.
    const f = emptyFeatures();
    f.multiHot.tags = multiHotFrom(Array.from({ length: 10 }, (_, i) => [i % 2 === 0 ? 'a' : 'b']));
    const t: [number, number, number][] = [];
    for (let u = 0; u < 40; u++) for (let i = 0; i < 8; i++) if (i % 2 === u % 2 && (i + u) % 3 !== 0) t.push([u, i, 1]);
    const train = fromTriples(40, 10, t);
    for (const identity of [true, false]) {
      const m = new LightFmRecommender({ factors: 8, epochs: 30, identity, seed: 3 });
      m.setFeatures({ itemFeatures: f });
      await m.fit(train);
      const users = Int32Array.from({ length: 40 }, (_, u) => u);
      const s8 = await m.score(users, new Int32Array(40).fill(8));
      const s9 = await m.score(users, new Int32Array(40).fill(9));
      let right = 0;
      for (let u = 0; u < 40; u++) if ((u % 2 === 0 ? s8[u] > s9[u] : s9[u] > s8[u])) right++;
      expect(right).toBeGreaterThanOrEqual(36);
      expect(m.itemVectors().rows).toBe(10);
    }
  });

  it('refuses a model with no item representation', async () => {
    await expect(new LightFmRecommender({ identity: false }).fit(fromTriples(1, 2, [[0, 0, 1]]))).rejects.toThrow(/no representation/);
  });
});
