/**
 * Evaluation metrics: per-user ranking metrics on one ranked list, whole-ranking metrics (AUC, ROEM),
 * beyond-accuracy metrics (coverage, novelty, diversity, popularity) and rating-error metrics.
 *
 * Conventions (also in docs/evaluation.md):
 * - A ranked list is an `Int32Array` of item indices best first, possibly padded with -1 (fewer rankable items
 *   than k); padding never counts as a hit, and precision still divides by k.
 * - `rel` maps each relevant item of the user to its gain (1 for binary relevance, the test value for graded).
 * - Ties in score: top-k metrics use the order the model returned (built-in models put the lower item index
 *   first); AUC and ROEM give tied items the mean of the positions their tie group spans (half credit per
 *   tied pair), so a constant scorer gets AUC 0.5 and ROEM 50 %.
 */

import { ndcgAt, type GainKind, type Relevance } from '../models/ndcg.js';

// NDCG and the relevance type are defined once, in the model layer (models validate with it during training).
export { ndcgAt, type GainKind, type Relevance };

/** Number of hits in the first k positions. */
function hitsAt(ranked: ArrayLike<number>, rel: Relevance, k: number): number {
  let h = 0;
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) if (ranked[r] >= 0 && rel.has(ranked[r])) h++;
  return h;
}

/** Precision@k = |hits in top k| / k (k, not the list length, even when fewer than k items were rankable). */
export function precisionAt(ranked: ArrayLike<number>, rel: Relevance, k: number): number {
  return hitsAt(ranked, rel, k) / k;
}

/** Recall@k = |hits in top k| / |rel| (0 when the user has no relevant items). */
export function recallAt(ranked: ArrayLike<number>, rel: Relevance, k: number): number {
  return rel.size === 0 ? 0 : hitsAt(ranked, rel, k) / rel.size;
}

/** Truncated recall@k = |hits in top k| / min(k, |rel|), which can reach 1 when |rel| > k. */
export function truncatedRecallAt(ranked: ArrayLike<number>, rel: Relevance, k: number): number {
  return rel.size === 0 ? 0 : hitsAt(ranked, rel, k) / Math.min(k, rel.size);
}

/** HitRate@k = 1 when at least one relevant item is in the top k, else 0. */
export function hitRateAt(ranked: ArrayLike<number>, rel: Relevance, k: number): number {
  return hitsAt(ranked, rel, k) > 0 ? 1 : 0;
}

/**
 * Average precision@k = Σ_{r ≤ k, item_r relevant} Precision@r / N, with N = min(k, |rel|) (`truncated`, the
 * default, RecBole/most papers) or N = |rel| (`full`). MAP is its mean over users.
 */
export function averagePrecisionAt(ranked: ArrayLike<number>, rel: Relevance, k: number, normalizer: 'truncated' | 'full' = 'truncated'): number {
  if (rel.size === 0) return 0;
  const n = Math.min(k, ranked.length);
  let hits = 0;
  let sum = 0;
  for (let r = 0; r < n; r++) {
    if (ranked[r] >= 0 && rel.has(ranked[r])) {
      hits++;
      sum += hits / (r + 1);
    }
  }
  return sum / (normalizer === 'full' ? rel.size : Math.min(k, rel.size));
}

/** Reciprocal rank@k = 1 / (1-based position of the first relevant item within the top k), 0 if none. */
export function reciprocalRankAt(ranked: ArrayLike<number>, rel: Relevance, k: number = Infinity): number {
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) if (ranked[r] >= 0 && rel.has(ranked[r])) return 1 / (r + 1);
  return 0;
}

/**
 * Mean 0-based position of each ranked entry, tie groups (equal scores) sharing the mean of the positions they
 * span. `ranked`/`scores` are the full ranking of the candidates, best first; padding (-1) is ignored.
 */
export function midRanks(ranked: ArrayLike<number>, scores: ArrayLike<number>): { n: number; pos: Float64Array } {
  let n = 0;
  while (n < ranked.length && ranked[n] >= 0) n++;
  const pos = new Float64Array(n);
  let a = 0;
  while (a < n) {
    let b = a + 1;
    while (b < n && scores[b] === scores[a]) b++;
    const mid = (a + b - 1) / 2;
    for (let r = a; r < b; r++) pos[r] = mid;
    a = b;
  }
  return { n, pos };
}

/**
 * AUC over the user's full candidate ranking: the share of (relevant, non-relevant) candidate pairs in which the
 * relevant item ranks higher, ties counting one half. Relevant items that are not in the ranking (not
 * candidates) are ignored. NaN when there is no relevant or no non-relevant candidate.
 */
export function aucOfRanking(ranked: ArrayLike<number>, scores: ArrayLike<number>, rel: Relevance): number {
  const { n, pos } = midRanks(ranked, scores);
  let nPos = 0;
  let sumPos = 0;
  for (let r = 0; r < n; r++) {
    if (rel.has(ranked[r])) {
      nPos++;
      sumPos += pos[r];
    }
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  // Items ranked above a relevant item at mid-position p: p of them, of which (relevant ones) are excluded.
  // Σ over relevant of (#negatives above) = Σ pos − nPos(nPos−1)/2 (relevant-vs-relevant pairs, ties included).
  const negAbove = sumPos - (nPos * (nPos - 1)) / 2;
  return 1 - negAbove / (nPos * nNeg);
}

/**
 * ROEM / expected percentile rank terms for one user: Σ r_ui · rank_ui and Σ r_ui over the user's relevant items
 * found in the ranking, where rank_ui = midposition / (n − 1) ∈ [0, 1] is the item's percentile rank among the n
 * ranked candidates (0 = top; Spark's PERCENT_RANK, ties sharing their mean) and r_ui the item's gain (test value).
 * The metric is Σ_users numerator / Σ_users denominator: lower is better, random scoring gives 0.5.
 */
export function percentileRankTerms(ranked: ArrayLike<number>, scores: ArrayLike<number>, rel: Relevance): { numerator: number; denominator: number } {
  const { n, pos } = midRanks(ranked, scores);
  let num = 0;
  let den = 0;
  for (let r = 0; r < n; r++) {
    const g = rel.get(ranked[r]);
    if (g === undefined) continue;
    num += g * (n > 1 ? pos[r] / (n - 1) : 0);
    den += g;
  }
  return { numerator: num, denominator: den };
}

/** Catalog coverage = |distinct items recommended in any top-k list| / catalogSize. Padding is ignored. */
export function catalogCoverage(lists: Iterable<ArrayLike<number>>, k: number, catalogSize: number): number {
  const seen = new Set<number>();
  for (const list of lists) {
    const n = Math.min(k, list.length);
    for (let r = 0; r < n; r++) if (list[r] >= 0) seen.add(list[r]);
  }
  return catalogSize > 0 ? seen.size / catalogSize : 0;
}

/**
 * Novelty@k of one list = mean over its items of −log2 p(i), with p(i) = (users with i in train) / (users with any
 * training entry) and items never seen in train counted as seen by one user. NaN for an empty list.
 */
export function noveltyAt(ranked: ArrayLike<number>, k: number, itemUsers: ArrayLike<number>, nUsersWithTrain: number): number {
  const n = Math.min(k, ranked.length);
  let sum = 0;
  let m = 0;
  for (let r = 0; r < n; r++) {
    const i = ranked[r];
    if (i < 0) continue;
    sum += -Math.log2(Math.max(1, itemUsers[i]) / nUsersWithTrain);
    m++;
  }
  return m > 0 ? sum / m : NaN;
}

/** Average recommended popularity@k of one list = mean training interaction count of its items. NaN when empty. */
export function averagePopularityAt(ranked: ArrayLike<number>, k: number, itemCounts: ArrayLike<number>): number {
  const n = Math.min(k, ranked.length);
  let sum = 0;
  let m = 0;
  for (let r = 0; r < n; r++) {
    const i = ranked[r];
    if (i < 0) continue;
    sum += itemCounts[i];
    m++;
  }
  return m > 0 ? sum / m : NaN;
}

/** A multi-hot feature per item as CSR (the shape of `MultiHot` in data/dataset.ts). */
export interface ItemFeatureSets {
  ptr: Int32Array;
  idx: Int32Array;
}

/** Similarity of two items' feature sets: Jaccard |A∩B|/|A∪B| or cosine |A∩B|/√(|A||B|); 0 when either is empty. */
export function featureSimilarity(f: ItemFeatureSets, a: number, b: number, kind: 'jaccard' | 'cosine'): number {
  const a0 = f.ptr[a];
  const a1 = f.ptr[a + 1];
  const b0 = f.ptr[b];
  const b1 = f.ptr[b + 1];
  const na = a1 - a0;
  const nb = b1 - b0;
  if (na === 0 || nb === 0) return 0;
  const setA = new Set<number>();
  for (let p = a0; p < a1; p++) setA.add(f.idx[p]);
  const sizeA = setA.size;
  let inter = 0;
  const setB = new Set<number>();
  for (let p = b0; p < b1; p++) setB.add(f.idx[p]);
  for (const x of setB) if (setA.has(x)) inter++;
  return kind === 'jaccard' ? inter / (sizeA + setB.size - inter) : inter / Math.sqrt(sizeA * setB.size);
}

/**
 * Intra-list diversity@k of one list = 1 − mean pairwise similarity of its items' feature sets (Jaccard or
 * cosine over multi-hot features). NaN when the list has fewer than two items.
 */
export function intraListDiversityAt(ranked: ArrayLike<number>, k: number, features: ItemFeatureSets, kind: 'jaccard' | 'cosine' = 'jaccard'): number {
  const items: number[] = [];
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) if (ranked[r] >= 0) items.push(ranked[r]);
  if (items.length < 2) return NaN;
  let sum = 0;
  let pairs = 0;
  for (let x = 0; x < items.length; x++) {
    for (let y = x + 1; y < items.length; y++) {
      sum += featureSimilarity(features, items[x], items[y], kind);
      pairs++;
    }
  }
  return 1 - sum / pairs;
}

/** RMSE = √(mean (prediction − truth)²). */
export function rmse(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkSameLength(predicted, actual);
  let s = 0;
  for (let j = 0; j < actual.length; j++) s += (predicted[j] - actual[j]) ** 2;
  return actual.length ? Math.sqrt(s / actual.length) : NaN;
}

/** MAE = mean |prediction − truth|. */
export function mae(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkSameLength(predicted, actual);
  let s = 0;
  for (let j = 0; j < actual.length; j++) s += Math.abs(predicted[j] - actual[j]);
  return actual.length ? s / actual.length : NaN;
}

/** R² = 1 − Σ(prediction − truth)² / Σ(truth − mean truth)² (NaN when the truth is constant). */
export function rSquared(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  checkSameLength(predicted, actual);
  let mean = 0;
  for (let j = 0; j < actual.length; j++) mean += actual[j];
  mean /= actual.length;
  let ssRes = 0;
  let ssTot = 0;
  for (let j = 0; j < actual.length; j++) {
    ssRes += (predicted[j] - actual[j]) ** 2;
    ssTot += (actual[j] - mean) ** 2;
  }
  return ssTot > 0 ? 1 - ssRes / ssTot : NaN;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new Error(`metrics: ${a.length} predictions for ${b.length} true values`);
}

/** Every metric name the evaluator knows. */
export const METRIC_NAMES = [
  'precision', 'recall', 'recall_trunc', 'ndcg', 'ndcg_graded', 'ndcg_exp', 'map', 'map_full', 'mrr', 'hitrate',
  'auc', 'roem', 'coverage', 'novelty', 'diversity', 'arp', 'rmse', 'mae', 'r2',
] as const;

/** A metric name. */
export type MetricName = (typeof METRIC_NAMES)[number];

/** A parsed metric request such as `ndcg@10`. */
export interface MetricSpec {
  /** The label as written back, e.g. "ndcg@10". */
  label: string;
  name: MetricName;
  /** Cut-off; Infinity for metrics over the whole ranking (auc, roem, mrr without @k, rating metrics). */
  k: number;
}

const NEEDS_K = new Set<MetricName>(['precision', 'recall', 'recall_trunc', 'ndcg', 'ndcg_graded', 'ndcg_exp', 'map', 'map_full', 'hitrate', 'coverage', 'novelty', 'diversity', 'arp']);
const NO_K = new Set<MetricName>(['auc', 'roem', 'rmse', 'mae', 'r2']);

/** Parses `name@k` (or a bare name for auc, roem, mrr, rmse, mae, r2); throws naming the bad entry. */
export function parseMetric(text: string): MetricSpec {
  const m = /^([a-z0-9_]+)(?:@(\d+))?$/.exec(text.trim().toLowerCase());
  if (!m) throw new Error(`metric "${text}": expected name@k, e.g. ndcg@10`);
  const name = m[1] as MetricName;
  if (!(METRIC_NAMES as readonly string[]).includes(name)) throw new Error(`metric "${text}": unknown metric "${m[1]}"; known: ${METRIC_NAMES.join(', ')}`);
  if (m[2] === undefined) {
    if (NEEDS_K.has(name)) throw new Error(`metric "${text}": needs a cut-off, e.g. ${name}@10`);
    return { label: name, name, k: Infinity };
  }
  if (NO_K.has(name)) throw new Error(`metric "${text}": ${name} is computed over the whole ranking or all test pairs and takes no @k`);
  const k = Number(m[2]);
  if (k < 1) throw new Error(`metric "${text}": k must be >= 1`);
  return { label: `${name}@${k}`, name, k };
}

/** Whether larger values are better (`higher`), smaller (`lower`), or neither (`none`: popularity of recommendations). */
export function metricDirection(name: MetricName): 'higher' | 'lower' | 'none' {
  if (name === 'roem' || name === 'rmse' || name === 'mae') return 'lower';
  if (name === 'arp') return 'none';
  return 'higher';
}
