/** Views of an {@link Interactions} matrix in the kernel layer's CSR form. */
import type { Interactions } from '../data/interactions.js';
import type { CsrMatrix, DenseMatrix, Kernels } from '../linalg/api.js';

/** The users × items CSR (shares the arrays). */
export function userItemCsr(train: Interactions): CsrMatrix {
  return { rows: train.nUsers, cols: train.nItems, rowPtr: train.rowPtr, colIdx: train.colIdx, values: train.values };
}

/** The items × users CSR (the transpose, from the cached CSC view). */
export function itemUserCsr(train: Interactions): CsrMatrix {
  const c = train.csc();
  return { rows: train.nItems, cols: train.nUsers, rowPtr: c.colPtr, colIdx: c.rowIdx, values: c.values };
}

/** The transpose of a CSR matrix (its rows come out sorted by column index). */
export function transposeCsr(m: CsrMatrix): CsrMatrix {
  const nnz = m.rowPtr[m.rows];
  const rowPtr = new Int32Array(m.cols + 1);
  for (let p = 0; p < nnz; p++) rowPtr[m.colIdx[p] + 1]++;
  for (let j = 0; j < m.cols; j++) rowPtr[j + 1] += rowPtr[j];
  const next = rowPtr.slice(0, m.cols);
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let i = 0; i < m.rows; i++) {
    for (let p = m.rowPtr[i]; p < m.rowPtr[i + 1]; p++) {
      const o = next[m.colIdx[p]]++;
      colIdx[o] = i;
      values[o] = m.values[p];
    }
  }
  return { rows: m.cols, cols: m.rows, rowPtr, colIdx, values };
}

/** A CSR with the same structure and `values` replaced. */
export function withValues(m: CsrMatrix, values: Float32Array): CsrMatrix {
  return { rows: m.rows, cols: m.cols, rowPtr: m.rowPtr, colIdx: m.colIdx, values };
}

/**
 * Copies of CSR and dense matrices in the kernels' shared memory (so repeated kernel calls during a fit do
 * not copy them each time); `release` returns them to the allocator.
 */
export class SharedCopies {
  private readonly arrays: (Float32Array | Int32Array)[] = [];

  constructor(private readonly kn: Kernels) {}

  /** A shared copy of `m`. */
  csr(m: CsrMatrix): CsrMatrix {
    const nnz = m.rowPtr[m.rows];
    return { rows: m.rows, cols: m.cols, rowPtr: this.i32(m.rowPtr.subarray(0, m.rows + 1)), colIdx: this.i32(m.colIdx.subarray(0, nnz)), values: this.f32(m.values.subarray(0, nnz)) };
  }

  /** A shared copy of `m`. */
  dense(m: DenseMatrix): DenseMatrix {
    return { rows: m.rows, cols: m.cols, data: this.f32(m.data.subarray(0, m.rows * m.cols)) };
  }

  private f32(src: Float32Array): Float32Array {
    const a = this.kn.allocF32(src.length);
    a.set(src);
    this.arrays.push(a);
    return a;
  }

  private i32(src: Int32Array): Int32Array {
    const a = this.kn.allocI32(src.length);
    a.set(src);
    this.arrays.push(a);
    return a;
  }

  /** Frees every copy. */
  release(): void {
    for (const a of this.arrays) this.kn.free(a);
    this.arrays.length = 0;
  }
}
