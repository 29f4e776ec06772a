/**
 * The Adam update in float64 (the reference kernel's loop, and the optimizer's lazy row updates of row-sparse
 * params) and the per-step constants that both kernel implementations derive from {@link AdamStepOptions}.
 */
import type { AdamStepOptions } from './api.js';

/** Per-step constants of {@link adamRange}, derived from the step's options. */
export interface AdamConstants {
  /** Coupled decay λ, or 0 when decoupled. */
  l2: number;
  /** 1 − lr·λ when decoupled, else 1. */
  shrink: number;
  /** lr/(1 − β₁ᵗ). */
  lrC1: number;
  /** 1/(1 − β₂ᵗ). */
  c2: number;
}

/** The constants of {@link adamRange} for one step. */
export function adamConstants(o: AdamStepOptions): AdamConstants {
  return {
    l2: o.decoupled ? 0 : o.weightDecay,
    shrink: o.decoupled ? 1 - o.lr * o.weightDecay : 1,
    lrC1: o.lr / (1 - Math.pow(o.beta1, o.step)),
    c2: 1 / (1 - Math.pow(o.beta2, o.step)),
  };
}

/**
 * The Adam update of w[a..b) in place (g' = g + l2·w, m = β₁m + (1−β₁)g', v = β₂v + (1−β₂)g'²,
 * w = w·shrink − lrC1·m / (√(v·c2) + ε)); float64 arithmetic, float32 stores. The gradient is not cleared.
 */
export function adamRange(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, a: number, b: number, c: AdamConstants, b1: number, b2: number, eps: number): void {
  const { l2, shrink, lrC1, c2 } = c;
  const ob1 = 1 - b1;
  const ob2 = 1 - b2;
  for (let i = a; i < b; i++) {
    const wi = w[i];
    const gi = g[i] + l2 * wi;
    const mi = b1 * m[i] + ob1 * gi;
    const vi = b2 * v[i] + ob2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = wi * shrink - (lrC1 * mi) / (Math.sqrt(vi * c2) + eps);
  }
}
