import { describe, expect, it } from 'vitest';
import type { CsrMatrix, DenseMatrix } from '../../src/linalg/api.js';
import { referenceKernels as K } from '../../src/linalg/index.js';
import { Activation, type ActivationKind } from '../../src/nn/layers/activations.js';
import { Concat } from '../../src/nn/layers/concat.js';
import { Dropout, dropoutCsr } from '../../src/nn/layers/dropout.js';
import { Embedding } from '../../src/nn/layers/embedding.js';
import { EmbeddingBag } from '../../src/nn/layers/embedding-bag.js';
import { L2Normalize, l2NormalizeCsr } from '../../src/nn/layers/l2-normalize.js';
import { Sequential } from '../../src/nn/layers/layer.js';
import { Linear } from '../../src/nn/layers/linear.js';
import { Reparameterize } from '../../src/nn/layers/reparameterize.js';
import { SparseLinear, compactTranspose } from '../../src/nn/layers/sparse-linear.js';
import { Rng } from '../../src/core/rng.js';
import { checkGradient, weightedSum } from './gradcheck.js';

function randomMatrix(rng: Rng, rows: number, cols: number, scale = 1): DenseMatrix {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale;
  return { rows, cols, data };
}

function randomCsr(rng: Rng, rows: number, cols: number, density: number): CsrMatrix {
  const ptr = [0];
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (rng.uniform() < density) { idx.push(c); val.push(0.5 + rng.uniform()); }
    ptr.push(idx.length);
  }
  return { rows, cols, rowPtr: Int32Array.from(ptr), colIdx: Int32Array.from(idx), values: Float32Array.from(val) };
}

describe('Linear', () => {
  it('computes x·W + b and passes finite-difference checks for dx, dW, db', async () => {
    const rng = new Rng(1);
    const layer = new Linear(K, 'fc', 3, 5, rng);
    for (let i = 0; i < 5; i++) layer.bias!.value[i] = rng.normal();
    const x = randomMatrix(rng, 4, 3);
    const r = randomMatrix(rng, 4, 5);
    const y = await layer.forward(x, true);
    // Hand check of one entry.
    let expected = layer.bias!.value[2];
    for (let p = 0; p < 3; p++) expected += x.data[1 * 3 + p] * layer.weight.value[p * 5 + 2];
    expect(y.data[1 * 5 + 2]).toBeCloseTo(expected, 5);
    const dx = Float32Array.from((await layer.backward(r)).data.subarray(0, 12));
    const objective = async (): Promise<number> => weightedSum((await layer.forward(x, true)).data, r.data, 20);
    await checkGradient('dx', x.data, dx, objective);
    await checkGradient('dW', layer.weight.value, layer.weight.grad.slice(), objective);
    await checkGradient('db', layer.bias!.value, layer.bias!.grad.slice(), objective);
  });

  it('accumulates parameter gradients across backward calls and rejects a wrong input width', async () => {
    const rng = new Rng(2);
    const layer = new Linear(K, 'fc', 3, 2, rng);
    const x = randomMatrix(rng, 2, 3);
    const r = randomMatrix(rng, 2, 2);
    await layer.forward(x, true);
    await layer.backward(r);
    const once = layer.weight.grad.slice();
    await layer.backward(r);
    for (let i = 0; i < once.length; i++) expect(layer.weight.grad[i]).toBeCloseTo(2 * once[i], 5);
    await expect(layer.forward(randomMatrix(rng, 2, 4), true)).rejects.toThrow(/fc.weight: input has 4 columns, expected 3/);
  });
});

describe('activations', () => {
  for (const kind of ['relu', 'tanh', 'sigmoid'] as ActivationKind[]) {
    it(`${kind}: finite-difference check of dx`, async () => {
      const rng = new Rng(3);
      const layer = new Activation(K, kind);
      const x = randomMatrix(rng, 3, 4);
      // Keep ReLU inputs away from the kink.
      if (kind === 'relu') for (let i = 0; i < x.data.length; i++) if (Math.abs(x.data[i]) < 0.05) x.data[i] = 0.3;
      const r = randomMatrix(rng, 3, 4);
      await layer.forward(x, true);
      const dx = Float32Array.from((await layer.backward(r)).data.subarray(0, 12));
      await checkGradient(kind, x.data, dx, async () => weightedSum((await layer.forward(x, true)).data, r.data, 12));
    });
  }

  it('sigmoid is stable for large |x| and relu clamps negatives', async () => {
    const x: DenseMatrix = { rows: 1, cols: 4, data: Float32Array.from([-800, 800, 0, -2]) };
    const s = await new Activation(K, 'sigmoid').forward(x, false);
    expect(Array.from(s.data.subarray(0, 4))).toEqual([0, 1, 0.5, expect.closeTo(1 / (1 + Math.exp(2)), 6)]);
    const r = await new Activation(K, 'relu').forward(x, false);
    expect(Array.from(r.data.subarray(0, 4))).toEqual([0, 800, 0, 0]);
  });
});

describe('Dropout', () => {
  it('is the identity outside training and drops about p of the values with 1/(1-p) scaling', async () => {
    const rng = new Rng(4);
    const layer = new Dropout(K, 0.3, rng);
    const x: DenseMatrix = { rows: 100, cols: 100, data: new Float32Array(10000).fill(1) };
    expect(await layer.forward(x, false)).toBe(x);
    const y = await layer.forward(x, true);
    let zeros = 0;
    for (let i = 0; i < 10000; i++) {
      if (y.data[i] === 0) zeros++;
      else expect(y.data[i]).toBeCloseTo(1 / 0.7, 6);
    }
    expect(zeros / 10000).toBeGreaterThan(0.27);
    expect(zeros / 10000).toBeLessThan(0.33);
    expect(() => new Dropout(K, 1, rng)).toThrow(/\[0, 1\)/);
  });

  it('finite-difference check with a replayed mask', async () => {
    const rng = new Rng(5);
    const x = randomMatrix(rng, 3, 5);
    const r = randomMatrix(rng, 3, 5);
    const layer = new Dropout(K, 0.4, new Rng(99));
    await layer.forward(x, true);
    const dx = Float32Array.from((await layer.backward(r)).data.subarray(0, 15));
    await checkGradient('dropout', x.data, dx, async () => weightedSum((await new Dropout(K, 0.4, new Rng(99)).forward(x, true)).data, r.data, 15));
  });

  it('dropoutCsr removes entries and rescales the kept ones', () => {
    const x = randomCsr(new Rng(6), 20, 50, 0.3);
    const y = dropoutCsr(K, x, 0.5, new Rng(7));
    expect(y.rowPtr[20]).toBeLessThan(x.rowPtr[20]);
    expect(y.rowPtr[20]).toBeGreaterThan(0);
    for (let r = 0; r < 20; r++) {
      for (let p = y.rowPtr[r]; p < y.rowPtr[r + 1]; p++) {
        const c = y.colIdx[p];
        let orig = NaN;
        for (let q = x.rowPtr[r]; q < x.rowPtr[r + 1]; q++) if (x.colIdx[q] === c) orig = x.values[q];
        expect(y.values[p]).toBeCloseTo(orig * 2, 6);
      }
    }
  });
});

describe('L2Normalize', () => {
  it('gives unit rows and passes a finite-difference check', async () => {
    const rng = new Rng(8);
    const layer = new L2Normalize(K);
    const x = randomMatrix(rng, 3, 4);
    const y = await layer.forward(x, true);
    for (let r = 0; r < 3; r++) {
      let s = 0;
      for (let j = 0; j < 4; j++) s += y.data[r * 4 + j] ** 2;
      expect(s).toBeCloseTo(1, 6);
    }
    const r = randomMatrix(rng, 3, 4);
    const dx = Float32Array.from((await layer.backward(r)).data.subarray(0, 12));
    await checkGradient('l2', x.data, dx, async () => weightedSum((await layer.forward(x, true)).data, r.data, 12));
  });

  it('l2NormalizeCsr scales each row to unit norm and leaves empty rows alone', () => {
    const x: CsrMatrix = { rows: 2, cols: 3, rowPtr: Int32Array.from([0, 2, 2]), colIdx: Int32Array.from([0, 2]), values: Float32Array.from([3, 4]) };
    expect(Array.from(l2NormalizeCsr(x).values)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
  });
});

describe('Concat', () => {
  it('places inputs side by side and splits the gradient back', async () => {
    const rng = new Rng(9);
    const a = randomMatrix(rng, 2, 3);
    const b = randomMatrix(rng, 2, 1);
    const c = new Concat(K);
    const y = c.forward([a, b]);
    expect(y.cols).toBe(4);
    expect(y.data[4 + 3]).toBe(b.data[1]);
    expect(y.data[4 + 1]).toBe(a.data[3 + 1]);
    const r = randomMatrix(rng, 2, 4);
    const [ga, gb] = c.backward(r).map((g) => Float32Array.from(g.data.subarray(0, g.rows * g.cols)));
    const objective = (): number => weightedSum(c.forward([a, b]).data, r.data, 8);
    await checkGradient('concat a', a.data, ga, objective);
    await checkGradient('concat b', b.data, gb, objective);
    expect(() => c.forward([a, randomMatrix(rng, 3, 1)])).toThrow(/2 and 3 rows/);
  });
});

describe('Embedding', () => {
  it('gathers rows (zeros for -1), scatters gradients for repeated ids', async () => {
    const rng = new Rng(10);
    const emb = new Embedding(K, 'e', 5, 3, rng, 1);
    const ids = Int32Array.from([2, 0, 2, -1]);
    const y = emb.forward(ids);
    expect(Array.from(y.data.subarray(0, 3))).toEqual(Array.from(emb.table.value.subarray(6, 9)));
    expect(Array.from(y.data.subarray(9, 12))).toEqual([0, 0, 0]);
    const r = randomMatrix(rng, 4, 3);
    emb.backward(r);
    await checkGradient('embedding', emb.table.value, emb.table.grad.slice(), () => weightedSum(emb.forward(ids).data, r.data, 12));
    expect(() => emb.forward(Int32Array.from([5]))).toThrow(/e.table: id 5 outside \[0, 5\)/);
  });
});

describe('EmbeddingBag', () => {
  for (const mode of ['sum', 'mean'] as const) {
    it(`${mode}: hand-computed output and a finite-difference check with weights and an empty bag`, async () => {
      const rng = new Rng(11);
      const bag = new EmbeddingBag(K, 'b', 6, 2, mode, rng, 1);
      const bags = { ptr: Int32Array.from([0, 3, 3, 5]), ids: Int32Array.from([1, 4, 1, 0, 5]), weights: Float32Array.from([1, 2, 0.5, 1, 3]) };
      const y = bag.forward(bags);
      const t = bag.table.value;
      const scale = mode === 'mean' ? 1 / 3 : 1;
      expect(y.data[0]).toBeCloseTo(scale * (t[2] + 2 * t[8] + 0.5 * t[2]), 5);
      expect(y.data[2]).toBe(0);
      expect(y.data[3]).toBe(0);
      const r = randomMatrix(rng, 3, 2);
      bag.backward(r);
      await checkGradient(`bag ${mode}`, bag.table.value, bag.table.grad.slice(), () => weightedSum(bag.forward(bags).data, r.data, 6));
    });
  }
});

describe('SparseLinear', () => {
  for (const threshold of [0, Infinity]) it(`${threshold === 0 ? 'dense-GEMM' : 'csrMatmul'} forward: matches the dense product and passes a finite-difference check of dW and db`, async () => {
    const rng = new Rng(12);
    const x = randomCsr(rng, 4, 7, 0.3);
    const layer = new SparseLinear(K, 'enc', 7, 3, rng, threshold);
    for (let i = 0; i < 3; i++) layer.bias.value[i] = rng.normal();
    const y = Float32Array.from((await layer.forward(x)).data);
    for (let r = 0; r < 4; r++) {
      for (let j = 0; j < 3; j++) {
        let s = layer.bias.value[j];
        for (let p = x.rowPtr[r]; p < x.rowPtr[r + 1]; p++) s += x.values[p] * layer.weight.value[x.colIdx[p] * 3 + j];
        expect(y[r * 3 + j]).toBeCloseTo(s, 5);
      }
    }
    const r = randomMatrix(rng, 4, 3);
    await layer.backward(r);
    const objective = async (): Promise<number> => weightedSum((await layer.forward(x)).data, r.data, 12);
    await checkGradient('sparse dW', layer.weight.value, layer.weight.grad.slice(), objective);
    await checkGradient('sparse db', layer.bias.value, layer.bias.grad.slice(), objective);
  });

  it('compactTranspose lists touched columns and transposes their entries', () => {
    const x: CsrMatrix = { rows: 2, cols: 5, rowPtr: Int32Array.from([0, 2, 3]), colIdx: Int32Array.from([1, 4, 1]), values: Float32Array.from([7, 8, 9]) };
    const { touched, xt } = compactTranspose(x);
    expect(Array.from(touched)).toEqual([1, 4]);
    expect(Array.from(xt.rowPtr)).toEqual([0, 2, 3]);
    expect(Array.from(xt.colIdx)).toEqual([0, 1, 0]);
    expect(Array.from(xt.values)).toEqual([7, 9, 8]);
  });
});

describe('Reparameterize', () => {
  it('returns mu outside training and passes a finite-difference check with replayed noise', async () => {
    const rng = new Rng(13);
    const x = randomMatrix(rng, 3, 4, 0.5);
    const z0 = await new Reparameterize(K, new Rng(1)).forward(x, false);
    expect(Array.from(z0.data.subarray(0, 2))).toEqual(Array.from(x.data.subarray(0, 2)));
    const layer = new Reparameterize(K, new Rng(21));
    await layer.forward(x, true);
    const r = randomMatrix(rng, 3, 2);
    const dx = Float32Array.from((await layer.backward(r)).data.subarray(0, 12));
    await checkGradient('reparam', x.data, dx, async () => weightedSum((await new Reparameterize(K, new Rng(21)).forward(x, true)).data, r.data, 6));
  });
});

describe('Sequential', () => {
  it('chains Linear → tanh → Linear and its input gradient passes a finite-difference check', async () => {
    const rng = new Rng(14);
    const net = new Sequential([new Linear(K, 'a', 4, 6, rng), new Activation(K, 'tanh'), new Linear(K, 'b', 6, 2, rng)]);
    const x = randomMatrix(rng, 3, 4);
    const r = randomMatrix(rng, 3, 2);
    await net.forward(x, true);
    const dx = Float32Array.from((await net.backward(r)).data.subarray(0, 12));
    const objective = async (): Promise<number> => weightedSum((await net.forward(x, true)).data, r.data, 6);
    await checkGradient('seq dx', x.data, dx, objective);
    const first = net.params()[0];
    await checkGradient('seq dW1', first.value, first.grad.slice(), objective);
    expect(net.params().map((p) => p.name)).toEqual(['a.weight', 'a.bias', 'b.weight', 'b.bias']);
  });
});
