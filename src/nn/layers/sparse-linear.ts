/**
 * A first layer fed by sparse data: y = X·W + b for a CSR batch X (rows = examples). The forward product is
 * `Kernels.csrMatmul`; the weight gradient Xᵀ·δ only touches the rows of W whose columns occur in the batch, so
 * it is computed as a compact transposed CSR (touched columns × batch) times δ and scattered into those rows.
 *
 * When the batch is dense enough (nnz / (rows·cols) ≥ `denseForwardDensity`), the forward product instead
 * scatters X into a dense matrix and uses `gemm`: X·W reads a whole row of W per stored entry, scattered over
 * the table, which is memory-bound for dense data (KuaiRec's big matrix is 16% full), while the GEMM streams W
 * once. The backward product stays sparse (its dense operand δ is small and cache-resident).
 */
import type { CsrMatrix, DenseMatrix, Kernels } from '../../linalg/api.js';
import { glorotUniform } from '../init.js';
import type { Rng } from '../../core/rng.js';
import { MatrixBuffer, Param } from '../tensor.js';
import { addColumnSums } from './linear.js';

/** Sparse-input affine layer (no input gradient: its input is data). */
export class SparseLinear {
  /** Weight, in × out. */
  readonly weight: Param;
  /** Bias, 1 × out. */
  readonly bias: Param;
  private input: CsrMatrix | null = null;
  private readonly denseX: MatrixBuffer;
  private readonly out: MatrixBuffer;

  constructor(
    private readonly kernels: Kernels,
    name: string,
    readonly inDim: number,
    readonly outDim: number,
    rng: Rng,
    /** Batch density from which the forward product uses a dense GEMM (Infinity = always sparse). */
    readonly denseForwardDensity = 0.05,
  ) {
    this.weight = new Param(kernels, `${name}.weight`, inDim, outDim);
    glorotUniform(this.weight, rng);
    this.bias = new Param(kernels, `${name}.bias`, 1, outDim, { decay: false });
    this.denseX = new MatrixBuffer(kernels);
    this.out = new MatrixBuffer(kernels);
  }

  /** y = X·W + b. */
  async forward(x: CsrMatrix): Promise<DenseMatrix> {
    if (x.cols !== this.inDim) throw new RangeError(`${this.weight.name}: input has ${x.cols} columns, expected ${this.inDim}`);
    this.input = x;
    const nnz = x.rowPtr[x.rows];
    let y: DenseMatrix;
    if (x.rows > 0 && nnz >= this.denseForwardDensity * x.rows * x.cols) {
      const d = this.denseX.get(x.rows, x.cols);
      d.data.fill(0, 0, x.rows * x.cols);
      for (let r = 0; r < x.rows; r++) {
        const o = r * x.cols;
        for (let p = x.rowPtr[r]; p < x.rowPtr[r + 1]; p++) d.data[o + x.colIdx[p]] += x.values[p];
      }
      y = await this.kernels.gemm(d, this.weight.matrix, { c: this.out.get(x.rows, this.outDim) });
    } else {
      y = await this.kernels.csrMatmul(x, this.weight.matrix);
    }
    const b = this.bias.value;
    const n = this.outDim;
    for (let r = 0; r < x.rows; r++) {
      const o = r * n;
      for (let j = 0; j < n; j++) y.data[o + j] += b[j];
    }
    return y;
  }

  /** dW[touched rows] += (Xᵀ·dy)[touched rows]; db += Σ_rows dy. */
  async backward(dy: DenseMatrix): Promise<void> {
    const x = this.input;
    if (!x) throw new Error(`${this.weight.name}: backward before forward`);
    addColumnSums(dy, this.bias.grad);
    const { touched, xt } = compactTranspose(x);
    if (touched.length === 0) return;
    const g = await this.kernels.csrMatmul(xt, dy);
    const n = this.outDim;
    const wg = this.weight.grad;
    for (let t = 0; t < touched.length; t++) {
      const o = touched[t] * n;
      const s = t * n;
      for (let j = 0; j < n; j++) wg[o + j] += g.data[s + j];
    }
  }

  /** Weight and bias. */
  params(): Param[] {
    return [this.weight, this.bias];
  }
}

/**
 * The transpose of `x` restricted to its non-empty columns: `touched` lists those columns ascending and `xt` is
 * touched.length × x.rows with row t holding column touched[t] of x (rows sorted ascending).
 */
export function compactTranspose(x: CsrMatrix): { touched: Int32Array; xt: CsrMatrix } {
  const nnz = x.rowPtr[x.rows];
  const count = new Int32Array(x.cols);
  for (let p = 0; p < nnz; p++) count[x.colIdx[p]]++;
  let nTouched = 0;
  for (let c = 0; c < x.cols; c++) if (count[c] > 0) nTouched++;
  const touched = new Int32Array(nTouched);
  const rowPtr = new Int32Array(nTouched + 1);
  // count[c] becomes the next write position of column c's slot.
  for (let c = 0, t = 0; c < x.cols; c++) {
    if (count[c] === 0) continue;
    touched[t] = c;
    rowPtr[t + 1] = rowPtr[t] + count[c];
    count[c] = rowPtr[t];
    t++;
  }
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let r = 0; r < x.rows; r++) {
    for (let p = x.rowPtr[r]; p < x.rowPtr[r + 1]; p++) {
      const d = count[x.colIdx[p]]++;
      colIdx[d] = r;
      values[d] = x.values[p];
    }
  }
  return { touched, xt: { rows: nTouched, cols: x.rows, rowPtr, colIdx, values } };
}
