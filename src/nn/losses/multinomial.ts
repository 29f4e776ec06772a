/**
 * Multinomial log-likelihood (Liang et al. 2018): for each row, −Σ_i x_i · log softmax(z)_i over ALL items,
 * averaged over rows. Targets are a CSR batch x (counts or ones). Gradient per row: (softmax(z)·Σx − x) / rows.
 */
import type { CsrMatrix, DenseMatrix } from '../../linalg/api.js';
import type { LossResult } from './loss.js';
import { gradTarget } from './loss.js';

/** Mean negative multinomial log-likelihood of `targets` under softmax(`logits`). */
export function multinomialNll(logits: DenseMatrix, targets: CsrMatrix, out?: DenseMatrix): LossResult {
  if (logits.rows !== targets.rows || logits.cols !== targets.cols) {
    throw new RangeError(`multinomial: logits ${logits.rows}×${logits.cols} vs targets ${targets.rows}×${targets.cols}`);
  }
  const { rows, cols } = logits;
  const grad = gradTarget(rows, cols, out);
  const z = logits.data;
  const g = grad.data;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (z[o + j] > max) max = z[o + j];
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(z[o + j] - max);
      g[o + j] = e;
      s += e;
    }
    const logZ = max + Math.log(s);
    let xSum = 0;
    for (let p = targets.rowPtr[r]; p < targets.rowPtr[r + 1]; p++) {
      const x = targets.values[p];
      xSum += x;
      total -= x * (z[o + targets.colIdx[p]] - logZ);
    }
    const scale = xSum / (s * rows);
    for (let j = 0; j < cols; j++) g[o + j] *= scale;
    for (let p = targets.rowPtr[r]; p < targets.rowPtr[r + 1]; p++) g[o + targets.colIdx[p]] -= targets.values[p] / rows;
  }
  return { loss: total / rows, grad };
}
