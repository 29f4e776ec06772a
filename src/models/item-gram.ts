/**
 * Blocks of the item–item Gram matrix XᵀX for a users × items matrix X, computed on the kernel layer as
 * Xᵀ · dense(X[:, block]) with `csrMatmul` (cost nnz · block per block, a contiguous SIMD axpy per
 * non-zero; measured ~8× faster than the `denseCsrT` formulation of the same product).
 */
import type { CsrMatrix, DenseMatrix, Kernels } from '../linalg/api.js';

/** Items per block so that the dense input and output blocks stay near `budget` floats. */
export function gramBlockSize(nUsers: number, nItems: number, budget = 32 * 1024 * 1024): number {
  return Math.max(1, Math.min(nItems, Math.floor(budget / Math.max(1, nUsers + nItems))));
}

/**
 * Columns `start`..`end` of XᵀX as an items × (end − start) row-major matrix, given Xᵀ as an items × users
 * CSR. (XᵀX is symmetric, so column j is also row j.)
 */
export async function itemGramColumns(kn: Kernels, xt: CsrMatrix, start: number, end: number): Promise<DenseMatrix> {
  const b = end - start;
  const m = xt.cols;
  const dense = new Float32Array(m * b);
  for (let r = 0; r < b; r++) {
    const i = start + r;
    for (let p = xt.rowPtr[i]; p < xt.rowPtr[i + 1]; p++) dense[xt.colIdx[p] * b + r] = xt.values[p];
  }
  return kn.csrMatmul(xt, { rows: m, cols: b, data: dense });
}
