/**
 * Multinomial log-likelihood (Liang et al. 2018): for each row, −Σ_i x_i · log softmax(z)_i over ALL items,
 * averaged over rows. Targets are a CSR batch x (counts or ones). Gradient per row: (softmax(z)·Σx − x) / rows.
 */
import type { CsrMatrix, DenseMatrix, Kernels } from '../../linalg/api.js';
import type { LossResult } from './loss.js';
import { gradTarget } from './loss.js';

/** Mean negative multinomial log-likelihood of `targets` under softmax(`logits`), by `Kernels.multinomialNll`. */
export async function multinomialNll(kernels: Kernels, logits: DenseMatrix, targets: CsrMatrix, out?: DenseMatrix): Promise<LossResult> {
  const grad = gradTarget(logits.rows, logits.cols, out);
  return { loss: await kernels.multinomialNll(logits, targets, grad), grad };
}
