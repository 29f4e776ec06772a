// Single-threaded SGEMM on raw pointers: C = alpha·op(A)·op(B) + beta·C, BLIS-style.
// op(A) blocks of MC×KC and op(B) panels of KC×NC are packed into contiguous scratch buffers (alpha folded into
// the A pack, tails zero-padded), then a 6×8 register-blocked f32x4 micro-kernel (FMA in the relaxed-SIMD build,
// mul + add otherwise) sweeps the tiles.

/** Rows of the register tile. */
export const MR: i32 = 6;
/** Columns of the register tile (two f32x4 vectors). */
export const NR: i32 = 8;
/** Depth of a packed panel. */
export const KC: i32 = 256;
/** Rows of a packed A block (a multiple of MR). */
export const MC: i32 = 96;
/** Columns of a packed B panel (a multiple of NR). */
export const NC: i32 = 2048;
/** Bytes of scratch one gemmBlock call needs. */
export const GEMM_SCRATCH_BYTES: i32 = (MC * KC + KC * NC + MR * NR) * 4 + 64;

/** Packs op(A)[i0..i0+mc, p0..p0+kc]·alpha into MR-row slivers: sliver s holds, for each p, MR consecutive values. */
function packA(a: usize, lda: i32, transA: bool, i0: i32, p0: i32, mc: i32, kc: i32, alpha: f32, dst: usize): void {
  for (let s = 0; s < mc; s += MR) {
    const rows = min(MR, mc - s);
    const base = dst + <usize>(s * kc) * 4;
    if (transA) {
      // op(A)[i, p] = A[p, i]: the MR values of one p are contiguous.
      for (let p = 0; p < kc; p++) {
        const src = a + <usize>((p0 + p) * lda + i0 + s) * 4;
        const out = base + <usize>(p * MR) * 4;
        for (let r = 0; r < MR; r++) store<f32>(out + <usize>r * 4, r < rows ? load<f32>(src + <usize>r * 4) * alpha : 0);
      }
    } else {
      for (let r = 0; r < MR; r++) {
        if (r < rows) {
          const src = a + <usize>((i0 + s + r) * lda + p0) * 4;
          for (let p = 0; p < kc; p++) store<f32>(base + <usize>(p * MR + r) * 4, load<f32>(src + <usize>p * 4) * alpha);
        } else {
          for (let p = 0; p < kc; p++) store<f32>(base + <usize>(p * MR + r) * 4, 0);
        }
      }
    }
  }
}

/** Packs op(B)[p0..p0+kc, j0..j0+nc] into NR-column slivers: sliver s holds, for each p, NR consecutive values. */
function packB(b: usize, ldb: i32, transB: bool, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  for (let s = 0; s < nc; s += NR) {
    const cols = min(NR, nc - s);
    const base = dst + <usize>(s * kc) * 4;
    if (!transB && cols == NR) {
      for (let p = 0; p < kc; p++) {
        const src = b + <usize>((p0 + p) * ldb + j0 + s) * 4;
        const out = base + <usize>(p * NR) * 4;
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
      }
    } else if (!transB) {
      for (let p = 0; p < kc; p++) {
        const src = b + <usize>((p0 + p) * ldb + j0 + s) * 4;
        const out = base + <usize>(p * NR) * 4;
        for (let c = 0; c < NR; c++) store<f32>(out + <usize>c * 4, c < cols ? load<f32>(src + <usize>c * 4) : 0);
      }
    } else {
      // op(B)[p, j] = B[j, p]: walk each source row contiguously.
      for (let c = 0; c < NR; c++) {
        if (c < cols) {
          const src = b + <usize>((j0 + s + c) * ldb + p0) * 4;
          for (let p = 0; p < kc; p++) store<f32>(base + <usize>(p * NR + c) * 4, load<f32>(src + <usize>p * 4));
        } else {
          for (let p = 0; p < kc; p++) store<f32>(base + <usize>(p * NR + c) * 4, 0);
        }
      }
    }
  }
}

/**
 * c + a·b. The relaxed-SIMD build (kernels-relaxed.wasm) fuses it into one FMA, which halves the instruction
 * count of the micro-kernel (the front end, not the FP pipes, limits the mul + add version).
 */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Writes an MR×NR accumulator row (two vectors) to C: C = acc + beta·C (C not read when beta is 0). */
// @ts-ignore: decorator
@inline function storeRow(c: usize, lo: v128, hi: v128, beta: f32): void {
  if (beta == 0) {
    v128.store(c, lo);
    v128.store(c, hi, 16);
  } else {
    const bv = f32x4.splat(beta);
    v128.store(c, f32x4.add(lo, f32x4.mul(bv, v128.load(c))));
    v128.store(c, f32x4.add(hi, f32x4.mul(bv, v128.load(c, 16))), 16);
  }
}

/** The 6×8 micro-kernel over kc packed steps; writes rows×cols of C (a partial tile goes through `edge`). */
function microKernel(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, rows: i32, cols: i32, beta: f32, edge: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = madd(a, b0, c40);
    c41 = madd(a, b1, c41);
    a = v128.load32_splat(pa, 20);
    c50 = madd(a, b0, c50);
    c51 = madd(a, b1, c51);
    pa += 24;
    pb += 32;
  }
  const stride = <usize>ldc * 4;
  if (rows == MR && cols == NR) {
    storeRow(c, c00, c01, beta);
    storeRow(c + stride, c10, c11, beta);
    storeRow(c + 2 * stride, c20, c21, beta);
    storeRow(c + 3 * stride, c30, c31, beta);
    storeRow(c + 4 * stride, c40, c41, beta);
    storeRow(c + 5 * stride, c50, c51, beta);
    return;
  }
  v128.store(edge, c00); v128.store(edge, c01, 16);
  v128.store(edge, c10, 32); v128.store(edge, c11, 48);
  v128.store(edge, c20, 64); v128.store(edge, c21, 80);
  v128.store(edge, c30, 96); v128.store(edge, c31, 112);
  v128.store(edge, c40, 128); v128.store(edge, c41, 144);
  v128.store(edge, c50, 160); v128.store(edge, c51, 176);
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * stride;
    for (let j = 0; j < cols; j++) {
      const v = load<f32>(edge + <usize>(r * NR + j) * 4);
      const dst = row + <usize>j * 4;
      store<f32>(dst, beta == 0 ? v : v + beta * load<f32>(dst));
    }
  }
}

/** C[m×n] = alpha·op(A)·op(B) + beta·C on one thread; `scratch` holds GEMM_SCRATCH_BYTES bytes. */
export function gemmBlock(
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  m: i32, n: i32, k: i32, transA: bool, transB: bool, alpha: f32, beta: f32, scratch: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const dst = c + <usize>(i * ldc + j) * 4;
        store<f32>(dst, beta == 0 ? 0 : beta * load<f32>(dst));
      }
    }
    return;
  }
  const base = (scratch + 63) & ~(<usize>63);
  const packedA = base;
  const packedB = packedA + <usize>(MC * KC) * 4;
  const edge = packedB + <usize>(KC * NC) * 4;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = min(NC, n - j0);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = min(KC, k - p0);
      const betaHere: f32 = p0 == 0 ? beta : 1;
      packB(b, ldb, transB, p0, j0, kc, nc, packedB);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = min(MC, m - i0);
        packA(a, lda, transA, i0, p0, mc, kc, alpha, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const pb = packedB + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const pa = packedA + <usize>(ir * kc) * 4;
            const dst = c + <usize>((i0 + ir) * ldc + j0 + jr) * 4;
            microKernel(kc, pa, pb, dst, ldc, min(MR, mc - ir), min(NR, nc - jr), betaHere, edge);
          }
        }
      }
    }
  }
}

/**
 * One chunk of a parallel GEMM: the grid of rowsPerChunk × colsPerChunk blocks of C is numbered row-major.
 * With `lower`, a block only computes the columns left of its last row (C is a square lower triangle), and the
 * numbering starts from the bottom.
 */
export function gemmChunk(
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
  m: i32, n: i32, k: i32, transA: i32, transB: i32, alpha: f64, beta: f64,
  rowsPerChunk: i32, colsPerChunk: i32, lower: i32, chunk: i32, scratch: usize,
): i32 {
  const chunksPerRow = (n + colsPerChunk - 1) / colsPerChunk;
  // Lower-triangle blocks grow with the row: hand out the bottom (largest) ones first for better balance.
  const rowChunk = lower != 0 ? (m + rowsPerChunk - 1) / rowsPerChunk - 1 - chunk / chunksPerRow : chunk / chunksPerRow;
  const r0 = rowChunk * rowsPerChunk;
  const c0 = (chunk % chunksPerRow) * colsPerChunk;
  const rows = min(rowsPerChunk, m - r0);
  let cols = min(colsPerChunk, n - c0);
  if (lower != 0) cols = min(cols, r0 + rows - c0);
  if (rows <= 0 || cols <= 0) return 0;
  const aBase = transA != 0 ? a + <usize>r0 * 4 : a + <usize>(r0 * lda) * 4;
  const bBase = transB != 0 ? b + <usize>(c0 * ldb) * 4 : b + <usize>c0 * 4;
  gemmBlock(aBase, lda, bBase, ldb, c + <usize>(r0 * ldc + c0) * 4, ldc, rows, cols, k, transA != 0, transB != 0, <f32>alpha, <f32>beta, scratch);
  return 0;
}

/**
 * One chunk of a Gram matrix: the f×f float32 partial XᵀX of rows [chunk·rowsPerChunk, …) of X (rows × f),
 * written to partials + chunk·f·f. The host sums the partials in float64 in chunk order (deterministic).
 */
export function gramChunk(x: usize, rows: i32, f: i32, rowsPerChunk: i32, partials: usize, chunk: i32, scratch: usize): i32 {
  const r0 = chunk * rowsPerChunk;
  const n = min(rowsPerChunk, rows - r0);
  const src = x + <usize>(r0 * f) * 4;
  gemmBlock(src, f, src, f, partials + <usize>(chunk * f * f) * 4, f, f, f, n, true, false, 1, 0, scratch);
  return 0;
}
