/** Bayesian personalized ranking: ℓ = mean −log σ(s⁺ − s⁻), stable as softplus(s⁻ − s⁺). */
import { sigmoid } from '../layers/activations.js';

/** The BPR loss and its gradients with respect to the positive and negative scores. */
export interface BprResult {
  loss: number;
  gradPos: Float32Array;
  gradNeg: Float32Array;
}

/** Mean BPR loss over pairs (pos[i], neg[i]). */
export function bpr(pos: ArrayLike<number>, neg: ArrayLike<number>): BprResult {
  const n = pos.length;
  if (neg.length !== n) throw new RangeError(`bpr: ${n} positive and ${neg.length} negative scores`);
  const gradPos = new Float32Array(n);
  const gradNeg = new Float32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = pos[i] - neg[i];
    total += d > 0 ? Math.log1p(Math.exp(-d)) : -d + Math.log1p(Math.exp(d));
    const g = -sigmoid(-d) / n;
    gradPos[i] = g;
    gradNeg[i] = -g;
  }
  return { loss: total / n, gradPos, gradNeg };
}
