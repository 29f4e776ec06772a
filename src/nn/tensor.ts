/**
 * Storage for the training core: trainable {@link Param}s (value + gradient) and reusable activation
 * {@link MatrixBuffer}s. Both live in arrays from `Kernels.allocF32`, so kernel calls on them are zero-copy.
 */
import type { DenseMatrix, Kernels } from '../linalg/api.js';

/** A trainable rows × cols matrix (a vector is 1 × n) with its gradient, both row-major. */
export class Param {
  /** The values. */
  readonly value: Float32Array;
  /** The gradient; `backward` passes accumulate into it and the optimizer clears it after each step. */
  readonly grad: Float32Array;
  /** Whether weight decay applies (false for biases). */
  readonly decay: boolean;
  /**
   * Row-sparse gradients (embedding tables): backward passes call {@link markRow} for the rows they touch, and
   * optimizers update only those rows (lazy updates, as TensorFlow's sparse Adam / Adagrad do).
   */
  readonly sparse: boolean;
  private readonly rowMarked: Uint8Array;
  private marked: number[] = [];

  constructor(
    readonly kernels: Kernels,
    /** Unique name inside its model, used as the file name when saved. */
    readonly name: string,
    readonly rows: number,
    readonly cols: number,
    options: { decay?: boolean; sparse?: boolean } = {},
  ) {
    this.value = kernels.allocF32(rows * cols);
    this.grad = kernels.allocF32(rows * cols);
    this.decay = options.decay ?? true;
    this.sparse = options.sparse ?? false;
    this.rowMarked = new Uint8Array(this.sparse ? rows : 0);
  }

  /** Records that row `r` has a gradient (sparse params only; a no-op otherwise). */
  markRow(r: number): void {
    if (!this.sparse || this.rowMarked[r]) return;
    this.rowMarked[r] = 1;
    this.marked.push(r);
  }

  /** The rows with a gradient since the last {@link clearRows} (sparse params), in first-touch order. */
  touchedRows(): readonly number[] {
    return this.marked;
  }

  /** Zeroes the gradient of the touched rows and forgets them (sparse params). */
  clearRows(): void {
    for (const r of this.marked) {
      this.rowMarked[r] = 0;
      this.grad.fill(0, r * this.cols, (r + 1) * this.cols);
    }
    this.marked = [];
  }

  /** The values as a matrix (no copy). */
  get matrix(): DenseMatrix {
    return { rows: this.rows, cols: this.cols, data: this.value };
  }

  /** The gradient as a matrix (no copy). */
  get gradMatrix(): DenseMatrix {
    return { rows: this.rows, cols: this.cols, data: this.grad };
  }

  /** Number of scalars. */
  get size(): number {
    return this.rows * this.cols;
  }

  /** Sets the gradient to zero. */
  zeroGrad(): void {
    this.grad.fill(0);
    if (this.sparse) {
      for (const r of this.marked) this.rowMarked[r] = 0;
      this.marked = [];
    }
  }

  /** Returns the arrays to the kernel allocator; the param must not be used afterwards. */
  dispose(): void {
    this.kernels.free(this.value);
    this.kernels.free(this.grad);
  }
}

/**
 * A growable activation buffer: `get(rows, cols)` returns a matrix view of at least rows·cols values, reusing
 * the allocation when it is large enough. The contents are valid until the next `get`.
 */
export class MatrixBuffer {
  private data: Float32Array;

  constructor(private readonly kernels: Kernels) {
    this.data = kernels.allocF32(0);
  }

  /** A rows × cols matrix over this buffer (contents unspecified unless `zero`). */
  get(rows: number, cols: number, zero = false): DenseMatrix {
    const need = rows * cols;
    if (this.data.length < need) {
      this.kernels.free(this.data);
      this.data = this.kernels.allocF32(Math.max(need, Math.ceil(this.data.length * 1.5)));
    } else if (zero) {
      this.data.fill(0, 0, need);
    }
    return { rows, cols, data: this.data };
  }

  /** Frees the allocation. */
  dispose(): void {
    this.kernels.free(this.data);
    this.data = new Float32Array(0);
  }
}

/** A new rows × cols matrix in kernel memory holding a copy of `m`'s first rows·cols values. */
export function copyToKernel(kernels: Kernels, m: DenseMatrix): DenseMatrix {
  const data = kernels.allocF32(m.rows * m.cols);
  data.set(m.data.subarray(0, m.rows * m.cols));
  return { rows: m.rows, cols: m.cols, data };
}
