/**
 * Statistics for evaluation results: means with standard errors, percentile-bootstrap intervals, and paired
 * per-user tests (paired t-test, Wilcoxon signed-rank) to compare two models.
 */
import { Rng } from '../core/rng.js';

/** A metric averaged over users. */
export interface MetricSummary {
  /** Weighted mean Σ w·v / Σ w (plain mean when all weights are 1). */
  mean: number;
  /** Standard error of the mean (NaN with fewer than 2 values or for global metrics). */
  stderr: number;
  /** 95 % percentile-bootstrap interval over users [low, high] (NaN for global metrics). */
  ci95: [number, number];
  /** Number of users (values) averaged. */
  n: number;
}

/**
 * Summarizes per-user values: the weighted mean, its standard error (for unit weights the usual s/√n; for
 * weights the linearized ratio-estimator error √(n/(n−1)·Σ w²(v−m)²)/Σ w) and a bootstrap interval from
 * `resamples` resamples of users (seeded). NaN values are skipped.
 */
export function summarize(values: ArrayLike<number>, weights?: ArrayLike<number>, options: { resamples?: number; seed?: number } = {}): MetricSummary {
  const v: number[] = [];
  const w: number[] = [];
  for (let j = 0; j < values.length; j++) {
    if (Number.isNaN(values[j])) continue;
    v.push(values[j]);
    w.push(weights ? weights[j] : 1);
  }
  const n = v.length;
  if (n === 0) return { mean: NaN, stderr: NaN, ci95: [NaN, NaN], n: 0 };
  const mean = weightedMean(v, w);
  let stderr = NaN;
  if (n > 1 && v.every((x) => x === v[0])) {
    stderr = 0; // exactly, not rounding noise
  } else if (n > 1) {
    let sw = 0;
    let s = 0;
    for (let j = 0; j < n; j++) {
      sw += w[j];
      s += w[j] * w[j] * (v[j] - mean) ** 2;
    }
    stderr = Math.sqrt((s * n) / (n - 1)) / sw;
  }
  return { mean, stderr, ci95: bootstrapInterval(v, w, options.resamples ?? 1000, options.seed ?? 1), n };
}

function weightedMean(v: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  let sw = 0;
  for (let j = 0; j < v.length; j++) {
    s += w[j] * v[j];
    sw += w[j];
  }
  return sw > 0 ? s / sw : NaN;
}

/**
 * 95 % percentile bootstrap of the weighted mean (users resampled with replacement), from the seed's
 * `bootstrap` fork. Indices are drawn from 32-bit uniforms: their bias (at most n/2³² per index) is orders of
 * magnitude below the bootstrap's own Monte-Carlo error, and one draw per index keeps it fast.
 */
export function bootstrapInterval(v: ArrayLike<number>, w: ArrayLike<number>, resamples: number, seed: number): [number, number] {
  const n = v.length;
  if (n === 0 || resamples < 1) return [NaN, NaN];
  const rng = new Rng(seed).fork('bootstrap');
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    let sw = 0;
    for (let j = 0; j < n; j++) {
      const x = rng.int(n);
      s += w[x] * v[x];
      sw += w[x];
    }
    means[b] = sw > 0 ? s / sw : NaN;
  }
  means.sort();
  return [quantileSorted(means, 0.025), quantileSorted(means, 0.975)];
}

/** Linear-interpolation quantile of sorted values (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Result of a paired comparison of two models over the same users. */
export interface PairedTest {
  /** Number of pairs used (for Wilcoxon: non-zero differences). */
  n: number;
  /** Mean difference a − b. */
  meanDiff: number;
  /** The test statistic (t, or the standardized z of Wilcoxon's W+). */
  statistic: number;
  /** Two-sided p-value. */
  pValue: number;
}

/** Paired t-test of a − b: t = mean(d) / (sd(d)/√n) with n − 1 degrees of freedom; two-sided p. */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>): PairedTest {
  const d = differences(a, b);
  const n = d.length;
  if (n < 2) return { n, meanDiff: n ? d[0] : NaN, statistic: NaN, pValue: NaN };
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const sd = d.every((x) => x === d[0]) ? 0 : Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  if (sd === 0) return { n, meanDiff: mean, statistic: mean === 0 ? 0 : Math.sign(mean) * Infinity, pValue: mean === 0 ? 1 : 0 };
  const t = mean / (sd / Math.sqrt(n));
  return { n, meanDiff: mean, statistic: t, pValue: 2 * studentTUpperTail(Math.abs(t), n - 1) };
}

/**
 * Wilcoxon signed-rank test of a − b (two-sided, normal approximation as in scipy's `method="approx"` with
 * `zero_method="wilcox"`, no continuity correction): zero differences are dropped, |d| ranked with mid-ranks,
 * W+ = Σ ranks of positive d, z = (W+ − n(n+1)/4) / √(n(n+1)(2n+1)/24 − Σ(t³ − t)/48) over tie groups t.
 */
export function wilcoxonSignedRank(a: ArrayLike<number>, b: ArrayLike<number>): PairedTest {
  const all = differences(a, b);
  const meanDiff = all.length ? all.reduce((s, x) => s + x, 0) / all.length : NaN;
  const d = all.filter((x) => x !== 0);
  const n = d.length;
  if (n === 0) return { n, meanDiff, statistic: 0, pValue: 1 };
  const order = d.map((x, j) => j).sort((x, y) => Math.abs(d[x]) - Math.abs(d[y]));
  const ranks = new Float64Array(n);
  let tieTerm = 0;
  let s = 0;
  while (s < n) {
    let e = s + 1;
    while (e < n && Math.abs(d[order[e]]) === Math.abs(d[order[s]])) e++;
    const t = e - s;
    tieTerm += t * t * t - t;
    const mid = (s + 1 + e) / 2;
    for (let r = s; r < e; r++) ranks[order[r]] = mid;
    s = e;
  }
  let wPlus = 0;
  for (let j = 0; j < n; j++) if (d[j] > 0) wPlus += ranks[j];
  const mu = (n * (n + 1)) / 4;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48);
  const z = sigma > 0 ? (wPlus - mu) / sigma : 0;
  return { n, meanDiff, statistic: z, pValue: Math.min(1, 2 * normalUpperTail(Math.abs(z))) };
}

function differences(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  if (a.length !== b.length) throw new Error(`paired test: ${a.length} values against ${b.length}; the users must be the same`);
  const d: number[] = [];
  for (let j = 0; j < a.length; j++) if (!Number.isNaN(a[j]) && !Number.isNaN(b[j])) d.push(a[j] - b[j]);
  return d;
}

/** P(Z > z) for a standard normal Z (via erfc, Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** P(T > t) for Student's t with `df` degrees of freedom, t ≥ 0: ½·I_{df/(df+t²)}(df/2, ½). */
export function studentTUpperTail(t: number, df: number): number {
  return 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Regularized incomplete beta I_x(a, b) by Lentz's continued fraction (Numerical Recipes `betai`). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbeta = logGamma(a + b) - logGamma(a) - logGamma(b);
  const front = Math.exp(lbeta + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms). */
export function logGamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const xx = x - 1;
  let a = g[0];
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += g[i] / (xx + i);
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(a);
}
