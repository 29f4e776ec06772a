import { describe, expect, it } from 'vitest';
import {
  aucOfRanking, averagePopularityAt, averagePrecisionAt, catalogCoverage, hitRateAt, intraListDiversityAt, mae, metricDirection, ndcgAt,
  noveltyAt, parseMetric, percentileRankTerms, precisionAt, recallAt, reciprocalRankAt, rmse, rSquared, truncatedRecallAt,
} from '../../src/eval/metrics.js';

// Ranked list with one padded slot; item 9 is relevant but not ranked.
const ranked = Int32Array.from([3, 1, 7, 5, -1]);
const rel = new Map([[1, 1], [5, 1], [9, 1]]);

describe('top-k metrics (hand-computed)', () => {
  it('precision divides by k, padding is a miss, k beyond the list length still divides by k', () => {
    expect(precisionAt(ranked, rel, 5)).toBeCloseTo(2 / 5, 12);
    expect(precisionAt(ranked, rel, 2)).toBeCloseTo(1 / 2, 12);
    expect(precisionAt(ranked, rel, 10)).toBeCloseTo(2 / 10, 12);
  });
  it('recall (plain and truncated)', () => {
    expect(recallAt(ranked, rel, 5)).toBeCloseTo(2 / 3, 12);
    expect(recallAt(ranked, rel, 2)).toBeCloseTo(1 / 3, 12);
    expect(truncatedRecallAt(ranked, rel, 2)).toBeCloseTo(1 / 2, 12);
    expect(truncatedRecallAt(ranked, rel, 5)).toBeCloseTo(2 / 3, 12);
  });
  it('binary NDCG with ideal DCG over min(k, |rel|)', () => {
    // DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4)
    expect(ndcgAt(ranked, rel, 5)).toBeCloseTo((0.6309298 + 0.4306766) / (1 + 0.6309298 + 0.5), 6);
    // k = 2: IDCG over min(2, 3) = 2 positions
    expect(ndcgAt(ranked, rel, 2)).toBeCloseTo(0.6309298 / (1 + 0.6309298), 6);
  });
  it('NDCG: a perfect ranking scores 1 whatever k, since the ideal DCG stops at min(k, |rel|) positions', () => {
    // Ideal DCG over k positions would need k relevant items: with one relevant item at the top it would give
    // 1 / (1 + 1/log2(3) + ... + 1/log2(11)) ≈ 0.22 at k = 10, not 1.
    expect(ndcgAt([4, 0, 1, 2, 3], new Map([[4, 1]]), 10)).toBe(1);
    expect(ndcgAt([1, 5, 9, 2, 3, 4], rel, 10)).toBe(1);
    expect(ndcgAt([1, 9, 5], new Map([[1, 3], [9, 2], [5, 1]]), 10, 'exp')).toBe(1);
    // One relevant item at rank 2 of k = 5: DCG = 1/log2(3), ideal DCG = 1 (one position)
    expect(ndcgAt([0, 4, 1, 2, 3], new Map([[4, 1]]), 5)).toBeCloseTo(1 / Math.log2(3), 12);
  });
  it('graded NDCG: linear and exponential gains', () => {
    const graded = new Map([[1, 3], [5, 1], [9, 2]]);
    expect(ndcgAt(ranked, graded, 5, 'linear')).toBeCloseTo(2.3234672 / 4.7618595, 5);
    expect(ndcgAt(ranked, graded, 5, 'exp')).toBeCloseTo(4.8471856 / 9.3927893, 5);
    // binary ignores the grades
    expect(ndcgAt(ranked, graded, 5, 'binary')).toBeCloseTo(ndcgAt(ranked, rel, 5), 12);
  });
  it('MAP with both normalizers', () => {
    // hits at ranks 2 and 4: precisions 1/2 and 2/4
    expect(averagePrecisionAt(ranked, rel, 5, 'truncated')).toBeCloseTo(1 / 3, 12);
    expect(averagePrecisionAt(ranked, rel, 2, 'truncated')).toBeCloseTo(0.5 / 2, 12);
    expect(averagePrecisionAt(ranked, rel, 2, 'full')).toBeCloseTo(0.5 / 3, 12);
  });
  it('MRR and HitRate', () => {
    expect(reciprocalRankAt(ranked, rel)).toBe(0.5);
    expect(reciprocalRankAt(ranked, rel, 1)).toBe(0);
    expect(hitRateAt(ranked, rel, 1)).toBe(0);
    expect(hitRateAt(ranked, rel, 2)).toBe(1);
  });
  it('a user with no relevant items scores 0, not NaN', () => {
    const none = new Map<number, number>();
    expect(recallAt(ranked, none, 5)).toBe(0);
    expect(ndcgAt(ranked, none, 5)).toBe(0);
    expect(averagePrecisionAt(ranked, none, 5)).toBe(0);
  });
});

describe('whole-ranking metrics and ties', () => {
  it('AUC gives half credit to ties', () => {
    // item 1 ties with item 2: beats 3, loses to 0, ties 2 → (1 + 0.5) / 3
    expect(aucOfRanking([0, 1, 2, 3], [3, 2, 2, 1], new Map([[1, 1]]))).toBeCloseTo(0.5, 12);
    expect(aucOfRanking([0, 1, 2, 3], [4, 3, 2, 1], new Map([[0, 1], [2, 1]]))).toBeCloseTo(3 / 4, 12);
    // constant scores → 0.5 whatever the order
    expect(aucOfRanking([5, 4, 3, 2, 1], [1, 1, 1, 1, 1], new Map([[5, 1]]))).toBeCloseTo(0.5, 12);
    expect(aucOfRanking([0, 1], [1, 0], new Map([[0, 1], [1, 1]]))).toBeNaN();
  });
  it('ROEM weights percentile ranks by the value, ties share their mean rank', () => {
    // positions 0, 1.5, 1.5, 3 of n = 4 → percentile 0, .5, .5, 1
    const t = percentileRankTerms([0, 1, 2, 3], [3, 2, 2, 1], new Map([[1, 2], [3, 1]]));
    expect(t.numerator).toBeCloseTo(2 * 0.5 + 1 * 1, 12);
    expect(t.denominator).toBe(3);
    // constant scorer: 50 %
    const c = percentileRankTerms([0, 1, 2, 3, 4], [0, 0, 0, 0, 0], new Map([[4, 1]]));
    expect(c.numerator / c.denominator).toBeCloseTo(0.5, 12);
  });
});

describe('beyond-accuracy and rating metrics', () => {
  it('coverage, novelty, average popularity', () => {
    expect(catalogCoverage([[1, 2], [2, 3, -1]], 2, 10)).toBeCloseTo(0.3, 12);
    // p = 4/4, 1/4, and 0 → clamped to 1/4
    expect(noveltyAt([0, 1, 2], 3, [4, 1, 0], 4)).toBeCloseTo(4 / 3, 12);
    expect(averagePopularityAt([0, 1, -1], 3, [4, 1, 0])).toBeCloseTo(2.5, 12);
  });
  it('intra-list diversity over multi-hot features (Jaccard and cosine)', () => {
    const f = { ptr: Int32Array.from([0, 2, 4, 4]), idx: Int32Array.from([0, 1, 1, 2]) };
    expect(intraListDiversityAt([0, 1, 2], 3, f, 'jaccard')).toBeCloseTo(1 - (1 / 3) / 3, 12);
    expect(intraListDiversityAt([0, 1, 2], 3, f, 'cosine')).toBeCloseTo(1 - 0.5 / 3, 12);
    expect(intraListDiversityAt([0], 3, f)).toBeNaN();
  });
  it('RMSE, MAE, R²', () => {
    expect(rmse([1, 2, 3], [1, 3, 5])).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(mae([1, 2, 3], [1, 3, 5])).toBeCloseTo(1, 12);
    expect(rSquared([1, 2, 3], [1, 3, 5])).toBeCloseTo(0.375, 12);
    expect(() => rmse([1], [1, 2])).toThrow(/1 predictions for 2/);
  });
});

describe('metric names', () => {
  it('parses and rejects with a clear message', () => {
    expect(parseMetric('NDCG@10')).toEqual({ label: 'ndcg@10', name: 'ndcg', k: 10 });
    expect(parseMetric('roem').k).toBe(Infinity);
    expect(() => parseMetric('ndcg')).toThrow(/needs a cut-off/);
    expect(() => parseMetric('auc@10')).toThrow(/takes no @k/);
    expect(() => parseMetric('foo@3')).toThrow(/unknown metric "foo"/);
    expect(metricDirection('roem')).toBe('lower');
    expect(metricDirection('ndcg')).toBe('higher');
  });
});
