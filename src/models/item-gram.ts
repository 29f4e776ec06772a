/**
 * Row blocks of the item–item Gram matrix XᵀX for a users × items matrix X, computed on the kernel layer as
 * dense(X[:, block])ᵀ · Xᵀ with `denseCsrT` (cost nnz · block per block, memory block × (users + items)).
 */
import type { CsrMatrix, DenseMatrix, Kernels } from '../linalg/api.js';

/** Items per block so that the dense block stays near `budget` floats. */
export function gramBlockSize(nUsers: number, nItems: number, budget = 32 * 1024 * 1024): number {
  return Math.max(1, Math.min(nItems, Math.floor(budget / Math.max(1, nUsers + nItems))));
}

/**
 * Rows `start`..`end` of XᵀX ((end − start) × items) given Xᵀ as an items × users CSR.
 */
export async function itemGramRows(kn: Kernels, xt: CsrMatrix, start: number, end: number): Promise<DenseMatrix> {
  const b = end - start;
  const m = xt.cols;
  const dense = new Float32Array(b * m);
  for (let r = 0; r < b; r++) {
    const i = start + r;
    for (let p = xt.rowPtr[i]; p < xt.rowPtr[i + 1]; p++) dense[r * m + xt.colIdx[p]] = xt.values[p];
  }
  return kn.denseCsrT({ rows: b, cols: m, data: dense }, xt);
}
