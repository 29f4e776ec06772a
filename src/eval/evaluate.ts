/**
 * Evaluation protocols: scores test users in batches through `model.recommend` (full ranking over all items,
 * or 1 relevant against N sampled negatives) and computes the requested metrics per user.
 */
import type { Interactions } from '../data/interactions.js';
import { throwIfAborted, type Progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import type { Recommender, TopK } from '../models/contract.js';
import {
  aucOfRanking, averagePopularityAt, averagePrecisionAt, catalogCoverage, hitRateAt, intraListDiversityAt, mae, ndcgAt,
  noveltyAt, percentileRankTerms, precisionAt, recallAt, reciprocalRankAt, rmse, rSquared, truncatedRecallAt,
  type ItemFeatureSets, type MetricSpec, type Relevance,
} from './metrics.js';
import { pairedTTest, summarize, wilcoxonSignedRank, type MetricSummary, type PairedTest } from './stats.js';

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** Metrics to compute (see `parseMetric`). */
  metrics: MetricSpec[];
  /** `full` ranks every candidate item; `sampled` ranks each relevant item against `negatives` sampled items. */
  protocol?: 'full' | 'sampled';
  /** Negatives per relevant item in the sampled protocol (default 100). */
  negatives?: number;
  /** Exclude each user's training items from their ranking (default true; ignored by the sampled protocol). */
  excludeSeen?: boolean;
  /**
   * Further items per user to leave out of the ranking (and, in the sampled protocol, never to draw as
   * negatives): the validation part when testing, so train ∪ validation is masked. Same index spaces as `train`.
   */
  alsoExclude?: Interactions;
  /** Rank only these items (e.g. KuaiRec's small-matrix items). */
  candidates?: Int32Array;
  /** Test entries with value >= this are relevant (default: every test entry). */
  relevanceThreshold?: number;
  /** Held-out-user protocols: the fold-in histories, passed to `recommendForHistory`. */
  foldIn?: Interactions;
  /**
   * Also evaluate users whose test entries are all below the threshold (full protocol): their top-k metrics
   * are 0 and AUC/ROEM undefined. Default false: they are excluded and counted.
   */
  keepUsersWithoutRelevant?: boolean;
  /**
   * Evaluate only the users u with `onlyUsers[u] === 1` (e.g. users with friends); the others are skipped and
   * counted in `usersOutsideFilter`. Indexed like `test`'s users; users beyond its length are skipped.
   */
  onlyUsers?: Uint8Array;
  /** Users per `recommend` call (default 1024). */
  batchSize?: number;
  /** Seed of negative sampling and bootstrap (default 1). */
  seed?: number;
  /** Multi-hot item features for `diversity@k`. */
  itemFeatures?: ItemFeatureSets;
  /** Similarity used by `diversity@k` (default jaccard). */
  diversitySimilarity?: 'jaccard' | 'cosine';
  /** Bootstrap resamples per metric (default 1000; 0 disables the interval). */
  bootstrap?: number;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

/** What an evaluation produced. */
export interface EvaluationResult {
  /** Summary per metric label. */
  metrics: Record<string, MetricSummary>;
  /** Per-user values per metric label, aligned with `users` (NaN where undefined); global metrics are absent. */
  perUser: Record<string, Float64Array>;
  /** The evaluated users (those with at least one relevant test item, unless `keepUsersWithoutRelevant`). */
  users: Int32Array;
  /** Users with test entries but no relevant item (excluded from ranking metrics). */
  usersWithoutRelevant: number;
  /** Users with test entries left out by `onlyUsers` (absent without a filter). */
  usersOutsideFilter?: number;
  /** Seconds spent in the model's recommend/score calls. */
  scoringSeconds: number;
  /** Remarks (e.g. a metric the model cannot provide). */
  notes: string[];
}

const RANKING_K = new Set(['precision', 'recall', 'recall_trunc', 'ndcg', 'ndcg_graded', 'ndcg_exp', 'map', 'map_full', 'mrr', 'hitrate', 'coverage', 'novelty', 'diversity', 'arp']);

/** The relevant items of user u in `test` (value >= threshold) with their values as gains. */
function relevanceOf(test: Interactions, u: number, threshold: number): Map<number, number> {
  const rel = new Map<number, number>();
  const items = test.userItems(u);
  const vals = test.userValues(u);
  for (let j = 0; j < items.length; j++) if (vals[j] >= threshold) rel.set(items[j], vals[j]);
  return rel;
}

/**
 * Evaluates a fitted model on `test`. Users evaluated are those with at least one relevant test entry; ranking
 * metrics are per-user means. `train` supplies the seen items to exclude and the popularity used by novelty/arp.
 */
export async function evaluateModel(model: Recommender, train: Interactions, test: Interactions, options: EvaluateOptions): Promise<EvaluationResult> {
  const threshold = options.relevanceThreshold ?? -Infinity;
  const protocol = options.protocol ?? 'full';
  const notes: string[] = [];
  const users: number[] = [];
  let usersWithoutRelevant = 0;
  let usersOutsideFilter = 0;
  const only = options.onlyUsers;
  for (let u = 0; u < test.nUsers; u++) {
    const n = test.rowPtr[u + 1] - test.rowPtr[u];
    if (n === 0) continue;
    if (only && only[u] !== 1) {
      usersOutsideFilter++;
      continue;
    }
    if (relevanceOf(test, u, threshold).size > 0) users.push(u);
    else {
      usersWithoutRelevant++;
      if (options.keepUsersWithoutRelevant && protocol === 'full') users.push(u);
    }
  }
  const ranking = options.metrics.filter((m) => RANKING_K.has(m.name) || m.name === 'auc' || m.name === 'roem');
  const rating = options.metrics.filter((m) => m.name === 'rmse' || m.name === 'mae' || m.name === 'r2');
  const perUser: Record<string, Float64Array> = {};
  const weights: Record<string, Float64Array> = {};
  for (const m of ranking) {
    if (m.name === 'coverage') continue;
    perUser[m.label] = new Float64Array(users.length).fill(NaN);
  }
  const needsFull = ranking.some((m) => m.name === 'auc' || m.name === 'roem' || (m.name === 'mrr' && m.k === Infinity));
  const nCandidates = options.candidates ? options.candidates.length : train.nItems;
  let maxK = 0;
  for (const m of ranking) if (Number.isFinite(m.k)) maxK = Math.max(maxK, m.k);
  const K = needsFull ? nCandidates : maxK;
  if (ranking.some((m) => m.name === 'diversity') && !options.itemFeatures) throw new Error('metric diversity@k needs multi-hot item features (set "diversityFeature" to a feature of the data set)');
  const itemCounts = train.itemCounts();
  const itemUsers = itemCounts; // one entry per (user, item) pair, so entries per item = users per item
  let nUsersWithTrain = 0;
  for (let u = 0; u < train.nUsers; u++) if (train.rowPtr[u + 1] > train.rowPtr[u]) nUsersWithTrain++;
  const coverageLists: Int32Array[] = [];
  // ROEM is a pooled ratio: per-user values weigh by their Σ r_ui.
  if (ranking.some((m) => m.name === 'roem')) weights.roem = new Float64Array(users.length);
  // Cap a batch's result matrix at ~4M entries (full rankings of large catalogs would otherwise take GBs).
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 1024, Math.floor(4_194_304 / Math.max(1, K))));
  let scoringMs = 0;
  const total = users.length;
  let done = 0;

  const scoreUser = (row: number, ranked: Int32Array, scores: Float32Array, rel: Relevance): void => {
    for (const m of ranking) {
      const arr = perUser[m.label];
      switch (m.name) {
        case 'precision': arr[row] = precisionAt(ranked, rel, m.k); break;
        case 'recall': arr[row] = recallAt(ranked, rel, m.k); break;
        case 'recall_trunc': arr[row] = truncatedRecallAt(ranked, rel, m.k); break;
        case 'ndcg': arr[row] = ndcgAt(ranked, rel, m.k, 'binary'); break;
        case 'ndcg_graded': arr[row] = ndcgAt(ranked, rel, m.k, 'linear'); break;
        case 'ndcg_exp': arr[row] = ndcgAt(ranked, rel, m.k, 'exp'); break;
        case 'map': arr[row] = averagePrecisionAt(ranked, rel, m.k, 'truncated'); break;
        case 'map_full': arr[row] = averagePrecisionAt(ranked, rel, m.k, 'full'); break;
        case 'mrr': arr[row] = reciprocalRankAt(ranked, rel, m.k); break;
        case 'hitrate': arr[row] = hitRateAt(ranked, rel, m.k); break;
        case 'auc': arr[row] = aucOfRanking(ranked, scores, rel); break;
        case 'roem': {
          const t = percentileRankTerms(ranked, scores, rel);
          weights.roem[row] = t.denominator;
          arr[row] = t.denominator > 0 ? t.numerator / t.denominator : NaN;
          break;
        }
        case 'novelty': arr[row] = noveltyAt(ranked, m.k, itemUsers, Math.max(1, nUsersWithTrain)); break;
        case 'arp': arr[row] = averagePopularityAt(ranked, m.k, itemCounts); break;
        case 'diversity': arr[row] = intraListDiversityAt(ranked, m.k, options.itemFeatures!, options.diversitySimilarity ?? 'jaccard'); break;
        case 'coverage': break;
        default: break;
      }
    }
    if (ranking.some((m) => m.name === 'coverage')) coverageLists.push(ranked.slice(0, maxK));
  };

  const report = (): void => options.onProgress?.({ phase: 'scoring users', done, total });
  if (ranking.length > 0 && protocol === 'full') {
    const excludeSeen = options.excludeSeen ?? true;
    for (let start = 0; start < users.length; start += batchSize) {
      await yieldToEventLoop();
      throwIfAborted(options.signal);
      const batch = users.slice(start, start + batchSize);
      const t0 = performance.now();
      let top: TopK;
      if (options.foldIn) {
        top = await recommendFoldIn(model, options.foldIn, batch, K, options.candidates);
      } else if (options.alsoExclude) {
        top = await recommendMasked(model, batch, K, options.alsoExclude, { excludeSeen, candidates: options.candidates });
      } else {
        top = await model.recommend(Int32Array.from(batch), K, { excludeSeen, candidates: options.candidates });
      }
      scoringMs += performance.now() - t0;
      for (let r = 0; r < batch.length; r++) {
        const row = start + r;
        const u = batch[r];
        scoreUser(row, top.items.subarray(r * K, (r + 1) * K), top.scores.subarray(r * K, (r + 1) * K), relevanceOf(test, u, threshold));
      }
      done += batch.length;
      report();
    }
  } else if (ranking.length > 0) {
    await sampledProtocol(model, train, test, users, threshold, options, ranking, perUser, (ms) => { scoringMs += ms; }, (d) => { done = d; report(); });
    const skipped = ranking.filter((m) => m.name === 'coverage' || m.name === 'novelty' || m.name === 'diversity' || m.name === 'arp');
    if (skipped.length > 0) notes.push(`sampled protocol: ${skipped.map((m) => m.label).join(', ')} not computed (they need full-catalog lists)`);
  }

  const metrics: Record<string, MetricSummary> = {};
  const boot = { resamples: options.bootstrap ?? 1000, seed: options.seed ?? 1 };
  for (const m of ranking) {
    if (m.name === 'coverage' && protocol === 'sampled') {
      metrics[m.label] = { mean: NaN, stderr: NaN, ci95: [NaN, NaN], n: 0 };
    } else if (m.name === 'coverage') {
      const catalog = options.candidates ? options.candidates.length : train.nItems;
      metrics[m.label] = { mean: catalogCoverage(coverageLists, m.k, catalog), stderr: NaN, ci95: [NaN, NaN], n: coverageLists.length };
    } else if (m.name === 'roem' && protocol === 'full') {
      metrics[m.label] = summarize(perUser[m.label], weights.roem, boot);
    } else {
      metrics[m.label] = summarize(perUser[m.label], undefined, boot);
    }
  }
  if (rating.length > 0) {
    if (!model.score) {
      notes.push(`model "${model.name}" has no score(): ${rating.map((m) => m.label).join(', ')} not computed`);
      for (const m of rating) metrics[m.label] = { mean: NaN, stderr: NaN, ci95: [NaN, NaN], n: 0 };
    } else {
      const coo = test.toCoo();
      const t0 = performance.now();
      const pred = await model.score(coo.userIdx, coo.itemIdx);
      scoringMs += performance.now() - t0;
      for (const m of rating) {
        const value = m.name === 'rmse' ? rmse(pred, coo.values) : m.name === 'mae' ? mae(pred, coo.values) : rSquared(pred, coo.values);
        metrics[m.label] = { mean: value, stderr: NaN, ci95: [NaN, NaN], n: coo.values.length };
      }
    }
  }
  return { metrics, perUser, users: Int32Array.from(users), usersWithoutRelevant, ...(only ? { usersOutsideFilter } : {}), scoringSeconds: scoringMs / 1000, notes };
}

/**
 * Lets timers, I/O and signal handlers (Ctrl-C) run: a chain of already-resolved awaits never returns to the
 * event loop, so long evaluations call this between batches.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Top-k of each user with `mask`'s items of that user left out: asks the model for k + (the batch's largest
 * masked row) items, drops the masked ones and keeps the first k (padded with -1 / -Infinity).
 */
async function recommendMasked(model: Recommender, batch: number[], k: number, mask: Interactions, options: { excludeSeen: boolean; candidates?: Int32Array }): Promise<TopK> {
  let extra = 0;
  for (const u of batch) extra = Math.max(extra, mask.rowPtr[u + 1] - mask.rowPtr[u]);
  const wide = k + extra;
  const top = await model.recommend(Int32Array.from(batch), wide, options);
  if (extra === 0) return top;
  const items = new Int32Array(batch.length * k).fill(-1);
  const scores = new Float32Array(batch.length * k).fill(-Infinity);
  for (let r = 0; r < batch.length; r++) {
    const masked = mask.userItems(batch[r]);
    let o = 0;
    for (let j = 0; j < wide && o < k; j++) {
      const item = top.items[r * wide + j];
      if (item >= 0 && masked.length > 0 && isIn(masked, item)) continue;
      items[r * k + o] = item;
      scores[r * k + o] = top.scores[r * wide + j];
      o++;
    }
  }
  return { k, items, scores };
}

/** Whether sorted `row` holds `x` (binary search). */
function isIn(row: Int32Array, x: number): boolean {
  let lo = 0;
  let hi = row.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (row[mid] === x) return true;
    if (row[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Scores held-out users from their fold-in histories (one `recommendForHistory` call per user). */
async function recommendFoldIn(model: Recommender, foldIn: Interactions, batch: number[], k: number, candidates: Int32Array | undefined): Promise<TopK> {
  if (!model.recommendForHistory) throw new Error(`model "${model.name}" cannot score held-out users (no recommendForHistory); use a split that keeps test users in train`);
  const items = new Int32Array(batch.length * k).fill(-1);
  const scores = new Float32Array(batch.length * k).fill(-Infinity);
  for (let r = 0; r < batch.length; r++) {
    const u = batch[r];
    const top = await model.recommendForHistory({ items: foldIn.userItems(u).slice(), values: foldIn.userValues(u).slice() }, k, { candidates });
    items.set(top.items.subarray(0, k), r * k);
    scores.set(top.scores.subarray(0, k), r * k);
  }
  return { k, items, scores };
}

/**
 * The sampled protocol: for each relevant test item of a user, `negatives` items the user never interacted with
 * (in train or test) are drawn uniformly without replacement; the model ranks these 1 + N candidates, and the
 * metrics of that ranking (relevance = the one item) are averaged over the user's relevant items.
 */
async function sampledProtocol(
  model: Recommender, train: Interactions, test: Interactions, users: number[], threshold: number, options: EvaluateOptions,
  ranking: MetricSpec[], perUser: Record<string, Float64Array>, addMs: (ms: number) => void, progress: (done: number) => void,
): Promise<void> {
  const negatives = options.negatives ?? 100;
  if (!Number.isInteger(negatives) || negatives < 1) throw new Error(`sampled protocol: "negatives" must be a positive integer, got ${negatives}`);
  // The `negatives` fork: the same seed also feeds the bootstrap, which must not replay these draws.
  const rng = new Rng(options.seed ?? 1).fork('negatives');
  const pool = options.candidates ?? Int32Array.from({ length: train.nItems }, (_, i) => i);
  const touched = new Uint8Array(train.nItems);
  const nCand = negatives + 1;
  for (let row = 0; row < users.length; row++) {
    if (row % 64 === 0) await yieldToEventLoop();
    throwIfAborted(options.signal);
    const u = users[row];
    const rel = relevanceOf(test, u, threshold);
    const own = [...train.userItems(u), ...test.userItems(u), ...(options.alsoExclude?.userItems(u) ?? [])];
    for (const i of own) touched[i] = 1;
    let available = 0;
    for (let j = 0; j < pool.length; j++) if (!touched[pool[j]]) available++;
    if (available < negatives) throw new Error(`sampled protocol: user ${u} has only ${available} non-interacted items, fewer than ${negatives} negatives`);
    const sums = new Map<string, number>();
    for (const [item, gain] of rel) {
      const cands = new Int32Array(nCand);
      cands[0] = item;
      const picked = new Set<number>();
      while (picked.size < negatives) {
        const c = pool[rng.int(pool.length)];
        if (!touched[c]) picked.add(c);
      }
      let j = 1;
      for (const c of picked) cands[j++] = c;
      const t0 = performance.now();
      const top = await model.recommend([u], nCand, { excludeSeen: false, candidates: cands });
      addMs(performance.now() - t0);
      const one = new Map([[item, gain]]);
      for (const m of ranking) {
        let v: number;
        switch (m.name) {
          case 'precision': v = precisionAt(top.items, one, m.k); break;
          case 'recall': case 'recall_trunc': case 'hitrate': v = hitRateAt(top.items, one, m.k); break;
          case 'ndcg': case 'ndcg_graded': case 'ndcg_exp': v = ndcgAt(top.items, one, m.k, 'binary'); break;
          case 'map': case 'map_full': v = averagePrecisionAt(top.items, one, m.k); break;
          case 'mrr': v = reciprocalRankAt(top.items, one, m.k); break;
          case 'auc': v = aucOfRanking(top.items, top.scores, one); break;
          case 'roem': { const t = percentileRankTerms(top.items, top.scores, one); v = t.denominator > 0 ? t.numerator / t.denominator : NaN; break; }
          default: v = NaN;
        }
        sums.set(m.label, (sums.get(m.label) ?? 0) + v);
      }
    }
    for (const i of own) touched[i] = 0;
    for (const m of ranking) if (perUser[m.label]) perUser[m.label][row] = (sums.get(m.label) ?? NaN) / rel.size;
    if ((row + 1) % 256 === 0 || row + 1 === users.length) progress(row + 1);
  }
}

/** Paired per-user tests of metric `label` between two evaluations of the same test set (a − b). */
export function compareEvaluations(a: EvaluationResult, b: EvaluationResult, label: string): { tTest: PairedTest; wilcoxon: PairedTest } {
  const va = a.perUser[label];
  const vb = b.perUser[label];
  if (!va || !vb) throw new Error(`compare: metric "${label}" has no per-user values in both evaluations`);
  if (a.users.length !== b.users.length || a.users.some((u, j) => u !== b.users[j])) throw new Error('compare: the two evaluations cover different users');
  return { tTest: pairedTTest(va, vb), wilcoxon: wilcoxonSignedRank(va, vb) };
}
