/** Element-wise activations ReLU, tanh (`Kernels.tanh`) and sigmoid; each caches its output for the backward pass. */
import type { DenseMatrix, Kernels } from '../../linalg/api.js';
import type { Param } from '../tensor.js';
import { MatrixBuffer } from '../tensor.js';
import type { Layer } from './layer.js';

/** The supported activation functions. */
export type ActivationKind = 'relu' | 'tanh' | 'sigmoid';

/** y = f(x) element-wise. */
export class Activation implements Layer {
  private readonly out: MatrixBuffer;
  private readonly dx: MatrixBuffer;
  private y: DenseMatrix | null = null;

  constructor(private readonly kernels: Kernels, readonly kind: ActivationKind) {
    this.out = new MatrixBuffer(kernels);
    this.dx = new MatrixBuffer(kernels);
  }

  /** Applies f. */
  async forward(x: DenseMatrix, _training: boolean): Promise<DenseMatrix> {
    const n = x.rows * x.cols;
    const y = this.out.get(x.rows, x.cols);
    const a = x.data;
    const o = y.data;
    if (this.kind === 'relu') for (let i = 0; i < n; i++) o[i] = a[i] > 0 ? a[i] : 0;
    else if (this.kind === 'tanh') await this.kernels.tanh(x, y);
    else for (let i = 0; i < n; i++) o[i] = sigmoid(a[i]);
    this.y = y;
    return y;
  }

  /** dx = dy · f'(x), f' written in terms of the output. */
  async backward(dy: DenseMatrix): Promise<DenseMatrix> {
    const y = this.y;
    if (!y) throw new Error(`${this.kind}: backward before forward`);
    const n = y.rows * y.cols;
    const dx = this.dx.get(y.rows, y.cols);
    const g = dy.data;
    const o = y.data;
    const d = dx.data;
    if (this.kind === 'relu') for (let i = 0; i < n; i++) d[i] = o[i] > 0 ? g[i] : 0;
    else if (this.kind === 'tanh') for (let i = 0; i < n; i++) d[i] = g[i] * (1 - o[i] * o[i]);
    else for (let i = 0; i < n; i++) d[i] = g[i] * o[i] * (1 - o[i]);
    return dx;
  }

  /** None. */
  params(): Param[] {
    return [];
  }
}

/** The logistic function, stable for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
