/**
 * The one place the service gets recommendations from. Every route asks a {@link RecommendSource}; the
 * default, {@link modelSource}, asks the served model directly:
 * - a trained user without new events: the model's `recommend` (source "model");
 * - a user with events since training (trained or new): the training row merged with the events' items, scored
 *   by `recommendForHistory` — a fold-in for factor models (source "fold-in": iALS/ALS solve the user's half
 *   step exactly), history scoring for EASE, item-KNN and the like (source "history"); the items are then seen
 *   and left out;
 * - a model without `recommendForHistory`: a trained user gets `recommend` with the new items left out;
 * - anyone else (a new user without usable events): the training popularity order, source "fallback".
 * A retrieval → ranking → exploration pipeline replaces this module by implementing the same interface.
 */
import type { ExternalId } from '../data/id-map.js';
import type { History, TopK } from '../models/contract.js';
import type { LoggedEvent } from './event-log.js';
import { lookupId, type ServedModel } from './served-model.js';

/** One recommended item: a dense item index of the served model, its score, where it came from, its rank (1 = best). */
export interface ScoredItem {
  item: number;
  score: number;
  source: string;
  rank: number;
}

/** A list of items with what the caller should know about it (unknown items, fallbacks). */
export interface Recommendations {
  items: ScoredItem[];
  warnings: string[];
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

/** The default source: the served model itself (see the module comment). */
export const modelSource: RecommendSource = {
  async recommend(served, query) {
    const { model, items } = served;
    const warnings: string[] = [];
    const k = Math.min(query.k, items.size);
    const userIndex = lookupId(served.users, query.user);
    const { history, added, unknownItems } = historyOf(served, userIndex, query.events);
    if (unknownItems.length) warnings.push(`items ${unknownItems.map((i) => JSON.stringify(i)).join(', ')} of this user's events are unknown to model ${served.version} and count only after the next retrain`);
    const filterItems = [...query.exclude];
    if (added.length && model.recommendForHistory) {
      const top = await model.recommendForHistory(history, k, { filterItems });
      return { items: itemsOf(top, model.foldIn ? 'fold-in' : 'history'), warnings };
    }
    if (userIndex >= 0) {
      if (added.length) warnings.push(`model ${served.version} cannot fold in new events: they are only left out of this user's recommendations`);
      const top = await model.recommend([userIndex], k, { filterItems: [...filterItems, ...added] });
      return { items: itemsOf(top, 'model'), warnings };
    }
    if (added.length) warnings.push(`model ${served.version} cannot represent users it was not trained on: popularity fallback`);
    else warnings.push(`user ${JSON.stringify(query.user)} is unknown to model ${served.version} and has no events it knows: popularity fallback`);
    return { items: fallback(served, k, new Set([...filterItems, ...added])), warnings };
  },

  async similar(served, item, k) {
    if (!served.model.similarItems) return null;
    const top = await served.model.similarItems(item, Math.min(k, Math.max(1, served.items.size - 1)));
    return { items: itemsOf(top, 'similar'), warnings: [] };
  },
};
