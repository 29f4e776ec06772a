/** Regularized user and item biases around the global mean, fitted by alternating closed-form updates. */
import type { Interactions } from '../../data/interactions.js';

/** μ + b_u + b_i. */
export interface Biases {
  globalMean: number;
  userBias: Float32Array;
  itemBias: Float32Array;
}

/**
 * Minimizes Σ (r − μ − b_u − b_i)² + λ_u Σ b_u² + λ_i Σ b_i² by alternating exact updates
 * b_i = Σ_u (r − μ − b_u) / (λ_i + n_i), b_u = Σ_i (r − μ − b_i) / (λ_u + n_u) (item step first).
 */
export function fitBiases(train: Interactions, regUser: number, regItem: number, iterations: number): Biases {
  const nnz = train.nnz;
  let mu = 0;
  for (let p = 0; p < nnz; p++) mu += train.values[p];
  mu = nnz > 0 ? mu / nnz : 0;
  const bu = new Float64Array(train.nUsers);
  const bi = new Float64Array(train.nItems);
  const csc = train.csc();
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < train.nItems; i++) {
      let s = 0;
      for (let q = csc.colPtr[i]; q < csc.colPtr[i + 1]; q++) s += csc.values[q] - mu - bu[csc.rowIdx[q]];
      bi[i] = s / (regItem + csc.colPtr[i + 1] - csc.colPtr[i] || 1);
    }
    for (let u = 0; u < train.nUsers; u++) {
      let s = 0;
      for (let p = train.rowPtr[u]; p < train.rowPtr[u + 1]; p++) s += train.values[p] - mu - bi[train.colIdx[p]];
      bu[u] = s / (regUser + train.rowPtr[u + 1] - train.rowPtr[u] || 1);
    }
  }
  return { globalMean: mu, userBias: Float32Array.from(bu), itemBias: Float32Array.from(bi) };
}

/**
 * The bias prediction for (u, i); a user or item index outside the trained range, or marked cold in
 * `known*` (no training entries), contributes no bias.
 */
export function biasPrediction(b: Biases, u: number, i: number, knownUser: (u: number) => boolean, knownItem: (i: number) => boolean): number {
  let s = b.globalMean;
  if (knownUser(u)) s += b.userBias[u];
  if (knownItem(i)) s += b.itemBias[i];
  return s;
}

/** The smallest and largest training rating (the range rating models clip to); 0, 0 without ratings. */
export function ratingRange(train: Interactions): { minRating: number; maxRating: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let p = 0; p < train.nnz; p++) {
    const v = train.values[p];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return train.nnz ? { minRating: lo, maxRating: hi } : { minRating: 0, maxRating: 0 };
}
