/**
 * KL(N(μ, σ²) ‖ N(0, I)) for a batch given as [μ | log σ²] (rows × 2k): ½ Σ_j (−log σ² + σ² + μ² − 1) per row,
 * averaged over rows. Gradient: dμ = μ/rows, d log σ² = ½(σ² − 1)/rows.
 */
import type { DenseMatrix } from '../../linalg/api.js';
import type { LossResult } from './loss.js';
import { gradTarget } from './loss.js';

/** Mean Gaussian KL divergence to the standard normal prior. */
export function gaussianKl(x: DenseMatrix, out?: DenseMatrix): LossResult {
  if (x.cols % 2 !== 0) throw new RangeError(`gaussian KL: input has ${x.cols} columns, expected [mu | logvar]`);
  const k = x.cols / 2;
  const grad = gradTarget(x.rows, x.cols, out);
  let total = 0;
  const inv = 1 / x.rows;
  for (let r = 0; r < x.rows; r++) {
    const o = r * x.cols;
    for (let j = 0; j < k; j++) {
      const mu = x.data[o + j];
      const lv = x.data[o + k + j];
      const v = Math.exp(lv);
      total += 0.5 * (-lv + v + mu * mu - 1);
      grad.data[o + j] = mu * inv;
      grad.data[o + k + j] = 0.5 * (v - 1) * inv;
    }
  }
  return { loss: total * inv, grad };
}
