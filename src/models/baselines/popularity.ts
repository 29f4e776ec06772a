/**
 * The popularity recommender: every user gets the most popular items they have not seen. Popularity is either
 * the number of training interactions of an item (`count`) or a recency-weighted count (`recency`): each
 * interaction weighs 2^(−age / halfLife), its age measured back from the latest training timestamp.
 */
import type { Interactions } from '../../data/interactions.js';
import type { TopKOptions, TopKResult } from '../../linalg/api.js';
import { defineParams, num, oneOf, type ParamsOf } from '../../core/params.js';
import type { FitOptions } from '../../core/progress.js';
import type { History, HistoryOptions, TopK } from '../contract.js';
import { defineModel } from '../registry.js';
import { checkPairs, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';

/** Hyperparameters of {@link PopularityRecommender}. */
export const POPULARITY_PARAMS = defineParams({
  weighting: oneOf(['count', 'recency'], 'count', { doc: 'interactions per item (count), or an exponentially decayed count (recency; needs timestamps)' }),
  halfLifeDays: num(7, { min: 0, exclusiveMin: true, doc: 'half-life of the recency decay in days' }),
});

/** Typed hyperparameters of {@link PopularityRecommender}. */
export type PopularityParams = ParamsOf<typeof POPULARITY_PARAMS>;

interface PopularityState {
  /** Popularity per item. */
  scores: Float64Array;
  /** Items by decreasing popularity, ties by lower index. */
  order: Int32Array;
}

/** Recommends the most popular unseen items; ties rank the lower item index first. */
export class PopularityRecommender extends SkeletonModel<PopularityParams, PopularityState> {
  readonly name = 'popularity';

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(POPULARITY_PARAMS.parse('popularity', params));
  }

  /** Popularity per item (empty before fit). */
  get itemScores(): Float64Array {
    return this.stateOrNull?.scores ?? new Float64Array(0);
  }

  /**
   * Counts (or decays) each item's interactions. With recency weighting, interactions without a timestamp
   * weigh 0; a data set without timestamps is an error.
   */
  protected async fitState(train: Interactions, options: FitOptions): Promise<PopularityState> {
    const scores = new Float64Array(train.nItems);
    const col = train.colIdx;
    if (this.params.weighting === 'count') {
      for (let p = 0; p < col.length; p++) scores[col[p]] += 1;
    } else {
      const ts = train.timestamps;
      if (!ts) throw new Error('popularity: weighting "recency" needs timestamps, and the training data has none');
      let latest = -Infinity;
      for (let p = 0; p < ts.length; p++) if (ts[p] > latest) latest = ts[p];
      const halfLifeSec = this.params.halfLifeDays * 86400;
      for (let p = 0; p < col.length; p++) {
        const t = ts[p];
        if (Number.isNaN(t)) continue;
        scores[col[p]] += Math.pow(2, -(latest - t) / halfLifeSec);
      }
    }
    const order = Int32Array.from({ length: train.nItems }, (_, i) => i);
    order.sort((a, b) => scores[b] - scores[a] || a - b);
    options.onProgress?.({ phase: 'fit', done: 1, total: 1 });
    return { scores, order };
  }

  /** Walks the popularity order per row, skipping excluded, filtered and non-candidate items. */
  protected async rank(state: PopularityState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const { order, scores } = state;
    const rows = batch.rows.rows;
    const out: TopKResult = { k, items: new Int32Array(rows * k).fill(-1), scores: new Float32Array(rows * k).fill(-Infinity) };
    // Bit 1: filtered or not a candidate (the same for every row); bit 2: excluded for the current row.
    const banned = new Uint8Array(order.length);
    if (select.candidates) {
      banned.fill(1);
      for (const c of select.candidates) banned[c] = 0;
    }
    if (select.excludeAll) for (const i of select.excludeAll) banned[i] = 1;
    const ex = select.exclude;
    for (let r = 0; r < rows; r++) {
      if (ex) for (let p = ex.rowPtr[r]; p < ex.rowPtr[r + 1]; p++) banned[ex.colIdx[p]] |= 2;
      for (let j = 0, filled = 0; j < order.length && filled < k; j++) {
        const i = order[j];
        if (banned[i]) continue;
        out.items[r * k + filled] = i;
        out.scores[r * k + filled] = scores[i];
        filled++;
      }
      if (ex) for (let p = ex.rowPtr[r]; p < ex.rowPtr[r + 1]; p++) banned[ex.colIdx[p]] &= 1;
    }
    return out;
  }

  /** The popularity of items[j] (the same for every user; NaN outside the item range). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const { scores } = this.state;
    checkPairs(this.name, users, items);
    return Float32Array.from(items, (i) => (i >= 0 && i < scores.length ? scores[i] : NaN));
  }

  /** The most popular items outside the history. */
  async recommendForHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    return this.rankHistory(history, k, options);
  }

  protected exportState(state: PopularityState): StoredState {
    return { json: {}, arrays: { itemScores: vector(state.scores), order: vector(state.order) } };
  }

  protected importState(saved: StateReader, train: Interactions): PopularityState {
    const n = train.nItems;
    const order = saved.i32('order', n);
    for (let j = 0; j < n; j++) if (!(order[j] >= 0 && order[j] < n)) throw new Error(`${saved.file}: order[${j}] = ${order[j]} outside [0, ${n})`);
    return { scores: saved.f64('itemScores', n), order };
  }
}

/** Registry entry of the popularity model. */
export const popularityModel = defineModel({
  name: 'popularity',
  description: 'Most popular unseen items, by interaction count or recency-weighted count (half-life in days)',
  params: POPULARITY_PARAMS,
  create: (p) => new PopularityRecommender(p),
});
