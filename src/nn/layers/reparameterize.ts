/**
 * The VAE reparameterization: the input is [μ | log σ²] (rows × 2k); in training z = μ + ε·exp(½ log σ²) with
 * ε ~ N(0, I), otherwise z = μ.
 */
import type { DenseMatrix, Kernels } from '../../linalg/api.js';
import type { Rng } from '../../core/rng.js';
import type { Param } from '../tensor.js';
import { MatrixBuffer } from '../tensor.js';
import type { Layer } from './layer.js';

/** Gaussian sampling layer with a pathwise gradient. */
export class Reparameterize implements Layer {
  private readonly out: MatrixBuffer;
  private readonly dx: MatrixBuffer;
  private eps = new Float32Array(0);
  private input: DenseMatrix | null = null;
  private sampled = false;

  constructor(kernels: Kernels, private readonly rng: Rng) {
    this.out = new MatrixBuffer(kernels);
    this.dx = new MatrixBuffer(kernels);
  }

  /** z (rows × k). */
  async forward(x: DenseMatrix, training: boolean): Promise<DenseMatrix> {
    if (x.cols % 2 !== 0) throw new RangeError(`reparameterize: input has ${x.cols} columns, expected an even number`);
    const k = x.cols / 2;
    const z = this.out.get(x.rows, k);
    this.sampled = training;
    if (training && this.eps.length < x.rows * k) this.eps = new Float32Array(x.rows * k);
    for (let r = 0; r < x.rows; r++) {
      for (let j = 0; j < k; j++) {
        const mu = x.data[r * 2 * k + j];
        if (!training) {
          z.data[r * k + j] = mu;
          continue;
        }
        const e = this.rng.normal();
        this.eps[r * k + j] = e;
        z.data[r * k + j] = mu + e * Math.exp(0.5 * x.data[r * 2 * k + k + j]);
      }
    }
    this.input = x;
    return z;
  }

  /** dμ = dz, d log σ² = dz · ε · ½exp(½ log σ²). */
  async backward(dz: DenseMatrix): Promise<DenseMatrix> {
    const x = this.input;
    if (!x) throw new Error('reparameterize: backward before forward');
    const k = x.cols / 2;
    const dx = this.dx.get(x.rows, x.cols);
    for (let r = 0; r < x.rows; r++) {
      for (let j = 0; j < k; j++) {
        const g = dz.data[r * k + j];
        dx.data[r * 2 * k + j] = g;
        dx.data[r * 2 * k + k + j] = this.sampled ? g * this.eps[r * k + j] * 0.5 * Math.exp(0.5 * x.data[r * 2 * k + k + j]) : 0;
      }
    }
    return dx;
  }

  /** None. */
  params(): Param[] {
    return [];
  }
}
