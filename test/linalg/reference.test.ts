import { describe, expect, it } from 'vitest';
import { referenceKernels as K } from '../../src/linalg/index.js';

const m = (rows: number, cols: number, v: number[]) => ({ rows, cols, data: Float32Array.from(v) });

describe('reference kernels (hand-computed answers)', () => {
  it('gemm with transposes, alpha and beta', async () => {
    const a = m(2, 3, [1, 2, 3, 4, 5, 6]);
    const b = m(3, 2, [7, 8, 9, 10, 11, 12]);
    expect(Array.from((await K.gemm(a, b)).data)).toEqual([58, 64, 139, 154]);
    // Aᵀ·Aᵀᵀ = AᵀA (3×3)
    expect(Array.from((await K.gemm(a, a, { transA: true })).data)).toEqual([17, 22, 27, 22, 29, 36, 27, 36, 45]);
    expect(Array.from((await K.gemm(a, a, { transB: true })).data)).toEqual([14, 32, 32, 77]);
    const c = m(2, 2, [1, 1, 1, 1]);
    await K.gemm(a, b, { alpha: 2, beta: -1, c });
    expect(Array.from(c.data)).toEqual([115, 127, 277, 307]);
    await expect(K.gemm(a, a)).rejects.toThrow(/inner dimensions/);
  });

  it('gram, solves and inverse', async () => {
    expect(Array.from((await K.gram(m(2, 2, [1, 2, 3, 4]))).data)).toEqual([10, 14, 14, 20]);
    const x = await K.choleskySolveBatched(Float32Array.from([4, 2, 2, 3, 1, 0, 0, 2]), Float32Array.from([2, 1, 3, 4]), 2, 2);
    expect(Array.from(x)).toEqual([0.5, 0, 3, 2]);
    const inv = await K.spdInverse(m(2, 2, [4, 2, 2, 3]));
    expect(Array.from(inv.data).map((v) => Math.round(v * 8))).toEqual([3, -2, -2, 4]);
    await expect(K.spdInverse(m(2, 2, [1, 2, 2, 1]))).rejects.toThrow(/not symmetric positive definite/);
  });

  it('sparse products', async () => {
    const a = { rows: 2, cols: 3, rowPtr: Int32Array.from([0, 2, 3]), colIdx: Int32Array.from([0, 2, 1]), values: Float32Array.from([1, 2, 3]) };
    const b = m(3, 2, [1, 2, 3, 4, 5, 6]);
    expect(Array.from((await K.csrMatmul(a, b)).data)).toEqual([11, 14, 9, 12]);
    expect(Array.from((await K.denseCsrT(m(1, 3, [1, 2, 3]), a)).data)).toEqual([7, 6]);
  });

  it('top-k with ties, exclusion, candidates and padding', async () => {
    const s = m(2, 4, [1, 3, 3, 2, 5, 4, 3, 2]);
    const r = await K.topk(s, 3, { excludeAll: Int32Array.from([3]) });
    expect(Array.from(r.items)).toEqual([1, 2, 0, 0, 1, 2]);
    const ex = { rows: 2, cols: 4, rowPtr: Int32Array.from([0, 1, 1]), colIdx: Int32Array.from([1]), values: Float32Array.from([1]) };
    const r2 = await K.topk(s, 3, { exclude: ex, candidates: Int32Array.from([1, 3]) });
    expect(Array.from(r2.items)).toEqual([3, -1, -1, 1, 3, -1]);
    expect(r2.scores[1]).toBe(-Infinity);
  });

  it('scoreTopK with a pack: the same ranking, and a pack of another V is rejected', async () => {
    const v = m(3, 2, [1, 0, 0, 1, 1, 1]);
    const u = m(1, 2, [2, 1]);
    const packed = await K.packItems(v);
    expect(packed.bytes).toBe(0);
    const r = await K.scoreTopK(u, v, 2, { packed, itemBias: Float32Array.from([0, 5, 0]) });
    expect(Array.from(r.items)).toEqual([1, 2]);
    expect(Array.from(r.scores)).toEqual([6, 3]);
    await expect(K.scoreTopK(u, m(4, 2, [1, 0, 0, 1, 1, 1, 2, 2]), 2, { packed })).rejects.toThrow('scoreTopK: options.packed holds 3×2 items, V is 4×2');
    await expect(K.scoreTopK(u, m(3, 2, [1, 0, 0, 1, 1, 1]), 2, { packed })).rejects.toThrow(/packed from another array than V\.data/);
  });

  it('explicit ALS step solves the 1-factor normal equation', async () => {
    const r = { rows: 2, cols: 2, rowPtr: Int32Array.from([0, 2, 2]), colIdx: Int32Array.from([0, 1]), values: Float32Array.from([2, 4]) };
    const y = m(2, 1, [1, 2]);
    const x = m(2, 1, [9, 9]);
    await K.alsExplicitHalfStep(r, y, x, { reg: 0.5 });
    // (1 + 4 + 0.5·2) x = 2 + 8
    expect(x.data[0]).toBeCloseTo(10 / 6, 6);
    expect(x.data[1]).toBe(0);
  });
});
