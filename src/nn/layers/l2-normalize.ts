/** Row-wise L2 normalization y = x / max(‖x‖, ε), for dense batches (layer) and CSR batches (function). */
import type { CsrMatrix, DenseMatrix, Kernels } from '../../linalg/api.js';
import type { Param } from '../tensor.js';
import { MatrixBuffer } from '../tensor.js';
import type { Layer } from './layer.js';

/** Smallest norm divided by; rows with a smaller norm are divided by ε (zero rows stay zero). */
export const L2_EPS = 1e-12;

/** Scales each row to unit Euclidean norm. */
export class L2Normalize implements Layer {
  private readonly out: MatrixBuffer;
  private readonly dx: MatrixBuffer;
  private norms = new Float64Array(0);
  private y: DenseMatrix | null = null;

  constructor(kernels: Kernels) {
    this.out = new MatrixBuffer(kernels);
    this.dx = new MatrixBuffer(kernels);
  }

  /** y_r = x_r / max(‖x_r‖, ε). */
  async forward(x: DenseMatrix, _training: boolean): Promise<DenseMatrix> {
    const { rows, cols } = x;
    if (this.norms.length < rows) this.norms = new Float64Array(rows);
    const y = this.out.get(rows, cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += x.data[o + j] * x.data[o + j];
      const n = Math.max(Math.sqrt(s), L2_EPS);
      this.norms[r] = n;
      for (let j = 0; j < cols; j++) y.data[o + j] = x.data[o + j] / n;
    }
    this.y = y;
    return y;
  }

  /** dx_r = (dy_r − y_r (y_r · dy_r)) / ‖x_r‖. */
  async backward(dy: DenseMatrix): Promise<DenseMatrix> {
    const y = this.y;
    if (!y) throw new Error('l2-normalize: backward before forward');
    const { rows, cols } = y;
    const dx = this.dx.get(rows, cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += y.data[o + j] * dy.data[o + j];
      const n = this.norms[r];
      for (let j = 0; j < cols; j++) dx.data[o + j] = (dy.data[o + j] - y.data[o + j] * dot) / n;
    }
    return dx;
  }

  /** None. */
  params(): Param[] {
    return [];
  }
}

/** A copy of `x` with every row scaled to unit L2 norm (the input layer of Mult-VAE/DAE). */
export function l2NormalizeCsr(x: CsrMatrix): CsrMatrix {
  const values = new Float32Array(x.rowPtr[x.rows]);
  for (let r = 0; r < x.rows; r++) {
    let s = 0;
    for (let p = x.rowPtr[r]; p < x.rowPtr[r + 1]; p++) s += x.values[p] * x.values[p];
    const n = Math.max(Math.sqrt(s), L2_EPS);
    for (let p = x.rowPtr[r]; p < x.rowPtr[r + 1]; p++) values[p] = x.values[p] / n;
  }
  return { rows: x.rows, cols: x.cols, rowPtr: x.rowPtr, colIdx: x.colIdx, values };
}
