/**
 * Generic descriptive statistics on plain number arrays: quantiles, summaries, Gini, head shares,
 * histograms and Pearson correlation. Pure functions; NaN marks a missing value and is skipped.
 */

/** The quantile levels every {@link Summary} reports. */
export const SUMMARY_LEVELS = { min: 0, p25: 0.25, median: 0.5, p75: 0.75, p90: 0.9, p99: 0.99, max: 1 } as const;

/** Count, mean and quantiles of a set of numbers (NaN everywhere when there are no values). */
export interface Summary {
  /** Values present (not NaN). */
  count: number;
  /** NaN values skipped. */
  missing: number;
  min: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** Population standard deviation. */
  std: number;
}

/** The non-NaN values of `values`, sorted ascending, as a Float64Array. */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let k = 0; k < values.length; k++) if (!Number.isNaN(values[k])) n++;
  const out = new Float64Array(n);
  let o = 0;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!Number.isNaN(v)) out[o++] = v;
  }
  return out.sort();
}

/**
 * The `q`-quantile of ascending `sorted` values by linear interpolation between order statistics
 * (numpy's default, Hyndman–Fan type 7): position q·(n−1). NaN for an empty array.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile level ${q} outside [0, 1]`);
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return frac === 0 ? sorted[lo] : sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

/** Quantiles of `values` (NaN skipped) at each level of `levels`. */
export function quantiles(values: ArrayLike<number>, levels: readonly number[]): number[] {
  const sorted = sortedFinite(values);
  return levels.map((q) => quantileSorted(sorted, q));
}

/** Summarizes already sorted finite values; `missing` is carried through. */
export function summarizeSorted(sorted: ArrayLike<number>, missing = 0): Summary {
  const n = sorted.length;
  let sum = 0;
  for (let k = 0; k < n; k++) sum += sorted[k];
  const mean = n === 0 ? NaN : sum / n;
  let ss = 0;
  for (let k = 0; k < n; k++) ss += (sorted[k] - mean) * (sorted[k] - mean);
  const at = (q: number): number => quantileSorted(sorted, q);
  return {
    count: n,
    missing,
    min: at(SUMMARY_LEVELS.min),
    p25: at(SUMMARY_LEVELS.p25),
    median: at(SUMMARY_LEVELS.median),
    p75: at(SUMMARY_LEVELS.p75),
    p90: at(SUMMARY_LEVELS.p90),
    p99: at(SUMMARY_LEVELS.p99),
    max: at(SUMMARY_LEVELS.max),
    mean,
    std: n === 0 ? NaN : Math.sqrt(ss / n),
  };
}

/** Count, missing, min, quartiles, p90, p99, max, mean and standard deviation of `values`. */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = sortedFinite(values);
  return summarizeSorted(sorted, values.length - sorted.length);
}

/**
 * The Gini coefficient of non-negative `counts` (0 = all equal, (n−1)/n = one takes all):
 * G = 2·Σ i·x₍ᵢ₎ / (n·Σx) − (n+1)/n with x sorted ascending and i = 1..n. 0 when the total is 0.
 */
export function gini(counts: ArrayLike<number>): number {
  const n = counts.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(counts).sort();
  let total = 0;
  let weighted = 0;
  for (let k = 0; k < n; k++) {
    if (sorted[k] < 0) throw new RangeError(`gini: negative count ${sorted[k]}`);
    total += sorted[k];
    weighted += (k + 1) * sorted[k];
  }
  if (total === 0) return 0;
  return (2 * weighted) / (n * total) - (n + 1) / n;
}

/**
 * The share of the total held by the largest ⌈fraction·n⌉ counts (at least one), e.g. the share of
 * interactions on the top 1% of items. 0 when the total is 0.
 */
export function topShare(counts: ArrayLike<number>, fraction: number): number {
  const n = counts.length;
  if (n === 0) return 0;
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`topShare: fraction ${fraction} outside (0, 1]`);
  const sorted = Float64Array.from(counts).sort().reverse();
  const k = Math.max(1, Math.ceil(fraction * n - 1e-9));
  let total = 0;
  let top = 0;
  for (let j = 0; j < n; j++) {
    total += sorted[j];
    if (j < k) top += sorted[j];
  }
  return total === 0 ? 0 : top / total;
}

/** How many entities are cold: none at all, or fewer than a threshold. */
export interface ColdCounts {
  /** The threshold: "cold" means fewer than this many interactions. */
  threshold: number;
  /** Entities in all. */
  total: number;
  /** Entities with zero interactions. */
  zero: number;
  /** Entities with fewer than `threshold` interactions (zero included). */
  below: number;
}

/** Counts entities with zero and with fewer than `threshold` interactions. */
export function coldCounts(counts: ArrayLike<number>, threshold: number): ColdCounts {
  let zero = 0;
  let below = 0;
  for (let k = 0; k < counts.length; k++) {
    if (counts[k] === 0) zero++;
    if (counts[k] < threshold) below++;
  }
  return { threshold, total: counts.length, zero, below };
}

/** One histogram bin [start, end) (the last bin is closed). */
export interface Bin {
  start: number;
  end: number;
  count: number;
}

/** The distribution of a value column: discrete counts when few distinct values, else clipped bins. */
export interface ValueDistribution {
  summary: Summary;
  /** `discrete`: one bin per distinct value (start = end = value); `binned`: equal-width bins. */
  kind: 'discrete' | 'binned';
  bins: Bin[];
  /** Upper edge of the binned range (the clip quantile); values above it are counted in `clippedHigh`. */
  clipAt: number;
  /** Values above `clipAt`, not in any bin. */
  clippedHigh: number;
}

/** Options of {@link valueDistribution}. */
export interface DistributionOptions {
  /** Use one bin per value when there are at most this many distinct values (default 20). */
  maxDiscrete?: number;
  /** Number of equal-width bins otherwise (default 40). */
  bins?: number;
  /**
   * Bins span [min, quantile(clipQuantile)] when the values above that quantile spread over a longer range
   * than those below it (a long tail, e.g. watch ratios); the larger values are then counted as clipped.
   * Otherwise bins span [min, max]. Default 0.99.
   */
  clipQuantile?: number;
}

/**
 * Histogram and summary of `values`. Few distinct values (ratings) give one bin per value; otherwise
 * `bins` equal-width bins from the minimum to the `clipQuantile` quantile when the tail is long, so that
 * extreme outliers (watch ratios of 500) do not squash the chart; the values above are counted in
 * `clippedHigh`. Without a long tail the bins reach the maximum and nothing is clipped.
 */
export function valueDistribution(values: ArrayLike<number>, options: DistributionOptions = {}): ValueDistribution {
  const maxDiscrete = options.maxDiscrete ?? 20;
  const nBins = options.bins ?? 40;
  const clipQ = options.clipQuantile ?? 0.99;
  const sorted = sortedFinite(values);
  const summary = summarizeSorted(sorted, values.length - sorted.length);
  const n = sorted.length;
  if (n === 0) return { summary, kind: 'discrete', bins: [], clipAt: NaN, clippedHigh: 0 };
  // Distinct values, stopping once there are too many.
  const distinct: Bin[] = [];
  for (let k = 0; k < n && distinct.length <= maxDiscrete; k++) {
    const v = sorted[k];
    const last = distinct[distinct.length - 1];
    if (last && last.start === v) last.count++;
    else distinct.push({ start: v, end: v, count: 1 });
  }
  if (distinct.length <= maxDiscrete) return { summary, kind: 'discrete', bins: distinct, clipAt: sorted[n - 1], clippedHigh: 0 };
  const lo = sorted[0];
  const max = sorted[n - 1];
  let hi = quantileSorted(sorted, clipQ);
  // Clip only a long tail: when the values above the clip quantile span more than the values below it.
  if (!(hi > lo) || max - hi <= hi - lo) hi = max;
  const width = (hi - lo) / nBins;
  const bins: Bin[] = [];
  for (let b = 0; b < nBins; b++) bins.push({ start: lo + b * width, end: b === nBins - 1 ? hi : lo + (b + 1) * width, count: 0 });
  let clippedHigh = 0;
  for (let k = 0; k < n; k++) {
    const v = sorted[k];
    if (v > hi) {
      clippedHigh++;
      continue;
    }
    const b = Math.min(nBins - 1, Math.floor((v - lo) / width));
    bins[b].count++;
  }
  return { summary, kind: 'binned', bins, clipAt: hi, clippedHigh };
}

/**
 * Histogram of non-negative integer counts in power-of-two bins: [0], [1], [2,3], [4,7], [8,15]...
 * (for activity distributions drawn on log scales). Bins after the last non-empty one are dropped.
 */
export function log2Histogram(counts: ArrayLike<number>): Bin[] {
  const bins: Bin[] = [{ start: 0, end: 0, count: 0 }];
  for (let k = 0; k < counts.length; k++) {
    const c = counts[k];
    if (c < 0 || !Number.isFinite(c)) throw new RangeError(`log2Histogram: count ${c} at ${k} is not a non-negative number`);
    const b = c < 1 ? 0 : 1 + Math.floor(Math.log2(c));
    while (bins.length <= b) {
      const j = bins.length; // bin j ≥ 1 holds [2^(j−1), 2^j − 1]
      bins.push({ start: 2 ** (j - 1), end: 2 ** j - 1, count: 0 });
    }
    bins[b].count++;
  }
  return bins;
}

/**
 * Pearson correlation of `x` and `y` over the positions where both are present (not NaN).
 * NaN when fewer than two such positions or when either is constant there.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`pearson: lengths differ (${x.length} vs ${y.length})`);
  let n = 0;
  let mx = 0;
  let my = 0;
  for (let k = 0; k < x.length; k++) {
    const a = x[k];
    const b = y[k];
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    n++;
    mx += (a - mx) / n;
    my += (b - my) / n;
  }
  if (n < 2) return NaN;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < x.length; k++) {
    const a = x[k];
    const b = y[k];
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    const dx = a - mx;
    const dy = b - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/** A symmetric correlation matrix over named columns. */
export interface CorrelationMatrix {
  names: string[];
  /** r[i][j] = Pearson correlation of columns i and j (pairwise complete observations; NaN if undefined). */
  r: number[][];
}

/** Pairwise Pearson correlations of equally long named columns. */
export function correlationMatrix(columns: Record<string, ArrayLike<number>>): CorrelationMatrix {
  const names = Object.keys(columns);
  const r: number[][] = names.map(() => names.map(() => NaN));
  for (let i = 0; i < names.length; i++) {
    for (let j = i; j < names.length; j++) {
      const v = pearson(columns[names[i]], columns[names[j]]);
      r[i][j] = v;
      r[j][i] = v;
    }
  }
  return { names, r };
}

/**
 * Points of a rank–count curve (counts sorted descending, rank 1 = largest) sampled at about `maxPoints`
 * log-spaced ranks, always including the first and last rank: enough to draw a long tail on log axes.
 */
export function rankCurve(counts: ArrayLike<number>, maxPoints = 200): Array<{ rank: number; count: number }> {
  const sorted = Float64Array.from(counts).sort().reverse();
  const n = sorted.length;
  if (n === 0) return [];
  const ranks = new Set<number>();
  const steps = Math.max(2, maxPoints);
  for (let s = 0; s < steps; s++) ranks.add(Math.round(Math.exp((Math.log(n) * s) / (steps - 1))));
  ranks.add(1);
  ranks.add(n);
  return [...ranks].sort((a, b) => a - b).map((rank) => ({ rank, count: sorted[rank - 1] }));
}
