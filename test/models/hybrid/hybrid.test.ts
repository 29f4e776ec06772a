/** The hybrid: normalisation by hand, the coordinate search recovering a planted mixture, an end-to-end blend. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { getKernels } from '../../../src/linalg/index.js';
import { createModel, loadModel } from '../../../src/models/index.js';
import { blendRow, coordinateSearch, ndcgOfScores, normalise, type ValidationUser } from '../../../src/models/hybrid/blend.js';
import { HybridRecommender } from '../../../src/models/hybrid/hybrid.js';
import { plantedBlocks } from '../fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'recsys-hybrid-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await (await getKernels()).close();
});

describe('normalisation and blend', () => {
  it('z-score and rank by hand', () => {
    const z = Float32Array.from([1, 2, 3, -Infinity]);
    normalise(z, 'zscore'); // -Infinity counts as the lowest finite score: [1, 2, 3, 1], mean 1.75, sd √0.6875
    const sd = Math.sqrt(0.6875);
    expect(Array.from(z).map((x) => +x.toFixed(5))).toEqual([-0.75 / sd, 0.25 / sd, 1.25 / sd, -0.75 / sd].map((x) => +x.toFixed(5)));
    const r = Float32Array.from([10, 30, 20]);
    normalise(r, 'rank');
    expect(Array.from(r)).toEqual([0, 1, 0.5]);
  });

  it('blends Σ w z / Σ|w| and switches cold items to the cold component', () => {
    const out = new Float32Array(3);
    blendRow([Float32Array.from([1, 0, 2]), Float32Array.from([0, 4, 4])], [1, 3], out, Uint8Array.from([0, 0, 1]), 0);
    expect(Array.from(out)).toEqual([0.25, 3, 2]);
  });

  it('NDCG@k of a score row skips excluded items', () => {
    const s = Float32Array.from([0.9, 0.8, 0.1, 0.5]);
    expect(ndcgOfScores(s, 2, new Set([1]), new Set([0]))).toBeCloseTo(1, 9);
    expect(ndcgOfScores(s, 2, new Set([3]), new Set())).toBeCloseTo(0, 9);
    expect(ndcgOfScores(s, 3, new Set([3]), new Set())).toBeCloseTo(1 / Math.log2(4) / 1, 9);
  });
});

describe('coordinate search', () => {
  it('recovers a planted mixture 2 : 1 : 0', () => {
    const rng = new Rng(5);
    const n = 60;
    const users: ValidationUser[] = [];
    for (let u = 0; u < 150; u++) {
      const z = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => rng.normal()));
      for (const x of z) normalise(x, 'zscore');
      const truth = Float32Array.from({ length: n }, (_, j) => 2 * z[0][j] + z[1][j]);
      const top = Array.from({ length: n }, (_, j) => j).sort((a, b) => truth[b] - truth[a]).slice(0, 3);
      users.push({ z, relevant: new Set(top), skip: new Set() });
    }
    const res = coordinateSearch(users, 3, [0, 0.25, 0.5, 1, 2, 4], 4, 5, n);
    const total = res.weights.reduce((a, b) => a + b, 0);
    expect(res.weights[2]).toBe(0);
    expect(res.weights[0] / total).toBeCloseTo(2 / 3, 5);
    expect(res.ndcg).toBeCloseTo(1, 9);
    expect(res.ndcg).toBeGreaterThan(res.startNdcg);
    expect(Math.max(...res.alone)).toBeLessThan(res.ndcg);
  });
});

describe('hybrid model', () => {
  it('learns to drop a noise component, beats it, and saves with its components', async () => {
    const { train, test } = plantedBlocks(120, 60, 4, 0.35, 0.02, 9);
    const m = new HybridRecommender({ components: [{ model: 'ials', params: { factors: 4, iterations: 5, alpha: 40, reg: 0.01 } }, { model: 'random', params: { seed: 1 }, label: 'noise' }], grid: [0, 0.5, 1, 2, 4] });
    await m.fit(train);
    const w = m.blendWeights;
    expect(w.ials).toBeGreaterThan(0);
    expect(w.noise / w.ials).toBeLessThanOrEqual(0.125);
    expect(m.fitNotes()[0]).toMatch(/hybrid weights learned .*ials .*noise/);
    const users = Int32Array.from({ length: 120 }, (_, u) => u);
    const a = await m.recommend(users, 5);
    await m.save(join(root, 'h'));
    const back = await loadModel(join(root, 'h'));
    const b = await back.recommend(users, 5);
    expect(Array.from(b.items)).toEqual(Array.from(a.items));
    expect(back.fitNotes?.()).toEqual(m.fitNotes());
    const noise = createModel('random', { seed: 1 });
    await noise.fit(train);
    const r = await noise.recommend(users, 5);
    const hits = (t: Int32Array): number => t.reduce((h, i, p) => h + (test.find(Math.floor(p / 5), i) >= 0 ? 1 : 0), 0);
    expect(hits(a.items)).toBeGreaterThan(2 * hits(r.items));
  });

  it('rejects bad component lists and weights', () => {
    expect(() => new HybridRecommender({ components: [] })).toThrow(/non-empty list/);
    expect(() => new HybridRecommender({ components: [{ model: 'nope' }] })).toThrow(/component "nope": unknown model/);
    expect(() => new HybridRecommender({ components: [{ model: 'ials' }, { model: 'ials' }] })).toThrow(/labels must be distinct/);
    expect(() => new HybridRecommender({ components: [{ model: 'ials' }], weights: [1, 2] })).toThrow(/1 components/);
    expect(() => new HybridRecommender({ components: [{ model: 'ials' }], switch: 'cold-items' })).toThrow(/coldComponent "content" is not a component/);
    expect(new HybridRecommender({ components: '[{"model":"popularity"}]' }).components).toEqual([{ model: 'popularity', params: {}, label: 'popularity' }]);
  });
});
