import { describe, expect, it } from 'vitest';
import type { CsrMatrix, DenseMatrix } from '../../src/linalg/api.js';
import { referenceKernels as K } from '../../src/linalg/index.js';
import { bceWithLogits } from '../../src/nn/losses/bce.js';
import { bpr } from '../../src/nn/losses/bpr.js';
import { gaussianKl } from '../../src/nn/losses/gaussian-kl.js';
import { mse } from '../../src/nn/losses/mse.js';
import { multinomialNll } from '../../src/nn/losses/multinomial.js';
import { InBatchSoftmax } from '../../src/nn/losses/sampled-softmax.js';
import { Rng } from '../../src/core/rng.js';
import { checkGradient } from './gradcheck.js';

function randomMatrix(rng: Rng, rows: number, cols: number, scale = 1): DenseMatrix {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale;
  return { rows, cols, data };
}

describe('gradient checker', () => {
  it('fails on a wrong gradient (the checks below can fail)', async () => {
    const x = Float32Array.from([1, 2]);
    await expect(checkGradient('bad', x, [2, 3], () => x[0] * x[0] + x[1] * x[1])).rejects.toThrow(/bad\[1\]/);
  });
});

describe('BCE with logits', () => {
  it('matches the naive formula, is finite at extreme logits, and passes a finite-difference check', async () => {
    const rng = new Rng(1);
    const z = randomMatrix(rng, 3, 4, 2);
    const t: DenseMatrix = { rows: 3, cols: 4, data: Float32Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 0.25)) };
    const { loss, grad } = bceWithLogits(z, t);
    let naive = 0;
    for (let i = 0; i < 12; i++) {
      const p = 1 / (1 + Math.exp(-z.data[i]));
      naive -= t.data[i] * Math.log(p) + (1 - t.data[i]) * Math.log(1 - p);
    }
    expect(loss).toBeCloseTo(naive / 12, 5);
    await checkGradient('bce', z.data, grad.data.slice(), () => bceWithLogits(z, t).loss);
    const extreme = bceWithLogits({ rows: 1, cols: 2, data: Float32Array.from([500, -500]) }, { rows: 1, cols: 2, data: Float32Array.from([0, 1]) });
    expect(extreme.loss).toBeCloseTo(500, 3);
    expect(Array.from(extreme.grad.data)).toEqual([0.5, -0.5]);
    expect(() => bceWithLogits(z, { rows: 3, cols: 3, data: new Float32Array(9) })).toThrow(/logits 3×4 vs targets 3×3/);
  });
});

describe('MSE', () => {
  it('hand-computed value and a finite-difference check', async () => {
    const y: DenseMatrix = { rows: 3, cols: 1, data: Float32Array.from([1, 2, 4]) };
    const t = [0, 2, 1];
    const { loss, grad } = mse(y, t);
    expect(loss).toBeCloseTo((1 + 0 + 9) / 3, 6);
    expect(Array.from(grad.data)).toEqual([expect.closeTo(2 / 3, 6), 0, expect.closeTo(2, 6)]);
    await checkGradient('mse', y.data, grad.data.slice(), () => mse(y, t).loss);
  });
});

describe('multinomial log-likelihood', () => {
  it('equals −Σ x·log softmax and passes a finite-difference check', async () => {
    const rng = new Rng(2);
    const z = randomMatrix(rng, 2, 5);
    const x: CsrMatrix = { rows: 2, cols: 5, rowPtr: Int32Array.from([0, 2, 3]), colIdx: Int32Array.from([1, 3, 0]), values: Float32Array.from([1, 2, 1]) };
    const { loss, grad } = await multinomialNll(K, z, x);
    let expected = 0;
    for (let r = 0; r < 2; r++) {
      let s = 0;
      for (let j = 0; j < 5; j++) s += Math.exp(z.data[r * 5 + j]);
      for (let p = x.rowPtr[r]; p < x.rowPtr[r + 1]; p++) expected -= x.values[p] * (z.data[r * 5 + x.colIdx[p]] - Math.log(s));
    }
    expect(loss).toBeCloseTo(expected / 2, 5);
    await checkGradient('multinomial', z.data, grad.data.slice(), async () => (await multinomialNll(K, z, x)).loss);
    // Shift invariance: adding a constant to a row changes nothing.
    const shifted = { rows: 2, cols: 5, data: z.data.map((v) => v + 300) };
    expect((await multinomialNll(K, shifted, x)).loss).toBeCloseTo(loss, 3);
  });
});

describe('Gaussian KL', () => {
  it('is 0 at the prior, hand value elsewhere, and passes a finite-difference check', async () => {
    expect(gaussianKl({ rows: 1, cols: 4, data: new Float32Array(4) }).loss).toBe(0);
    const one = gaussianKl({ rows: 1, cols: 2, data: Float32Array.from([1, Math.log(2)]) });
    expect(one.loss).toBeCloseTo(0.5 * (-Math.log(2) + 2 + 1 - 1), 6);
    const x = randomMatrix(new Rng(3), 3, 6, 0.5);
    await checkGradient('kl', x.data, gaussianKl(x).grad.data.slice(), () => gaussianKl(x).loss);
  });
});

describe('BPR', () => {
  it('hand-computed value, stable for large margins, finite-difference check', async () => {
    const pos = Float32Array.from([2, -1, 0.5]);
    const neg = Float32Array.from([1, 1, 0.5]);
    const r = bpr(pos, neg);
    const expected = (Math.log1p(Math.exp(-1)) + Math.log1p(Math.exp(2)) + Math.log(2)) / 3;
    expect(r.loss).toBeCloseTo(expected, 6);
    await checkGradient('bpr pos', pos, r.gradPos, () => bpr(pos, neg).loss);
    await checkGradient('bpr neg', neg, r.gradNeg, () => bpr(pos, neg).loss);
    expect(bpr([-1000], [1000]).loss).toBeCloseTo(2000, 3);
    expect(bpr([1000], [-1000]).loss).toBe(0);
  });
});

describe('in-batch sampled softmax', () => {
  it('matches a float64 reference with log-q, temperature and a duplicate item, and passes finite-difference checks', async () => {
    const rng = new Rng(4);
    const b = 5;
    const d = 3;
    const u = randomMatrix(rng, b, d);
    const v = randomMatrix(rng, b, d);
    const itemIds = Int32Array.from([7, 3, 7, 1, 2]);
    const logQ = Float32Array.from([-1, -2, -1, -3, -0.5]);
    const tau = 0.5;
    const sm = new InBatchSoftmax(K);
    const res = await sm.compute({ users: u, items: v, itemIds, logQ, temperature: tau });
    let ref = 0;
    for (let i = 0; i < b; i++) {
      const logits: number[] = [];
      for (let j = 0; j < b; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += u.data[i * d + k] * v.data[j * d + k];
        logits.push(j !== i && itemIds[j] === itemIds[i] ? -Infinity : s / tau - logQ[j]);
      }
      const m = Math.max(...logits);
      const lse = m + Math.log(logits.reduce((a, x) => a + Math.exp(x - m), 0));
      ref += lse - logits[i];
    }
    expect(res.loss).toBeCloseTo(ref / b, 5);
    const gu = Float32Array.from(res.gradUsers.data.subarray(0, b * d));
    const gv = Float32Array.from(res.gradItems.data.subarray(0, b * d));
    const objective = async (): Promise<number> => (await sm.compute({ users: u, items: v, itemIds, logQ, temperature: tau })).loss;
    await checkGradient('softmax dU', u.data, gu, objective);
    await checkGradient('softmax dV', v.data, gv, objective);
  });
});
