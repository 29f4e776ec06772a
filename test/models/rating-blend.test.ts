/**
 * Rating models' output range and the rating blend: biased MF clips to the training range (models saved before
 * clipping keep their unclipped predictions), ridge regression against a hand-solved case, and the blend's
 * predictions against a reference built from the same components and held-out split by plain arithmetic.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { getKernels } from '../../src/linalg/index.js';
import { createModel, loadModel } from '../../src/models/index.js';
import { BiasedMfRecommender } from '../../src/models/factorization/biased-mf.js';
import { featureRow, RatingBlendRecommender, ridgeRegression } from '../../src/models/hybrid/rating-blend.js';
import { denseSolve, fromTriples, randomMatrix } from './fixtures.js';

afterAll(async () => {
  await (await getKernels()).close();
});

/** Every (user, item) pair of an nU × nI grid. */
function grid(nU: number, nI: number): { users: Int32Array; items: Int32Array } {
  const users = Int32Array.from({ length: nU * nI }, (_, j) => Math.floor(j / nI));
  const items = Int32Array.from({ length: nU * nI }, (_, j) => j % nI);
  return { users, items };
}

describe('biased MF clipping', () => {
  // Two users who rate everything 5 and one who rates everything 1: with a large step the unclipped
  // predictions overshoot the 1..5 range.
  const train = fromTriples(3, 3, [[0, 0, 5], [0, 1, 5], [1, 0, 5], [1, 2, 5], [2, 1, 1], [2, 2, 1]]);
  const params = { factors: 2, epochs: 200, lr: 0.1, reg: 0, seed: 1 };

  it('clips predictions to the training rating range; clip: false gives the raw sum', async () => {
    const raw = new BiasedMfRecommender({ ...params, clip: false });
    await raw.fit(train);
    const clipped = new BiasedMfRecommender(params);
    await clipped.fit(train);
    const { users, items } = grid(3, 3);
    const r = await raw.score(users, items);
    const c = await clipped.score(users, items);
    expect(Math.max(...r) > 5 || Math.min(...r) < 1).toBe(true); // the case really overshoots
    for (let j = 0; j < r.length; j++) expect(c[j]).toBeCloseTo(Math.min(5, Math.max(1, r[j])), 6);
  });

  it('a model saved before clipping existed loads and keeps its unclipped predictions', async () => {
    const m = new BiasedMfRecommender({ ...params, clip: false });
    await m.fit(train);
    const dir = mkdtempSync(join(tmpdir(), 'recsys-bmf-'));
    await m.save(dir);
    const file = join(dir, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as { hyperparameters: Record<string, unknown>; state: Record<string, unknown> };
    delete json.hyperparameters.clip;
    delete json.state.minRating;
    delete json.state.maxRating;
    writeFileSync(file, JSON.stringify(json));
    const old = await loadModel(dir);
    const { users, items } = grid(3, 3);
    expect(Array.from(await old.score!(users, items))).toEqual(Array.from(await m.score(users, items)));
  });
});

describe('ridgeRegression', () => {
  it('solves a 2-feature case by hand (intercept unpenalised)', () => {
    // x = [1, t] for t = 0, 1, 2; y = 1, 3, 4. Normal equations with λ on the slope only:
    // [3 3; 3 5+λ] w = [8; 11] → λ = 1: det 15 → w = ([6·8 − 3·11]/9, [3·11 − 3·8]/9) = (15/9, 9/9).
    const X = Float64Array.from([1, 0, 1, 1, 1, 2]);
    const w = ridgeRegression(X, [1, 3, 4], 2, 1);
    expect(w[0]).toBeCloseTo(15 / 9, 12);
    expect(w[1]).toBeCloseTo(1, 12);
    const ols = ridgeRegression(X, [1, 3, 4], 2, 0);
    expect(ols[0]).toBeCloseTo(7 / 6, 12);
    expect(ols[1]).toBeCloseTo(1.5, 12);
  });

  it('recovers exact linear weights with λ 0 and names singular systems', () => {
    const rng = new Rng(3);
    const d = 4;
    const n = 50;
    const X = new Float64Array(n * d);
    const y = new Float64Array(n);
    const truth = [0.5, -2, 1.25, 3];
    for (let r = 0; r < n; r++) {
      X[r * d] = 1;
      for (let j = 1; j < d; j++) X[r * d + j] = rng.normal();
      for (let j = 0; j < d; j++) y[r] += truth[j] * X[r * d + j];
    }
    const w = ridgeRegression(X, y, d, 0);
    for (let j = 0; j < d; j++) expect(w[j]).toBeCloseTo(truth[j], 9);
    const twin = Float64Array.from([1, 2, 2, 1, 3, 3, 1, 5, 5]);
    expect(() => ridgeRegression(twin, [1, 2, 3], 3, 0)).toThrow(/rating-blend: the blend regression is singular/);
  });
});

describe('rating-blend', () => {
  const train = randomMatrix(30, 25, 0.4, 11);
  const components = [
    { model: 'biased-mf', params: { factors: 3, epochs: 5 }, label: 'mf' },
    { model: 'knn-baseline', params: { neighbors: 5 }, label: 'knn' },
  ];

  /**
   * The reference: the same seeded held-out split, the components fitted on the rest, the features and the
   * ridge normal equations written out and solved by the fixtures' dense solver.
   */
  async function reference(refit: boolean, ridge: number) {
    const perm = new Rng(42).fork('rating-blend:holdout').permutation(train.nnz);
    const hold = new Uint8Array(train.nnz);
    for (let j = 0; j < Math.round(0.1 * train.nnz); j++) hold[perm[j]] = 1;
    const fitPart = train.selectEntries(Uint8Array.from(hold, (h) => 1 - h));
    const held = train.selectEntries(hold).toCoo();
    const fitted = async (data: typeof train) => Promise.all(components.map(async (c) => {
      const m = createModel(c.model, c.params);
      await m.fit(data);
      return m;
    }));
    const models = await fitted(fitPart);
    const preds = await Promise.all(models.map((m) => m.score!(held.userIdx, held.itemIdx)));
    const uc = fitPart.userCounts();
    const ic = fitPart.itemCounts();
    const d = 9;
    const A = new Float64Array(d * d);
    const b = new Float64Array(d);
    for (let r = 0; r < held.values.length; r++) {
      const gu = Math.log(1 + uc[held.userIdx[r]]);
      const gi = Math.log(1 + ic[held.itemIdx[r]]);
      const x = [1, gu, gi, ...preds.flatMap((p) => [p[r], p[r] * gu, p[r] * gi])];
      for (let j = 0; j < d; j++) {
        b[j] += x[j] * held.values[r];
        for (let k = 0; k < d; k++) A[j * d + k] += x[j] * x[k];
      }
    }
    for (let j = 1; j < d; j++) A[j * d + j] += ridge;
    const w = denseSolve(A, b, d);
    const final = refit ? await fitted(train) : models;
    const fc = refit ? train : fitPart;
    const { users, items } = grid(train.nUsers, train.nItems);
    const p = await Promise.all(final.map((m) => m.score!(users, items)));
    const fu = fc.userCounts();
    const fi = fc.itemCounts();
    return Float32Array.from(users, (u, j) => {
      const gu = Math.log(1 + fu[u]);
      const gi = Math.log(1 + fi[items[j]]);
      const x = [1, gu, gi, ...p.flatMap((q) => [q[j], q[j] * gu, q[j] * gi])];
      return Math.min(5, Math.max(1, x.reduce((s, v, k) => s + v * w[k], 0)));
    });
  }

  for (const refit of [true, false]) {
    it(`predicts as the reference stack (refit ${refit}): weights from held-out training ratings only`, async () => {
      const m = new RatingBlendRecommender({ components, refit, ridge: 0.5 });
      await m.fit(train);
      const { users, items } = grid(train.nUsers, train.nItems);
      const got = await m.score(users, items);
      const want = await reference(refit, 0.5);
      for (let j = 0; j < got.length; j++) expect(got[j]).toBeCloseTo(want[j], 3);
      expect(m.fitNotes()[0]).toMatch(/^rating-blend: held-out RMSE \(0\.1 of the training ratings\) \d\.\d{4} \(alone: mf \d\.\d{4}, knn \d\.\d{4}\)/);
    });
  }

  it('a blend of a component and a copy of it weights them as one (ridge splits the weight evenly)', async () => {
    const twin = [{ ...components[0], label: 'a' }, { ...components[0], label: 'b' }];
    const m = new RatingBlendRecommender({ components: twin, supportFeatures: false, ridge: 1 });
    await m.fit(train);
    const w = m.blendWeights;
    expect(w.a).toBeCloseTo(w.b, 9);
  });

  it('featureRow lays out intercept, supports and per-component terms', () => {
    const out = new Float64Array(9);
    featureRow([4, 2], 0.5, 2, true, out);
    expect(Array.from(out)).toEqual([1, 0.5, 2, 4, 2, 8, 2, 1, 4]);
    const plain = new Float64Array(3);
    featureRow([4, 2], 0.5, 2, false, plain);
    expect(Array.from(plain)).toEqual([1, 4, 2]);
  });

  it('rejects nested blends, duplicate labels and a holdout out of range, naming the field', () => {
    expect(() => createModel('rating-blend', { components: [{ model: 'rating-blend' }] })).toThrow(/rating-blend: a rating blend cannot contain a rating blend/);
    expect(() => createModel('rating-blend', { components: [{ model: 'svdpp' }, { model: 'svdpp' }] })).toThrow(/rating-blend: component labels must be distinct/);
    expect(() => createModel('rating-blend', { holdout: 0.9 })).toThrow(/holdout/);
  });
});
