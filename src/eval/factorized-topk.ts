/**
 * TensorFlow Recommenders' `FactorizedTopK` retrieval metric: top-k categorical accuracy over test events.
 * For every test event (user u, item i) the model ranks the WHOLE catalogue for u — training items are NOT
 * excluded, as in TFRS, where the candidate set is every item — and the event is a hit at k when i is among
 * the first k. The accuracy at k is hits / events (each event counts once, so active users weigh more), which
 * is what TFRS reports as `factorized_top_k/top_{k}_categorical_accuracy`.
 */
import type { Interactions } from '../data/interactions.js';
import type { Recommender } from '../models/contract.js';

/** The ks TFRS reports by default. */
export const FACTORIZED_TOPK_KS = [1, 5, 10, 50, 100] as const;

/** Accuracy at each k, plus the number of test events. */
export interface FactorizedTopKResult {
  /** `{ k, accuracy }` in the order of the ks given. */
  accuracy: Array<{ k: number; accuracy: number }>;
  events: number;
}

/**
 * The metric from ranked lists: `rankedFor(u)` is user u's list best first (at least max(ks) items, or the
 * whole catalogue when it is shorter; -1 padding ignored); every CSR entry of `test` is one event.
 */
export function factorizedTopKFromLists(test: Interactions, ks: readonly number[], rankedFor: (user: number) => ArrayLike<number>): FactorizedTopKResult {
  const sorted = checkKs(ks);
  const hits = new Float64Array(sorted.length);
  let events = 0;
  for (let u = 0; u < test.nUsers; u++) {
    const items = test.userItems(u);
    if (items.length === 0) continue;
    const ranked = rankedFor(u);
    const pos = new Map<number, number>();
    for (let r = 0; r < ranked.length; r++) if (ranked[r] >= 0 && !pos.has(ranked[r])) pos.set(ranked[r], r);
    for (const i of items) {
      events++;
      const p = pos.get(i);
      if (p === undefined) continue;
      for (let j = 0; j < sorted.length; j++) if (p < sorted[j]) hits[j]++;
    }
  }
  return { accuracy: ks.map((k) => ({ k, accuracy: events > 0 ? hits[sorted.indexOf(k)] / events : NaN })), events };
}

/**
 * The metric for a fitted model on `test` (same user and item indices as the model's training data): each
 * test user's top max(ks) items with `excludeSeen: false`, users in batches of `batch`.
 */
export async function factorizedTopK(model: Recommender, test: Interactions, ks: readonly number[] = FACTORIZED_TOPK_KS, batch = 1024): Promise<FactorizedTopKResult> {
  const sorted = checkKs(ks);
  const kMax = Math.min(sorted[sorted.length - 1], test.nItems);
  const users: number[] = [];
  for (let u = 0; u < test.nUsers; u++) if (test.rowPtr[u + 1] > test.rowPtr[u]) users.push(u);
  const lists = new Map<number, Int32Array>();
  for (let s = 0; s < users.length; s += batch) {
    const part = users.slice(s, s + batch);
    const top = await model.recommend(part, kMax, { excludeSeen: false });
    part.forEach((u, r) => lists.set(u, top.items.slice(r * top.k, (r + 1) * top.k)));
  }
  return factorizedTopKFromLists(test, ks, (u) => lists.get(u) ?? new Int32Array(0));
}

function checkKs(ks: readonly number[]): number[] {
  if (ks.length === 0) throw new RangeError('factorizedTopK: no k given');
  for (const k of ks) if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`factorizedTopK: k must be a positive integer (got ${k})`);
  return [...new Set(ks)].sort((a, b) => a - b);
}
