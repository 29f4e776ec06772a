// ALS half steps over a chunk of CSR rows (users). Implicit (Hu–Koren–Volinsky) rows solve
//   (w·G + Σ_i (c_i − 1) y_i y_iᵀ + λ_u I) x_u = Σ_i c_i y_i          with G = YᵀY given in float64,
// either exactly (Cholesky on the formed matrix) or by warm-started conjugate gradient that applies the matrix
// as matvecs without forming it. Explicit rows solve (Σ_i y_i y_iᵀ + λ_u I) x_u = Σ_i r_i y_i.
import { axpy64, cholesky64, choleskySolve64, dot64 } from './dense64';
import { gemmBlock, GEMM_SCRATCH_BYTES } from './gemm';

/** Confidence model: 0 linear 1 + α·r, 1 logarithmic 1 + α·log(1 + r/ε), 2 explicit ratings. */
const IMPLICIT_LINEAR = 0;
const IMPLICIT_LOG = 1;
const EXPLICIT = 2;

/** Items per GEMM block when forming Yᵤᵀ diag(t) Yᵤ. */
const ITEM_BLOCK: i32 = 512;

// @ts-ignore: decorator
@inline function align16(p: usize): usize {
  return (p + 15) & ~(<usize>15);
}

/** Bytes of scratch alsChunk needs for f factors. */
export function alsScratchBytes(f: i32): i32 {
  return (f * f + 6 * f) * 8 + (2 * f + f * f + 2 * ITEM_BLOCK * f) * 4 + GEMM_SCRATCH_BYTES + 256;
}

// @ts-ignore: decorator
@inline function loadRow64(y: usize, item: i32, f: i32, dst: usize): void {
  const src = y + <usize>(item * f) * 4;
  for (let j = 0; j < f; j++) store<f64>(dst + <usize>j * 8, <f64>load<f32>(src + <usize>j * 4));
}

/** Σ a[i]·b[i] over n float32 values: f32x4 partial sums, combined in float64. */
function dot32(a: usize, b: usize, n: i32): f64 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  for (; i < n; i++) s += <f64>load<f32>(a + <usize>i * 4) * <f64>load<f32>(b + <usize>i * 4);
  return s;
}

/** y[0..n) += t·x[0..n) on float32 vectors. */
function axpy32(t: f32, x: usize, y: usize, n: i32): void {
  const tv = f32x4.splat(t);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(tv, v128.load(x + o))));
  }
  for (; i < n; i++) store<f32>(y + <usize>i * 4, load<f32>(y + <usize>i * 4) + t * load<f32>(x + <usize>i * 4));
}

/**
 * out = (w·G + λI)·v + Σ (c − 1)(y·v) y over the row's entries: the implicit normal matrix applied without
 * forming it. float32 SIMD (G is symmetric, so G·v is a sum of G's rows); the CG state and dots stay float64.
 */
function implicitMatvec(
  g32: usize, w: f32, lambda: f32, v: usize, out: usize, f: i32,
  colIdx: usize, values: usize, start: i32, end: i32, y: usize, mode: i32, alpha: f64, eps: f64,
): void {
  for (let j = 0; j < f; j++) store<f32>(out + <usize>j * 4, lambda * load<f32>(v + <usize>j * 4));
  for (let j = 0; j < f; j++) axpy32(w * load<f32>(v + <usize>j * 4), g32 + <usize>(j * f) * 4, out, f);
  for (let p = start; p < end; p++) {
    const c = confidenceOf(load<f32>(values + <usize>p * 4), mode, alpha, eps);
    const yi = y + <usize>(load<i32>(colIdx + <usize>p * 4) * f) * 4;
    axpy32(<f32>((c - 1) * dot32(yi, v, f)), yi, out, f);
  }
}

// @ts-ignore: decorator
@inline function confidenceOf(r: f32, mode: i32, alpha: f64, eps: f64): f64 {
  return mode == IMPLICIT_LOG ? 1 + alpha * Math.log(1 + <f64>r / eps) : 1 + alpha * <f64>r;
}

/**
 * Solves rows [chunk·perChunk, …) of a half step, writing X (rows × f float32) in place. G = YᵀY is given as
 * float64 (`g`, for Cholesky) and float32 (`g32`, for CG); implicit modes only. λ_u = reg·(entries of u)^regExponent
 * (explicit ALS-WR passes regExponent 1). solver: 0 Cholesky, 1 CG with cgSteps steps. Returns 0 or 1 + a failing row.
 */
export function alsChunk(
  rowPtr: usize, colIdx: usize, values: usize, y: usize, x: usize, f: i32, rows: i32,
  g: usize, g32: usize, w: f64, mode: i32, alpha: f64, eps: f64, reg: f64, regExponent: f64, solver: i32, cgSteps: i32,
  perChunk: i32, chunk: i32, scratch: usize,
): i32 {
  const a = align16(scratch);
  const b = a + <usize>(f * f) * 8;
  const xv = b + <usize>f * 8;
  const r = xv + <usize>f * 8;
  const pv = r + <usize>f * 8;
  const ap = pv + <usize>f * 8;
  const spare = ap + <usize>f * 8;
  const v32 = align16(spare + <usize>f * 8);
  const out32 = align16(v32 + <usize>f * 4);
  const m32 = align16(out32 + <usize>f * 4);
  const gathered = align16(m32 + <usize>(f * f) * 4);
  const scaled = align16(gathered + <usize>(ITEM_BLOCK * f) * 4);
  const gemmScratch = align16(scaled + <usize>(ITEM_BLOCK * f) * 4);
  const end = min(rows, (chunk + 1) * perChunk);
  for (let u = chunk * perChunk; u < end; u++) {
    const s = load<i32>(rowPtr + <usize>u * 4);
    const e = load<i32>(rowPtr + <usize>(u + 1) * 4);
    const xu = x + <usize>(u * f) * 4;
    if (e == s) {
      memory.fill(xu, 0, <usize>f * 4);
      continue;
    }
    const lambda = reg * Math.pow(<f64>(e - s), regExponent);
    // b = Σ c·y (implicit) or Σ r·y (explicit), accumulated in float64.
    memory.fill(b, 0, <usize>f * 8);
    for (let p = s; p < e; p++) {
      const v = load<f32>(values + <usize>p * 4);
      loadRow64(y, load<i32>(colIdx + <usize>p * 4), f, spare);
      axpy64(mode == EXPLICIT ? <f64>v : confidenceOf(v, mode, alpha, eps), spare, b, f);
    }
    if (solver == 0 || mode == EXPLICIT) {
      // M = Yᵤᵀ diag(t) Yᵤ by float32 GEMMs over blocks of gathered rows, then A = w·G + M + λI in float64.
      for (let p0 = s; p0 < e; p0 += ITEM_BLOCK) {
        const nb = min(ITEM_BLOCK, e - p0);
        for (let q = 0; q < nb; q++) {
          const p = p0 + q;
          const src = y + <usize>(load<i32>(colIdx + <usize>p * 4) * f) * 4;
          const t = <f32>(mode == EXPLICIT ? 1.0 : confidenceOf(load<f32>(values + <usize>p * 4), mode, alpha, eps) - 1);
          const dst = gathered + <usize>(q * f) * 4;
          const dstScaled = scaled + <usize>(q * f) * 4;
          memory.copy(dst, src, <usize>f * 4);
          for (let j = 0; j < f; j++) store<f32>(dstScaled + <usize>j * 4, t * load<f32>(src + <usize>j * 4));
        }
        gemmBlock(gathered, f, scaled, f, m32, f, f, f, nb, true, false, 1, p0 == s ? 0 : 1, gemmScratch);
      }
      for (let i = 0; i < f; i++) {
        const row = a + <usize>(i * f) * 8;
        for (let j = 0; j <= i; j++) {
          const gij = mode == EXPLICIT ? 0 : w * load<f64>(g + <usize>(i * f + j) * 8);
          store<f64>(row + <usize>j * 8, gij + <f64>load<f32>(m32 + <usize>(i * f + j) * 4));
        }
        store<f64>(row + <usize>i * 8, load<f64>(row + <usize>i * 8) + lambda);
      }
      if (cholesky64(a, f) != 0) return u + 1;
      choleskySolve64(a, f, b);
      for (let j = 0; j < f; j++) store<f32>(xu + <usize>j * 4, <f32>load<f64>(b + <usize>j * 8));
      continue;
    }
    // Conjugate gradient warm-started from the current x_u; matvecs in float32, state and dots in float64.
    const w32 = <f32>w;
    const l32 = <f32>lambda;
    for (let j = 0; j < f; j++) {
      store<f64>(xv + <usize>j * 8, <f64>load<f32>(xu + <usize>j * 4));
      store<f32>(v32 + <usize>j * 4, load<f32>(xu + <usize>j * 4));
    }
    implicitMatvec(g32, w32, l32, v32, out32, f, colIdx, values, s, e, y, mode, alpha, eps);
    for (let j = 0; j < f; j++) {
      const rj = load<f64>(b + <usize>j * 8) - <f64>load<f32>(out32 + <usize>j * 4);
      store<f64>(r + <usize>j * 8, rj);
      store<f64>(pv + <usize>j * 8, rj);
    }
    let rr = dot64(r, r, f);
    for (let step = 0; step < cgSteps && rr > 0; step++) {
      for (let j = 0; j < f; j++) store<f32>(v32 + <usize>j * 4, <f32>load<f64>(pv + <usize>j * 8));
      implicitMatvec(g32, w32, l32, v32, out32, f, colIdx, values, s, e, y, mode, alpha, eps);
      for (let j = 0; j < f; j++) store<f64>(ap + <usize>j * 8, <f64>load<f32>(out32 + <usize>j * 4));
      const pap = dot64(pv, ap, f);
      if (!(pap > 0)) break;
      const stepSize = rr / pap;
      axpy64(stepSize, pv, xv, f);
      axpy64(-stepSize, ap, r, f);
      const rrNext = dot64(r, r, f);
      const beta = rrNext / rr;
      rr = rrNext;
      for (let j = 0; j < f; j++) store<f64>(pv + <usize>j * 8, load<f64>(r + <usize>j * 8) + beta * load<f64>(pv + <usize>j * 8));
    }
    for (let j = 0; j < f; j++) store<f32>(xu + <usize>j * 4, <f32>load<f64>(xv + <usize>j * 8));
  }
  return 0;
}
