/**
 * The one place the service gets recommendations from. Every route asks a {@link RecommendSource}. The
 * default, {@link pipelineSource}, runs the served model's retrieval → ranking → exploration pipeline
 * (src/pipeline): each item's `source` is the retrieval source that produced it ("exact", "ann", "model",
 * "popularity", "least-viewed"), and the response's `basis` says how the user was represented:
 * - "model": a trained user without new events;
 * - "fold-in" / "history": a user with events since training (trained or new): the training row merged with the
 *   events' items — folded into a user vector for factor models (iALS/ALS solve the user's half step exactly),
 *   scored as a history for EASE, item-KNN and the like; those items are then seen and left out;
 * - "fallback": anyone else (a new user without usable events): the training popularity order.
 * {@link modelSource} asks the model directly, without retrieval stages (models the pipeline cannot hold):
 * - a trained user without new events: the model's `recommend` (source "model");
 * - a user with events since training (trained or new): the training row merged with the events' items, scored
 *   by `recommendForHistory` — a fold-in for factor models (source "fold-in": iALS/ALS solve the user's half
 *   step exactly), history scoring for EASE, item-KNN and the like (source "history"); the items are then seen
 *   and left out;
 * - a model without `recommendForHistory`: a trained user gets `recommend` with the new items left out;
 * - anyone else (a new user without usable events): the training popularity order, source "fallback".
 */
import type { ExternalId } from '../data/id-map.js';
import type { History, TopK } from '../models/contract.js';
import type { ExploreSettings, ExploreStrategy, RankedCandidate } from '../pipeline/index.js';
import type { LoggedEvent } from './event-log.js';
import { lookupId, type ServedModel } from './served-model.js';

/** One recommended item: a dense item index of the served model, its score, where it came from, its rank (1 = best). */
export interface ScoredItem {
  item: number;
  score: number;
  source: string;
  rank: number;
}

/** How the user was represented: see the module comment. */
export type Basis = 'model' | 'fold-in' | 'history' | 'fallback' | 'similar';

/** The pipeline's lists of one request, each best first with sources. */
export interface Stages {
  retrieved: ScoredItem[];
  ranked: ScoredItem[];
  explored: ScoredItem[];
  /** What scored the ranking: "ranker", "vectors", "model-score" or "retrieval". */
  rankedBy: string;
  /** Least-viewed items that joined the candidates for exploration (scored by retrieval: −views). */
  injected: ScoredItem[];
}

/** A list of items with what the caller should know about it (unknown items, fallbacks). */
export interface Recommendations {
  items: ScoredItem[];
  warnings: string[];
  basis: Basis;
  /** Every stage's list, when the query asked for them and the pipeline ran. */
  stages?: Stages;
}

/** Exploration asked for in one request. */
export interface ExploreQuery {
  strategies: ExploreStrategy[];
  /** Overrides of the pipeline's settings (temperature, σ, least-viewed count). */
  settings: Partial<ExploreSettings>;
  /** Seed of this request's exploration (default: the pipeline's). */
  seed?: number;
}

/** A request for one user's recommendations. */
export interface RecommendQuery {
  /** The user's id as given. */
  user: ExternalId;
  /** The user's events from the service's log (external ids), oldest first. */
  events: readonly LoggedEvent[];
  /** At most this many items (the source may return fewer when fewer are left). */
  k: number;
  /** Item indices never to return. */
  exclude: readonly number[];
  /** Exploration for this request (none when absent). */
  explore?: ExploreQuery;
  /** Return every stage's list as well. */
  stages?: boolean;
}

/** Where recommendations come from; see the module comment. */
export interface RecommendSource {
  /** Top items for a user. */
  recommend(served: ServedModel, query: RecommendQuery): Promise<Recommendations>;
  /** Items similar to item index `item`, or null when the model cannot tell. */
  similar(served: ServedModel, item: number, k: number): Promise<Recommendations | null>;
}

/** The user's history in the model's item space: the training row plus the new events' known items. */
export function historyOf(served: ServedModel, userIndex: number, events: readonly LoggedEvent[]): { history: History; added: number[]; unknownItems: ExternalId[] } {
  const values = new Map<number, number>();
  if (userIndex >= 0) {
    const items = served.train.userItems(userIndex);
    const vals = served.train.userValues(userIndex);
    for (let j = 0; j < items.length; j++) values.set(items[j], vals[j]);
  }
  const trained = new Set(values.keys());
  const added: number[] = [];
  const unknownItems: ExternalId[] = [];
  for (const e of events) {
    const i = lookupId(served.items, e.item);
    if (i < 0) {
      if (!unknownItems.includes(e.item)) unknownItems.push(e.item);
      continue;
    }
    // An event already in the training data (the model was retrained on the log) is not counted twice.
    if (trained.has(i)) continue;
    if (!values.has(i)) added.push(i);
    values.set(i, (values.get(i) ?? 0) + e.value);
  }
  const items = Int32Array.from(values.keys());
  return { history: { items, values: Float32Array.from(items, (i) => values.get(i) ?? 0) }, added, unknownItems };
}

/** Row 0 of a top-k as scored items (the padding and non-finite scores dropped). */
export function itemsOf(top: TopK, source: string): ScoredItem[] {
  const out: ScoredItem[] = [];
  for (let j = 0; j < top.k; j++) {
    const item = top.items[j];
    const score = top.scores[j];
    if (item < 0 || !Number.isFinite(score)) break;
    out.push({ item, score, source, rank: out.length + 1 });
  }
  return out;
}

/** The training popularity order without `exclude`, top `k`, scored by popularity rank (1, 1/2, 1/3, …). */
function fallback(served: ServedModel, k: number, exclude: ReadonlySet<number>): ScoredItem[] {
  const out: ScoredItem[] = [];
  for (let j = 0; j < served.popular.length && out.length < k; j++) {
    const item = served.popular[j];
    if (!exclude.has(item)) out.push({ item, score: 1 / (out.length + 1), source: 'fallback', rank: out.length + 1 });
  }
  return out;
}

/** The served model itself, without pipeline stages (see the module comment). */
export const modelSource: RecommendSource = {
  async recommend(served, query) {
    const { model, items } = served;
    const warnings: string[] = [];
    if (query.explore?.strategies.length) warnings.push(`model ${served.version} is served without the pipeline: exploration is not applied`);
    const k = Math.min(query.k, items.size);
    const userIndex = lookupId(served.users, query.user);
    const { history, added, unknownItems } = historyOf(served, userIndex, query.events);
    if (unknownItems.length) warnings.push(`items ${unknownItems.map((i) => JSON.stringify(i)).join(', ')} of this user's events are unknown to model ${served.version} and count only after the next retrain`);
    const filterItems = [...query.exclude];
    if (added.length && model.recommendForHistory) {
      const top = await model.recommendForHistory(history, k, { filterItems });
      return { items: itemsOf(top, model.foldIn ? 'fold-in' : 'history'), warnings, basis: model.foldIn ? 'fold-in' : 'history' };
    }
    if (userIndex >= 0) {
      if (added.length) warnings.push(`model ${served.version} cannot fold in new events: they are only left out of this user's recommendations`);
      const top = await model.recommend([userIndex], k, { filterItems: [...filterItems, ...added] });
      return { items: itemsOf(top, 'model'), warnings, basis: 'model' };
    }
    if (added.length) warnings.push(`model ${served.version} cannot represent users it was not trained on: popularity fallback`);
    else warnings.push(`user ${JSON.stringify(query.user)} is unknown to model ${served.version} and has no events it knows: popularity fallback`);
    return { items: fallback(served, k, new Set([...filterItems, ...added])), warnings, basis: 'fallback' };
  },

  async similar(served, item, k) {
    if (!served.model.similarItems) return null;
    const top = await served.model.similarItems(item, Math.min(k, Math.max(1, served.items.size - 1)));
    return { items: itemsOf(top, 'similar'), warnings: [], basis: 'similar' };
  },
};

/** Pipeline candidates as scored items. */
function scoredOf(list: readonly RankedCandidate[]): ScoredItem[] {
  return list.map((c) => ({ item: c.item, score: c.score, source: c.source, rank: c.rank }));
}

/** The default source: the served model's pipeline (see the module comment); {@link modelSource} without one. */
export const pipelineSource: RecommendSource = {
  async recommend(served, query) {
    const held = served.pipeline;
    if (!held) return modelSource.recommend(served, query);
    const { model } = served;
    const { pipeline } = held;
    const warnings: string[] = [];
    const userIndex = lookupId(served.users, query.user);
    // Most requests are for users without new events: their training row is not copied.
    const { history, added, unknownItems } = query.events.length ? historyOf(served, userIndex, query.events) : { history: null, added: [], unknownItems: [] };
    // Item vectors without a fold-in cannot place a history in the vector space: the model scores it itself.
    if (added.length && pipeline.vectors && !pipeline.vectors.history) return modelSource.recommend(served, query);
    if (unknownItems.length) warnings.push(`items ${unknownItems.map((i) => JSON.stringify(i)).join(', ')} of this user's events are unknown to model ${served.version} and count only after the next retrain`);
    const k = Math.min(query.k, served.items.size);
    // A list longer than the retrieval quota asks for that many candidates, so that it is not cut short.
    const quota = pipeline.sources[0].quota;
    const call = { explore: query.explore?.strategies ?? [], settings: query.explore?.settings, seed: query.explore?.seed, keepRetrieved: query.stages === true, ...(k > quota ? { candidates: k } : {}) };
    const run = async (q: Parameters<typeof pipeline.recommend>[0], exclude: readonly number[], basis: Basis): Promise<Recommendations> => {
      const r = await pipeline.recommend(q, k, { ...call, exclude });
      if (query.explore?.strategies.includes('noise') && !pipeline.vectors) warnings.push(`model ${served.version} has no user vectors: noise exploration is not applied`);
      const out: Recommendations = { items: scoredOf(r.explored), warnings, basis };
      if (query.stages) out.stages = { retrieved: scoredOf(r.retrieved), ranked: scoredOf(r.ranked), explored: scoredOf(r.explored), rankedBy: r.rankedBy, injected: scoredOf(r.injected) };
      return out;
    };
    if (history && added.length && model.recommendForHistory) return run({ history }, query.exclude, model.foldIn ? 'fold-in' : 'history');
    if (userIndex >= 0) {
      if (added.length) warnings.push(`model ${served.version} cannot fold in new events: they are only left out of this user's recommendations`);
      return run({ userIndex }, [...query.exclude, ...added], 'model');
    }
    if (added.length) warnings.push(`model ${served.version} cannot represent users it was not trained on: popularity fallback`);
    else warnings.push(`user ${JSON.stringify(query.user)} is unknown to model ${served.version} and has no events it knows: popularity fallback`);
    if (query.explore?.strategies.length) warnings.push('exploration is not applied to the popularity fallback');
    return { items: fallback(served, k, new Set([...query.exclude, ...added])), warnings, basis: 'fallback' };
  },

  similar: (served, item, k) => modelSource.similar(served, item, k),
};
