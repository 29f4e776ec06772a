// Sparse CSR × dense products on raw pointers, chunked over output rows.

/** Rows [chunk·perChunk, …) of out (rows × d) = A (CSR) · B (n × d). */
export function csrMatmulChunk(rowPtr: usize, colIdx: usize, values: usize, b: usize, d: i32, out: usize, rows: i32, perChunk: i32, chunk: i32, _scratch: usize): i32 {
  const end = min(rows, (chunk + 1) * perChunk);
  for (let r = chunk * perChunk; r < end; r++) {
    const o = out + <usize>(r * d) * 4;
    memory.fill(o, 0, <usize>d * 4);
    const s = load<i32>(rowPtr + <usize>r * 4);
    const e = load<i32>(rowPtr + <usize>(r + 1) * 4);
    for (let p = s; p < e; p++) {
      const v = load<f32>(values + <usize>p * 4);
      const src = b + <usize>(load<i32>(colIdx + <usize>p * 4) * d) * 4;
      const vv = f32x4.splat(v);
      let j = 0;
      for (; j + 4 <= d; j += 4) {
        const off = <usize>j * 4;
        v128.store(o + off, f32x4.add(v128.load(o + off), f32x4.mul(vv, v128.load(src + off))));
      }
      for (; j < d; j++) store<f32>(o + <usize>j * 4, load<f32>(o + <usize>j * 4) + v * load<f32>(src + <usize>j * 4));
    }
  }
  return 0;
}

/** Rows [chunk·perChunk, …) of out (bRows × aRows) = B (bRows × n) · Aᵀ, A CSR (aRows × n); float64 sums. */
export function denseCsrTChunk(b: usize, n: i32, bRows: i32, rowPtr: usize, colIdx: usize, values: usize, aRows: i32, out: usize, perChunk: i32, chunk: i32, _scratch: usize): i32 {
  const end = min(bRows, (chunk + 1) * perChunk);
  for (let i = chunk * perChunk; i < end; i++) {
    const row = b + <usize>(i * n) * 4;
    for (let r = 0; r < aRows; r++) {
      let s: f64 = 0;
      const e = load<i32>(rowPtr + <usize>(r + 1) * 4);
      for (let p = load<i32>(rowPtr + <usize>r * 4); p < e; p++) {
        s += <f64>load<f32>(row + <usize>load<i32>(colIdx + <usize>p * 4) * 4) * <f64>load<f32>(values + <usize>p * 4);
      }
      store<f32>(out + <usize>(i * aRows + r) * 4, <f32>s);
    }
  }
  return 0;
}
