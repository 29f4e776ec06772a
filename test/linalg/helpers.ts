// Small deterministic data generators for the kernel tests.
import type { CsrMatrix, DenseMatrix } from '../../src/linalg/api.js';

/** Mulberry32: a seeded uniform [0, 1) generator. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** rows × cols uniform in [-1, 1). */
export function randomDense(rows: number, cols: number, rand: () => number): DenseMatrix {
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => rand() * 2 - 1) };
}

/** rows × cols small integers in [-range, range] (exact in float32 products and sums). */
export function integerDense(rows: number, cols: number, range: number, rand: () => number): DenseMatrix {
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => Math.floor(rand() * (2 * range + 1)) - range) };
}

/** A random CSR matrix with about `density` of the entries set, sorted columns, positive values; some rows empty. */
export function randomCsr(rows: number, cols: number, density: number, rand: () => number): CsrMatrix {
  const rowPtr = new Int32Array(rows + 1);
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    if (r % 7 !== 3) {
      for (let c = 0; c < cols; c++) {
        if (rand() < density) {
          colIdx.push(c);
          values.push(1 + Math.floor(rand() * 5));
        }
      }
    }
    rowPtr[r + 1] = colIdx.length;
  }
  return { rows, cols, rowPtr, colIdx: Int32Array.from(colIdx), values: Float32Array.from(values) };
}

/** max |a − b| / max |b| (0 when both are empty). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? err : err / scale;
}

/** A well-conditioned SPD matrix: XᵀX/n + shift·I. */
export function randomSpd(n: number, rand: () => number, shift = 1): DenseMatrix {
  const x = randomDense(n + 5, n, rand);
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let r = 0; r < x.rows; r++) s += x.data[r * n + i] * x.data[r * n + j];
      data[i * n + j] = data[j * n + i] = s / n + (i === j ? shift : 0);
    }
  }
  return { rows: n, cols: n, data };
}

/** True when both arrays hold the same float32 bit patterns (Object.is per element: -0 ≠ 0, NaN = NaN). */
export function sameBits(x: Float32Array, y: Float32Array): boolean {
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}
