/** Column-wise concatenation of batches with the same number of rows, and the split of its gradient. */
import type { DenseMatrix, Kernels } from '../../linalg/api.js';
import { MatrixBuffer } from '../tensor.js';

/** Concatenates inputs side by side: [x₁ | x₂ | …]. */
export class Concat {
  private readonly out: MatrixBuffer;
  private parts: MatrixBuffer[] = [];
  private widths: number[] = [];

  constructor(private readonly kernels: Kernels) {
    this.out = new MatrixBuffer(kernels);
  }

  /** The concatenation; every input must have the same number of rows. */
  forward(xs: DenseMatrix[]): DenseMatrix {
    if (xs.length === 0) throw new RangeError('concat: no inputs');
    const rows = xs[0].rows;
    for (const x of xs) if (x.rows !== rows) throw new RangeError(`concat: inputs have ${rows} and ${x.rows} rows`);
    this.widths = xs.map((x) => x.cols);
    const total = this.widths.reduce((a, b) => a + b, 0);
    const y = this.out.get(rows, total);
    let off = 0;
    for (const x of xs) {
      const c = x.cols;
      for (let r = 0; r < rows; r++) y.data.set(x.data.subarray(r * c, (r + 1) * c), r * total + off);
      off += c;
    }
    return y;
  }

  /** Splits dy back into one gradient per input (owned by this layer). */
  backward(dy: DenseMatrix): DenseMatrix[] {
    while (this.parts.length < this.widths.length) this.parts.push(new MatrixBuffer(this.kernels));
    const out: DenseMatrix[] = [];
    let off = 0;
    for (let k = 0; k < this.widths.length; k++) {
      const c = this.widths[k];
      const g = this.parts[k].get(dy.rows, c);
      for (let r = 0; r < dy.rows; r++) g.data.set(dy.data.subarray(r * dy.cols + off, r * dy.cols + off + c), r * c);
      out.push(g);
      off += c;
    }
    return out;
  }
}
