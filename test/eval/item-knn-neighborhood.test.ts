import { describe, expect, it } from 'vitest';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { Rng } from '../../src/core/rng.js';
import { ItemKnnRecommender } from '../../src/models/neighbors/item-knn.js';

function matrix(nUsers: number, nItems: number, pairs: [number, number][]): Interactions {
  return Interactions.fromCoo({ users: IdMap.range(nUsers), items: IdMap.range(nItems), userIdx: Int32Array.from(pairs, (p) => p[0]), itemIdx: Int32Array.from(pairs, (p) => p[1]) }).interactions;
}

/**
 * Items A = 0, B = 1, C = 2 over 6 users: A = {u0, u1, u2, u5}, B = {u0, u1, u4}, C = {u2, u3}.
 * cos(A, B) = 2 / (2·√3) = 0.5774, cos(A, C) = 1 / (2·√2) = 0.3536, cos(B, C) = 0. With K = 1 each item's
 * nearest: A → B, B → A, C → A.
 * - source (implicit): history item i lends its one neighbour: {A} scores B 0.5774, C 0; {C} scores A 0.3536.
 * - target (RecBole): target j takes its one nearest source: B ← A, A ← B, C ← A. {A} scores B 0.5774 and
 *   C 0.3536; {C} scores A 0 (A's nearest source is B, not C).
 */
const hand = matrix(6, 3, [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 2], [3, 2], [4, 1], [5, 0]]);
const AB = 2 / (2 * Math.sqrt(3));
const AC = 1 / (2 * Math.sqrt(2));

async function historyScores(model: ItemKnnRecommender, item: number): Promise<Map<number, number>> {
  const top = await model.recommendForHistory({ items: Int32Array.of(item) }, 2);
  return new Map([...top.items].map((i, j) => [i, top.scores[j]]));
}

describe('item-KNN neighbourhoods (hand-computed)', () => {
  it('source: each history item keeps its K nearest (implicit)', async () => {
    const m = new ItemKnnRecommender({ neighbors: 1, neighborhood: 'source' });
    await m.fit(hand);
    const a = await historyScores(m, 0);
    expect(a.get(1)).toBeCloseTo(AB, 6);
    expect(a.get(2)).toBe(0);
    const c = await historyScores(m, 2);
    expect(c.get(0)).toBeCloseTo(AC, 6);
  });

  it('target: each target item keeps its K nearest sources (RecBole ComputeSimilarity)', async () => {
    const m = new ItemKnnRecommender({ neighbors: 1, neighborhood: 'target' });
    await m.fit(hand);
    const a = await historyScores(m, 0);
    expect(a.get(1)).toBeCloseTo(AB, 6);
    expect(a.get(2)).toBeCloseTo(AC, 6);
    const c = await historyScores(m, 2);
    expect(c.get(0)).toBe(0);
    // similarItems still lists the item's own nearest, in both modes.
    expect([...(await m.similarItems(2, 1)).items]).toEqual([0]);
  });

  it('shrink goes into the cosine denominator: 2 / (2·√3 + 1)', async () => {
    const m = new ItemKnnRecommender({ neighbors: 1, neighborhood: 'target', shrink: 1 });
    await m.fit(hand);
    expect((await historyScores(m, 0)).get(1)).toBeCloseTo(2 / (2 * Math.sqrt(3) + 1), 6);
  });

  it('both modes match a brute-force reference on random data', async () => {
    const rng = new Rng(9);
    const nU = 40;
    const nI = 25;
    const pairs: [number, number][] = [];
    for (let u = 0; u < nU; u++) for (let i = 0; i < nI; i++) if (rng.uniform() < 0.25) pairs.push([u, i]);
    const x = matrix(nU, nI, pairs);
    const K = 4;
    const shrink = 0.5;
    // Brute force: the full shrunk cosine, then the K-lists per item (ties: lower index first).
    const col = (i: number): Set<number> => new Set(pairs.filter((p) => p[1] === i).map((p) => p[0]));
    const cols = Array.from({ length: nI }, (_, i) => col(i));
    const sim = (i: number, j: number): number => {
      let dot = 0;
      for (const u of cols[i]) if (cols[j].has(u)) dot++;
      const d = Math.sqrt(cols[i].size) * Math.sqrt(cols[j].size) + shrink;
      return dot > 0 ? dot / d : 0;
    };
    const nearest = (i: number): number[] => Array.from({ length: nI }, (_, j) => j).filter((j) => j !== i && sim(i, j) > 0).sort((a, b) => sim(i, b) - sim(i, a) || a - b).slice(0, K);
    const lists = Array.from({ length: nI }, (_, i) => new Set(nearest(i)));
    for (const mode of ['source', 'target'] as const) {
      const m = new ItemKnnRecommender({ neighbors: K, neighborhood: mode, shrink });
      await m.fit(x);
      const items = Int32Array.from({ length: nI }, (_, i) => i);
      for (let u = 0; u < nU; u++) {
        const got = await m.score(new Int32Array(nI).fill(u), items);
        const hist = x.userItems(u);
        for (let j = 0; j < nI; j++) {
          let want = 0;
          for (const i of hist) if (mode === 'source' ? lists[i].has(j) : lists[j].has(i)) want += sim(i, j);
          expect(got[j], `${mode} u${u} j${j}`).toBeCloseTo(want, 5);
        }
      }
    }
  });
});
