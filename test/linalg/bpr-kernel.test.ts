// The BPR epoch kernel: WebAssembly against the reference on the same sampling streams (chunks run in order on one
// thread, so both draw identical (u, i, j) sequences and differ only by float32 vs float64 arithmetic), one
// hand-computed update, and Hogwild across workers still learning a planted two-block structure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BprProblem, CsrMatrix, DenseMatrix, Kernels } from '../../src/linalg/api.js';
import { bprBitmapWords, bprChunkSeed, fillBprBitmap } from '../../src/linalg/api.js';
import { referenceKernels as R } from '../../src/linalg/reference.js';
import { randomCsr, randomDense, relError, rng } from './helpers.js';
import { BACKENDS, backendTitle } from './setup.js';


function problemOf(r: CsrMatrix): BprProblem {
  const entryUser = new Int32Array(r.rowPtr[r.rows]);
  for (let u = 0; u < r.rows; u++) entryUser.fill(u, r.rowPtr[u], r.rowPtr[u + 1]);
  return { r, entryUser };
}

function scaled(m: DenseMatrix, s: number): DenseMatrix {
  return { rows: m.rows, cols: m.cols, data: m.data.map((v) => v * s) };
}

function copy(m: DenseMatrix): DenseMatrix {
  return { rows: m.rows, cols: m.cols, data: m.data.slice() };
}

for (const backend of BACKENDS) describe.skipIf(backend.skip !== undefined)(backendTitle(backend), () => {
  let K1: Kernels;
  let K2: Kernels;
  beforeAll(async () => {
    K1 = await backend.create(1);
    K2 = await backend.create(2);
  });
  afterAll(async () => {
    await K1.close();
    await K2.close();
  });

  describe('bprEpoch', () => {
    it('chunk seeds are nonzero and differ by chunk', () => {
      const seeds = new Set([0, 1, 2, 3].map((c) => bprChunkSeed(42, c)));
      expect(seeds.size).toBe(4);
      for (const s of seeds) expect(s).toBeGreaterThan(0);
      expect(bprChunkSeed(0xffffffff, 7)).toBeLessThan(2 ** 32);
    });

    for (const [f, chunks, threads, bitmap] of [[8, 1, 1, false], [7, 3, 1, true], [13, 1, 2, false], [16, 5, 1, true], [8, 2, 1, false]] as const) {
      it(`wasm equals the reference on the same streams (f = ${f}, ${chunks} chunk(s), ${threads} thread(s), wasm ${bitmap ? 'with' : 'without'} a bitmap)`, async () => {
        const rand = rng(100 + f * 10 + chunks);
        const r = randomCsr(40, 30, 0.15, rand);
        const problem = problemOf(r);
        const withBits: BprProblem = { ...problem, positives: new Int32Array(bprBitmapWords(r.rows, r.cols)) };
        fillBprBitmap(r, withBits.positives!);
        const u0 = scaled(randomDense(r.rows, f, rand), 0.1);
        const v0 = scaled(randomDense(r.cols, f, rand), 0.1);
        const b0 = Float32Array.from({ length: r.cols }, () => (rand() - 0.5) * 0.1);
        const K = threads === 1 ? K1 : K2;
        const [uw, vw, bw] = [copy(u0), copy(v0), b0.slice()];
        const [ur, vr, br] = [copy(u0), copy(v0), b0.slice()];
        for (let ep = 0; ep < 4; ep++) {
          const o = { steps: problem.entryUser.length + 3, lr: 0.1 * 0.9 ** ep, reg: 0.01, seed: 1234 + ep, chunks };
          const w = await K.bprEpoch(bitmap ? withBits : problem, uw, vw, bw, o);
          const ref = await R.bprEpoch(problem, ur, vr, br, o);
          expect(w.count).toBe(ref.count);
          expect(w.count).toBeGreaterThan(0);
          expect(Math.abs(w.logLik - ref.logLik)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.logLik)));
        }
        expect(relError(uw.data, ur.data)).toBeLessThan(1e-4);
        expect(relError(vw.data, vr.data)).toBeLessThan(1e-4);
        expect(relError(bw, br)).toBeLessThan(1e-4);
        expect(relError(ur.data, u0.data)).toBeGreaterThan(0.01); // the factors did move
      });
    }

    it('the reference draws the same with and without a bitmap', async () => {
      const rand = rng(5);
      const r = randomCsr(30, 33, 0.3, rand);
      const problem = problemOf(r);
      const bits = new Int32Array(bprBitmapWords(r.rows, r.cols));
      fillBprBitmap(r, bits);
      for (let u = 0; u < r.rows; u++) {
        for (let c = 0; c < r.cols; c++) {
          let inRow = false;
          for (let p = r.rowPtr[u]; p < r.rowPtr[u + 1]; p++) inRow ||= r.colIdx[p] === c;
          expect(((bits[(u * r.cols + c) >>> 5] >>> ((u * r.cols + c) & 31)) & 1) === 1).toBe(inRow);
        }
      }
      const u0 = scaled(randomDense(r.rows, 6, rand), 0.1);
      const v0 = scaled(randomDense(r.cols, 6, rand), 0.1);
      const [ua, va, ba] = [copy(u0), copy(v0), new Float32Array(r.cols)];
      const [ub, vb, bb] = [copy(u0), copy(v0), new Float32Array(r.cols)];
      const o = { steps: 500, lr: 0.1, reg: 0.01, seed: 77, chunks: 2 };
      await R.bprEpoch(problem, ua, va, ba, o);
      await R.bprEpoch({ ...problem, positives: bits }, ub, vb, bb, o);
      expect(Array.from(ua.data)).toEqual(Array.from(ub.data));
      expect(Array.from(va.data)).toEqual(Array.from(vb.data));
      expect(Array.from(ba)).toEqual(Array.from(bb));
    });

    it('one update follows the stated rule (one entry, two items: the negative is forced)', async () => {
      const r: CsrMatrix = { rows: 1, cols: 2, rowPtr: Int32Array.of(0, 1), colIdx: Int32Array.of(0), values: Float32Array.of(1) };
      const p = [0.5, -0.25, 1, 2, 0.125];
      const qi = [0.25, 0.5, -1, 0, 1];
      const qj = [-0.5, 0.25, 0.5, 1, -2];
      const bi = 0.1;
      const bj = -0.2;
      const lr = 0.05;
      const reg = 0.1;
      let x = bi - bj;
      for (let d = 0; d < 5; d++) x += p[d] * (qi[d] - qj[d]);
      const g = 1 / (1 + Math.exp(x));
      const decay = 1 - lr * reg;
      for (const K of [R, K1]) {
        const u: DenseMatrix = { rows: 1, cols: 5, data: Float32Array.from(p) };
        const v: DenseMatrix = { rows: 2, cols: 5, data: Float32Array.from([...qi, ...qj]) };
        const b = Float32Array.of(bi, bj);
        const res = await K.bprEpoch({ r, entryUser: Int32Array.of(0) }, u, v, b, { steps: 1, lr, reg, seed: 9 });
        expect(res.count).toBe(1);
        expect(res.logLik).toBeCloseTo(-Math.log1p(Math.exp(-x)), 5);
        for (let d = 0; d < 5; d++) {
          expect(u.data[d]).toBeCloseTo(decay * p[d] + lr * g * (qi[d] - qj[d]), 6);
          expect(v.data[d]).toBeCloseTo(decay * qi[d] + lr * g * p[d], 6);
          expect(v.data[5 + d]).toBeCloseTo(decay * qj[d] - lr * g * p[d], 6);
        }
        expect(b[0]).toBeCloseTo(bi + lr * (g - reg * bi), 6);
        expect(b[1]).toBeCloseTo(bj + lr * (-g - reg * bj), 6);
      }
    });

    it('skips users who have every item and validates shapes', async () => {
      const r: CsrMatrix = { rows: 1, cols: 2, rowPtr: Int32Array.of(0, 2), colIdx: Int32Array.of(0, 1), values: Float32Array.of(1, 1) };
      const u: DenseMatrix = { rows: 1, cols: 4, data: Float32Array.of(1, 2, 3, 4) };
      const v: DenseMatrix = { rows: 2, cols: 4, data: new Float32Array(8).fill(0.5) };
      const b = new Float32Array(2);
      for (const K of [R, K1]) {
        const res = await K.bprEpoch({ r, entryUser: Int32Array.of(0, 0) }, u, v, b, { steps: 10, lr: 0.1, reg: 0, seed: 1 });
        expect(res.count).toBe(0);
        expect(Array.from(u.data)).toEqual([1, 2, 3, 4]);
        await expect(K.bprEpoch({ r, entryUser: Int32Array.of(0, 0) }, { rows: 2, cols: 4, data: new Float32Array(8) }, v, b, { steps: 1, lr: 0.1, reg: 0, seed: 1 })).rejects.toThrow(/userF has 2 rows/);
      }
    });

    it('Hogwild across 2 workers (4 chunks, shared arrays) learns a planted two-block structure', async () => {
      // Users 0..59 like items 0..39, users 60..119 like items 40..79; each user sees half of their block.
      const rand = rng(7);
      const users = 120;
      const items = 80;
      const rowPtr = new Int32Array(users + 1);
      const cols: number[] = [];
      for (let u = 0; u < users; u++) {
        const base = u < 60 ? 0 : 40;
        for (let c = 0; c < 40; c++) if (rand() < 0.5) cols.push(base + c);
        rowPtr[u + 1] = cols.length;
      }
      const r: CsrMatrix = { rows: users, cols: items, rowPtr, colIdx: Int32Array.from(cols), values: new Float32Array(cols.length).fill(1) };
      const problem = problemOf(r);
      const f = 8;
      const uf: DenseMatrix = { rows: users, cols: f, data: K2.allocF32(users * f) };
      const vf: DenseMatrix = { rows: items, cols: f, data: K2.allocF32(items * f) };
      const b = K2.allocF32(items);
      uf.data.set(scaled(randomDense(users, f, rand), 0.01).data);
      vf.data.set(scaled(randomDense(items, f, rand), 0.01).data);
      try {
        for (let ep = 0; ep < 30; ep++) {
          await K2.bprEpoch(problem, uf, vf, b, { steps: cols.length, lr: 0.05 * 0.98 ** ep, reg: 0.001, seed: ep, chunks: 4 });
        }
        // Every user should score each unseen in-block item above every out-of-block item (AUC over held-out pairs).
        let good = 0;
        let total = 0;
        for (let u = 0; u < users; u++) {
          const seen = new Set(cols.slice(rowPtr[u], rowPtr[u + 1]));
          const base = u < 60 ? 0 : 40;
          const score = (i: number): number => {
            let s = b[i];
            for (let d = 0; d < f; d++) s += uf.data[u * f + d] * vf.data[i * f + d];
            return s;
          };
          for (let c = 0; c < 40; c++) {
            if (seen.has(base + c)) continue;
            const pos = score(base + c);
            for (let o = 0; o < 40; o++) {
              total++;
              if (pos > score((base + 40) % 80 + o)) good++;
            }
          }
        }
        expect(good / total).toBeGreaterThan(0.95);
      } finally {
        K2.free(uf.data);
        K2.free(vf.data);
        K2.free(b);
      }
    });
  });
});
