// The item Gram source of item-KNN and EASE: the sparse pair walk and the column blocks give the same XᵀX, and the
// cost rule picks the pair walk for sparse histories and the blocks for dense ones.
import { describe, expect, it } from 'vitest';
import { referenceKernels as R } from '../../src/linalg/reference.js';
import type { CsrMatrix } from '../../src/linalg/api.js';
import { getKernels } from '../../src/linalg/index.js';
import { itemGramBlocks, itemGramColumns, preferSparseGram } from '../../src/models/neighbors/item-gram.js';
import { randomCsr, rng } from '../linalg/helpers.js';

/** Xᵀ (items × users) of a users × items CSR. */
function transpose(x: CsrMatrix): CsrMatrix {
  const t = { rows: x.cols, cols: x.rows, rowPtr: new Int32Array(x.cols + 1), colIdx: new Int32Array(x.colIdx.length), values: new Float32Array(x.colIdx.length) };
  for (const c of x.colIdx) t.rowPtr[c + 1]++;
  for (let i = 0; i < x.cols; i++) t.rowPtr[i + 1] += t.rowPtr[i];
  const next = t.rowPtr.slice(0, x.cols);
  for (let r = 0; r < x.rows; r++)
    for (let p = x.rowPtr[r]; p < x.rowPtr[r + 1]; p++) {
      const o = next[x.colIdx[p]]++;
      t.colIdx[o] = r;
      t.values[o] = x.values[p];
    }
  return t;
}

describe('item Gram blocks', () => {
  it('picks the pair walk for sparse histories and the column blocks for dense ones', () => {
    expect(preferSparseGram(transpose(randomCsr(300, 200, 0.02, rng(1))))).toBe(true);
    expect(preferSparseGram(transpose(randomCsr(300, 200, 0.6, rng(2))))).toBe(false);
  });

  for (const kn of [{ name: 'reference', get: async () => R }, { name: 'default backend', get: () => getKernels() }]) {
    it(`${kn.name}: every block of the sparse path equals the csrMatmul columns and the dense Gram`, async () => {
      const k = await kn.get();
      const rand = rng(5);
      const x = randomCsr(250, 90, 0.05, rand);
      for (let p = 0; p < x.values.length; p++) x.values[p] = 1 + (p % 3);
      const xt = transpose(x);
      expect(preferSparseGram(xt)).toBe(true);
      const gram = await itemGramBlocks(k, xt);
      const n = x.cols;
      for (const [s, e] of [[0, 8], [8, 57], [57, 90]]) {
        const got = await gram.columns(s, e);
        expect(got.rows).toBe(n);
        expect(got.cols).toBe(e - s);
        // Integer data: both paths are exact.
        expect(Array.from(got.data)).toEqual(Array.from((await itemGramColumns(k, xt, s, e)).data));
        for (let j = 0; j < n; j++) {
          for (let r = 0; r < e - s; r++) {
            let want = 0;
            for (let u = 0; u < x.rows; u++) {
              let a = 0;
              let b = 0;
              for (let p = x.rowPtr[u]; p < x.rowPtr[u + 1]; p++) {
                if (x.colIdx[p] === j) a = x.values[p];
                if (x.colIdx[p] === s + r) b = x.values[p];
              }
              want += a * b;
            }
            expect(got.data[j * (e - s) + r]).toBe(want);
          }
        }
      }
    });
  }
});
