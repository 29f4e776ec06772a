/**
 * ALS (explicit and implicit, Cholesky and many-step CG), EASE and PureSVD against dense reference solvers
 * computed here in float64.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Interactions } from '../../src/data/interactions.js';
import { getKernels } from '../../src/linalg/index.js';
import { AlsRecommender } from '../../src/models/factorization/als.js';
import { EaseRecommender } from '../../src/models/neighbors/ease.js';
import { IalsRecommender } from '../../src/models/factorization/ials.js';
import { ItemKnnRecommender } from '../../src/models/neighbors/item-knn.js';
import { PureSvdRecommender } from '../../src/models/factorization/pure-svd.js';
import { symmetricEigen } from '../../src/linalg/small-dense.js';
import { denseSolve, randomMatrix } from './fixtures.js';

afterAll(async () => (await getKernels()).close());

/** Item-side entries as (user, value) lists. */
function columns(train: Interactions): { users: number[]; values: number[] }[] {
  const cols = Array.from({ length: train.nItems }, () => ({ users: [] as number[], values: [] as number[] }));
  for (let u = 0; u < train.nUsers; u++) {
    for (let p = train.rowPtr[u]; p < train.rowPtr[u + 1]; p++) {
      cols[train.colIdx[p]].users.push(u);
      cols[train.colIdx[p]].values.push(train.values[p]);
    }
  }
  return cols;
}

/** Dense iALS solution for one row: (w·FᵀF + Σ (c−1) f fᵀ + λ n^ν I) x = Σ c f. */
function ialsSolve(f: Float32Array, k: number, rows: number, idx: number[], vals: number[], o: { alpha: number; reg: number; log: boolean; eps: number; nu: number; w: number }): Float64Array {
  const a = new Float64Array(k * k);
  const b = new Float64Array(k);
  for (let r = 0; r < rows; r++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) a[i * k + j] += o.w * f[r * k + i] * f[r * k + j];
  idx.forEach((r, t) => {
    const c = o.log ? 1 + o.alpha * Math.log(1 + vals[t] / o.eps) : 1 + o.alpha * vals[t];
    for (let i = 0; i < k; i++) {
      b[i] += c * f[r * k + i];
      for (let j = 0; j < k; j++) a[i * k + j] += (c - 1) * f[r * k + i] * f[r * k + j];
    }
  });
  const lam = o.reg * Math.pow(idx.length, o.nu);
  for (let i = 0; i < k; i++) a[i * k + i] += lam;
  return denseSolve(a, b, k);
}

function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i] - want[i]));
    den = Math.max(den, Math.abs(want[i]));
  }
  return num / den;
}

describe('implicit ALS', () => {
  const train = randomMatrix(25, 18, 0.25, 3, 3);
  const cases = [
    { name: 'cholesky, linear confidence', params: { solver: 'cholesky', alpha: 40, reg: 0.01 }, o: { alpha: 40, reg: 0.01, log: false, eps: 1, nu: 0, w: 1 } },
    { name: 'cholesky, log confidence, frequency-scaled λ, unobserved weight', params: { solver: 'cholesky', confidence: 'log', eps: 0.5, regExponent: 1, unobservedWeight: 0.3, reg: 0.05, alpha: 5 }, o: { alpha: 5, reg: 0.05, log: true, eps: 0.5, nu: 1, w: 0.3 } },
    { name: 'CG with as many steps as factors', params: { solver: 'cg', cgSteps: 12, alpha: 40, reg: 0.01 }, o: { alpha: 40, reg: 0.01, log: false, eps: 1, nu: 0, w: 1 } },
  ];
  it.each(cases)('$name: the item factors exactly solve the last half step', async ({ params, o }) => {
    const k = 6;
    const m = new IalsRecommender({ factors: k, iterations: 4, ...params });
    await m.fit(train);
    const U = m.userFactors!.data;
    const V = m.itemFactors!.data;
    const cols = columns(train);
    for (let i = 0; i < train.nItems; i++) {
      const want = cols[i].users.length ? ialsSolve(U, k, train.nUsers, cols[i].users, cols[i].values, o) : new Float64Array(k);
      expect(maxRelErr(V.subarray(i * k, i * k + k), want)).toBeLessThan(params.solver === 'cg' ? 2e-2 : 1e-3);
    }
  });

  it('foldIn is exactly the Cholesky user half step and ≈ the trained vector after convergence', async () => {
    const k = 5;
    const o = { alpha: 10, reg: 0.1, log: false, eps: 1, nu: 0, w: 1 };
    const m = new IalsRecommender({ factors: k, iterations: 30, solver: 'cholesky', alpha: 10, reg: 0.1 });
    await m.fit(train);
    const V = m.itemFactors!.data;
    for (const u of [0, 3, 7]) {
      const items = Array.from(train.userItems(u));
      const values = Array.from(train.userValues(u));
      const f = await m.foldIn({ items: train.userItems(u), values: train.userValues(u) });
      expect(maxRelErr(f, ialsSolve(V, k, train.nItems, items, values, o))).toBeLessThan(1e-3);
      expect(maxRelErr(f, m.userFactors!.data.subarray(u * k, u * k + k))).toBeLessThan(2e-2);
    }
    const hist = await m.recommendForHistory({ items: train.userItems(0), values: train.userValues(0) }, 4);
    const direct = await m.recommend([0], 4);
    expect(Array.from(hist.items)).toEqual(Array.from(direct.items));
  });

  it('foldIn after a refit on other data solves against the new item factors (no stale YᵀY)', async () => {
    const k = 4;
    const o = { alpha: 10, reg: 0.1, log: false, eps: 1, nu: 0, w: 1 };
    const m = new IalsRecommender({ factors: k, iterations: 5, solver: 'cholesky', alpha: 10, reg: 0.1 });
    const history = { items: train.userItems(2), values: train.userValues(2) };
    await m.fit(train);
    await m.foldIn(history); // caches YᵀY of the first fit's item factors
    const other = randomMatrix(25, 18, 0.3, 3, 11);
    await m.fit(other);
    const f = await m.foldIn(history);
    expect(maxRelErr(f, ialsSolve(m.itemFactors!.data, k, other.nItems, Array.from(history.items), Array.from(history.values), o))).toBeLessThan(1e-3);
  });
});

describe('explicit ALS-WR', () => {
  it('the item factors exactly solve (UᵢᵀUᵢ + λ nᵢ I) y = Uᵢᵀ rᵢ', async () => {
    const train = randomMatrix(30, 12, 0.4, 5);
    const k = 4;
    const reg = 0.1;
    const m = new AlsRecommender({ factors: k, iterations: 3, reg });
    await m.fit(train);
    const U = m.userFactors!.data;
    const V = m.itemFactors!.data;
    columns(train).forEach((col, i) => {
      const a = new Float64Array(k * k);
      const b = new Float64Array(k);
      col.users.forEach((u, t) => {
        for (let x = 0; x < k; x++) {
          b[x] += col.values[t] * U[u * k + x];
          for (let y = 0; y < k; y++) a[x * k + y] += U[u * k + x] * U[u * k + y];
        }
      });
      for (let x = 0; x < k; x++) a[x * k + x] += reg * col.users.length;
      expect(maxRelErr(V.subarray(i * k, i * k + k), denseSolve(a, b, k))).toBeLessThan(1e-3);
    });
    // foldIn is the exact user half step: (VᵤᵀVᵤ + λ nᵤ I) x = Vᵤᵀ rᵤ.
    const items = Array.from(train.userItems(4));
    const values = Array.from(train.userValues(4));
    const a = new Float64Array(k * k);
    const b = new Float64Array(k);
    items.forEach((i, t) => {
      for (let x = 0; x < k; x++) {
        b[x] += values[t] * V[i * k + x];
        for (let y = 0; y < k; y++) a[x * k + y] += V[i * k + x] * V[i * k + y];
      }
    });
    for (let x = 0; x < k; x++) a[x * k + x] += reg * items.length;
    const f = await m.foldIn({ items: train.userItems(4), values: train.userValues(4) });
    expect(maxRelErr(f, denseSolve(a, b, k))).toBeLessThan(1e-3);
  });

  it('cold-start strategies: drop gives NaN, mean falls back to the biases', async () => {
    const train = randomMatrix(10, 8, 0.5, 9);
    // Make user 9 and item 7 cold by dropping their entries.
    const warm = train.filterEntries((u, i) => u !== 9 && i !== 7);
    const drop = new AlsRecommender({ factors: 2, iterations: 2, coldStart: 'drop' });
    await drop.fit(warm);
    const s = await drop.score(Int32Array.from([9, 0, 0]), Int32Array.from([0, 7, 1]));
    expect(Number.isNaN(s[0]) && Number.isNaN(s[1])).toBe(true);
    expect(Number.isFinite(s[2])).toBe(true);
    const mean = new AlsRecommender({ factors: 2, iterations: 2, coldStart: 'mean' });
    await mean.fit(warm);
    const b = mean.biases!;
    const t = await mean.score(Int32Array.from([9, 0, 9]), Int32Array.from([0, 7, 7]));
    expect(t[0]).toBeCloseTo(b.globalMean + b.itemBias[0], 5);
    expect(t[1]).toBeCloseTo(b.globalMean + b.userBias[0], 5);
    expect(t[2]).toBeCloseTo(b.globalMean, 5);
  });
});

describe('EASE', () => {
  it('B equals I − P·diag(1/diag P) with P = (XᵀX + λI)⁻¹ from a dense solve', async () => {
    const train = randomMatrix(40, 10, 0.3, 11);
    const n = 10;
    const lambda = 3;
    const m = new EaseRecommender({ reg: lambda });
    await m.fit(train);
    const g = new Float64Array(n * n);
    for (let u = 0; u < train.nUsers; u++) {
      const it = train.userItems(u);
      for (const i of it) for (const j of it) g[i * n + j] += 1;
    }
    for (let i = 0; i < n; i++) g[i * n + i] += lambda;
    const p = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      const e = new Float64Array(n);
      e[j] = 1;
      const col = denseSolve(g, e, n);
      for (let i = 0; i < n; i++) p[i * n + j] = col[i];
    }
    const want = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) want[i * n + j] = i === j ? 0 : -p[i * n + j] / p[j * n + j];
    expect(maxRelErr(m.weights!.data, want)).toBeLessThan(1e-4);
    // Scoring in several column panels gives the same rankings as one panel.
    const users = Int32Array.from({ length: 40 }, (_, u) => u);
    const one = await m.recommend(users, 4);
    const saved = EaseRecommender.panelFloats;
    try {
      EaseRecommender.panelFloats = 8 * 7;
      const many = new EaseRecommender({ reg: lambda });
      await many.fit(train);
      expect(EaseRecommender.panelWidth(n)).toBe(8);
      const r = await many.recommend(users, 4);
      expect(Array.from(r.items)).toEqual(Array.from(one.items));
      for (let j = 0; j < r.scores.length; j++) expect(r.scores[j]).toBeCloseTo(one.scores[j], 5);
    } finally {
      EaseRecommender.panelFloats = saved;
    }
    const s = await m.score(Int32Array.from([0]), Int32Array.from([3]));
    let direct = 0;
    for (const i of train.userItems(0)) direct += want[i * n + 3];
    expect(s[0]).toBeCloseTo(direct, 4);
  });
});

describe('PureSVD', () => {
  it('singular values and subspace match the dense eigen-decomposition of XᵀX', async () => {
    const train = randomMatrix(30, 12, 0.4, 13).binarize();
    const n = 12;
    const k = 4;
    const m = new PureSvdRecommender({ factors: k, oversample: 8, powerIterations: 2 });
    await m.fit(train);
    const g = new Float64Array(n * n);
    for (let u = 0; u < train.nUsers; u++) {
      const it = train.userItems(u);
      for (const i of it) for (const j of it) g[i * n + j] += 1;
    }
    const { values, vectors } = symmetricEigen(g, n);
    for (let j = 0; j < k; j++) {
      expect(m.singularValues[j]).toBeCloseTo(Math.sqrt(values[j]), 3);
      let dot = 0;
      for (let i = 0; i < n; i++) dot += m.itemFactors!.data[i * k + j] * vectors[i * n + j];
      expect(Math.abs(dot)).toBeCloseTo(1, 3);
    }
    const f = await m.foldIn({ items: train.userItems(2) });
    expect(maxRelErr(f, m.userFactors!.data.subarray(2 * k, 3 * k))).toBeLessThan(1e-5);
  });
});

describe('kernel implementations agree through the models', () => {
  it('iALS, EASE and item-KNN give the same results on the reference and the WASM kernels', async () => {
    const { referenceKernels } = await import('../../src/linalg/index.js');
    const train = randomMatrix(30, 16, 0.3, 23);
    const users = Int32Array.from({ length: 30 }, (_, u) => u);
    const makers = [() => new IalsRecommender({ factors: 4, iterations: 3, solver: 'cholesky' }), () => new EaseRecommender({ reg: 2 }), () => new ItemKnnRecommender({ neighbors: 4, weighting: 'bm25' })];
    for (const make of makers) {
      const a = make();
      const b = make().useKernels(referenceKernels);
      await a.fit(train);
      await b.fit(train);
      const ra = await a.recommend(users, 5);
      const rb = await b.recommend(users, 5);
      for (let j = 0; j < ra.scores.length; j++) expect(ra.scores[j]).toBeCloseTo(rb.scores[j], 3);
    }
  });
});
