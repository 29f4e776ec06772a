// BPR-MF stochastic gradient descent (Rendle et al. 2009) over a chunk of one epoch's updates. Every chunk has its
// own two xorshift32 streams (entries, negatives) seeded from the epoch seed and the chunk index; chunks running on different workers update
// the shared factor arrays without locks (Hogwild, Niu et al. 2011). The factor dimension runs in f32x4 lanes.

/** The state word of chunk `chunk`'s stream (murmur3 finalizer; never 0); mirrors bprChunkSeed in src/linalg/api.ts. */
// @ts-ignore: decorator
@inline function chunkSeed(seed: u32, chunk: i32): u32 {
  let h: u32 = seed ^ (<u32>(chunk + 1) * 0x9e3779b9);
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h != 0 ? h : 0x9e3779b9;
}

/** State of the negative stream (per instance, i.e. per thread). */
let negState: u32 = 0;

/**
 * The next negative for user u from the negative stream: up to 32 uniform draws until one is not in u's row
 * (bitmap word test when `bits` ≠ 0, else binary search in the sorted row); −1 when all hit positives or u has
 * every item (then nothing is drawn).
 */
// @ts-ignore: decorator
@inline function negative(u: i32, rowPtr: usize, colIdx: usize, bits: usize, nItems: i32): i32 {
  const lo0 = load<i32>(rowPtr + (<usize>u << 2));
  const hi0 = load<i32>(rowPtr + (<usize>(u + 1) << 2)) - 1;
  if (hi0 - lo0 + 1 >= nItems) return -1;
  let t = negState;
  let j = -1;
  for (let tries = 0; tries < 32 && j < 0; tries++) {
    t ^= t << 13;
    t ^= t >>> 17;
    t ^= t << 5;
    const c = <i32>(t % <u32>nItems);
    let found = false;
    if (bits != 0) {
      const b = <u32>u * <u32>nItems + <u32>c;
      found = ((load<u32>(bits + (<usize>(b >>> 5) << 2)) >>> (b & 31)) & 1) != 0;
    } else {
      let lo = lo0;
      let hi = hi0;
      while (lo <= hi) {
        const mid = <i32>(<u32>(lo + hi) >>> 1);
        const v = load<i32>(colIdx + (<usize>mid << 2));
        if (v == c) {
          found = true;
          break;
        }
        if (v < c) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    if (!found) j = c;
  }
  negState = t;
  return j;
}

/**
 * Runs chunk `chunk`'s min(perChunk, steps − chunk·perChunk) updates (see Kernels.bprEpoch) and writes
 * [Σ ln σ(x), count] over its every 16th update as two float64 at out + 16·chunk. `bits` (0 = none) is the
 * users × items membership bitmap that replaces the binary search in the user's row. Needs 4 bytes of scratch.
 * Returns 0.
 */
export function bprChunk(
  rowPtr: usize, colIdx: usize, entryUser: usize, nnz: i32, nItems: i32,
  userF: usize, itemF: usize, itemB: usize, f: i32,
  steps: i32, perChunk: i32, lr: f32, reg: f32, seed: u32, out: usize, bits: usize,
  chunk: i32, scratch: usize,
): i32 {
  const first = chunk * perChunk;
  const n = min(perChunk, steps - first);
  if (n <= 0) {
    store<f64>(out + (<usize>chunk << 4), 0);
    store<f64>(out + (<usize>chunk << 4) + 8, 0);
    return 0;
  }
  // Entries come from stream s, negatives from stream t (negState), so sampling runs ahead of the updates: the
  // entry two steps ahead is drawn and its (user, item) loaded, the next step's negative is drawn and its three
  // factor rows are touched, all before this step's update, so their cache misses overlap its arithmetic.
  let s = chunkSeed(seed, chunk);
  negState = chunkSeed(seed ^ 0x5bd1e995, chunk);
  let logLik: f64 = 0;
  let count: f64 = 0;
  let touch: i32 = 0;
  const decay: f32 = 1 - lr * reg;
  const decayV = f32x4.splat(decay);
  const f4 = f & ~3;
  const rowBytes = <usize>f << 2;
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  let e1 = <usize>(s % <u32>nnz) << 2;
  let u1 = load<i32>(entryUser + e1);
  let i1 = load<i32>(colIdx + e1);
  let j1 = negative(u1, rowPtr, colIdx, bits, nItems);
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  let eN = <usize>(s % <u32>nnz) << 2;
  let uN = load<i32>(entryUser + eN);
  let iN = load<i32>(colIdx + eN);
  for (let step = 0; step < n; step++) {
    const u = u1;
    const i = i1;
    const j = j1;
    if (step + 1 < n) {
      u1 = uN;
      i1 = iN;
      j1 = negative(u1, rowPtr, colIdx, bits, nItems);
      const tu = userF + <usize>u1 * rowBytes;
      const ti = itemF + <usize>i1 * rowBytes;
      for (let o: usize = 0; o < rowBytes; o += 64) touch += load<i32>(tu + o) ^ load<i32>(ti + o);
      if (j1 >= 0) {
        const tj = itemF + <usize>j1 * rowBytes;
        for (let o: usize = 0; o < rowBytes; o += 64) touch += load<i32>(tj + o);
      }
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      eN = <usize>(s % <u32>nnz) << 2;
      uN = load<i32>(entryUser + eN);
      iN = load<i32>(colIdx + eN);
    }
    if (j < 0) continue;
    const pu = userF + (<usize>(u * f) << 2);
    const qi = itemF + (<usize>(i * f) << 2);
    const qj = itemF + (<usize>(j * f) << 2);
    let acc = f32x4.splat(0);
    let d = 0;
    for (; d < f4; d += 4) {
      const o = <usize>d << 2;
      acc = f32x4.add(acc, f32x4.mul(v128.load(pu + o), f32x4.sub(v128.load(qi + o), v128.load(qj + o))));
    }
    let xs: f32 = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; d < f; d++) {
      const o = <usize>d << 2;
      xs += load<f32>(pu + o) * (load<f32>(qi + o) - load<f32>(qj + o));
    }
    const bi = load<f32>(itemB + (<usize>i << 2));
    const bj = load<f32>(itemB + (<usize>j << 2));
    const x = <f64>(bi - bj) + <f64>xs;
    const g = 1 / (1 + Math.exp(x));
    if ((step & 15) == 0) {
      logLik += x > -30 ? -Math.log1p(Math.exp(-x)) : x;
      count += 1;
    }
    const lg = <f32>(<f64>lr * g);
    const lgV = f32x4.splat(lg);
    d = 0;
    for (; d < f4; d += 4) {
      const o = <usize>d << 2;
      const a = v128.load(pu + o);
      const vi = v128.load(qi + o);
      const vj = v128.load(qj + o);
      v128.store(pu + o, f32x4.add(f32x4.mul(decayV, a), f32x4.mul(lgV, f32x4.sub(vi, vj))));
      v128.store(qi + o, f32x4.add(f32x4.mul(decayV, vi), f32x4.mul(lgV, a)));
      v128.store(qj + o, f32x4.sub(f32x4.mul(decayV, vj), f32x4.mul(lgV, a)));
    }
    for (; d < f; d++) {
      const o = <usize>d << 2;
      const a = load<f32>(pu + o);
      const vi = load<f32>(qi + o);
      const vj = load<f32>(qj + o);
      store<f32>(pu + o, decay * a + lg * (vi - vj));
      store<f32>(qi + o, decay * vi + lg * a);
      store<f32>(qj + o, decay * vj - lg * a);
    }
    const gf = <f32>g;
    store<f32>(itemB + (<usize>i << 2), bi + lr * (gf - reg * bi));
    store<f32>(itemB + (<usize>j << 2), bj + lr * (-gf - reg * bj));
  }
  store<f64>(out + (<usize>chunk << 4), logLik);
  store<f64>(out + (<usize>chunk << 4) + 8, count);
  store<i32>(scratch, touch); // keeps the touching loads
  return 0;
}
