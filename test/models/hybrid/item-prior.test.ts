/** The item prior against hand-computed smoothed ratios, the Bayesian average and the age decay. */
import { afterAll, describe, expect, it } from 'vitest';
import { emptyFeatures } from '../../../src/data/features.js';
import { IdMap } from '../../../src/data/id-map.js';
import { Interactions } from '../../../src/data/interactions.js';
import { getKernels } from '../../../src/linalg/index.js';
import { ItemPriorRecommender } from '../../../src/models/hybrid/item-prior.js';
import { fromTriples } from '../fixtures.js';

afterAll(async () => (await getKernels()).close());

function daily(): ReturnType<typeof emptyFeatures> {
  const f = emptyFeatures();
  f.numeric.play_count = Float32Array.from([100, NaN, 10]);
  f.numeric.like_per_play = Float32Array.from([0.5, NaN, 1]);
  return f;
}

describe('item-prior', () => {
  it('smooths like/play toward the play-weighted mean with the pseudo-count', async () => {
    const m = new ItemPriorRecommender({ pseudoCount: 10 });
    m.setFeatures({ itemFeatures: daily() });
    await m.fit(fromTriples(1, 3, [[0, 0, 1]]));
    const mu = 60 / 110;
    expect(m.prior[0]).toBeCloseTo((50 + 10 * mu) / 110 / mu, 5);
    expect(m.prior[1]).toBeCloseTo(1, 6); // no daily data: the mean
    expect(m.prior[2]).toBeCloseTo((10 + 10 * mu) / 20 / mu, 5);
    const r = await m.recommend([0], 2, { excludeSeen: false });
    expect(Array.from(r.items)).toEqual([2, 1]);
    expect(m.fitNotes()[0]).toMatch(/daily/);
  });

  it('with pseudo-count 0 is the raw ratio relative to the mean', async () => {
    const m = new ItemPriorRecommender({ pseudoCount: 0 });
    m.setFeatures({ itemFeatures: daily() });
    await m.fit(fromTriples(1, 3, [[0, 0, 1]]));
    expect(m.prior[0]).toBeCloseTo(0.5 / (60 / 110), 5);
    expect(m.prior[2]).toBeCloseTo(1 / (60 / 110), 5);
  });

  it('falls back to the Bayesian average of the training values', async () => {
    const m = new ItemPriorRecommender({ pseudoCount: 2 });
    await m.fit(fromTriples(3, 3, [[0, 0, 5], [1, 0, 5], [2, 1, 1], [0, 1, 3]]));
    const mu = 14 / 4;
    expect(m.prior[0]).toBeCloseTo((10 + 2 * mu) / 4, 5);
    expect(m.prior[1]).toBeCloseTo((4 + 2 * mu) / 4, 5);
    expect(m.prior[2]).toBeCloseTo(mu, 5);
    await expect(new ItemPriorRecommender({ source: 'daily' }).fit(fromTriples(1, 2, [[0, 0, 1]]))).rejects.toThrow(/needs the item features play_count/);
  });

  it('decays by age since the first interaction', async () => {
    const day = 86400;
    const data = Interactions.fromCoo({
      users: IdMap.range(2), items: IdMap.range(2),
      userIdx: Int32Array.from([0, 1, 1]), itemIdx: Int32Array.from([0, 1, 0]),
      values: Float32Array.from([1, 1, 1]), timestamps: Float64Array.from([0, 2 * day, 2 * day]),
    }).interactions;
    const m = new ItemPriorRecommender({ pseudoCount: 0, halfLifeDays: 1 });
    await m.fit(data);
    expect(m.prior[0]).toBeCloseTo(0.25, 6); // 2 days old, half-life 1 day
    expect(m.prior[1]).toBeCloseTo(1, 6);
  });
});
