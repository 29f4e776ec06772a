// Small dense float64 helpers on raw pointers: dot products, Cholesky factorization and triangular solves of
// row-major n×n matrices. Used by the batched solves, the ALS half steps and the diagonal blocks of spdInverse.

/** Σ a[i]·b[i] over n float64 values (f64x2 lanes). */
export function dot64(a: usize, b: usize, n: i32): f64 {
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 8;
    acc0 = f64x2.add(acc0, f64x2.mul(v128.load(a + o), v128.load(b + o)));
    acc1 = f64x2.add(acc1, f64x2.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
  }
  const acc = f64x2.add(acc0, acc1);
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) s += load<f64>(a + <usize>i * 8) * load<f64>(b + <usize>i * 8);
  return s;
}

/** y[0..n) += t·x[0..n) on float64 vectors. */
export function axpy64(t: f64, x: usize, y: usize, n: i32): void {
  const tv = f64x2.splat(t);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * 8;
    v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(tv, v128.load(x + o))));
  }
  for (; i < n; i++) store<f64>(y + <usize>i * 8, load<f64>(y + <usize>i * 8) + t * load<f64>(x + <usize>i * 8));
}

/**
 * Factors the n×n SPD matrix at `a` (float64, row-major; only the lower triangle is read) into its lower
 * Cholesky factor in place. Returns 0, or 1 + the index of the first non-positive pivot.
 */
export function cholesky64(a: usize, n: i32): i32 {
  for (let j = 0; j < n; j++) {
    const rowJ = a + <usize>(j * n) * 8;
    const d = load<f64>(rowJ + <usize>j * 8) - dot64(rowJ, rowJ, j);
    if (!(d > 0)) return j + 1;
    const ljj = Math.sqrt(d);
    store<f64>(rowJ + <usize>j * 8, ljj);
    const inv = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = a + <usize>(i * n) * 8;
      store<f64>(rowI + <usize>j * 8, (load<f64>(rowI + <usize>j * 8) - dot64(rowI, rowJ, j)) * inv);
    }
  }
  return 0;
}

/** Solves L·Lᵀ·x = b in place in `x` (float64) given the lower factor at `l`. */
export function choleskySolve64(l: usize, n: i32, x: usize): void {
  for (let i = 0; i < n; i++) {
    const row = l + <usize>(i * n) * 8;
    store<f64>(x + <usize>i * 8, (load<f64>(x + <usize>i * 8) - dot64(row, x, i)) / load<f64>(row + <usize>i * 8));
  }
  for (let i = n - 1; i >= 0; i--) {
    const row = l + <usize>(i * n) * 8;
    const xi = load<f64>(x + <usize>i * 8) / load<f64>(row + <usize>i * 8);
    store<f64>(x + <usize>i * 8, xi);
    axpy64(-xi, row, x, i);
  }
}

/** Inverts the lower-triangular n×n float64 matrix at `l` into `out` (lower, zeros above). */
export function lowerInverse64(l: usize, n: i32, out: usize): void {
  memory.fill(out, 0, <usize>(n * n) * 8);
  // Row i of L⁻¹ = −(Σ_{p<i} L[i][p]·row p of L⁻¹) / L[i][i], plus 1/L[i][i] on the diagonal: contiguous axpys.
  for (let i = 0; i < n; i++) {
    const row = l + <usize>(i * n) * 8;
    const dst = out + <usize>(i * n) * 8;
    for (let p = 0; p < i; p++) axpy64(load<f64>(row + <usize>p * 8), out + <usize>(p * n) * 8, dst, p + 1);
    const inv = 1 / load<f64>(row + <usize>i * 8);
    for (let j = 0; j < i; j++) store<f64>(dst + <usize>j * 8, -load<f64>(dst + <usize>j * 8) * inv);
    store<f64>(dst + <usize>i * 8, inv);
  }
}
