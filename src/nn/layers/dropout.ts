/** Inverted dropout: in training each value is zeroed with probability p and the rest scaled by 1/(1−p). */
import type { CsrMatrix, DenseMatrix, Kernels } from '../../linalg/api.js';
import type { Rng } from '../../core/rng.js';
import type { Param } from '../tensor.js';
import { MatrixBuffer } from '../tensor.js';
import type { Layer } from './layer.js';

/** Dropout with rate `p`; identity outside training. */
export class Dropout implements Layer {
  private readonly out: MatrixBuffer;
  private readonly dx: MatrixBuffer;
  private mask: Uint8Array = new Uint8Array(0);
  private active = false;

  constructor(kernels: Kernels, readonly p: number, private readonly rng: Rng) {
    if (!(p >= 0 && p < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${p}`);
    this.out = new MatrixBuffer(kernels);
    this.dx = new MatrixBuffer(kernels);
  }

  /** Drops and rescales in training; returns x unchanged otherwise. */
  async forward(x: DenseMatrix, training: boolean): Promise<DenseMatrix> {
    this.active = training && this.p > 0;
    if (!this.active) return x;
    const n = x.rows * x.cols;
    if (this.mask.length < n) this.mask = new Uint8Array(n);
    const y = this.out.get(x.rows, x.cols);
    const scale = 1 / (1 - this.p);
    for (let i = 0; i < n; i++) {
      const keep = this.rng.uniform() >= this.p;
      this.mask[i] = keep ? 1 : 0;
      y.data[i] = keep ? x.data[i] * scale : 0;
    }
    return y;
  }

  /** dx = dy · mask / (1 − p) (identity when inactive). */
  async backward(dy: DenseMatrix): Promise<DenseMatrix> {
    if (!this.active) return dy;
    const n = dy.rows * dy.cols;
    const dx = this.dx.get(dy.rows, dy.cols);
    const scale = 1 / (1 - this.p);
    for (let i = 0; i < n; i++) dx.data[i] = this.mask[i] ? dy.data[i] * scale : 0;
    return dx;
  }

  /** None. */
  params(): Param[] {
    return [];
  }
}

/**
 * Dropout of the stored entries of a CSR batch (a dropped entry is removed), scaled by 1/(1−p): `Kernels.dropoutCsr`
 * drawing one `rng.uniform()` per stored entry from `rng`'s stream, which then continues after those draws.
 * Returns a new CSR (`x` itself when p = 0).
 */
export function dropoutCsr(kernels: Kernels, x: CsrMatrix, p: number, rng: Rng): CsrMatrix {
  if (p <= 0) return x;
  const state = rng.state();
  const out = kernels.dropoutCsr(x, p, state);
  rng.setState(state);
  return out;
}
