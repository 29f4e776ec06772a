// Small dense float64 helpers on raw pointers: dot products, Cholesky factorization and triangular solves of
// row-major n×n matrices. Used by the batched solves, the ALS half steps and the diagonal blocks of spdInverse.

/** Σ a[i]·b[i] over n float64 values (f64x2 lanes). */
// @ts-ignore: decorator
@inline export function dot64(a: usize, b: usize, n: i32): f64 {
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
 * Cholesky factor in place (row-oriented Cholesky–Crout, two rows × two columns at a time so that every loaded
 * vector feeds two products). Returns 0, or 1 + the index of the first non-positive pivot.
 */
export function cholesky64(a: usize, n: i32): i32 {
  const stride = <usize>n * 8;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const ri = a + <usize>i * stride;
    const ri1 = ri + stride;
    let j = 0;
    for (; j + 1 < i; j += 2) {
      const rj = a + <usize>j * stride;
      const rj1 = rj + stride;
      // The four dot products of rows (i, i+1) with rows (j, j+1) over [0, j).
      let s00 = f64x2.splat(0);
      let s01 = f64x2.splat(0);
      let s10 = f64x2.splat(0);
      let s11 = f64x2.splat(0);
      for (let k = 0; k < j; k += 2) {
        // j is even here, so the pairs never run past column j.
        const o = <usize>k * 8;
        const x0 = v128.load(ri + o);
        const x1 = v128.load(ri1 + o);
        const y0 = v128.load(rj + o);
        const y1 = v128.load(rj1 + o);
        s00 = f64x2.add(s00, f64x2.mul(x0, y0));
        s01 = f64x2.add(s01, f64x2.mul(x0, y1));
        s10 = f64x2.add(s10, f64x2.mul(x1, y0));
        s11 = f64x2.add(s11, f64x2.mul(x1, y1));
      }
      const d00 = f64x2.extract_lane(s00, 0) + f64x2.extract_lane(s00, 1);
      const d01 = f64x2.extract_lane(s01, 0) + f64x2.extract_lane(s01, 1);
      const d10 = f64x2.extract_lane(s10, 0) + f64x2.extract_lane(s10, 1);
      const d11 = f64x2.extract_lane(s11, 0) + f64x2.extract_lane(s11, 1);
      const ljj = load<f64>(rj + <usize>j * 8);
      const lj1j = load<f64>(rj1 + <usize>j * 8);
      const lj1j1 = load<f64>(rj1 + <usize>(j + 1) * 8);
      const x0 = (load<f64>(ri + <usize>j * 8) - d00) / ljj;
      const x1 = (load<f64>(ri1 + <usize>j * 8) - d10) / ljj;
      store<f64>(ri + <usize>j * 8, x0);
      store<f64>(ri1 + <usize>j * 8, x1);
      store<f64>(ri + <usize>(j + 1) * 8, (load<f64>(ri + <usize>(j + 1) * 8) - d01 - x0 * lj1j) / lj1j1);
      store<f64>(ri1 + <usize>(j + 1) * 8, (load<f64>(ri1 + <usize>(j + 1) * 8) - d11 - x1 * lj1j) / lj1j1);
    }
    for (; j < i; j++) {
      const rj = a + <usize>j * stride;
      const ljj = load<f64>(rj + <usize>j * 8);
      store<f64>(ri + <usize>j * 8, (load<f64>(ri + <usize>j * 8) - dot64(ri, rj, j)) / ljj);
      store<f64>(ri1 + <usize>j * 8, (load<f64>(ri1 + <usize>j * 8) - dot64(ri1, rj, j)) / ljj);
    }
    const d = load<f64>(ri + <usize>i * 8) - dot64(ri, ri, i);
    if (!(d > 0)) return i + 1;
    const lii = Math.sqrt(d);
    store<f64>(ri + <usize>i * 8, lii);
    store<f64>(ri1 + <usize>i * 8, (load<f64>(ri1 + <usize>i * 8) - dot64(ri1, ri, i)) / lii);
    const d1 = load<f64>(ri1 + <usize>(i + 1) * 8) - dot64(ri1, ri1, i + 1);
    if (!(d1 > 0)) return i + 2;
    store<f64>(ri1 + <usize>(i + 1) * 8, Math.sqrt(d1));
  }
  if (i < n) {
    const ri = a + <usize>i * stride;
    for (let j = 0; j < i; j++) {
      const rj = a + <usize>j * stride;
      store<f64>(ri + <usize>j * 8, (load<f64>(ri + <usize>j * 8) - dot64(ri, rj, j)) / load<f64>(rj + <usize>j * 8));
    }
    const d = load<f64>(ri + <usize>i * 8) - dot64(ri, ri, i);
    if (!(d > 0)) return i + 1;
    store<f64>(ri + <usize>i * 8, Math.sqrt(d));
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
