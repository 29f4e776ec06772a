/** Shared shape of a loss value and its gradient. */
import type { DenseMatrix } from '../../linalg/api.js';

/** A loss value and its gradient with respect to the scored input. */
export interface LossResult {
  /** The (mean) loss. */
  loss: number;
  /** dLoss/dInput, same shape as the input. */
  grad: DenseMatrix;
}

/** `out` when given (checked to hold rows·cols values), else a fresh matrix. */
export function gradTarget(rows: number, cols: number, out: DenseMatrix | undefined): DenseMatrix {
  if (!out) return { rows, cols, data: new Float32Array(rows * cols) };
  if (out.data.length < rows * cols) throw new RangeError(`gradient buffer holds ${out.data.length} values, needs ${rows}·${cols}`);
  return { rows, cols, data: out.data };
}
