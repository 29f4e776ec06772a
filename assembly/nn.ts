// Training-loop kernels of the neural models: the Adam update and the multinomial log-likelihood (Mult-VAE),
// chunked over elements and rows so that the pool spreads them over the workers.

/** Adam over elements [chunk·perChunk, …) of n: see Kernels.adamStep (src/linalg/api.ts); f32x4 lanes. */
export function adamChunk(
  w: usize, g: usize, m: usize, v: usize, n: i32,
  l2: f64, shrink: f64, b1: f64, b2: f64, lrC1: f64, c2: f64, eps: f64, clearGrad: i32,
  perChunk: i32, chunk: i32, _scratch: usize,
): i32 {
  const start = chunk * perChunk;
  const end = min(n, start + perChunk);
  const vl2 = f32x4.splat(<f32>l2);
  const vshrink = f32x4.splat(<f32>shrink);
  const vb1 = f32x4.splat(<f32>b1);
  const vb2 = f32x4.splat(<f32>b2);
  const vob1 = f32x4.splat(<f32>(1 - b1));
  const vob2 = f32x4.splat(<f32>(1 - b2));
  const vlr = f32x4.splat(<f32>lrC1);
  const vc2 = f32x4.splat(<f32>c2);
  const veps = f32x4.splat(<f32>eps);
  const zero = f32x4.splat(0);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i * 4;
    const wi = v128.load(w + o);
    const gi = f32x4.add(v128.load(g + o), f32x4.mul(vl2, wi));
    const mi = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vob1, gi));
    const vi = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vob2, f32x4.mul(gi, gi)));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const den = f32x4.add(f32x4.sqrt(f32x4.mul(vi, vc2)), veps);
    v128.store(w + o, f32x4.sub(f32x4.mul(wi, vshrink), f32x4.div(f32x4.mul(vlr, mi), den)));
    if (clearGrad) v128.store(g + o, zero);
  }
  for (; i < end; i++) {
    const o = <usize>i * 4;
    const wi = <f64>load<f32>(w + o);
    const gi = <f64>load<f32>(g + o) + l2 * wi;
    const mi = b1 * <f64>load<f32>(m + o) + (1 - b1) * gi;
    const vi = b2 * <f64>load<f32>(v + o) + (1 - b2) * gi * gi;
    store<f32>(m + o, <f32>mi);
    store<f32>(v + o, <f32>vi);
    store<f32>(w + o, <f32>(wi * shrink - (lrC1 * mi) / (Math.sqrt(vi * c2) + eps)));
    if (clearGrad) store<f32>(g + o, 0);
  }
  return 0;
}

/**
 * e^x for x ≤ 0 in f32x4 lanes (Cephes expf: x = n·ln2 + r, degree-6 polynomial in r, 2ⁿ from the exponent
 * bits); relative error about 2e-7. Inputs below −87 are clamped there (e^−87 ≈ 1.6e-38 instead of a denormal or
 * 0, negligible next to the row's e^0 = 1 term).
 */
@inline function expNeg(x: v128): v128 {
  x = f32x4.max(x, f32x4.splat(-87.0));
  const fx = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  // r = x − n·ln2 in two pieces (Cody–Waite).
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.add(r, f32x4.mul(fx, f32x4.splat(2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1.0));
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const pow2 = i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2);
}

/** Scalar twin of {@link expNeg} for row tails. */
@inline function expNegScalar(x: f32): f32 {
  const v = expNeg(f32x4.splat(x));
  return f32x4.extract_lane(v, 0);
}

/**
 * Rows [chunk·perChunk, …) of the multinomial NLL (see Kernels.multinomialNll): per row the max, e^(z−max) into
 * grad with the sum in float64, then grad = e·Σx/(s·rows) − x/rows; the row's −Σ x·(z − logZ) goes to
 * rowLoss (float64, one per row) for the host to sum in order.
 */
export function multinomialChunk(
  z: usize, rows: i32, cols: i32, rowPtr: usize, colIdx: usize, values: usize, grad: usize, rowLoss: usize,
  perChunk: i32, chunk: i32, _scratch: usize,
): i32 {
  const end = min(rows, (chunk + 1) * perChunk);
  const invRows = 1.0 / <f64>rows;
  for (let r = chunk * perChunk; r < end; r++) {
    const zr = z + <usize>r * <usize>cols * 4;
    const gr = grad + <usize>r * <usize>cols * 4;
    // Max.
    let vmax = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= cols; j += 4) vmax = f32x4.max(vmax, v128.load(zr + <usize>j * 4));
    let zmax = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)), max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
    for (; j < cols; j++) zmax = max(zmax, load<f32>(zr + <usize>j * 4));
    // Exponentials and their sum.
    const vm = f32x4.splat(zmax);
    let acc0 = f64x2.splat(0);
    let acc1 = f64x2.splat(0);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j * 4;
      const e = expNeg(f32x4.sub(v128.load(zr + o), vm));
      v128.store(gr + o, e);
      acc0 = f64x2.add(acc0, f64x2.promote_low_f32x4(e));
      acc1 = f64x2.add(acc1, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 0, 1)));
    }
    const acc = f64x2.add(acc0, acc1);
    let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    for (; j < cols; j++) {
      const e = expNegScalar(load<f32>(zr + <usize>j * 4) - zmax);
      store<f32>(gr + <usize>j * 4, e);
      s += <f64>e;
    }
    const logZ = <f64>zmax + Math.log(s);
    // Loss and Σx over the row's targets.
    const ps = load<i32>(rowPtr + <usize>r * 4);
    const pe = load<i32>(rowPtr + <usize>(r + 1) * 4);
    let xSum = 0.0;
    let loss = 0.0;
    for (let p = ps; p < pe; p++) {
      const x = <f64>load<f32>(values + <usize>p * 4);
      xSum += x;
      loss -= x * (<f64>load<f32>(zr + <usize>load<i32>(colIdx + <usize>p * 4) * 4) - logZ);
    }
    store<f64>(rowLoss + <usize>r * 8, loss);
    // Gradient.
    const scale = <f32>(xSum / (s * <f64>rows));
    const vs = f32x4.splat(scale);
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j * 4;
      v128.store(gr + o, f32x4.mul(v128.load(gr + o), vs));
    }
    for (; j < cols; j++) store<f32>(gr + <usize>j * 4, load<f32>(gr + <usize>j * 4) * scale);
    for (let p = ps; p < pe; p++) {
      const slot = gr + <usize>load<i32>(colIdx + <usize>p * 4) * 4;
      store<f32>(slot, <f32>(<f64>load<f32>(slot) - <f64>load<f32>(values + <usize>p * 4) * invRows));
    }
  }
  return 0;
}

/**
 * Dropout of CSR entries with xoshiro128** (state: four u32 words, advanced in place): entry q is dropped when
 * next()/2³² < p, kept values are multiplied by `scale`. Writes the kept entries to out*; returns their count.
 */
export function dropoutCsrF32(
  rowPtr: usize, colIdx: usize, values: usize, rows: i32, p: f64, scale: f64, state: usize,
  outRowPtr: usize, outColIdx: usize, outValues: usize,
): i32 {
  let s0 = load<u32>(state);
  let s1 = load<u32>(state, 4);
  let s2 = load<u32>(state, 8);
  let s3 = load<u32>(state, 12);
  let o = 0;
  store<i32>(outRowPtr, 0);
  for (let r = 0; r < rows; r++) {
    const qe = load<i32>(rowPtr + <usize>(r + 1) * 4);
    for (let q = load<i32>(rowPtr + <usize>r * 4); q < qe; q++) {
      const result = rotl<u32>(s1 * 5, 7) * 9;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl<u32>(s3, 11);
      if (<f64>result / 4294967296.0 < p) continue;
      store<i32>(outColIdx + <usize>o * 4, load<i32>(colIdx + <usize>q * 4));
      store<f32>(outValues + <usize>o * 4, <f32>(<f64>load<f32>(values + <usize>q * 4) * scale));
      o++;
    }
    store<i32>(outRowPtr + <usize>(r + 1) * 4, o);
  }
  store<u32>(state, s0);
  store<u32>(state, s1, 4);
  store<u32>(state, s2, 8);
  store<u32>(state, s3, 12);
  return o;
}

/**
 * out[i] = tanh(x[i]) over elements [chunk·perChunk, …) of n: sign(x)·(1 − t)/(1 + t) with t = e^(−2|x|), or
 * x − x³/3 for |x| < 0.01 (f32x4).
 */
export function tanhChunk(x: usize, out: usize, n: i32, perChunk: i32, chunk: i32, _scratch: usize): i32 {
  const start = chunk * perChunk;
  const end = min(n, start + perChunk);
  const one = f32x4.splat(1);
  const signMask = i32x4.splat(0x80000000);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i * 4;
    const v = v128.load(x + o);
    const t = expNeg(f32x4.mul(f32x4.abs(v), f32x4.splat(-2)));
    const a = f32x4.abs(v);
    const big = v128.or(f32x4.div(f32x4.sub(one, t), f32x4.add(one, t)), v128.and(v, signMask));
    // |x| < 0.01: x − x³/3 (the (1 − t) form loses the relative precision of tiny values).
    const small = f32x4.mul(v, f32x4.sub(one, f32x4.mul(f32x4.mul(v, v), f32x4.splat(<f32>(1.0 / 3.0)))));
    v128.store(out + o, v128.bitselect(small, big, f32x4.lt(a, f32x4.splat(0.01))));
  }
  for (; i < end; i++) {
    const o = <usize>i * 4;
    const v = load<f32>(x + o);
    const t = expNegScalar(-2 * Mathf.abs(v));
    store<f32>(out + o, Mathf.abs(v) < 0.01 ? v * (1 - v * v * <f32>(1.0 / 3.0)) : copysign<f32>((1 - t) / (1 + t), v));
  }
  return 0;
}
