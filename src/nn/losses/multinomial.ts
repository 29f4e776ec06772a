/**
 * Multinomial log-likelihood (Liang et al. 2018): for each row, −Σ_i x_i · log softmax(z)_i over ALL items,
 * averaged over rows. Targets are a CSR batch x (counts or ones). Gradient per row: (softmax(z)·Σx − x) / rows.
 */
import type { CsrMatrix, DenseMatrix, Kernels } from '../../linalg/api.js';
import { multinomialNllInto } from '../../linalg/reference.js';
import type { LossResult } from './loss.js';
import { gradTarget } from './loss.js';

/** Mean negative multinomial log-likelihood of `targets` under softmax(`logits`). */
export function multinomialNll(logits: DenseMatrix, targets: CsrMatrix, out?: DenseMatrix): LossResult {
  if (logits.rows !== targets.rows || logits.cols !== targets.cols) {
    throw new RangeError(`multinomial: logits ${logits.rows}×${logits.cols} vs targets ${targets.rows}×${targets.cols}`);
  }
  const grad = gradTarget(logits.rows, logits.cols, out);
  return { loss: multinomialNllInto(logits, targets, grad.data), grad };
}

/** {@link multinomialNll} through `Kernels.multinomialNll` (on the worker threads) when the kernels have it. */
export async function multinomialNllAsync(kernels: Kernels, logits: DenseMatrix, targets: CsrMatrix, out?: DenseMatrix): Promise<LossResult> {
  if (!kernels.multinomialNll) return multinomialNll(logits, targets, out);
  if (logits.rows !== targets.rows || logits.cols !== targets.cols) {
    throw new RangeError(`multinomial: logits ${logits.rows}×${logits.cols} vs targets ${targets.rows}×${targets.cols}`);
  }
  const grad = gradTarget(logits.rows, logits.cols, out);
  return { loss: await kernels.multinomialNll(logits, targets, grad), grad };
}
