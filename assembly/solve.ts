// Batched k×k SPD solves and the diagonal-block helpers of the blocked SPD inverse (float32 in, float64 inside).
import { cholesky64, choleskySolve64, lowerInverse64 } from './dense64';

/** Bytes of scratch choleskySolveChunk needs for systems of size k. */
export function solveScratchBytes(k: i32): i32 {
  return (k * k + k) * 8 + 64;
}

/**
 * Solves systems [chunk·perChunk, …) of a batch: A_s x_s = b_s with A_s at a + s·k·k, b_s at b + s·k, x_s at x + s·k.
 * Returns 0, or 1 + the index of the first system that is not positive definite.
 */
export function choleskySolveChunk(a: usize, b: usize, x: usize, k: i32, batch: i32, perChunk: i32, chunk: i32, scratch: usize): i32 {
  const l = (scratch + 15) & ~(<usize>15);
  const v = l + <usize>(k * k) * 8;
  const end = min(batch, (chunk + 1) * perChunk);
  for (let s = chunk * perChunk; s < end; s++) {
    const src = a + <usize>(s * k * k) * 4;
    for (let i = 0; i < k * k; i++) store<f64>(l + <usize>i * 8, <f64>load<f32>(src + <usize>i * 4));
    for (let i = 0; i < k; i++) store<f64>(v + <usize>i * 8, <f64>load<f32>(b + <usize>(s * k + i) * 4));
    if (cholesky64(l, k) != 0) return s + 1;
    choleskySolve64(l, k, v);
    for (let i = 0; i < k; i++) store<f32>(x + <usize>(s * k + i) * 4, <f32>load<f64>(v + <usize>i * 8));
  }
  return 0;
}

/**
 * Factors the n×n diagonal block at `a` (float32, leading dimension lda) in float64: writes L (zeros above the
 * diagonal) back in place and L⁻¹ to `inv` (float32, n×n contiguous). Returns 0 or 1 + the failing pivot.
 */
export function factorDiagonalBlock(a: usize, lda: i32, n: i32, inv: usize, scratch: usize): i32 {
  const l = (scratch + 15) & ~(<usize>15);
  const li = l + <usize>(n * n) * 8;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) store<f64>(l + <usize>(i * n + j) * 8, <f64>load<f32>(a + <usize>(i * lda + j) * 4));
  const status = cholesky64(l, n);
  if (status != 0) return status;
  lowerInverse64(l, n, li);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      store<f32>(a + <usize>(i * lda + j) * 4, j <= i ? <f32>load<f64>(l + <usize>(i * n + j) * 8) : 0);
      store<f32>(inv + <usize>(i * n + j) * 4, <f32>load<f64>(li + <usize>(i * n + j) * 8));
    }
  }
  return 0;
}

/** Inverts the lower-triangular n×n block at `a` (float32, leading dimension lda) in float64 into `inv` (n×n). */
export function invertLowerBlock(a: usize, lda: i32, n: i32, inv: usize, scratch: usize): void {
  const l = (scratch + 15) & ~(<usize>15);
  const li = l + <usize>(n * n) * 8;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) store<f64>(l + <usize>(i * n + j) * 8, j <= i ? <f64>load<f32>(a + <usize>(i * lda + j) * 4) : 0);
  lowerInverse64(l, n, li);
  for (let i = 0; i < n * n; i++) store<f32>(inv + <usize>i * 4, <f32>load<f64>(li + <usize>i * 8));
}

/** Copies a rows×cols block between float32 matrices with leading dimensions lds and ldd. */
export function copyBlock(src: usize, lds: i32, dst: usize, ldd: i32, rows: i32, cols: i32): void {
  for (let i = 0; i < rows; i++) memory.copy(dst + <usize>(i * ldd) * 4, src + <usize>(i * lds) * 4, <usize>cols * 4);
}

/** Zeroes the strict upper triangle (zero = 1) or copies the lower triangle onto it (zero = 0) of an n×n matrix. */
export function fillUpper(a: usize, n: i32, zero: i32): void {
  // 32×32 tiles keep the transposed reads within a few cache lines.
  for (let i0 = 0; i0 < n; i0 += 32) {
    for (let j0 = i0; j0 < n; j0 += 32) {
      const iEnd = min(n, i0 + 32);
      const jEnd = min(n, j0 + 32);
      for (let i = i0; i < iEnd; i++) {
        for (let j = max(j0, i + 1); j < jEnd; j++) {
          store<f32>(a + <usize>(i * n + j) * 4, zero != 0 ? 0 : load<f32>(a + <usize>(j * n + i) * 4));
        }
      }
    }
  }
}
