/**
 * The two-stage pipeline for one query: retrieval from one or more sources merged under quotas → ranking (a
 * ranker's `score`, else the model's own score of each candidate, else the retrieval score) → exploration
 * (noise on the user vector, least-viewed injection, Plackett–Luce sampling). Every candidate keeps its source.
 */
import { Rng } from '../core/rng.js';
import type { ExternalId } from '../data/id-map.js';
import type { History, Recommender } from '../models/contract.js';
import type { ModelManifest } from '../models/persistence.js';
import { Interactions } from '../data/interactions.js';
import { ExactIndex, type VectorIndex } from './exact.js';
import { exploreSettings, perturb, plackettLuce, type ExploreSettings, type ExploreStrategy } from './explore.js';
import type { FeatureStore } from './feature-store.js';
import { mergeCandidates, type QuotaList } from './merge.js';
import { leastViewedSource, modelSource, vectorSource, type CandidateSource, type RetrievalQuery } from './sources.js';
import { withRanks, type Candidate, type RankedCandidate } from './types.js';
import { vectorSpaceOf, type VectorSpace } from './vectors.js';

/** A model (retrieval or ranking) with the manifest it was saved with (id maps, data fingerprint). */
export interface PipelineModel {
  model: Recommender;
  manifest: Pick<ModelManifest, 'users' | 'items' | 'dataFingerprint' | 'modelType'>;
}

/** A retrieval source and its quota in the merged candidate list. */
export interface SourceQuota {
  source: CandidateSource;
  quota: number;
}

/** Options of {@link createPipeline}. */
export interface PipelineOptions extends PipelineModel {
  /** The model's training matrix (seen items, view counts); defaults to the model's `trainData` when it has one. */
  train?: Interactions;
  /** Re-scores the candidates (any model with `score`: the MLP ranker, a factor model...); ids mapped by external id. */
  ranker?: PipelineModel;
  /** Feature store of this model's data; refused when its data fingerprint is not the model's. */
  store?: FeatureStore;
  /**
   * Retrieval sources with quotas, merged in order. Default: one source with quota `candidates` — the vector
   * index (`index`, else exact retrieval on the item vectors) when the model has item vectors, else the model's
   * own recommend.
   */
  sources?: SourceQuota[];
  /** The vector index for the default source (e.g. an {@link HnswIndex}); exact when omitted. */
  index?: VectorIndex;
  /** Size of the default source's candidate list (default 100). */
  candidates?: number;
  /** Exploration settings and seed. */
  explore?: Partial<ExploreSettings> & { seed?: number };
}

/** Who to recommend for. */
export type PipelineQuery = { userIndex: number } | { history: History };

/** Per-call options of {@link Pipeline.recommend}. */
export interface PipelineCallOptions {
  /** Exploration strategies to apply (composable, applied as noise → least-viewed → sampling). */
  explore?: ExploreStrategy | readonly ExploreStrategy[];
  /** Items never to recommend (dense indices), besides the user's seen items. */
  exclude?: ArrayLike<number>;
  /** Seed of this call's exploration (default: the pipeline's seed); the same seed gives the same lists. */
  seed?: number;
  /** This call's exploration settings over the pipeline's (e.g. a live temperature or σ). */
  settings?: Partial<ExploreSettings>;
  /** This call's quota of the first (primary) source (default: its quota in `sources`, or `candidates`). */
  candidates?: number;
  /**
   * Whether the caller reads the full `retrieved` list (default true). When false and ranking would only re-sort
   * the retrieval scores (no ranker, no exploration, one source whose scores are the model's, e.g. exact
   * retrieval), only the top `k` are retrieved, and `retrieved` holds just those; `ranked` and `explored` are the
   * same either way.
   */
  keepRetrieved?: boolean;
}

/** The lists of one call: every stage, best first, with sources. */
export interface PipelineResult {
  /** Merged candidates in merge order (source blocks), with the retrieval scores. */
  retrieved: RankedCandidate[];
  /** The top `k` after ranking, without exploration. */
  ranked: RankedCandidate[];
  /** The top `k` after the requested exploration (equal to `ranked` when none). */
  explored: RankedCandidate[];
  /** What scored the ranking: "ranker", "vectors", "model-score" or "retrieval". */
  rankedBy: string;
  /** The least-viewed items that joined the candidates for exploration (empty without least-viewed). */
  injected: RankedCandidate[];
}

/** A ready pipeline. */
export interface Pipeline {
  /** Runs retrieval → ranking → exploration for one user or history. */
  recommend(query: PipelineQuery, k: number, options?: PipelineCallOptions): Promise<PipelineResult>;
  /** External id of a dense item index. */
  itemId(item: number): ExternalId;
  /** Dense index of a training user's external id, or -1. */
  userIndex(id: ExternalId): number;
  /** The model's vector space, when it has one. */
  readonly vectors: VectorSpace | null;
  /** The feature store given, if any. */
  readonly store: FeatureStore | null;
  /** The sources in merge order with their quotas. */
  readonly sources: readonly SourceQuota[];
}

/** Builds a pipeline over a loaded model; see {@link PipelineOptions}. */
export async function createPipeline(options: PipelineOptions): Promise<Pipeline> {
  const { model, manifest } = options;
  const train = options.train ?? trainOf(model);
  if (!train) throw new Error(`${model.name}: the pipeline needs the model's training matrix (pass options.train)`);
  if (train.nItems !== manifest.items.length || train.nUsers !== manifest.users.length) {
    throw new Error(`pipeline: training matrix is ${train.nUsers} × ${train.nItems}, the manifest names ${manifest.users.length} users and ${manifest.items.length} items`);
  }
  if (options.store && options.store.version.dataFingerprint !== manifest.dataFingerprint) {
    throw new Error(`pipeline: the feature store was built for data ${options.store.version.dataFingerprint.slice(0, 12)}…, the model was trained on ${manifest.dataFingerprint.slice(0, 12)}…; rebuild the store`);
  }
  const space = await vectorSpaceOf(model);
  const settings = exploreSettings(options.explore);
  const seed = options.explore?.seed ?? 0;
  const nCandidates = options.candidates ?? 100;
  if (!(Number.isInteger(nCandidates) && nCandidates >= 1)) throw new RangeError(`pipeline: candidates must be a positive integer (got ${nCandidates})`);
  const sources: SourceQuota[] = options.sources ?? [
    { source: space ? vectorSource(options.index ?? new ExactIndex(space.items, space.itemBias), { modelVectors: true }) : modelSource(model, train.nItems), quota: nCandidates },
  ];
  if (sources.length === 0) throw new Error('pipeline: at least one retrieval source is needed');
  // Source names whose candidates already carry the ranking's scores (every source of that name says so).
  const modelScored = new Set(sources.filter((s) => s.source.modelScores).map((s) => s.source.name));
  for (const s of sources) if (!s.source.modelScores) modelScored.delete(s.source.name);
  const leastViewedBy = new Map<number, CandidateSource>([[settings.maxViews, leastViewedSource(train, settings.maxViews)]]);
  const leastViewedFor = (maxViews: number): CandidateSource => {
    let s = leastViewedBy.get(maxViews);
    if (!s) {
      s = leastViewedSource(train, maxViews);
      if (leastViewedBy.size < 8) leastViewedBy.set(maxViews, s);
    }
    return s;
  };
  const ranker = options.ranker ? rankerMapping(options.ranker, manifest) : null;
  const itemIds = manifest.items;
  const userLookup = new Map<ExternalId, number>(manifest.users.map((id, u) => [id, u]));

  const userVectorOf = async (q: PipelineQuery): Promise<Float32Array | null> => {
    if (!space) return null;
    if ('userIndex' in q) return space.user(q.userIndex);
    return space.history ? space.history(q.history) : null;
  };

  const retrieve = async (q: RetrievalQuery, base: readonly SourceQuota[], extra: SourceQuota[]): Promise<Candidate[]> => {
    const all = [...base, ...extra];
    const lists: QuotaList[] = [];
    // A source may lose up to (quotas before it) items to earlier sources, so it is asked for that many more.
    let before = 0;
    for (const s of all) {
      lists.push({ name: s.source.name, quota: s.quota, list: s.quota > 0 ? await s.source.retrieve(q, s.quota + before) : [] });
      before += s.quota;
    }
    return mergeCandidates(lists);
  };

  const rank = async (q: RetrievalQuery, candidates: Candidate[]): Promise<{ list: Candidate[]; by: string }> => {
    if (candidates.length === 0) return { list: [], by: 'retrieval' };
    let scores: Float32Array | null = null;
    let by = 'retrieval';
    if (ranker && q.userIndex !== null) {
      scores = await ranker.score(q.userIndex, candidates.map((c) => c.item));
      by = scores ? 'ranker' : by;
    }
    if (!scores && space && q.userVector) {
      by = 'vectors';
      // Candidates scored by the kernels on these same vectors keep those scores (identical to the model's recommend).
      if (!candidates.every((c) => modelScored.has(c.source))) scores = dotScores(space, q.userVector, candidates);
    }
    if (!scores && by === 'retrieval' && q.userIndex !== null && model.score) {
      scores = await model.score(new Int32Array(candidates.length).fill(q.userIndex), Int32Array.from(candidates, (c) => c.item));
      by = 'model-score';
    }
    const scored = candidates.map((c, j) => ({ item: c.item, source: c.source, score: scores ? finiteOr(scores[j]) : c.score }));
    // Stable: ties keep the merge order.
    const order = scored.map((_, j) => j).sort((a, b) => scored[b].score - scored[a].score || a - b);
    return { list: order.map((j) => scored[j]), by };
  };

  return {
    vectors: space,
    store: options.store ?? null,
    sources,
    itemId: (i) => itemIds[i],
    userIndex: (id) => userLookup.get(id) ?? -1,
    async recommend(query, k, call = {}) {
      if (!Number.isInteger(k) || k < 1) throw new RangeError(`pipeline: k must be a positive integer (got ${k})`);
      const strategies = new Set(call.explore === undefined ? [] : typeof call.explore === 'string' ? [call.explore] : call.explore);
      const exclude = new Set<number>();
      let userIndex: number | null = null;
      let history: History | null = null;
      if ('userIndex' in query) {
        const u = query.userIndex;
        if (!(Number.isInteger(u) && u >= 0 && u < train.nUsers)) throw new RangeError(`pipeline: user index ${u} outside [0, ${train.nUsers})`);
        userIndex = u;
        for (const i of train.userItems(u)) exclude.add(i);
      } else {
        history = query.history;
        for (const i of history.items) {
          if (!(Number.isInteger(i) && i >= 0 && i < train.nItems)) throw new RangeError(`pipeline: history item ${i} outside [0, ${train.nItems})`);
          exclude.add(i);
        }
      }
      for (const i of Array.from(call.exclude ?? [])) {
        if (!(Number.isInteger(i) && i >= 0 && i < train.nItems)) throw new RangeError(`pipeline: excluded item ${i} outside [0, ${train.nItems})`);
        exclude.add(i);
      }
      const rng = new Rng(call.seed ?? seed);
      const live = call.settings ? exploreSettings({ ...settings, ...call.settings }) : settings;
      let base0: readonly SourceQuota[] = sources;
      if (call.candidates !== undefined && call.candidates !== sources[0].quota) {
        const n = call.candidates;
        if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`pipeline: candidates must be a positive integer (got ${n})`);
        base0 = [{ source: sources[0].source, quota: n }, ...sources.slice(1)];
      }
      if (call.keepRetrieved === false && !ranker && strategies.size === 0 && base0.length === 1 && base0[0].source.modelScores && base0[0].quota > k) {
        base0 = [{ source: base0[0].source, quota: k }];
      }
      const vector = await userVectorOf(query);
      const base: RetrievalQuery = { userIndex, history, userVector: vector, exclude, rng };
      const retrieved = await retrieve(base, base0, []);
      const ranked = await rank(base, retrieved);
      let explored = ranked.list;
      let injected: Candidate[] = [];
      if (strategies.size > 0) {
        let q = base;
        let candidates = retrieved;
        let rerank = false;
        if (strategies.has('noise') && vector) {
          q = { ...q, userVector: perturb(vector, live.sigma, rng.fork('noise')) };
          rerank = true;
        }
        if (strategies.has('least-viewed')) {
          const source = leastViewedFor(live.maxViews);
          candidates = await retrieve(q, base0, [{ source, quota: live.leastViewedCount }]);
          injected = candidates.filter((c) => c.source === source.name);
          rerank = true;
        } else if (rerank) {
          candidates = await retrieve(q, base0, []);
        }
        if (rerank) explored = (await rank(q, candidates)).list;
        if (strategies.has('sampling')) explored = plackettLuce(explored, explored.length, live.temperature, rng.fork('sampling'));
      }
      return { retrieved: withRanks(retrieved), ranked: withRanks(ranked.list.slice(0, k)), explored: withRanks(explored.slice(0, k)), rankedBy: ranked.by, injected: withRanks(injected) };
    },
  };
}

/** Scores u·v (+ bias) of each candidate. */
function dotScores(space: VectorSpace, u: Float32Array, candidates: readonly Candidate[]): Float32Array {
  const { items, itemBias } = space;
  const f = items.cols;
  return Float32Array.from(candidates, (c) => {
    let s = itemBias ? itemBias[c.item] : 0;
    const o = c.item * f;
    for (let j = 0; j < f; j++) s += u[j] * items.data[o + j];
    return s;
  });
}

function finiteOr(s: number): number {
  return Number.isNaN(s) ? -Infinity : s;
}

/** The ranker's score of (user, items) in the retrieval model's indices, mapped through external ids. */
function rankerMapping(r: PipelineModel, retrieval: PipelineModel['manifest']): { score(user: number, items: number[]): Promise<Float32Array | null> } {
  const score = r.model.score?.bind(r.model);
  if (!score) throw new Error(`ranker ${r.model.name}: has no score method, so it cannot re-rank candidates`);
  const same = r.manifest.dataFingerprint === retrieval.dataFingerprint;
  const users = same ? null : indexMap(retrieval.users, r.manifest.users);
  const items = same ? null : indexMap(retrieval.items, r.manifest.items);
  return {
    async score(user, list) {
      const ru = users ? users[user] : user;
      if (ru < 0) return null; // the ranker has never seen this user: fall back
      const ri = Int32Array.from(list, (i) => (items ? items[i] : i));
      const known = Int32Array.from(ri.filter((i) => i >= 0));
      const s = await score(new Int32Array(known.length).fill(ru), known);
      const out = new Float32Array(list.length).fill(-Infinity); // items the ranker does not know go last
      for (let j = 0, m = 0; j < ri.length; j++) if (ri[j] >= 0) out[j] = s[m++];
      return out;
    },
  };
}

/** For each id in `from`, its index in `to` (-1 when absent). */
function indexMap(from: readonly ExternalId[], to: readonly ExternalId[]): Int32Array {
  const at = new Map<ExternalId, number>(to.map((id, i) => [id, i]));
  return Int32Array.from(from, (id) => at.get(id) ?? -1);
}

function trainOf(model: Recommender): Interactions | null {
  if (!('trainData' in model)) return null;
  const t: unknown = model.trainData;
  return t instanceof Interactions ? t : null;
}
