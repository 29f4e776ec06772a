// Vector helpers on float32 arrays with float64 accumulation: dot, axpy, row norms, row normalization.
// Products are formed in float64 (f32x4 lanes promoted to f64x2), so dots and norms match a float64 loop up to
// the order of the additions.

/** Σ a[i]·b[i] over n float32 values, products and sums in float64. */
export function dotF32(a: usize, b: usize, n: i32): f64 {
  let acc0 = f64x2.splat(0);
  let acc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    const x = v128.load(a + o);
    const y = v128.load(b + o);
    acc0 = f64x2.add(acc0, f64x2.mul(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(y)));
    const xh = v128.shuffle<f32>(x, x, 2, 3, 0, 1);
    const yh = v128.shuffle<f32>(y, y, 2, 3, 0, 1);
    acc1 = f64x2.add(acc1, f64x2.mul(f64x2.promote_low_f32x4(xh), f64x2.promote_low_f32x4(yh)));
  }
  const acc = f64x2.add(acc0, acc1);
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) s += <f64>load<f32>(a + <usize>i * 4) * <f64>load<f32>(b + <usize>i * 4);
  return s;
}

/** y[0..n) += alpha·x[0..n) (float32). */
export function axpyF32(alpha: f64, x: usize, y: usize, n: i32): void {
  const a = <f32>alpha;
  const av = f32x4.splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(av, v128.load(x + o))));
  }
  for (; i < n; i++) store<f32>(y + <usize>i * 4, load<f32>(y + <usize>i * 4) + a * load<f32>(x + <usize>i * 4));
}

/** out[r] = ‖row r‖ of x (rows × cols), accumulated in float64. */
export function rowNormsF32(x: usize, rows: i32, cols: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>(r * cols) * 4;
    store<f32>(out + <usize>r * 4, <f32>Math.sqrt(dotF32(row, row, cols)));
  }
}

/** Scales each row of x (rows × cols) to unit norm in place; zero rows stay zero. */
export function normalizeRowsF32(x: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>(r * cols) * 4;
    const norm = Math.sqrt(dotF32(row, row, cols));
    if (norm == 0) continue;
    for (let j = 0; j < cols; j++) store<f32>(row + <usize>j * 4, <f32>(<f64>load<f32>(row + <usize>j * 4) / norm));
  }
}
