import { describe, expect, it } from 'vitest';
import {
  coldCounts,
  correlationMatrix,
  gini,
  log2Histogram,
  pearson,
  quantileSorted,
  quantiles,
  rankCurve,
  summarize,
  topShare,
  valueDistribution,
} from '../../src/report/stats.js';
import { rng } from './generate.js';

/** Gini by its definition: mean absolute difference over all ordered pairs / (2 · mean). */
function giniReference(x: number[]): number {
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  if (mean === 0) return 0;
  let s = 0;
  for (const a of x) for (const b of x) s += Math.abs(a - b);
  return s / (2 * n * n * mean);
}

describe('quantiles', () => {
  it('interpolates linearly between order statistics (numpy default)', () => {
    const s = [1, 2, 3, 4];
    expect(quantileSorted(s, 0)).toBe(1);
    expect(quantileSorted(s, 1)).toBe(4);
    expect(quantileSorted(s, 0.5)).toBe(2.5); // position 1.5
    expect(quantileSorted(s, 0.25)).toBeCloseTo(1.75, 12); // position 0.75
    expect(quantileSorted(s, 0.9)).toBeCloseTo(3.7, 12); // position 2.7
    expect(quantileSorted([], 0.5)).toBeNaN();
    expect(() => quantileSorted(s, 1.5)).toThrow(/outside/);
  });

  it('sorts and skips NaN', () => {
    expect(quantiles([4, NaN, 1, 3, 2], [0, 0.5, 1])).toEqual([1, 2.5, 4]);
  });

  it('summarize reports count, missing, quantiles, mean and std', () => {
    const s = summarize(Float32Array.from([10, 0, NaN, 5, 5]));
    expect(s.count).toBe(4);
    expect(s.missing).toBe(1);
    expect(s.min).toBe(0);
    expect(s.max).toBe(10);
    expect(s.median).toBe(5);
    expect(s.p25).toBe(3.75); // sorted 0,5,5,10; position 0.75
    expect(s.p99).toBeCloseTo(9.85, 10); // position 2.97
    expect(s.mean).toBe(5);
    expect(s.std).toBeCloseTo(Math.sqrt(12.5), 12);
    const empty = summarize([]);
    expect(empty.count).toBe(0);
    expect(empty.mean).toBeNaN();
  });
});

describe('gini', () => {
  it('is 0 when all are equal and (n−1)/n when one takes all', () => {
    expect(gini([5, 5, 5, 5])).toBeCloseTo(0, 12);
    for (const n of [2, 3, 10, 101]) {
      const c = new Array<number>(n).fill(0);
      c[n >> 1] = 42;
      expect(gini(c)).toBeCloseTo((n - 1) / n, 12);
    }
  });

  it('matches a hand computation and the pairwise definition', () => {
    expect(gini([1, 2, 3, 4])).toBeCloseTo(0.25, 12); // Σ|xi−xj| = 20 over (2·16·2.5)
    const r = rng(3);
    for (let t = 0; t < 20; t++) {
      const x = Array.from({ length: 1 + Math.floor(r() * 30) }, () => Math.floor(r() * r() * 50));
      expect(gini(x)).toBeCloseTo(giniReference(x), 10);
    }
  });

  it('handles empty and all-zero input and rejects negatives', () => {
    expect(gini([])).toBe(0);
    expect(gini([0, 0])).toBe(0);
    expect(() => gini([1, -1])).toThrow(/negative/);
  });
});

describe('topShare', () => {
  it('takes the largest ceil(fraction·n) counts', () => {
    const c = Array.from({ length: 100 }, (_, k) => k + 1); // total 5050
    expect(topShare(c, 0.01)).toBeCloseTo(100 / 5050, 12);
    expect(topShare(c, 0.1)).toBeCloseTo(955 / 5050, 12); // 91 + ... + 100
    expect(topShare([0, 0, 9, 1], 0.01)).toBeCloseTo(0.9, 12); // at least one item
    expect(topShare([3, 1, 2], 1)).toBe(1);
    expect(topShare([0, 0], 0.5)).toBe(0);
    expect(() => topShare([1], 0)).toThrow();
  });
});

describe('coldCounts', () => {
  it('counts zero and below-threshold entities', () => {
    expect(coldCounts([0, 1, 4, 5, 9, 0], 5)).toEqual({ threshold: 5, total: 6, zero: 2, below: 4 });
  });
});

describe('valueDistribution', () => {
  it('uses one bin per distinct value when there are few (ratings)', () => {
    const d = valueDistribution([5, 3, 3, 1, 5, 5, NaN]);
    expect(d.kind).toBe('discrete');
    expect(d.bins.map((b) => [b.start, b.count])).toEqual([[1, 1], [3, 2], [5, 3]]);
    expect(d.summary.missing).toBe(1);
    expect(d.clippedHigh).toBe(0);
  });

  it('clips a long tail at the p99 quantile and counts what it left out', () => {
    const v = Array.from({ length: 1000 }, (_, k) => k / 1000); // 0 .. 0.999
    v.push(500, 800); // extreme watch ratios
    const d = valueDistribution(v, { bins: 10 });
    expect(d.kind).toBe('binned');
    const n = v.length;
    const sorted = [...v].sort((a, b) => a - b);
    const pos = 0.99 * (n - 1);
    const p99 = sorted[Math.floor(pos)] + (pos - Math.floor(pos)) * (sorted[Math.floor(pos) + 1] - sorted[Math.floor(pos)]);
    expect(d.clipAt).toBeCloseTo(p99, 12);
    const above = v.filter((x) => x > p99).length;
    expect(d.clippedHigh).toBe(above);
    expect(d.bins.reduce((s, b) => s + b.count, 0) + d.clippedHigh).toBe(n);
    expect(d.bins).toHaveLength(10);
    expect(d.bins[0].start).toBe(0);
    expect(d.bins[9].end).toBeCloseTo(p99, 12);
    expect(d.summary.max).toBe(800); // quantiles keep the outliers
  });

  it('does not clip a distribution without a long tail', () => {
    const v = Array.from({ length: 500 }, (_, k) => k);
    const d = valueDistribution(v, { bins: 5 });
    expect(d.clippedHigh).toBe(0);
    expect(d.clipAt).toBe(499);
    expect(d.bins.map((b) => b.count)).toEqual([100, 100, 100, 100, 100]);
  });
});

describe('log2Histogram', () => {
  it('bins counts into 0, 1, 2–3, 4–7, ...', () => {
    const bins = log2Histogram([0, 1, 2, 3, 4, 7, 8, 8, 15]);
    expect(bins.map((b) => [b.start, b.end, b.count])).toEqual([[0, 0, 1], [1, 1, 1], [2, 3, 2], [4, 7, 2], [8, 15, 3]]);
    expect(() => log2Histogram([-1])).toThrow();
  });
});

describe('pearson', () => {
  it('is ±1 on exact linear relations and matches a hand computation', () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(pearson([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 12); // sxy 4, sxx = syy = 5
  });

  it('uses pairwise complete observations and is NaN when undefined', () => {
    expect(pearson([1, NaN, 2, 3, 4], [1, 100, 3, 2, 4])).toBeCloseTo(0.8, 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(pearson([1], [2])).toBeNaN();
    expect(() => pearson([1, 2], [1])).toThrow(/lengths/);
  });

  it('builds a symmetric matrix with a unit diagonal', () => {
    const m = correlationMatrix({ a: [1, 2, 3, 4], b: [1, 3, 2, 4], c: [4, 3, 2, 1] });
    expect(m.names).toEqual(['a', 'b', 'c']);
    expect(m.r[0][0]).toBeCloseTo(1, 12);
    expect(m.r[0][1]).toBeCloseTo(0.8, 12);
    expect(m.r[1][0]).toBe(m.r[0][1]);
    expect(m.r[0][2]).toBeCloseTo(-1, 12);
    expect(m.r[1][2]).toBeCloseTo(-0.8, 12);
  });
});

describe('rankCurve', () => {
  it('samples descending counts at log-spaced ranks including the first and last', () => {
    const counts = Array.from({ length: 1000 }, (_, k) => k + 1);
    const curve = rankCurve(counts, 20);
    expect(curve[0]).toEqual({ rank: 1, count: 1000 });
    expect(curve[curve.length - 1]).toEqual({ rank: 1000, count: 1 });
    expect(curve.length).toBeLessThanOrEqual(22);
    for (const p of curve) expect(p.count).toBe(1001 - p.rank);
    for (let k = 1; k < curve.length; k++) expect(curve[k].rank).toBeGreaterThan(curve[k - 1].rank);
    expect(rankCurve([])).toEqual([]);
  });
});
