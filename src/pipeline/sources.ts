/**
 * Retrieval sources: each turns a query (a training user or an unseen user's history, the user's vector when
 * the model has one, the items to leave out) into a list of candidates labelled with the source's name.
 */
import type { Interactions } from '../data/interactions.js';
import type { Rng } from '../core/rng.js';
import type { History, Recommender, TopK } from '../models/contract.js';
import type { VectorIndex } from './exact.js';
import type { Candidate } from './types.js';

/** What a source is asked. */
export interface RetrievalQuery {
  /** Training user index, or null for an unseen user's history. */
  userIndex: number | null;
  /** The history of an unseen user (null for a training user). */
  history: History | null;
  /** The user's vector in the model's vector space (perturbed when noise exploration is on), when there is one. */
  userVector: Float32Array | null;
  /** Items never to return: the user's seen items and the caller's exclusions. */
  exclude: ReadonlySet<number>;
  /** The query's random stream (sources that sample draw from a fork of it). */
  rng: Rng;
}

/** A named producer of candidates. */
export interface CandidateSource {
  /** Carried by every candidate it produces (`Candidate.source`). */
  readonly name: string;
  /** Up to `k` candidates, best first, none of them in `query.exclude`. */
  retrieve(query: RetrievalQuery, k: number): Promise<Candidate[]>;
  /**
   * True when the scores are exactly the ranking's: the user vector's inner product (+ bias) with the pipeline
   * model's own item vectors, computed by the kernels. The pipeline then ranks these candidates by their
   * retrieval scores instead of scoring them again, and, when nothing else ranks or explores, retrieves only the
   * `k` asked for.
   */
  readonly modelScores?: boolean;
}

/** Options of {@link vectorSource}. */
export interface VectorSourceOptions {
  /** Name carried by the candidates (default "ann" for HNSW, "exact" otherwise). */
  name?: string;
  /**
   * The index holds the pipeline model's own item vectors (and biases), as the default index of a pipeline and the one
   * `openPipeline` builds do. An exact index over them then gives the ranking's scores ({@link CandidateSource.modelScores}).
   */
  modelVectors?: boolean;
}

/** Candidates from a vector index (exact or HNSW) searched with the user's vector. */
export function vectorSource(index: VectorIndex, options: VectorSourceOptions | string = {}): CandidateSource {
  const { name = index.kind === 'exact' ? 'exact' : 'ann', modelVectors = false } = typeof options === 'string' ? { name: options } : options;
  return {
    name,
    modelScores: modelVectors && index.kind === 'exact',
    async retrieve(q, k) {
      if (!q.userVector) return [];
      const hits = await index.search({ rows: 1, cols: q.userVector.length, data: q.userVector }, Math.min(k, index.size), q.exclude);
      return fromTopK(hits, name);
    },
  };
}

/**
 * Candidates from the model's own `recommend` (training users) or `recommendForHistory` (unseen users): works
 * for every model, including the history-based ones (EASE, item-KNN) that have no item vectors.
 */
export function modelSource(model: Recommender, nItems: number, name = 'model'): CandidateSource {
  return {
    name,
    async retrieve(q, k) {
      const kk = Math.min(k, nItems);
      const filterItems = Int32Array.from(q.exclude);
      if (q.userIndex !== null) return fromTopK(await model.recommend([q.userIndex], kk, { filterItems }), name);
      if (q.history && model.recommendForHistory) return fromTopK(await model.recommendForHistory(q.history, kk, { filterItems }), name);
      return [];
    },
  };
}

/** The items with the most distinct users in `train`, score = that count. */
export function popularitySource(train: Interactions, name = 'popularity'): CandidateSource {
  const counts = itemUserCounts(train);
  const order = Int32Array.from({ length: train.nItems }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  return {
    name,
    async retrieve(q, k) {
      const out: Candidate[] = [];
      for (let j = 0; j < order.length && out.length < k; j++) if (!q.exclude.has(order[j])) out.push({ item: order[j], score: counts[order[j]], source: name });
      return out;
    },
  };
}

/**
 * Items viewed by at most `maxViews` distinct users in `train` (e.g. 1), a random sample per query drawn from
 * the query's stream (fork "least-viewed"); score = −views, so fewer views come first among equals.
 */
export function leastViewedSource(train: Interactions, maxViews: number, name = 'least-viewed'): CandidateSource {
  if (!(Number.isInteger(maxViews) && maxViews >= 0)) throw new RangeError(`least-viewed: maxViews must be an integer >= 0 (got ${maxViews})`);
  const counts = itemUserCounts(train);
  const pool = Int32Array.from({ length: train.nItems }, (_, i) => i).filter((i) => counts[i] <= maxViews);
  return {
    name,
    async retrieve(q, k) {
      const open = pool.filter((i) => !q.exclude.has(i));
      const picked = q.rng.fork(name).sample(open.length, Math.min(k, open.length));
      return Array.from(picked, (j) => ({ item: open[j], score: -counts[open[j]], source: name }));
    },
  };
}

/** Distinct users per item (entries per column of the CSR). */
export function itemUserCounts(train: Interactions): Int32Array {
  const counts = new Int32Array(train.nItems);
  for (let p = 0; p < train.nnz; p++) counts[train.colIdx[p]]++;
  return counts;
}

/** Row 0 of a top-k as candidates, stopping at the padding. */
function fromTopK(top: Pick<TopK, 'k' | 'items' | 'scores'>, source: string): Candidate[] {
  const out: Candidate[] = [];
  for (let j = 0; j < top.k; j++) {
    const item = top.items[j];
    if (item < 0) break;
    out.push({ item, score: top.scores[j], source });
  }
  return out;
}
