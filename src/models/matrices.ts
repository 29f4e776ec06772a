/** Views of an {@link Interactions} matrix in the kernel layer's CSR form. */
import type { Interactions } from '../data/interactions.js';
import type { CsrMatrix } from '../linalg/api.js';

/** The users × items CSR (shares the arrays). */
export function userItemCsr(train: Interactions): CsrMatrix {
  return { rows: train.nUsers, cols: train.nItems, rowPtr: train.rowPtr, colIdx: train.colIdx, values: train.values };
}

/** The items × users CSR (the transpose, from the cached CSC view). */
export function itemUserCsr(train: Interactions): CsrMatrix {
  const c = train.csc();
  return { rows: train.nItems, cols: train.nUsers, rowPtr: c.colPtr, colIdx: c.rowIdx, values: c.values };
}

/** A CSR with the same structure and `values` replaced. */
export function withValues(m: CsrMatrix, values: Float32Array): CsrMatrix {
  return { rows: m.rows, cols: m.cols, rowPtr: m.rowPtr, colIdx: m.colIdx, values };
}
