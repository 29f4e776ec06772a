/**
 * The one seeded pseudo-random generator of the project: xoshiro128** seeded through splitmix32. Every
 * seeded stream (weight init, splits, negative sampling, dropout, synthetic data) is an `Rng` or a labelled
 * fork of one, so that a seed reproduces a whole run. The WASM dropout kernel draws the same stream from
 * {@link Rng.state} (see linalg/reference.ts).
 */
export class Rng {
  // The state words are kept as int32 (`| 0`), not uint32: V8 then stores them as small integers instead of
  // boxing a fresh heap number on every draw (3× faster shuffles, the same stream).
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = NaN;
  /** The seed this generator started from (forks derive from it, not from the current position). */
  readonly seed: number;

  /** Seeds the four state words from `seed` with splitmix32. */
  constructor(seed: number) {
    this.seed = seed >>> 0;
    let x = this.seed;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix32(x);
    };
    this.s0 = next() | 0;
    this.s1 = next() | 0;
    this.s2 = next() | 0;
    this.s3 = next() | 0;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11) | 0;
    this.s0 |= 0;
    this.s1 |= 0;
    this.s2 |= 0;
    return result;
  }

  /** The four xoshiro128** state words (for kernels that draw from this stream; see {@link setState}). */
  state(): Uint32Array {
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3);
  }

  /** Continues the stream from state words returned by {@link state} and advanced elsewhere. */
  setState(words: Uint32Array): void {
    this.s0 = words[0] | 0;
    this.s1 = words[1] | 0;
    this.s2 = words[2] | 0;
    this.s3 = words[3] | 0;
  }

  /** A uniform number in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform number in [0, 1) with 53 random bits (for bootstraps and fine-grained sampling). */
  uniform53(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * A uniform integer in [0, n). Up to 2^16 one 32-bit draw (bias below 2·10⁻⁵); above, a 53-bit draw, so that
   * shuffles of millions of entries favour no position (a 32-bit draw would, by up to 0.6 % at 25M).
   */
  int(n: number): number {
    return Math.floor((n <= 0x10000 ? this.uniform() : this.uniform53()) * n);
  }

  /** A standard normal sample (Box–Muller, the second value is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    let u = this.uniform();
    while (u <= 1e-300) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** exp(mu + sigma · N(0,1)). */
  logNormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { [i: number]: number; length: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A shuffled 0..n-1. */
  permutation(n: number): Int32Array {
    return this.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  }

  /** `k` distinct integers from [0, n), in random order (k <= n). */
  sample(n: number, k: number): Int32Array {
    if (k > n) throw new RangeError(`sample: k = ${k} exceeds n = ${n}`);
    const a = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a.slice(0, k);
  }

  /** An element of `xs`. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /**
   * An independent generator for one purpose ("init", "split", "negatives", "dropout"...), derived from this
   * generator's seed and `label` only: the same seed and label give the same stream wherever and whenever
   * the fork is made, and adding a fork elsewhere does not shift the others.
   */
  fork(label: string): Rng {
    return new Rng(mix32((this.seed ^ Math.imul(hashLabel(label), 0x9e3779b1)) >>> 0));
  }
}

/** The splitmix32 output function. */
function mix32(x: number): number {
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over the label's UTF-16 code units. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Index drawn from cumulative weights `cum` (last entry = total) for a uniform `r` in [0, 1), by binary search. */
export function drawCumulative(cum: Float64Array, r: number): number {
  const x = r * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
