/**
 * Blocks of the item–item Gram matrix XᵀX for a users × items matrix X, computed on the kernel layer as
 * Xᵀ · dense(X[:, block]) with `csrMatmul` (cost nnz · block per block, a contiguous SIMD axpy per
 * non-zero; measured ~8× faster than the `denseCsrT` formulation of the same product). Pass Xᵀ in the
 * kernels' shared memory ({@link SharedCopies}) so that it is not copied for every block.
 */
import type { CsrMatrix, DenseMatrix, Kernels } from '../../linalg/api.js';
import { transposeCsr, type SharedCopies } from '../matrices.js';

/**
 * Items per block: the dense users × block input should stay in cache (≈ 8 MB: every non-zero of Xᵀ reads
 * one of its rows), a multiple of 8 between 8 and 512. Measured on KuaiRec-shaped data (7,176 users): 128–256
 * columns per block are ~3× faster than 1,024.
 */
export function gramBlockSize(nUsers: number, nItems: number): number {
  const b = Math.floor((2 * 1024 * 1024) / Math.max(1, nUsers) / 8) * 8;
  return Math.max(1, Math.min(nItems, Math.max(8, Math.min(512, b))));
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

/** Floats of the largest full item Gram {@link itemGramBlocks} builds at once (256 MB). */
export const FULL_GRAM_MAX_FLOATS = 1 << 26;

/**
 * Whether the kernels' `sparseGram` (one pass over each user's item pairs: Σᵤ nᵤ²/2 scalar updates, n × n output)
 * is the cheaper way to XᵀX than the column blocks of {@link itemGramColumns} (nnz · n multiply-adds in SIMD
 * lanes): measured on the native kernels, one scalar pair update costs about as much as 8 block multiply-adds.
 * Sparse histories (MovieLens-like) take the pair walk; dense ones (KuaiRec big_matrix) and Grams above
 * {@link FULL_GRAM_MAX_FLOATS} take the blocks.
 */
export function preferSparseGram(xt: CsrMatrix): boolean {
  const n = xt.rows;
  if (n * n > FULL_GRAM_MAX_FLOATS) return false;
  const perUser = new Float64Array(xt.cols);
  const nnz = xt.rowPtr[n];
  for (let p = 0; p < nnz; p++) perUser[xt.colIdx[p]]++;
  let pairs = 0;
  for (const c of perUser) pairs += c * c;
  return 4 * pairs < nnz * n;
}

/**
 * A source of column blocks of XᵀX (each as {@link itemGramColumns} returns them) for Xᵀ given as items × users
 * CSR: either one `sparseGram` call up front whose rows are then copied out per block (see
 * {@link preferSparseGram}; `full` is then that whole n × n Gram), or one `csrMatmul` per block (`full` null).
 * Block sizes: {@link gramBlockSize}.
 */
export async function itemGramBlocks(kn: Kernels, xt: CsrMatrix): Promise<{ block: number; full: DenseMatrix | null; columns(start: number, end: number): Promise<DenseMatrix> }> {
  const n = xt.rows;
  const block = gramBlockSize(xt.cols, n);
  if (!preferSparseGram(xt)) return { block, full: null, columns: (start, end) => itemGramColumns(kn, xt, start, end) };
  const g = await kn.sparseGram(transposeCsr(xt));
  return {
    block,
    full: g,
    columns: async (start, end) => {
      const b = end - start;
      const out = new Float32Array(n * b);
      // Column j of the block is row j of G restricted to [start, end) (G is symmetric).
      for (let j = 0; j < n; j++) out.set(g.data.subarray(j * n + start, j * n + end), j * b);
      return { rows: n, cols: b, data: out };
    },
  };
}
