/**
 * Item quality prior: every user gets the items with the best smoothed engagement ratios, the seed's "like/view
 * ratio is a great indicator of how good a video is". With `source: daily` (KuaiRec's item_daily_features,
 * aggregated per video by the loader: play_count and like/complete/share per play), each ratio is smoothed
 * toward its catalogue mean μ with a pseudo-count m,
 *   r_i = (count_i + m·μ) / (plays_i + m),   μ = Σ count / Σ plays,
 * and the prior is the weighted mean of r_i / μ over the ratios (1 = an average item; an item without daily
 * data gets exactly 1). With `source: interactions` the prior is the item's mean training value smoothed the
 * same way (a Bayesian average: (Σ v + m·μ) / (n + m), μ the global mean value) — the fallback for data
 * without daily features. `auto` takes daily when the features have play_count and a ratio column.
 * With `halfLifeDays` > 0 the prior is multiplied by 2^(−age / halfLife), the age measured from the item's
 * first training interaction to the latest one (items with no timed interaction are new: no decay).
 */
import type { Interactions } from '../../data/interactions.js';
import type { TopKOptions, TopKResult } from '../../linalg/api.js';
import { defineParams, num, oneOf, type ParamsOf } from '../../core/params.js';
import type { FitOptions } from '../../core/progress.js';
import type { History, HistoryOptions, ModelFeatures, TopK } from '../contract.js';
import { defineModel } from '../registry.js';
import { checkPairs, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';

/** Hyperparameters of {@link ItemPriorRecommender}. */
export const ITEM_PRIOR_PARAMS = defineParams({
  source: oneOf(['auto', 'daily', 'interactions'], 'auto', { doc: 'daily: engagement ratios of the item daily features; interactions: smoothed mean training value; auto: daily when present' }),
  likeWeight: num(1, { min: 0, doc: 'weight of like / play' }),
  completeWeight: num(1, { min: 0, doc: 'weight of complete plays / play' }),
  shareWeight: num(1, { min: 0, doc: 'weight of share / play' }),
  pseudoCount: num(100, { min: 0, doc: 'plays (or interactions) of prior mass pulling each ratio toward the catalogue mean' }),
  halfLifeDays: num(0, { min: 0, doc: 'age decay half-life in days (0: no decay)' }),
});

/** Typed hyperparameters of {@link ItemPriorRecommender}. */
export type ItemPriorParams = ParamsOf<typeof ITEM_PRIOR_PARAMS>;

/** Ratio columns of the daily features and the weight parameter of each. */
const RATIOS = [
  ['like_per_play', 'likeWeight'],
  ['complete_per_play', 'completeWeight'],
  ['share_per_play', 'shareWeight'],
] as const;

interface PriorState {
  /** Prior per item. */
  prior: Float32Array;
  /** What the prior was computed from. */
  source: 'daily' | 'interactions';
}

/** The item prior; see the module comment. */
export class ItemPriorRecommender extends SkeletonModel<ItemPriorParams, PriorState> {
  readonly name = 'item-prior';
  private features: ModelFeatures | null = null;

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(ITEM_PRIOR_PARAMS.parse('item-prior', params));
  }

  /** Gives the model the item features (daily aggregates); call before `fit`. */
  setFeatures(features: ModelFeatures): void {
    this.features = features;
  }

  /** The prior per item (empty before fit). */
  get prior(): Float32Array {
    return this.stateOrNull?.prior ?? new Float32Array(0);
  }

  protected async fitState(train: Interactions, options: FitOptions): Promise<PriorState> {
    const n = train.nItems;
    const numeric = this.features?.itemFeatures?.numeric ?? {};
    const hasDaily = 'play_count' in numeric && RATIOS.some(([c]) => c in numeric);
    const source = this.params.source === 'auto' ? (hasDaily ? 'daily' : 'interactions') : this.params.source;
    if (source === 'daily' && !hasDaily) throw new Error('item-prior: source "daily" needs the item features play_count and like_per_play / complete_per_play / share_per_play (KuaiRec item_daily_features.csv); use source "interactions" otherwise');
    const m = this.params.pseudoCount;
    const prior = new Float32Array(n);
    if (source === 'daily') {
      const plays = numeric.play_count;
      if (plays.length !== n) throw new Error(`item-prior: item feature "play_count" has ${plays.length} values, expected ${n}`);
      let wsum = 0;
      const acc = new Float64Array(n);
      for (const [col, key] of RATIOS) {
        const w = this.params[key];
        const ratio = numeric[col];
        if (!ratio || w === 0) continue;
        if (ratio.length !== n) throw new Error(`item-prior: item feature "${col}" has ${ratio.length} values, expected ${n}`);
        const ok = (i: number): boolean => Number.isFinite(ratio[i]) && Number.isFinite(plays[i]) && plays[i] > 0;
        let num = 0;
        let den = 0;
        for (let i = 0; i < n; i++) if (ok(i)) { num += ratio[i] * plays[i]; den += plays[i]; }
        const mu = den > 0 ? num / den : 0;
        for (let i = 0; i < n; i++) {
          const r = ok(i) ? (ratio[i] * plays[i] + m * mu) / (plays[i] + m) : mu;
          acc[i] += w * (mu > 0 ? r / mu : 1);
        }
        wsum += w;
      }
      if (wsum === 0) throw new Error('item-prior: every ratio has weight 0 or is missing from the item features');
      for (let i = 0; i < n; i++) prior[i] = acc[i] / wsum;
    } else {
      const sum = new Float64Array(n);
      const cnt = new Float64Array(n);
      let total = 0;
      for (let p = 0; p < train.nnz; p++) {
        sum[train.colIdx[p]] += train.values[p];
        cnt[train.colIdx[p]]++;
        total += train.values[p];
      }
      const mu = train.nnz > 0 ? total / train.nnz : 0;
      for (let i = 0; i < n; i++) prior[i] = cnt[i] + m > 0 ? (sum[i] + m * mu) / (cnt[i] + m) : mu;
    }
    if (this.params.halfLifeDays > 0) {
      const ts = train.timestamps;
      if (!ts) throw new Error('item-prior: halfLifeDays needs timestamps, and the training data has none');
      const first = new Float64Array(n).fill(Infinity);
      let latest = -Infinity;
      for (let p = 0; p < ts.length; p++) {
        if (Number.isNaN(ts[p])) continue;
        const i = train.colIdx[p];
        if (ts[p] < first[i]) first[i] = ts[p];
        if (ts[p] > latest) latest = ts[p];
      }
      const hl = this.params.halfLifeDays * 86400;
      for (let i = 0; i < n; i++) if (Number.isFinite(first[i])) prior[i] *= Math.pow(2, -(latest - first[i]) / hl);
    }
    options.onProgress?.({ phase: 'fit', done: 1, total: 1 });
    return { prior, source };
  }

  protected async rank(state: PriorState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const n = state.prior.length;
    const rows = batch.rows.rows;
    const data = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) data.set(state.prior, r * n);
    return (await this.kernels()).topk({ rows, cols: n, data }, k, select);
  }

  /** The prior of items[j] (the same for every user; NaN outside the item range). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const { prior } = this.state;
    checkPairs(this.name, users, items);
    return Float32Array.from(items, (i) => (i >= 0 && i < prior.length ? prior[i] : NaN));
  }

  /** The best-prior items outside the history. */
  async recommendForHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    return this.rankHistory(history, k, options);
  }

  /** One line on what the fit used. */
  fitNotes(): string[] {
    const s = this.stateOrNull;
    return s ? [`item-prior: computed from ${s.source === 'daily' ? 'the daily engagement ratios' : 'the smoothed mean training value'}`] : [];
  }

  protected exportState(state: PriorState): StoredState {
    return { json: { source: state.source }, arrays: { prior: vector(state.prior) } };
  }

  protected importState(saved: StateReader, train: Interactions): PriorState {
    const source = saved.value('source');
    if (source !== 'daily' && source !== 'interactions') throw new Error(`${saved.file}: state field "source" must be "daily" or "interactions"`);
    return { prior: saved.f32('prior', train.nItems), source };
  }
}

/** Registry entry of the item prior. */
export const itemPriorModel = defineModel({
  name: 'item-prior',
  description: 'Item quality prior: like/complete/share per play smoothed toward the mean (or a Bayesian-average value), optional age decay',
  params: ITEM_PRIOR_PARAMS,
  create: (p) => new ItemPriorRecommender(p),
});
