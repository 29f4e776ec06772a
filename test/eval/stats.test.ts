import { describe, expect, it } from 'vitest';
import { normalUpperTail, pairedTTest, quantileSorted, studentTUpperTail, summarize, wilcoxonSignedRank } from '../../src/eval/stats.js';

describe('distribution tails', () => {
  it('match tabulated values', () => {
    expect(normalUpperTail(1.96)).toBeCloseTo(0.0249979, 6); // scipy.stats.norm.sf(1.96)
    expect(studentTUpperTail(2.0, 5)).toBeCloseTo(0.0509697, 6); // scipy.stats.t.sf(2, 5)
    expect(studentTUpperTail(0, 7)).toBeCloseTo(0.5, 12);
  });
});

describe('paired tests', () => {
  it('paired t-test equals the hand formula and scipy.stats.ttest_rel', () => {
    const a = [0.5, 0.8, 0.3, 0.9, 0.4, 0.7, 0.6, 0.2];
    const b = [0.4, 0.6, 0.35, 0.7, 0.4, 0.5, 0.65, 0.1];
    const d = a.map((x, j) => x - b[j]);
    const mean = d.reduce((s, x) => s + x, 0) / d.length;
    const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (d.length - 1));
    const r = pairedTTest(a, b);
    expect(r.statistic).toBeCloseTo(mean / (sd / Math.sqrt(8)), 10);
    expect(r.statistic).toBeCloseTo(2.262609773, 8); // ttest_rel(a, b).statistic
    expect(r.pValue).toBeCloseTo(0.058107304, 6); // ttest_rel(a, b).pvalue
    expect(r.n).toBe(8);
  });
  it('Wilcoxon signed-rank with tied |d| (mid-ranks, tie-corrected variance)', () => {
    // d = [1,1,2,-1,1,2,-1,2,2,-2]: five |1| (mid-rank 3), five |2| (mid-rank 8) → W+ = 3·3 + 4·8 = 41
    // σ² = 10·11·21/24 − 2·(5³−5)/48 = 91.25, z = (41 − 27.5)/√91.25
    const a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const b = [0, 1, 1, 5, 4, 4, 8, 6, 7, 12];
    const r = wilcoxonSignedRank(a, b);
    expect(r.statistic).toBeCloseTo(13.5 / Math.sqrt(91.25), 10);
    expect(r.pValue).toBeCloseTo(0.1575838196, 5); // scipy wilcoxon(a, b, method='approx', correction=False)
  });
  it('drops zero differences, and rejects misaligned users', () => {
    const r = wilcoxonSignedRank([1, 1, 3], [1, 1, 2]);
    expect(r.n).toBe(1);
    expect(wilcoxonSignedRank([1, 2], [1, 2]).pValue).toBe(1);
    expect(() => pairedTTest([1, 2], [1])).toThrow(/users must be the same/);
  });
});

describe('summaries', () => {
  it('mean, standard error and a bootstrap interval that contains the mean', () => {
    const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const s = summarize(v, undefined, { resamples: 2000, seed: 3 });
    expect(s.mean).toBe(5.5);
    expect(s.stderr).toBeCloseTo(Math.sqrt(9.1666666667) / Math.sqrt(10), 9);
    expect(s.ci95[0]).toBeLessThan(5.5);
    expect(s.ci95[1]).toBeGreaterThan(5.5);
    expect(s.ci95[0]).toBeGreaterThan(3);
    expect(summarize(v, undefined, { resamples: 2000, seed: 3 }).ci95).toEqual(s.ci95);
  });
  it('weighted mean is Σwv/Σw and NaN values are skipped', () => {
    const s = summarize([1, 3, NaN], [1, 3, 5], { resamples: 0 });
    expect(s.mean).toBeCloseTo(10 / 4, 12);
    expect(s.n).toBe(2);
  });
  it('quantiles interpolate like numpy', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
  });
});

describe('constant values', () => {
  it('have a standard error of exactly 0, and a constant non-zero difference is certain', () => {
    expect(summarize([0.1, 0.1, 0.1], undefined, { resamples: 0 }).stderr).toBe(0);
    const r = pairedTTest([1.3, 2.3, 3.3], [1, 2, 3].map((x) => x));
    expect(r.pValue).toBeLessThan(1e-6);
    expect(pairedTTest([1, 2], [1, 2]).pValue).toBe(1);
  });
});
