// The WebAssembly kernels against the float64 reference on random shapes (tails not multiples of the 6×8 tile,
// the 128-block or the 4096-item block, empty shapes, transposes) with the error bound stated per kernel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CsrMatrix, DenseMatrix, Kernels, ScoreTopKOptions } from '../../src/linalg/api.js';
import { referenceKernels as R } from '../../src/linalg/reference.js';
import { integerDense, randomCsr, randomDense, randomSpd, relError, rng, sameBits } from './helpers.js';
import { BACKENDS, backendTitle } from './setup.js';

for (const backend of BACKENDS) describe.skipIf(backend.skip !== undefined)(backendTitle(backend), () => {
  let K: Kernels;
  beforeAll(async () => {
    K = await backend.create(2);
  });
  afterAll(async () => {
    await K.close();
  });

  describe('gemm (float32 sums over k ≤ 300: relative error < 1e-5 of max |C|)', () => {
    const shapes: [number, number, number][] = [[1, 1, 1], [7, 9, 13], [6, 8, 256], [13, 17, 257], [100, 37, 300], [301, 259, 129], [0, 5, 3], [5, 0, 3], [4, 4, 0]];
    for (const [m, n, k] of shapes) {
      it(`${m}×${n}×${k}, all transposes, alpha and beta`, async () => {
        const rand = rng(m * 1000 + n * 10 + k);
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const a = randomDense(transA ? k : m, transA ? m : k, rand);
            const b = randomDense(transB ? n : k, transB ? k : n, rand);
            const c0 = randomDense(m, n, rand);
            const cw = { ...c0, data: c0.data.slice() };
            const cr = { ...c0, data: c0.data.slice() };
            await K.gemm(a, b, { transA, transB, alpha: -0.75, beta: 1.5, c: cw });
            await R.gemm(a, b, { transA, transB, alpha: -0.75, beta: 1.5, c: cr });
            expect(relError(cw.data, cr.data)).toBeLessThan(1e-5);
            const plain = await K.gemm(a, b, { transA, transB });
            expect(plain.rows).toBe(m);
            expect(plain.cols).toBe(n);
            expect(relError(plain.data, (await R.gemm(a, b, { transA, transB })).data)).toBeLessThan(1e-5);
          }
        }
      });
    }

    it('ignores NaN in C when beta is 0 and rejects mismatched shapes', async () => {
      const rand = rng(5);
      const a = randomDense(9, 4, rand);
      const b = randomDense(4, 10, rand);
      const c = { rows: 9, cols: 10, data: new Float32Array(90).fill(NaN) };
      await K.gemm(a, b, { c });
      expect(c.data.every(Number.isFinite)).toBe(true);
      await expect(K.gemm(a, a)).rejects.toThrow(/gemm: inner dimensions differ/);
      await expect(K.gemm(a, b, { c: { rows: 2, cols: 2, data: new Float32Array(4) } })).rejects.toThrow(/C is 2×2, expected 9×10/);
    });

    it('big enough to run on the workers (2 threads): 400×350×300', async () => {
      const rand = rng(77);
      const a = randomDense(300, 400, rand);
      const b = randomDense(350, 300, rand);
      const got = await K.gemm(a, b, { transA: true, transB: true });
      expect(relError(got.data, (await R.gemm(a, b, { transA: true, transB: true })).data)).toBeLessThan(1e-5);
    });
  });

  describe('gram (float32 partials of 256 rows summed in float64: < 1e-5)', () => {
    for (const [rows, f] of [[0, 4], [1, 1], [1000, 33], [3000, 8]]) {
      it(`${rows}×${f}`, async () => {
        const x = randomDense(rows, f, rng(rows + f));
        const got = await K.gram(x);
        expect(got.rows).toBe(f);
        expect(relError(got.data, (await R.gram(x)).data)).toBeLessThan(1e-5);
      });
    }
  });

  describe('sparseGram (float64 sums: < 1e-6)', () => {
    it('matches the reference and the dense Gram, with empty rows and columns', async () => {
      const rand = rng(61);
      const x = randomCsr(157, 93, 0.08, rand);
      const got = await K.sparseGram(x);
      expect(got.rows).toBe(93);
      expect(relError(got.data, (await R.sparseGram(x)).data)).toBeLessThan(1e-6);
      const dense = { rows: 157, cols: 93, data: new Float32Array(157 * 93) };
      for (let r = 0; r < 157; r++) for (let p = x.rowPtr[r]; p < x.rowPtr[r + 1]; p++) dense.data[r * 93 + x.colIdx[p]] = x.values[p];
      expect(relError(got.data, (await R.gram(dense)).data)).toBeLessThan(1e-6);
      const empty = { rows: 0, cols: 4, rowPtr: new Int32Array(1), colIdx: new Int32Array(0), values: new Float32Array(0) };
      expect(Array.from((await K.sparseGram(empty)).data)).toEqual(new Array(16).fill(0));
    });
    it('large enough for the workers: 2000 × 700', async () => {
      const x = randomCsr(2000, 700, 0.05, rng(62));
      expect(relError((await K.sparseGram(x)).data, (await R.sparseGram(x)).data)).toBeLessThan(1e-6);
    });
    it('non-integer values: the float64 sums of the reference bit for bit (same products, same user order), exactly symmetric, rows sorted or not', async () => {
      const rand = rng(63);
      const x = randomCsr(1500, 420, 0.06, rand);
      for (let p = 0; p < x.values.length; p++) x.values[p] = rand() * 2 - 1;
      const n = x.cols;
      const want = (await R.sparseGram(x)).data;
      const got = (await K.sparseGram(x)).data;
      expect(got).toEqual(want);
      let asymmetric = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (got[i * n + j] !== got[j * n + i]) asymmetric++;
      expect(asymmetric).toBe(0);
      // The same matrix with every row's entries in reverse column order (the kernel's walk without the sorted shortcut).
      const colIdx = x.colIdx.slice();
      const values = x.values.slice();
      for (let r = 0; r < x.rows; r++) {
        colIdx.subarray(x.rowPtr[r], x.rowPtr[r + 1]).reverse();
        values.subarray(x.rowPtr[r], x.rowPtr[r + 1]).reverse();
      }
      expect((await K.sparseGram({ ...x, colIdx, values })).data).toEqual(want);
    });
  });

  describe('choleskySolveBatched (float64 inside: residual < 1e-5 of |b|)', () => {
    for (const k of [1, 5, 64, 130]) {
      it(`k=${k}`, async () => {
        const rand = rng(k);
        const batch = k > 100 ? 3 : 20;
        const a = new Float32Array(batch * k * k);
        const b = new Float32Array(batch * k);
        for (let s = 0; s < batch; s++) {
          a.set(randomSpd(k, rand, 0.5).data, s * k * k);
          b.set(randomDense(1, k, rand).data, s * k);
        }
        const x = await K.choleskySolveBatched(a, b, k, batch);
        for (let s = 0; s < batch; s++) {
          let worst = 0;
          let norm = 0;
          for (let i = 0; i < k; i++) {
            let r = -b[s * k + i];
            for (let j = 0; j < k; j++) r += a[s * k * k + i * k + j] * x[s * k + j];
            worst = Math.max(worst, Math.abs(r));
            norm = Math.max(norm, Math.abs(b[s * k + i]));
          }
          expect(worst / norm).toBeLessThan(1e-5);
        }
        expect(relError(x, await R.choleskySolveBatched(a, b, k, batch))).toBeLessThan(1e-5);
      });
    }
    it('names the system that is not positive definite; empty batch', async () => {
      const a = Float32Array.from([2, 0, 0, 2, 1, 2, 2, 1]);
      await expect(K.choleskySolveBatched(a, new Float32Array(4), 2, 2)).rejects.toThrow(/system 1 is not positive definite/);
      expect((await K.choleskySolveBatched(new Float32Array(0), new Float32Array(0), 4, 0)).length).toBe(0);
    });
  });

  describe('spdInverse (float32 blocked Cholesky: |A·A⁻¹ − I| < 1e-4)', () => {
    for (const n of [1, 7, 128, 130, 300]) {
      it(`n=${n}`, async () => {
        const a = randomSpd(n, rng(n), 1);
        const inv = await K.spdInverse(a);
        const prod = await R.gemm(a, inv);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(Math.abs(prod.data[i * n + j] - (i === j ? 1 : 0))).toBeLessThan(1e-4);
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(inv.data[i * n + j]).toBe(inv.data[j * n + i]);
        expect(relError(inv.data, (await R.spdInverse(a)).data)).toBeLessThan(1e-4);
      });
    }
    it('overwrite: in place for shared arrays, copied back for plain ones', async () => {
      const a = randomSpd(140, rng(9), 1);
      const want = await R.spdInverse(a);
      const plain = { ...a, data: a.data.slice() };
      expect(await K.spdInverse(plain, { overwrite: true })).toBe(plain);
      expect(relError(plain.data, want.data)).toBeLessThan(1e-4);
      const shared = { ...a, data: K.allocF32(140 * 140) };
      shared.data.set(a.data);
      const got = await K.spdInverse(shared, { overwrite: true });
      expect(got.data).toBe(shared.data);
      expect(relError(shared.data, want.data)).toBeLessThan(1e-4);
      K.free(shared.data);
    });

    it('reports progress per block step and stops when aborted', async () => {
      const a = randomSpd(300, rng(10), 1);
      const seen: [number, number][] = [];
      await K.spdInverse(a, { onProgress: (done, total) => seen.push([done, total]) });
      expect(seen.length).toBe(9); // 3 phases × 3 blocks of 128
      expect(seen[8]).toEqual([9, 9]);
      const controller = new AbortController();
      const stopped = K.spdInverse(a, { signal: controller.signal, onProgress: (done) => done === 2 && controller.abort(new Error('stop here')) });
      await expect(stopped).rejects.toThrow('stop here');
    });

    it('throws for a matrix that is not SPD and for a non-square one', async () => {
      const a = randomSpd(200, rng(3), 1);
      a.data[150 * 200 + 150] = -5;
      await expect(K.spdInverse(a)).rejects.toThrow(/not symmetric positive definite/);
      await expect(K.spdInverse({ rows: 2, cols: 3, data: new Float32Array(6) })).rejects.toThrow(/must be square/);
    });
  });

  describe('sparse products (float32 row updates: < 1e-5)', () => {
    it('csrMatmul and denseCsrT, with empty rows', async () => {
      const rand = rng(11);
      const a = randomCsr(203, 150, 0.05, rand);
      for (const d of [1, 3, 16, 37]) {
        const b = randomDense(150, d, rand);
        expect(relError((await K.csrMatmul(a, b)).data, (await R.csrMatmul(a, b)).data)).toBeLessThan(1e-5);
        const bt = randomDense(d, 150, rand);
        expect(relError((await K.denseCsrT(bt, a)).data, (await R.denseCsrT(bt, a)).data)).toBeLessThan(1e-5);
      }
      const empty: CsrMatrix = { rows: 0, cols: 150, rowPtr: new Int32Array(1), colIdx: new Int32Array(0), values: new Float32Array(0) };
      expect((await K.csrMatmul(empty, randomDense(150, 4, rand))).data.length).toBe(0);
      await expect(K.csrMatmul(a, randomDense(3, 4, rand))).rejects.toThrow(/A is 203×150, B is 3×4/);
    });
  });

  describe('ALS half steps', () => {
    const rand = rng(21);
    const r = randomCsr(60, 90, 0.1, rand);
    const y = randomDense(90, 12, rand);

    it('iALS with Cholesky equals the dense normal-equation solution (log confidence, frequency-scaled λ, weight)', async () => {
      for (const options of [
        { alpha: 2, reg: 0.1, solver: 'cholesky' as const },
        { alpha: 1.5, confidence: 'log' as const, eps: 0.5, reg: 0.05, regExponent: 0.5, unobservedWeight: 0.3, solver: 'cholesky' as const },
      ]) {
        const xw = randomDense(60, 12, rand);
        const xr = { ...xw, data: xw.data.slice() };
        await K.ialsHalfStep(r, y, xw, options);
        await R.ialsHalfStep(r, y, xr, options);
        expect(relError(xw.data, xr.data)).toBeLessThan(1e-4);
        for (let j = 0; j < 12; j++) expect(xw.data[3 * 12 + j]).toBe(0); // row 3 has no entries
      }
    });

    it('CG converges to the exact solution with enough steps; few steps from a cold start do not', async () => {
      const options = { alpha: 2, reg: 0.1, solver: 'cholesky' as const };
      const exact = { rows: 60, cols: 12, data: new Float32Array(720) };
      await R.ialsHalfStep(r, y, exact, options);
      const many = { rows: 60, cols: 12, data: new Float32Array(720) };
      await K.ialsHalfStep(r, y, many, { ...options, solver: 'cg', cgSteps: 30 });
      expect(relError(many.data, exact.data)).toBeLessThan(1e-4);
      const one = { rows: 60, cols: 12, data: new Float32Array(720) };
      await K.ialsHalfStep(r, y, one, { ...options, solver: 'cg', cgSteps: 1 });
      expect(relError(one.data, exact.data)).toBeGreaterThan(1e-2);
      // warm start from the solution stays there
      const warm = { rows: 60, cols: 12, data: exact.data.slice() };
      await K.ialsHalfStep(r, y, warm, { ...options, solver: 'cg', cgSteps: 2 });
      expect(relError(warm.data, exact.data)).toBeLessThan(1e-4);
    });

    it('a precomputed Gram gives the same step (and a wrong-sized one is rejected)', async () => {
      const gram = await K.gram(y);
      for (const solver of ['cg', 'cholesky'] as const) {
        const x1 = randomDense(60, 12, rand);
        const x2 = { ...x1, data: x1.data.slice() };
        await K.ialsHalfStep(r, y, x1, { alpha: 2, reg: 0.1, solver });
        await K.ialsHalfStep(r, y, x2, { alpha: 2, reg: 0.1, solver, gram });
        expect(relError(x2.data, x1.data)).toBeLessThan(1e-6);
      }
      await expect(K.ialsHalfStep(r, y, randomDense(60, 12, rand), { alpha: 1, reg: 1, solver: 'cg', gram: randomDense(3, 3, rand) })).rejects.toThrow(/gram is 3×3, expected 12×12/);
    });

    it('explicit ALS-WR matches the reference, with and without count scaling', async () => {
      for (const scaleByCount of [true, false]) {
        const xw = randomDense(60, 12, rand);
        const xr = { ...xw, data: xw.data.slice() };
        await K.alsExplicitHalfStep(r, y, xw, { reg: 0.2, scaleByCount });
        await R.alsExplicitHalfStep(r, y, xr, { reg: 0.2, scaleByCount });
        expect(relError(xw.data, xr.data)).toBeLessThan(1e-4);
      }
    });

    it('rejects mismatched factor shapes', async () => {
      await expect(K.ialsHalfStep(r, y, randomDense(60, 5, rand), { alpha: 1, reg: 1, solver: 'cg' })).rejects.toThrow(/X has 5 columns/);
    });
  });

  describe('top-k (exact: same items and scores as the reference)', () => {
    const rand = rng(31);
    const scores = integerDense(40, 300, 3, rand); // many ties
    const exclude = randomCsr(40, 300, 0.2, rand);

    const same = async (s: DenseMatrix, k: number, options = {}) => {
      const got = await K.topk(s, k, options);
      const want = await R.topk(s, k, options);
      expect(Array.from(got.items)).toEqual(Array.from(want.items));
      expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
      return got;
    };

    it('ties go to the lower column; k beyond the columns pads with -1/-Infinity', async () => {
      await same(scores, 10);
      const r = await same({ rows: 2, cols: 3, data: Float32Array.from([1, 1, 1, 0, 2, NaN]) }, 5);
      expect(Array.from(r.items)).toEqual([0, 1, 2, -1, -1, 1, 0, -1, -1, -1]);
      expect(r.scores[4]).toBe(-Infinity);
    });

    it('exclusion, global exclusion and (unsorted, repeated) candidates', async () => {
      await same(scores, 7, { exclude });
      await same(scores, 7, { excludeAll: Int32Array.from([5, 1, 299, 5]) });
      await same(scores, 7, { exclude, excludeAll: Int32Array.from([0, 2]), candidates: Int32Array.from([250, 3, 17, 3, 0, 2, 100, 101, 102]) });
      await same(scores, 4, { candidates: new Int32Array(0) });
    });

    it('orders that stress the selection (every column admitted, ties everywhere, NaN and ±Infinity), k from 1 to beyond the columns', async () => {
      const cols = 3000;
      const rand2 = rng(37);
      const patterns: ((j: number) => number)[] = [
        (j) => j, // ascending: every column beats the current k-th
        (j) => -j,
        (j) => j % 7,
        () => 1,
        (j) => Math.min(j, cols - j), // organ pipe
        () => Math.floor(rand2() * 5),
        (j) => (j % 97 === 0 ? NaN : j % 89 === 0 ? -Infinity : j % 83 === 0 ? Infinity : rand2() * 2 - 1),
        (j) => (j % 2 ? 0 : -0),
      ];
      const m = { rows: patterns.length, cols, data: new Float32Array(patterns.length * cols) };
      patterns.forEach((p, r) => {
        for (let j = 0; j < cols; j++) m.data[r * cols + j] = p(j);
      });
      for (const k of [1, 3, 10, 64, 65, 100, 129, 1000, 2999, 3000, 3005]) await same(m, k);
      await same(m, 100, { candidates: Int32Array.from({ length: 2000 }, (_, i) => (i * 7) % cols), excludeAll: Int32Array.from([0, 1, 2, 2999]) });
    });

    it('empty shapes, k = 0 and bad options', async () => {
      expect((await K.topk({ rows: 0, cols: 5, data: new Float32Array(0) }, 3)).items.length).toBe(0);
      expect((await K.topk(scores, 0)).items.length).toBe(0);
      await expect(K.topk(scores, 2, { excludeAll: Int32Array.from([300]) })).rejects.toThrow(/outside 0..299/);
    });
  });

  /**
   * For each shape: the first 1–4 users of a 16-user batch, scored alone (with `packed` when asked), must give
   * their rows of the batch bit for bit, and the reference's scores to float rounding.
   */
  const fewUsersMatchBatch = async (shapes: readonly (readonly [number, number])[], seed: number, packed: boolean): Promise<void> => {
    for (const [n, f] of shapes) {
      const rand = rng(n * seed + f);
      const batch = randomDense(16, f, rand);
      const v = randomDense(n, f, rand);
      const pack = packed ? await K.packItems(v) : undefined;
      const itemBias = Float32Array.from({ length: n }, () => rand());
      const k = Math.min(n, 9);
      const all = await K.scoreTopK(batch, v, k, { itemBias });
      if (pack) {
        const allPacked = await K.scoreTopK(batch, v, k, { itemBias, packed: pack });
        expect(sameBits(allPacked.scores, all.scores), `${n}×${f}, 16 users`).toBe(true);
      }
      for (const rows of [1, 2, 3, 4]) {
        const first = { rows, cols: f, data: batch.data.slice(0, rows * f) };
        const few = await K.scoreTopK(first, v, k, pack ? { itemBias, packed: pack } : { itemBias });
        expect(Array.from(few.items), `${n}×${f}, ${rows} users`).toEqual(Array.from(all.items.subarray(0, rows * k)));
        expect(sameBits(few.scores, all.scores.subarray(0, rows * k)), `${n}×${f}, ${rows} users`).toBe(true);
        const want = await R.scoreTopK(first, v, k, { itemBias });
        expect(relError(few.scores, want.scores)).toBeLessThan(1e-5);
      }
    }
  };

  describe('scoreTopK (integer factors: exact scores, so exactly the reference ranking)', () => {
    it('crosses the 4096-item tile, with bias, exclusions and candidates', async () => {
      const rand = rng(41);
      const u = integerDense(70, 6, 2, rand);
      const v = integerDense(5000, 6, 2, rand);
      const itemBias = Float32Array.from({ length: 5000 }, () => Math.floor(rand() * 3));
      const exclude = randomCsr(70, 5000, 0.01, rand);
      const candidates = Int32Array.from({ length: 900 }, () => Math.floor(rand() * 5000));
      for (const options of [{}, { itemBias, exclude }, { exclude, candidates, excludeAll: Int32Array.from([4999, 4096, 0]) }]) {
        const got = await K.scoreTopK(u, v, 12, options);
        const want = await R.scoreTopK(u, v, 12, options);
        expect(Array.from(got.items)).toEqual(Array.from(want.items));
        expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
      }
    });

    it('1–4 users over 20,000 items (split over the threads, ties everywhere), k in heap and buffer sizes, packed or not', async () => {
      const rand = rng(45);
      const n = 20000;
      const v = integerDense(n, 128, 1, rand);
      const packed = await K.packItems(v);
      const itemBias = Float32Array.from({ length: n }, () => Math.floor(rand() * 3));
      const candidates = Int32Array.from({ length: 6000 }, () => Math.floor(rand() * n));
      const excludeAll = Int32Array.from({ length: 300 }, () => Math.floor(rand() * n));
      for (const users of [1, 2, 4]) {
        const u = integerDense(users, 128, 1, rand);
        const exclude = randomCsr(users, n, 0.02, rand);
        for (const [k, options] of [[10, {}], [100, { itemBias, exclude }], [300, { excludeAll, candidates }], [65, { itemBias, excludeAll, exclude }]] as const) {
          const want = await R.scoreTopK(u, v, k, options);
          for (const o of [options, { ...options, packed }]) {
            const got = await K.scoreTopK(u, v, k, o);
            expect(Array.from(got.items), `${users} users, k ${k}`).toEqual(Array.from(want.items));
            expect(Array.from(got.scores), `${users} users, k ${k}`).toEqual(Array.from(want.scores));
          }
        }
      }
    });

    it('one to four users score bit for bit as they do inside a batch (the service asks one user at a time)', async () => {
      await fewUsersMatchBatch([[5, 1], [37, 7], [37, 8], [4100, 13], [300, 300], [20, 0]], 7, false);
    });

    it('equals gemm + topk on random floats up to near-ties', async () => {
      const rand = rng(43);
      const u = randomDense(9, 20, rand);
      const v = randomDense(333, 20, rand);
      const got = await K.scoreTopK(u, v, 5);
      const full = await K.topk(await K.gemm(u, v, { transB: true }), 5);
      expect(Array.from(got.items)).toEqual(Array.from(full.items));
      expect(relError(got.scores, full.scores)).toBeLessThan(1e-6);
    });
  });

  describe('scoreTopK with packed items (packItems): the same bits as without', () => {
    it('packed items score bit for bit as unpacked: 1–6, 9, 16 and 70 users, f across the KC block, tails of the panel width', async () => {
      // 1 thread: a chunk holds every user (5, 6 users take the GEMM path on the packed panels); 2 threads: chunks
      // of ⌈users/2⌉ (up to 6 users stay on the few-user path, 9 and more take the GEMM).
      const one = await backend.create(1);
      try {
        for (const f of [1, 7, 8, 31, 32, 33, 64, 300]) {
          const rand = rng(1000 + f);
          const n = f === 300 ? 1037 : 4133; // not multiples of 16 or 32; 4133 crosses the 4096-item tile
          const v = randomDense(n, f, rand);
          const packed = await K.packItems(v);
          expect(packed.rows).toBe(n);
          expect(packed.cols).toBe(f);
          const itemBias = Float32Array.from({ length: n }, () => rand() * 2 - 1);
          const excludeAll = Int32Array.from({ length: 40 }, () => Math.floor(rand() * n));
          const candidates = Int32Array.from({ length: 700 }, () => Math.floor(rand() * n));
          for (const users of [1, 2, 3, 4, 5, 6, 9, 16, 70]) {
            if (f === 300 && users > 9) continue;
            const u = randomDense(users, f, rand);
            const exclude = randomCsr(users, n, 0.01, rand);
            const cases: [string, number, ScoreTopKOptions][] = [
              ['plain', 10, {}],
              ['bias + excludeAll', 100, { itemBias, excludeAll }],
              ['bias + per-row exclusions', 25, { itemBias, exclude }],
              ['candidates + both exclusions', 30, { candidates, exclude, excludeAll }],
              ['k > items', n + 3, { itemBias, exclude }],
            ];
            for (const [name, k, options] of cases) {
              if (k > 200 && users > 4) continue;
              for (const [kn, label] of [[K, '2 threads'], [one, '1 thread']] as const) {
                const want = await kn.scoreTopK(u, v, k, options);
                const got = await kn.scoreTopK(u, v, k, { ...options, packed });
                const where = `f ${f}, ${users} users, ${name}, ${label}`;
                expect(Array.from(got.items), where).toEqual(Array.from(want.items));
                expect(sameBits(got.scores, want.scores), where).toBe(true);
              }
            }
          }
        }
      } finally {
        await one.close();
      }
    });

    it('packed 1–4 users equal their rows of a 16-user batch bit for bit, and the reference to float rounding', async () => {
      await fewUsersMatchBatch([[5, 1], [37, 7], [37, 8], [4100, 13], [300, 300]], 11, true);
    });

    it('rejects a pack of another shape or another array, names both shapes', async () => {
      const rand = rng(47);
      const v = randomDense(50, 8, rand);
      const u = randomDense(1, 8, rand);
      const packed = await K.packItems(v);
      const longer = randomDense(51, 8, rand);
      await expect(K.scoreTopK(u, longer, 5, { packed })).rejects.toThrow('scoreTopK: options.packed holds 50×8 items, V is 51×8 (pack V again with packItems)');
      const wider = randomDense(50, 9, rand);
      await expect(K.scoreTopK(randomDense(1, 9, rand), wider, 5, { packed })).rejects.toThrow(/options\.packed holds 50×8 items, V is 50×9/);
      await expect(K.scoreTopK(u, { ...v, data: v.data.slice() }, 5, { packed })).rejects.toThrow(/options\.packed was packed from another array than V\.data/);
      // Empty shapes pack too, and score as without the pack.
      const empty = { rows: 0, cols: 8, data: new Float32Array(0) };
      const none = await K.scoreTopK(u, empty, 3, { packed: await K.packItems(empty) });
      expect(Array.from(none.items)).toEqual([-1, -1, -1]);
      const flat = { rows: 5, cols: 0, data: new Float32Array(0) };
      const zero = await K.scoreTopK({ rows: 2, cols: 0, data: new Float32Array(0) }, flat, 2, { packed: await K.packItems(flat), itemBias: Float32Array.of(0, 3, 1, 3, 2) });
      expect(Array.from(zero.items)).toEqual([1, 3, 1, 3]);
    });

    it.skipIf(backend.name !== 'native')('native: the pack is a copy in panels (scores come from V at packing time)', async () => {
      const rand = rng(53);
      const v = integerDense(1000, 16, 3, rand);
      const u = integerDense(2, 16, 3, rand);
      const packed = await K.packItems(v);
      expect(packed.bytes).toBeGreaterThanOrEqual(1000 * 16 * 4);
      const before = await K.scoreTopK(u, v, 5);
      v.data.fill(0);
      // The few-user path and the GEMM path (16 users) both read the panels, not V.
      const stale = await K.scoreTopK(u, v, 5, { packed });
      expect(Array.from(stale.items)).toEqual(Array.from(before.items));
      expect(Array.from(stale.scores)).toEqual(Array.from(before.scores));
      const many = { rows: 16, cols: 16, data: new Float32Array(256).fill(1) };
      const fresh = await K.scoreTopK(many, v, 3);
      expect(Array.from(fresh.scores.subarray(0, 3))).toEqual([0, 0, 0]);
      const old = await K.scoreTopK(many, v, 3, { packed });
      expect(old.scores[0]).toBeGreaterThan(0);
    });
  });

  describe('vector helpers on large shared arrays (wasm SIMD, float64 sums: < 1e-6)', () => {
    it('rowNorms, normalizeRows, dot, axpy', () => {
      const rand = rng(51);
      const src = randomDense(301, 37, rand);
      src.data.fill(0, 5 * 37, 6 * 37); // a zero row
      const x = { rows: 301, cols: 37, data: K.allocF32(301 * 37) };
      x.data.set(src.data);
      expect(relError(K.rowNorms(x), R.rowNorms(src))).toBeLessThan(1e-6);
      const want = { ...src, data: src.data.slice() };
      R.normalizeRows(want);
      K.normalizeRows(x);
      expect(relError(x.data, want.data)).toBeLessThan(1e-6);
      for (let j = 0; j < 37; j++) expect(x.data[5 * 37 + j]).toBe(0);
      const a = K.allocF32(10007);
      const b = K.allocF32(10007);
      for (let i = 0; i < a.length; i++) {
        a[i] = rand() - 0.5;
        b[i] = rand() - 0.5;
      }
      expect(Math.abs(K.dot(a, b) - R.dot(a, b))).toBeLessThan(1e-9);
      const y1 = b.slice();
      R.axpy(0.37, a, y1);
      K.axpy(0.37, a, b);
      expect(relError(b, y1)).toBeLessThan(1e-6);
      expect(() => K.dot(a, K.allocF32(3))).toThrow(/lengths differ/);
      for (const arr of [x.data, a, b]) K.free(arr);
    });
  });

  describe('small vector helpers', () => {
    it('rowNorms, normalizeRows, dot, axpy', () => {
      const x = { rows: 2, cols: 2, data: Float32Array.from([3, 4, 0, 0]) };
      expect(Array.from(K.rowNorms(x))).toEqual([5, 0]);
      K.normalizeRows(x);
      expect(Array.from(x.data)).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 0]);
      expect(K.dot(Float32Array.from([1, 2]), Float32Array.from([3, 4]))).toBe(11);
      const yv = Float32Array.from([1, 1]);
      K.axpy(2, Float32Array.from([1, 2]), yv);
      expect(Array.from(yv)).toEqual([3, 5]);
    });
  });
});
