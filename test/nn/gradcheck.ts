/** Finite-difference gradient checking shared by the nn tests. */
import { expect } from 'vitest';

/** Tolerances: |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|). */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Default for float32 forward passes with step 1e-3 and O(1) objectives. */
export const F32_TOL: Tolerance = { atol: 3e-3, rtol: 2e-2 };

/**
 * Central differences of `objective` with respect to every entry of `x` (perturbed in place, restored after),
 * compared with `analytic`.
 */
export async function checkGradient(
  what: string,
  x: Float32Array,
  analytic: ArrayLike<number>,
  objective: () => Promise<number> | number,
  tol: Tolerance = F32_TOL,
  step = 1e-3,
): Promise<number> {
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const old = x[i];
    x[i] = old + step;
    const up = await objective();
    x[i] = old - step;
    const down = await objective();
    x[i] = old;
    const numeric = (up - down) / (2 * step);
    const a = analytic[i];
    const err = Math.abs(a - numeric);
    const bound = tol.atol + tol.rtol * Math.max(Math.abs(a), Math.abs(numeric));
    worst = Math.max(worst, err / bound);
    if (err > bound) expect.fail(`${what}[${i}]: analytic ${a} vs numeric ${numeric} (|diff| ${err} > ${bound})`);
  }
  return worst;
}

/** Σ r ⊙ y in float64 (the scalar objective used to check a layer's backward with dy = r). */
export function weightedSum(y: ArrayLike<number>, r: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += y[i] * r[i];
  return s;
}
