import { describe, expect, it } from 'vitest';
import { aucOfRanking, averagePrecisionAt, ndcgAt, percentileRankTerms } from '../../src/eval/metrics.js';
import { Rng } from '../../src/core/rng.js';

/** A random ranking of n items with scores drawn from few values (many ties), and a random relevant set. */
function randomCase(rng: Rng, n: number): { ranked: Int32Array; scores: Float32Array; rel: Map<number, number> } {
  const items = rng.permutation(n);
  const raw = Array.from({ length: n }, () => rng.int(4));
  raw.sort((a, b) => b - a);
  const rel = new Map<number, number>();
  for (let j = 0; j < n; j++) if (rng.uniform() < 0.3) rel.set(items[j], 1 + rng.int(3));
  return { ranked: items, scores: Float32Array.from(raw), rel };
}

describe('whole-ranking metrics against brute force over pairs', () => {
  it('AUC = share of (relevant, other) pairs ordered right, ties ½', () => {
    const rng = new Rng(11);
    for (let t = 0; t < 200; t++) {
      const { ranked, scores, rel } = randomCase(rng, 2 + rng.int(30));
      let good = 0;
      let pairs = 0;
      for (let a = 0; a < ranked.length; a++) {
        if (!rel.has(ranked[a])) continue;
        for (let b = 0; b < ranked.length; b++) {
          if (rel.has(ranked[b])) continue;
          pairs++;
          good += scores[a] > scores[b] ? 1 : scores[a] === scores[b] ? 0.5 : 0;
        }
      }
      const auc = aucOfRanking(ranked, scores, rel);
      if (pairs === 0) expect(auc).toBeNaN();
      else expect(auc).toBeCloseTo(good / pairs, 10);
    }
  });

  it('ROEM percentile rank = (items strictly above + ½ tied others) / (n − 1)', () => {
    const rng = new Rng(12);
    for (let t = 0; t < 200; t++) {
      const { ranked, scores, rel } = randomCase(rng, 2 + rng.int(30));
      let num = 0;
      let den = 0;
      const n = ranked.length;
      for (let a = 0; a < n; a++) {
        const g = rel.get(ranked[a]);
        if (g === undefined) continue;
        let above = 0;
        for (let b = 0; b < n; b++) if (b !== a) above += scores[b] > scores[a] ? 1 : scores[b] === scores[a] ? 0.5 : 0;
        num += g * (above / (n - 1));
        den += g;
      }
      const terms = percentileRankTerms(ranked, scores, rel);
      expect(terms.denominator).toBeCloseTo(den, 10);
      expect(terms.numerator).toBeCloseTo(num, 10);
    }
  });
});

describe('top-k metrics: bounds and the ideal ranking', () => {
  it('NDCG and MAP are 1 for the ideal ranking and within [0, 1] otherwise', () => {
    const rng = new Rng(13);
    for (let t = 0; t < 200; t++) {
      const { ranked, rel } = randomCase(rng, 5 + rng.int(30));
      if (rel.size === 0) continue;
      const k = 1 + rng.int(12);
      for (const kind of ['binary', 'linear', 'exp'] as const) {
        const v = ndcgAt(ranked, rel, k, kind);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1 + 1e-12);
      }
      const ideal = Int32Array.from([...rel.entries()].sort((a, b) => b[1] - a[1]).map((e) => e[0]));
      expect(ndcgAt(ideal, rel, k, 'linear')).toBeCloseTo(1, 12);
      expect(averagePrecisionAt(ideal, rel, k, 'truncated')).toBeCloseTo(1, 12);
      const ap = averagePrecisionAt(ranked, rel, k);
      expect(ap).toBeGreaterThanOrEqual(0);
      expect(ap).toBeLessThanOrEqual(1 + 1e-12);
    }
  });
});
