/** The hybrid's recommendForHistory: the blend of its components' history scores, by hand; components without it. */
import { afterAll, describe, expect, it } from 'vitest';
import { getKernels } from '../../../src/linalg/index.js';
import { createModel } from '../../../src/models/index.js';
import { HybridRecommender } from '../../../src/models/hybrid/hybrid.js';
import type { History, TopK } from '../../../src/models/contract.js';
import { plantedBlocks } from '../fixtures.js';

afterAll(async () => {
  await (await getKernels()).close();
});

/** Full score row over n items from a full top-n list; the z-score (population sd) over the listed items. */
function zRow(top: TopK, n: number): Map<number, number> {
  const listed: [number, number][] = [];
  for (let j = 0; j < top.k; j++) if (top.items[j] >= 0) listed.push([top.items[j], top.scores[j]]);
  const mean = listed.reduce((a, [, s]) => a + s, 0) / listed.length;
  const sd = Math.sqrt(listed.reduce((a, [, s]) => a + (s - mean) ** 2, 0) / listed.length);
  return new Map(listed.map(([i, s]) => [i, sd > 0 ? (s - mean) / sd : 0]));
}

describe('hybrid recommendForHistory', () => {
  const { train } = plantedBlocks(80, 40, 4, 0.35, 0.02, 4);
  const n = train.nItems;
  const history: History = { items: Int32Array.from([0, 1, 2]), values: Float32Array.from([1, 1, 1]) };

  it('blends the components\' z-scored history scores with the weights (w 1 : 2)', async () => {
    const ease = createModel('ease', { reg: 10 });
    const pop = createModel('popularity', {});
    await ease.fit(train);
    await pop.fit(train);
    const za = zRow(await ease.recommendForHistory!(history, n), n);
    const zb = zRow(await pop.recommendForHistory!(history, n), n);
    const expected = [...za.keys()].map((i) => [i, (za.get(i)! + 2 * zb.get(i)!) / 3] as const).sort((x, y) => y[1] - x[1]);
    const h = new HybridRecommender({ components: [{ model: 'ease', params: { reg: 10 } }, { model: 'popularity', params: {} }], weights: [1, 2] });
    await h.fit(train);
    const top = await h.recommendForHistory(history, 8);
    for (let j = 0; j < 8; j++) expect(top.scores[j]).toBeCloseTo(expected[j][1], 5);
    // The history's own items never come back.
    const all = await h.recommendForHistory(history, n);
    expect(Array.from(all.items).filter((i) => i >= 0 && i <= 2)).toEqual([]);
    expect(h.fitNotes().join('\n')).not.toMatch(/without/);
  });

  it('leaves out components without recommendForHistory, and says so', async () => {
    const ease = createModel('ease', { reg: 10 });
    await ease.fit(train);
    const alone = await ease.recommendForHistory!(history, 10);
    const h = new HybridRecommender({ components: [{ model: 'ease', params: { reg: 10 } }, { model: 'social', params: {} }], weights: [1, 1] });
    await h.fit(train);
    const top = await h.recommendForHistory(history, 10);
    expect(Array.from(top.items)).toEqual(Array.from(alone.items));
    expect(h.fitNotes()).toContain('hybrid: histories (held-out users) scored without social (no recommendForHistory); the other weights renormalised');
  });

  it('is a clear error when no component can score a history', async () => {
    const h = new HybridRecommender({ components: [{ model: 'social', params: {} }], weights: [1] });
    await h.fit(train);
    await expect(h.recommendForHistory(history, 5)).rejects.toThrow(/hybrid: cannot score a history: no component has recommendForHistory \(components: social \(social\)\)/);
  });
});
