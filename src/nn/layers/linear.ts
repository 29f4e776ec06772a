/** Fully connected layer y = x·W + b with W stored in × out, all products through `Kernels.gemm`. */
import type { DenseMatrix, Kernels } from '../../linalg/api.js';
import { glorotUniform } from '../init.js';
import type { Rng } from '../../core/rng.js';
import { MatrixBuffer, Param } from '../tensor.js';
import type { Layer } from './layer.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** Compute the input gradient in `backward` (default true; false for a first layer fed by data). */
  inputGrad?: boolean;
}

/** Dense affine layer. Weights: Glorot uniform; bias: zeros. */
export class Linear implements Layer {
  /** Weight, in × out. */
  readonly weight: Param;
  /** Bias, 1 × out, or null. */
  readonly bias: Param | null;
  private readonly out: MatrixBuffer;
  private readonly dx: MatrixBuffer;
  private input: DenseMatrix | null = null;
  private readonly inputGrad: boolean;

  constructor(private readonly kernels: Kernels, name: string, readonly inDim: number, readonly outDim: number, rng: Rng, options: LinearOptions = {}) {
    this.weight = new Param(kernels, `${name}.weight`, inDim, outDim);
    glorotUniform(this.weight, rng);
    this.bias = options.bias === false ? null : new Param(kernels, `${name}.bias`, 1, outDim, { decay: false });
    this.inputGrad = options.inputGrad ?? true;
    this.out = new MatrixBuffer(kernels);
    this.dx = new MatrixBuffer(kernels);
  }

  /** y = x·W + b. */
  async forward(x: DenseMatrix, _training: boolean): Promise<DenseMatrix> {
    if (x.cols !== this.inDim) throw new RangeError(`${this.weight.name}: input has ${x.cols} columns, expected ${this.inDim}`);
    this.input = x;
    const y = this.out.get(x.rows, this.outDim);
    if (this.bias) {
      const b = this.bias.value;
      for (let r = 0; r < x.rows; r++) y.data.set(b, r * this.outDim);
    }
    await this.kernels.gemm(x, this.weight.matrix, { c: y, beta: this.bias ? 1 : 0 });
    return y;
  }

  /** dW += xᵀ·dy, db += Σ_rows dy, dx = dy·Wᵀ. */
  async backward(dy: DenseMatrix): Promise<DenseMatrix> {
    const x = this.input;
    if (!x) throw new Error(`${this.weight.name}: backward before forward`);
    await this.kernels.gemm(x, dy, { transA: true, c: this.weight.gradMatrix, beta: 1 });
    if (this.bias) addColumnSums(dy, this.bias.grad);
    if (!this.inputGrad) return { rows: x.rows, cols: 0, data: new Float32Array(0) };
    const dx = this.dx.get(x.rows, this.inDim);
    await this.kernels.gemm(dy, this.weight.matrix, { transB: true, c: dx });
    return dx;
  }

  /** Weight and bias. */
  params(): Param[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
}

/** acc[j] += Σ_r m[r, j]. */
export function addColumnSums(m: DenseMatrix, acc: Float32Array): void {
  const n = m.cols;
  const d = m.data;
  for (let r = 0; r < m.rows; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) acc[j] += d[o + j];
  }
}
