/**
 * Binary cross-entropy on logits, numerically stable: ℓ(z, t) = max(z, 0) − z·t + log(1 + e^{−|z|}), averaged over
 * all rows·cols elements (the Keras convention). Gradient (σ(z) − t) / (rows·cols).
 */
import type { DenseMatrix } from '../../linalg/api.js';
import { sigmoid } from '../layers/activations.js';
import type { LossResult } from './loss.js';
import { gradTarget } from './loss.js';

/** Mean BCE of `logits` against `targets` (same shape, targets in [0, 1]). */
export function bceWithLogits(logits: DenseMatrix, targets: DenseMatrix, out?: DenseMatrix): LossResult {
  if (logits.rows !== targets.rows || logits.cols !== targets.cols) {
    throw new RangeError(`bce: logits ${logits.rows}×${logits.cols} vs targets ${targets.rows}×${targets.cols}`);
  }
  const n = logits.rows * logits.cols;
  const grad = gradTarget(logits.rows, logits.cols, out);
  let sum = 0;
  const inv = 1 / n;
  for (let i = 0; i < n; i++) {
    const z = logits.data[i];
    const t = targets.data[i];
    sum += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
    grad.data[i] = (sigmoid(z) - t) * inv;
  }
  return { loss: sum * inv, grad };
}
