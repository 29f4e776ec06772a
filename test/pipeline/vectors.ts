// Test data and measures shared by the retrieval suites (exact, HNSW, IVF).
import { Rng } from '../../src/core/rng.js';
import type { CsrMatrix, DenseMatrix } from '../../src/linalg/api.js';

/** `n` Gaussian vectors of `d` dims around `clusters` N(0, 1) centres with N(0, spread²) noise, seeded. */
export function clustered(n: number, d: number, clusters: number, seed: number, spread = 0.5): DenseMatrix {
  const rng = new Rng(seed);
  const centres = Float32Array.from({ length: clusters * d }, () => rng.normal());
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(clusters);
    for (let j = 0; j < d; j++) data[i * d + j] = centres[c * d + j] + spread * rng.normal();
  }
  return { rows: n, cols: d, data };
}

/** Row `r` of `m` as a one-row matrix (a copy). */
export const row = (m: DenseMatrix, r: number): DenseMatrix => ({ rows: 1, cols: m.cols, data: m.data.slice(r * m.cols, (r + 1) * m.cols) });

/** Share of `truth`'s k items per row that `got` has in the same row. */
export function recall(got: Int32Array, truth: Int32Array, k: number, rows: number): number {
  let hit = 0;
  for (let r = 0; r < rows; r++) {
    const t = new Set(truth.subarray(r * k, r * k + k));
    for (const x of got.subarray(r * k, r * k + k)) if (t.has(x)) hit++;
  }
  return hit / (rows * k);
}

/** CSR rows (sorted columns) from per-row item lists. */
export function csr(rows: number[][], cols: number): CsrMatrix {
  const rowPtr = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (rowPtr[i + 1] = rowPtr[i] + r.length));
  return { rows: rows.length, cols, rowPtr, colIdx: Int32Array.from(rows.flatMap((r) => [...r].sort((a, b) => a - b))), values: new Float32Array(rowPtr[rows.length]).fill(1) };
}
