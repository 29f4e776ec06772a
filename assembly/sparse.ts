// Sparse CSR × dense products on raw pointers, chunked over output rows, and a tiled transpose (the host computes
// dense × CSRᵀ as (CSR × denseᵀ)ᵀ, which keeps the inner loop a contiguous SIMD row update).

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

/** Rows [chunk·perChunk, …) of src (rows × cols, float32) transposed into dst (cols × rows), in 16×16 tiles. */
export function transposeChunk(src: usize, rows: i32, cols: i32, dst: usize, perChunk: i32, chunk: i32, _scratch: usize): i32 {
  const r0 = chunk * perChunk;
  const r1 = min(rows, r0 + perChunk);
  for (let i0 = r0; i0 < r1; i0 += 16) {
    const iEnd = min(r1, i0 + 16);
    for (let j0 = 0; j0 < cols; j0 += 16) {
      const jEnd = min(cols, j0 + 16);
      for (let i = i0; i < iEnd; i++) {
        for (let j = j0; j < jEnd; j++) store<f32>(dst + <usize>(j * rows + i) * 4, load<f32>(src + <usize>(i * cols + j) * 4));
      }
    }
  }
  return 0;
}

/**
 * Rows [chunk·perChunk, …) of G = XᵀX for a CSR matrix X (users × n items), given X both as CSR (rowPtr, colIdx,
 * values) and as CSC (colPtr, rowIdx, colValues). Row i of G scatters Σ_u x_ui·x_u,: over the users u of item i
 * into a float64 row in scratch (n·8 bytes), then stores it as float32. Cost Σ_u nnz_u² overall.
 */
export function sparseGramChunk(
  rowPtr: usize, colIdx: usize, values: usize, colPtr: usize, rowIdx: usize, colValues: usize,
  n: i32, out: usize, perChunk: i32, chunk: i32, scratch: usize,
): i32 {
  const acc = (scratch + 15) & ~(<usize>15);
  const end = min(n, (chunk + 1) * perChunk);
  for (let i = chunk * perChunk; i < end; i++) {
    memory.fill(acc, 0, <usize>n * 8);
    const pe = load<i32>(colPtr + <usize>(i + 1) * 4);
    for (let p = load<i32>(colPtr + <usize>i * 4); p < pe; p++) {
      const u = load<i32>(rowIdx + <usize>p * 4);
      const v = <f64>load<f32>(colValues + <usize>p * 4);
      const qe = load<i32>(rowPtr + <usize>(u + 1) * 4);
      for (let q = load<i32>(rowPtr + <usize>u * 4); q < qe; q++) {
        const slot = acc + <usize>load<i32>(colIdx + <usize>q * 4) * 8;
        store<f64>(slot, load<f64>(slot) + v * <f64>load<f32>(values + <usize>q * 4));
      }
    }
    const row = out + <usize>(i * n) * 4;
    for (let j = 0; j < n; j++) store<f32>(row + <usize>j * 4, <f32>load<f64>(acc + <usize>j * 8));
  }
  return 0;
}
