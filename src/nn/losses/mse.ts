/** Mean squared error over all elements: ℓ = mean (y − t)², gradient 2(y − t)/n. */
import type { DenseMatrix } from '../../linalg/api.js';
import type { LossResult } from './loss.js';
import { gradTarget } from './loss.js';

/** MSE of `predictions` (rows × cols) against `targets` (rows·cols values, row-major). */
export function mse(predictions: DenseMatrix, targets: ArrayLike<number>, out?: DenseMatrix): LossResult {
  const n = predictions.rows * predictions.cols;
  if (targets.length < n) throw new RangeError(`mse: ${n} predictions but ${targets.length} targets`);
  const grad = gradTarget(predictions.rows, predictions.cols, out);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = predictions.data[i] - targets[i];
    sum += e * e;
    grad.data[i] = (2 * e) / n;
  }
  return { loss: sum / n, grad };
}
