import { describe, expect, it } from 'vitest';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { createModel, modelEntry } from '../../src/models/index.js';
import { PopularityRecommender } from '../../src/models/baselines/popularity.js';
import { RandomRecommender } from '../../src/models/baselines/random.js';

const DAY = 86400;
// 3 users × 5 items. Item counts: 0→3, 1→2, 2→1 (recent), 3→1, 4→0.
const train = Interactions.fromCoo({
  users: IdMap.range(3),
  items: IdMap.range(5),
  userIdx: Int32Array.from([0, 0, 1, 1, 2, 2, 2]),
  itemIdx: Int32Array.from([0, 1, 0, 1, 0, 2, 3]),
  timestamps: Float64Array.from([0, 0, 0, 0, 0, 100 * DAY, 50 * DAY]),
}).interactions;

describe('popularity', () => {
  it('ranks by count, excludes seen items by default, lower index first on ties', async () => {
    const m = new PopularityRecommender();
    await m.fit(train);
    expect([...m.itemScores]).toEqual([3, 2, 1, 1, 0]);
    const top = await m.recommend([0, 2], 3);
    expect([...top.items.subarray(0, 3)]).toEqual([2, 3, 4]); // user 0 saw 0 and 1
    expect([...top.items.subarray(3, 6)]).toEqual([1, 4, -1]); // user 2 saw 0, 2, 3; padded
    expect(top.scores[5]).toBe(-Infinity);
    const all = await m.recommend([0], 2, { excludeSeen: false });
    expect([...all.items]).toEqual([0, 1]);
  });
  it('honours filterItems and candidates', async () => {
    const m = new PopularityRecommender();
    await m.fit(train);
    expect([...(await m.recommend([0], 2, { filterItems: [2] })).items]).toEqual([3, 4]);
    expect([...(await m.recommend([1], 3, { candidates: [4, 3, 0] })).items]).toEqual([3, 4, -1]);
    expect([...(await m.score(Int32Array.from([0, 1]), Int32Array.from([0, 4])))]).toEqual([3, 0]);
    const h = await m.recommendForHistory({ items: Int32Array.from([0]) }, 2);
    expect([...h.items]).toEqual([1, 2]);
  });
  it('recency weighting decays with the half-life from the latest timestamp', async () => {
    const m = createModel('popularity', { weighting: 'recency', halfLifeDays: 50 }) as PopularityRecommender;
    await m.fit(train);
    // item 0: 3 events 100 days old → 3·2^-2 = 0.75; item 2: age 0 → 1; item 3: age 50 → 0.5
    expect(m.itemScores[0]).toBeCloseTo(0.75, 12);
    expect(m.itemScores[2]).toBeCloseTo(1, 12);
    expect(m.itemScores[3]).toBeCloseTo(0.5, 12);
    expect([...(await m.recommend([0], 1)).items]).toEqual([2]);
  });
  it('rejects bad hyperparameters and data without time for recency', async () => {
    expect(() => createModel('popularity', { weighting: 'often' })).toThrow(/weighting/);
    expect(() => createModel('popularity', { halfLife: 3 })).toThrow(/unknown hyperparameter "halfLife"/);
    const noTime = new Interactions(IdMap.range(1), IdMap.range(1), Int32Array.from([0, 1]), Int32Array.from([0]), Float32Array.from([1]), null);
    await expect(createModel('popularity', { weighting: 'recency' }).fit(noTime)).rejects.toThrow(/needs timestamps/);
    expect(modelEntry('popularity').defaults).toEqual({ weighting: 'count', halfLifeDays: 7 });
  });
});

describe('random', () => {
  it('is deterministic per seed, differs across seeds, and agrees with score()', async () => {
    const big = Interactions.fromCoo({ users: IdMap.range(2), items: IdMap.range(50), userIdx: Int32Array.from([0]), itemIdx: Int32Array.from([7]) }).interactions;
    const a = new RandomRecommender({ seed: 1 });
    const b = new RandomRecommender({ seed: 1 });
    const c = new RandomRecommender({ seed: 2 });
    for (const m of [a, b, c]) await m.fit(big);
    const ta = await a.recommend([0, 1], 49);
    expect([...ta.items]).toEqual([...(await b.recommend([0, 1], 49)).items]);
    expect([...ta.items]).not.toEqual([...(await c.recommend([0, 1], 49)).items]);
    // user 0's list excludes item 7 and is sorted by score(), best first
    const row = ta.items.subarray(0, 49);
    expect(row.includes(7)).toBe(false);
    const s = await a.score(new Int32Array(49).fill(0), Int32Array.from(row));
    for (let j = 1; j < 49; j++) expect(s[j]).toBeLessThanOrEqual(s[j - 1]);
    expect([...ta.scores.subarray(0, 49)]).toEqual([...s]);
  });
  it('pads when k exceeds the candidates, and rejects unknown parameters', async () => {
    const m = createModel('random', { seed: 3 });
    await m.fit(train);
    const t = await m.recommend([0], 4, { candidates: [1, 2, 4] });
    expect([...t.items].filter((i) => i >= 0).sort()).toEqual([2, 4]);
    expect(t.items[2]).toBe(-1);
    expect(() => createModel('random', { sed: 3 })).toThrow(/unknown hyperparameter "sed"/);
    expect(() => createModel('nope')).toThrow(/unknown model "nope"/);
  });
});
