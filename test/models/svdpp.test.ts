/** SVD++: the lazy implicit-factor SGD equals Surprise's per-rating loop, and it learns a planted low-rank matrix. */
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { getKernels } from '../../src/linalg/index.js';
import { randomMatrix as gaussian } from '../../src/models/factorization/factor-model.js';
import { SvdppRecommender } from '../../src/models/factorization/svdpp.js';
import { createModel } from '../../src/models/index.js';
import type { Interactions } from '../../src/data/interactions.js';
import { fromTriples, randomMatrix } from './fixtures.js';

afterAll(async () => {
  await (await getKernels()).close();
});

/**
 * Surprise's SVDpp.sgd written out plainly: for each rating, z = |N(u)|^-½ Σ y_j recomputed from y, then the
 * bias, p, q and every y_j (j ∈ N(u)) updated. The rating order and initial draws follow the model's documented
 * order (users shuffled, then each user's ratings shuffled, from one seeded stream).
 */
function reference(train: Interactions, f: number, epochs: number, lr: number, reg: number, std: number, seed: number) {
  const rng = new Rng(seed);
  const nU = train.nUsers;
  const P = gaussian(nU, f, std, rng).data;
  const Q = gaussian(train.nItems, f, std, rng).data;
  const Y = gaussian(train.nItems, f, std, rng).data;
  const bu = new Float64Array(nU);
  const bi = new Float64Array(train.nItems);
  let mu = 0;
  for (let p = 0; p < train.nnz; p++) mu += train.values[p];
  mu /= train.nnz;
  const order = Int32Array.from({ length: nU }, (_, u) => u);
  const pos = Int32Array.from({ length: train.nnz }, (_, p) => p);
  for (let ep = 0; ep < epochs; ep++) {
    rng.shuffle(order);
    for (const u of order) {
      const a = train.rowPtr[u];
      const b = train.rowPtr[u + 1];
      if (a === b) continue;
      for (let j = b - 1; j > a; j--) {
        const k = a + rng.int(j - a + 1);
        [pos[j], pos[k]] = [pos[k], pos[j]];
      }
      const Nu = Array.from(train.colIdx.subarray(a, b));
      const sq = Math.sqrt(Nu.length);
      for (let t = a; t < b; t++) {
        const i = train.colIdx[pos[t]];
        const z = Array.from({ length: f }, (_, c) => Nu.reduce((s, j) => s + Y[j * f + c], 0) / sq);
        let dot = 0;
        for (let c = 0; c < f; c++) dot += Q[i * f + c] * (P[u * f + c] + z[c]);
        const err = train.values[pos[t]] - (mu + bu[u] + bi[i] + dot);
        bu[u] += lr * (err - reg * bu[u]);
        bi[i] += lr * (err - reg * bi[i]);
        for (let c = 0; c < f; c++) {
          const puf = P[u * f + c];
          const qif = Q[i * f + c];
          P[u * f + c] += lr * (err * qif - reg * puf);
          Q[i * f + c] += lr * (err * (puf + z[c]) - reg * qif);
          for (const j of Nu) Y[j * f + c] += lr * ((err * qif) / sq - reg * Y[j * f + c]);
        }
      }
    }
  }
  return { P, Q, Y, bu, bi, mu };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let j = 0; j < expected.length; j++) worst = Math.max(worst, Math.abs(actual[j] - expected[j]));
  expect(worst).toBeLessThan(tol);
}

describe('svdpp', () => {
  it("equals Surprise's per-rating SGD loop (every y_j updated each rating) after 3 epochs", async () => {
    const train = randomMatrix(7, 6, 0.6, 11);
    const params = { factors: 3, epochs: 3, lr: 0.05, reg: 0.1, initStd: 0.3, seed: 5 };
    const m = new SvdppRecommender(params);
    await m.fit(train);
    const ref = reference(train, 3, 3, 0.05, 0.1, 0.3, 5);
    expect(m.globalMean).toBeCloseTo(ref.mu, 6);
    expectClose(m.userBias, ref.bu, 1e-5);
    expectClose(m.itemBias!, ref.bi, 1e-5);
    expectClose(m.itemFactors!.data, ref.Q, 1e-5);
    expectClose(m.implicitFactors!.data, ref.Y, 1e-5);
    // the prediction vectors are p_u + |N(u)|^-½ Σ y_j of the reference
    const f = 3;
    const eff = new Float64Array(train.nUsers * f);
    for (let u = 0; u < train.nUsers; u++) {
      const items = train.userItems(u);
      for (let c = 0; c < f; c++) {
        let s = 0;
        for (const j of items) s += ref.Y[j * f + c];
        eff[u * f + c] = ref.P[u * f + c] + (items.length ? s / Math.sqrt(items.length) : 0);
      }
    }
    expectClose(m.userFactors!.data, eff, 1e-5);
    // score = μ + b_u + b_i + q_i·(p_u + z_u), clipped to the training range
    const u = 2;
    const i = 4;
    let dot = 0;
    for (let c = 0; c < f; c++) dot += ref.Q[i * f + c] * eff[u * f + c];
    const raw = ref.mu + ref.bu[u] + ref.bi[i] + dot;
    const [s] = await m.score(Int32Array.of(u), Int32Array.of(i));
    expect(s).toBeCloseTo(Math.min(5, Math.max(1, raw)), 4);
  });

  it('beats the biases baseline on a planted rank-2 rating matrix', async () => {
    const rng = new Rng(3);
    const nU = 120;
    const nI = 80;
    const U = Array.from({ length: nU * 2 }, () => rng.normal());
    const V = Array.from({ length: nI * 2 }, () => rng.normal());
    const tr: [number, number, number][] = [];
    const te: [number, number, number][] = [];
    for (let u = 0; u < nU; u++) {
      for (let i = 0; i < nI; i++) {
        if (rng.uniform() > 0.35) continue;
        const r = Math.min(5, Math.max(1, 3 + 0.8 * (U[2 * u] * V[2 * i] + U[2 * u + 1] * V[2 * i + 1]) + 0.1 * rng.normal()));
        (rng.uniform() < 0.8 ? tr : te).push([u, i, r]);
      }
    }
    const train = fromTriples(nU, nI, tr);
    const users = Int32Array.from(te, (t) => t[0]);
    const items = Int32Array.from(te, (t) => t[1]);
    const rmseOf = (p: Float32Array): number => Math.sqrt(te.reduce((s, t, j) => s + (p[j] - t[2]) ** 2, 0) / te.length);
    const biases = createModel('biases');
    await biases.fit(train);
    const svdpp = createModel('svdpp', { factors: 4, epochs: 40, lr: 0.01 });
    await svdpp.fit(train);
    const rb = rmseOf(await biases.score!(users, items));
    const rs = rmseOf(await svdpp.score!(users, items));
    expect(rs).toBeLessThan(0.75 * rb);
  });
});
