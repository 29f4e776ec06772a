// The training-loop kernels (adamStep, multinomialNll, dropoutCsr, tanh): WebAssembly against the float64 reference on random
// shapes, lengths not multiples of 4, empty inputs, arrays inside and outside shared memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdamStepOptions, CsrMatrix, DenseMatrix, Kernels } from '../../src/linalg/api.js';
import { referenceKernels as R } from '../../src/linalg/reference.js';
import { dropoutCsr } from '../../src/nn/layers/dropout.js';
import { multinomialNll } from '../../src/nn/losses/multinomial.js';
import { Rng } from '../../src/core/rng.js';
import { randomCsr, randomDense, relError, rng } from './helpers.js';
import { BACKENDS, backendTitle } from './setup.js';

for (const backend of BACKENDS) describe.skipIf(backend.skip !== undefined)(backendTitle(backend), () => {
  let K: Kernels;
  beforeAll(async () => {
    K = await backend.create(2);
  });
  afterAll(async () => {
    await K.close();
  });

  function randomArray(n: number, rand: () => number, scale = 1, positive = false): Float32Array {
    return Float32Array.from({ length: n }, () => (positive ? rand() : rand() * 2 - 1) * scale);
  }

  describe('adamStep (float32 lanes vs float64: relative error < 1e-5 of max |w|, m, v)', () => {
    const lengths = [0, 1, 3, 4, 7, 1001, 300_001];
    const variants: [string, Partial<AdamStepOptions>][] = [
      ['plain', {}],
      ['coupled decay', { weightDecay: 0.01 }],
      ['decoupled decay', { weightDecay: 0.05, decoupled: true }],
    ];
    for (const n of lengths) {
      for (const [name, extra] of variants) {
        it(`n=${n}, ${name}`, async () => {
          const rand = rng(n * 7 + name.length);
          const opts: AdamStepOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 3, weightDecay: 0, decoupled: false, ...extra };
          const w = randomArray(n, rand);
          const g = randomArray(n, rand, 0.1);
          const m = randomArray(n, rand, 0.01);
          const v = randomArray(n, rand, 1e-4, true);
          const ref = [w, g, m, v].map((a) => a.slice());
          // Wasm on shared arrays for the long case, plain arrays (copied in and back) otherwise.
          const shared = n > 100_000;
          const got = [w, g, m, v].map((a) => {
            if (!shared) return a.slice();
            const s = K.allocF32(n);
            s.set(a);
            return s;
          });
          await R.adamStep(ref[0], ref[1], ref[2], ref[3], opts);
          await K.adamStep(got[0], got[1], got[2], got[3], { ...opts, clearGrad: true });
          expect(relError(got[0], ref[0])).toBeLessThan(1e-5);
          expect(relError(got[2], ref[2])).toBeLessThan(1e-5);
          expect(relError(got[3], ref[3])).toBeLessThan(1e-5);
          expect(got[1].every((x) => x === 0)).toBe(true);
          expect(relError(ref[1], g)).toBe(0);
          if (shared) for (const a of got) K.free(a);
        });
      }
    }

    it('rejects arrays of different lengths', async () => {
      const a = new Float32Array(4);
      await expect(K.adamStep(a, a, a, new Float32Array(3), { lr: 1, beta1: 0.9, beta2: 0.99, eps: 1e-8, step: 1, weightDecay: 0, decoupled: false })).rejects.toThrow(/adamStep: array lengths differ/);
    });
  });

  describe('multinomialNll (vectorized exp: loss relative error < 1e-5, gradient < 1e-5 of max |grad|)', () => {
    const shapes: [number, number][] = [[1, 1], [1, 5], [3, 7], [13, 64], [29, 1001], [300, 2050], [0, 10], [4, 0]];
    for (const [rows, cols] of shapes) {
      it(`${rows}×${cols}`, async () => {
        const rand = rng(rows * 100 + cols);
        const z = randomDense(rows, cols, rand);
        for (let i = 0; i < z.data.length; i++) z.data[i] *= 8;
        const x = randomCsr(rows, cols, 0.1, rand);
        const gRef: DenseMatrix = { rows, cols, data: new Float32Array(rows * cols) };
        const gGot: DenseMatrix = { rows, cols, data: new Float32Array(rows * cols).fill(NaN) };
        const want = await R.multinomialNll(z, x, gRef);
        const got = await K.multinomialNll(z, x, gGot);
        if (rows === 0) {
          expect(Number.isNaN(want) && Number.isNaN(got)).toBe(true);
          return;
        }
        expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
        expect(relError(gGot.data, gRef.data)).toBeLessThan(1e-5);
        // The nn loss is the kernel's, whichever kernels it is given.
        for (const [kernels, loss, grad] of [[R, want, gRef], [K, got, gGot]] as const) {
          const nn = await multinomialNll(kernels, z, x);
          expect(nn.loss).toBe(loss);
          expect(Array.from(nn.grad.data)).toEqual(Array.from(grad.data));
        }
      });
    }

    it('shared-memory operands, extreme logits (rows with −100 … 100 spread)', async () => {
      const rand = rng(99);
      const rows = 257;
      const cols = 1503;
      const z = { rows, cols, data: K.allocF32(rows * cols) };
      for (let i = 0; i < z.data.length; i++) z.data[i] = (rand() * 2 - 1) * 100;
      const x = randomCsr(rows, cols, 0.05, rand);
      const g = { rows, cols, data: K.allocF32(rows * cols) };
      const gRef = { rows, cols, data: new Float32Array(rows * cols) };
      const want = await R.multinomialNll(z, x, gRef);
      const got = await K.multinomialNll(z, x, g);
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * Math.abs(want));
      expect(relError(g.data, gRef.data)).toBeLessThan(1e-5);
      K.free(z.data);
      K.free(g.data);
    });

    it('rejects mismatched shapes and a gradient aliasing the logits (both implementations)', async () => {
      const z = { rows: 2, cols: 3, data: new Float32Array(6) };
      const x = randomCsr(2, 4, 0.5, rng(1));
      const x3 = randomCsr(2, 3, 0.5, rng(1));
      for (const k of [R, K]) {
        await expect(k.multinomialNll(z, x, { rows: 2, cols: 3, data: new Float32Array(6) })).rejects.toThrow(/multinomialNll: logits 2×3 vs targets 2×4/);
        await expect(k.multinomialNll(z, x3, z)).rejects.toThrow(/multinomialNll: grad must not alias logits/);
      }
    });
  });

  /** Dropout by hand: entry q is dropped when the q-th `rng.uniform()` is below p; kept values scaled by 1/(1 − p). */
  function dropoutByHand(x: CsrMatrix, p: number, r: Rng): CsrMatrix {
    const rowPtr = [0];
    const colIdx: number[] = [];
    const values: number[] = [];
    for (let row = 0; row < x.rows; row++) {
      for (let q = x.rowPtr[row]; q < x.rowPtr[row + 1]; q++) {
        if (r.uniform() < p) continue;
        colIdx.push(x.colIdx[q]);
        values.push(x.values[q] * (1 / (1 - p)));
      }
      rowPtr.push(colIdx.length);
    }
    return { rows: x.rows, cols: x.cols, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: Float32Array.from(values) };
  }

  describe('dropoutCsr (same xoshiro128** stream as core/rng: identical results)', () => {
    const shapes: [number, number, number][] = [[0, 5, 0.5], [1, 1, 0.5], [3, 7, 0.2], [50, 301, 0.5], [400, 1000, 0.1], [10, 10, 0.99]];
    for (const [rows, cols, p] of shapes) {
      it(`${rows}×${cols}, p=${p}`, () => {
        const x = randomCsr(rows, cols, 0.2, rng(rows + cols));
        const js = new Rng(42);
        const viaRef = new Rng(42);
        const viaWasm = new Rng(42);
        const want = dropoutByHand(x, p, js);
        const gotRef = dropoutCsr(R, x, p, viaRef);
        const gotWasm = dropoutCsr(K, x, p, viaWasm);
        for (const got of [gotRef, gotWasm]) {
          expect(got.rows).toBe(rows);
          expect(Array.from(got.rowPtr)).toEqual(Array.from(want.rowPtr));
          expect(Array.from(got.colIdx)).toEqual(Array.from(want.colIdx));
          expect(Array.from(got.values)).toEqual(Array.from(want.values));
        }
        // The generators continue identically.
        const next = js.nextU32();
        expect(viaRef.nextU32()).toBe(next);
        expect(viaWasm.nextU32()).toBe(next);
      });
    }

    it('p = 0 returns the input and draws nothing', () => {
      const x = randomCsr(5, 9, 0.3, rng(3));
      const r = new Rng(1);
      expect(dropoutCsr(K, x, 0, r)).toBe(x);
      expect(r.nextU32()).toBe(new Rng(1).nextU32());
    });

    it('rejects a rate outside [0, 1) and short generator states (both implementations)', () => {
      const x = randomCsr(3, 4, 0.5, rng(2));
      for (const k of [R, K]) {
        expect(() => k.dropoutCsr(x, 1, new Uint32Array(4))).toThrow(/dropoutCsr: p must be in \[0, 1\), got 1/);
        expect(() => k.dropoutCsr(x, Number.NaN, new Uint32Array(4))).toThrow(/dropoutCsr: p must be in/);
        expect(() => k.dropoutCsr(x, 0.5, new Uint32Array(3))).toThrow(/dropoutCsr: rngState holds 3 words, needs 4/);
      }
    });
  });

  describe('tanh (vectorized exp: absolute error < 1e-6)', () => {
    const shapes: [number, number][] = [[0, 3], [1, 1], [3, 7], [17, 601], [500, 600]];
    for (const [rows, cols] of shapes) {
      it(`${rows}×${cols}, plain and shared arrays, in place`, async () => {
        const rand = rng(rows * 31 + cols);
        const x = randomDense(rows, cols, rand);
        for (let i = 0; i < x.data.length; i++) x.data[i] *= i % 5 === 0 ? 40 : i % 5 === 1 ? 1e-4 : 3;
        if (x.data.length > 2) {
          x.data[0] = 0;
          x.data[1] = -0;
        }
        const want = { rows, cols, data: new Float32Array(rows * cols) };
        await R.tanh(x, want);
        const got = { rows, cols, data: new Float32Array(rows * cols).fill(NaN) };
        await K.tanh(x, got);
        const shared = { rows, cols, data: K.allocF32(Math.max(rows * cols, 1)) };
        shared.data.set(x.data);
        await K.tanh(shared, shared);
        for (const out of [got.data, shared.data.subarray(0, rows * cols)]) {
          let err = 0;
          for (let i = 0; i < want.data.length; i++) err = Math.max(err, Math.abs(out[i] - want.data[i]));
          expect(err).toBeLessThan(1e-6);
          for (let i = 0; i < want.data.length; i++) expect(Math.sign(out[i])).toBe(Math.sign(want.data[i]));
        }
        K.free(shared.data);
      });
    }
  });
});
