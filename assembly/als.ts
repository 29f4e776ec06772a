// ALS half steps over a chunk of CSR rows (users). Implicit (Hu–Koren–Volinsky) rows solve
//   (w·G + Σ_i (c_i − 1) y_i y_iᵀ + λ_u I) x_u = Σ_i c_i y_i          with G = YᵀY given in float64,
// either exactly (Cholesky on the formed matrix) or by warm-started conjugate gradient that applies the matrix
// as matvecs without forming it. Explicit rows solve (Σ_i y_i y_iᵀ + λ_u I) x_u = Σ_i r_i y_i.
import { axpy64, cholesky64, choleskySolve64, dot64 } from './dense64';

/** Confidence model: 0 linear 1 + α·r, 1 logarithmic 1 + α·log(1 + r/ε), 2 explicit ratings. */
const IMPLICIT_LINEAR = 0;
const IMPLICIT_LOG = 1;
const EXPLICIT = 2;

/** Bytes of scratch alsChunk needs for f factors. */
export function alsScratchBytes(f: i32): i32 {
  return (f * f + 7 * f) * 8 + 64;
}

// @ts-ignore: decorator
@inline function loadRow64(y: usize, item: i32, f: i32, dst: usize): void {
  const src = y + <usize>(item * f) * 4;
  for (let j = 0; j < f; j++) store<f64>(dst + <usize>j * 8, <f64>load<f32>(src + <usize>j * 4));
}

/** out = (w·G + λI)·v + Σ (c − 1)(y·v) y over the row's entries (the implicit normal matrix, never formed). */
function implicitMatvec(
  g: usize, w: f64, lambda: f64, v: usize, out: usize, f: i32,
  colIdx: usize, values: usize, start: i32, end: i32, y: usize, mode: i32, alpha: f64, eps: f64, yv: usize,
): void {
  for (let i = 0; i < f; i++) {
    store<f64>(out + <usize>i * 8, w * dot64(g + <usize>(i * f) * 8, v, f) + lambda * load<f64>(v + <usize>i * 8));
  }
  for (let p = start; p < end; p++) {
    const c = confidenceOf(load<f32>(values + <usize>p * 4), mode, alpha, eps);
    loadRow64(y, load<i32>(colIdx + <usize>p * 4), f, yv);
    axpy64((c - 1) * dot64(yv, v, f), yv, out, f);
  }
}

// @ts-ignore: decorator
@inline function confidenceOf(r: f32, mode: i32, alpha: f64, eps: f64): f64 {
  return mode == IMPLICIT_LOG ? 1 + alpha * Math.log(1 + <f64>r / eps) : 1 + alpha * <f64>r;
}

/**
 * Solves rows [chunk·perChunk, …) of a half step, writing X (rows × f float32) in place. `g` (f×f float64) is
 * read by implicit modes only; λ_u = reg·(entries of u)^regExponent (explicit ALS-WR passes regExponent 1). solver: 0 Cholesky, 1 CG with cgSteps steps. Returns 0 or 1 + a failing row.
 */
export function alsChunk(
  rowPtr: usize, colIdx: usize, values: usize, y: usize, x: usize, f: i32, rows: i32,
  g: usize, w: f64, mode: i32, alpha: f64, eps: f64, reg: f64, regExponent: f64, solver: i32, cgSteps: i32,
  perChunk: i32, chunk: i32, scratch: usize,
): i32 {
  const a = (scratch + 15) & ~(<usize>15);
  const b = a + <usize>(f * f) * 8;
  const yv = b + <usize>f * 8;
  const xv = yv + <usize>f * 8;
  const r = xv + <usize>f * 8;
  const pv = r + <usize>f * 8;
  const ap = pv + <usize>f * 8;
  const end = min(rows, (chunk + 1) * perChunk);
  for (let u = chunk * perChunk; u < end; u++) {
    const s = load<i32>(rowPtr + <usize>u * 4);
    const e = load<i32>(rowPtr + <usize>(u + 1) * 4);
    const xu = x + <usize>(u * f) * 4;
    if (e == s) {
      memory.fill(xu, 0, <usize>f * 4);
      continue;
    }
    const count = <f64>(e - s);
    const lambda = reg * Math.pow(count, regExponent);
    // b = Σ c·y (implicit) or Σ r·y (explicit).
    memory.fill(b, 0, <usize>f * 8);
    for (let p = s; p < e; p++) {
      const v = load<f32>(values + <usize>p * 4);
      loadRow64(y, load<i32>(colIdx + <usize>p * 4), f, yv);
      axpy64(mode == EXPLICIT ? <f64>v : confidenceOf(v, mode, alpha, eps), yv, b, f);
    }
    if (solver == 0 || mode == EXPLICIT) {
      // Form the lower triangle of the matrix and factor it.
      for (let i = 0; i < f; i++) {
        const row = a + <usize>(i * f) * 8;
        if (mode == EXPLICIT) memory.fill(row, 0, <usize>(i + 1) * 8);
        else for (let j = 0; j <= i; j++) store<f64>(row + <usize>j * 8, w * load<f64>(g + <usize>(i * f + j) * 8));
        store<f64>(row + <usize>i * 8, load<f64>(row + <usize>i * 8) + lambda);
      }
      for (let p = s; p < e; p++) {
        const t = mode == EXPLICIT ? 1.0 : confidenceOf(load<f32>(values + <usize>p * 4), mode, alpha, eps) - 1;
        if (t == 0) continue;
        loadRow64(y, load<i32>(colIdx + <usize>p * 4), f, yv);
        for (let i = 0; i < f; i++) axpy64(t * load<f64>(yv + <usize>i * 8), yv, a + <usize>(i * f) * 8, i + 1);
      }
      if (cholesky64(a, f) != 0) return u + 1;
      choleskySolve64(a, f, b);
      for (let j = 0; j < f; j++) store<f32>(xu + <usize>j * 4, <f32>load<f64>(b + <usize>j * 8));
      continue;
    }
    // Conjugate gradient warm-started from the current x_u.
    for (let j = 0; j < f; j++) store<f64>(xv + <usize>j * 8, <f64>load<f32>(xu + <usize>j * 4));
    implicitMatvec(g, w, lambda, xv, ap, f, colIdx, values, s, e, y, mode, alpha, eps, yv);
    for (let j = 0; j < f; j++) {
      const rj = load<f64>(b + <usize>j * 8) - load<f64>(ap + <usize>j * 8);
      store<f64>(r + <usize>j * 8, rj);
      store<f64>(pv + <usize>j * 8, rj);
    }
    let rr = dot64(r, r, f);
    for (let step = 0; step < cgSteps && rr > 0; step++) {
      implicitMatvec(g, w, lambda, pv, ap, f, colIdx, values, s, e, y, mode, alpha, eps, yv);
      const pap = dot64(pv, ap, f);
      if (!(pap > 0)) break;
      const step_ = rr / pap;
      axpy64(step_, pv, xv, f);
      axpy64(-step_, ap, r, f);
      const rrNext = dot64(r, r, f);
      const beta = rrNext / rr;
      rr = rrNext;
      for (let j = 0; j < f; j++) store<f64>(pv + <usize>j * 8, load<f64>(r + <usize>j * 8) + beta * load<f64>(pv + <usize>j * 8));
    }
    for (let j = 0; j < f; j++) store<f32>(xu + <usize>j * 4, <f32>load<f64>(xv + <usize>j * 8));
  }
  return 0;
}
