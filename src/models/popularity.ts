/**
 * The popularity recommender: every user gets the most popular items they have not seen. Popularity is either
 * the number of training interactions of an item (`count`) or a recency-weighted count (`recency`): each
 * interaction weighs 2^(−age / halfLife), its age measured back from the latest training timestamp.
 */
import type { Interactions } from '../data/interactions.js';
import type { FitOptions, History, RecommendOptions, Recommender, TopK } from './recommender.js';
import { throwIfAborted } from './recommender.js';
import type { ModelEntry } from './registry.js';
import { loadTrainedModel, saveTrainedModel } from './persistence.js';

/** Hyperparameters of {@link PopularityRecommender}. */
export interface PopularityParams {
  /** `count`: interactions per item; `recency`: exponentially decayed count (needs timestamps). */
  weighting: 'count' | 'recency';
  /** Half-life of the decay in days (recency weighting only; default 7). */
  halfLifeDays: number;
}

const DEFAULTS: PopularityParams = { weighting: 'count', halfLifeDays: 7 };

/** Recommends the most popular unseen items; ties rank the lower item index first. */
export class PopularityRecommender implements Recommender {
  /** Registry name. */
  readonly name = 'popularity';
  /** The hyperparameters in use. */
  readonly params: PopularityParams;
  /** Popularity per item after fit. */
  itemScores: Float64Array = new Float64Array(0);
  /** Items sorted by popularity, most popular first. */
  private order: Int32Array = new Int32Array(0);
  private train: Interactions | null = null;

  constructor(params: Partial<PopularityParams> = {}) {
    this.params = { ...DEFAULTS, ...params };
  }

  /**
   * Counts (or decays) each item's interactions. With recency weighting, interactions without a timestamp
   * weigh 0; a data set without timestamps is an error.
   */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
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
    const order = new Int32Array(train.nItems);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => scores[b] - scores[a] || a - b);
    this.itemScores = scores;
    this.order = order;
    this.train = train;
    options.onProgress?.({ phase: 'fit', done: 1, total: 1 });
  }

  /** The k most popular items per user, excluding seen items unless `excludeSeen` is false. */
  async recommend(users: ArrayLike<number>, k: number, options: RecommendOptions = {}): Promise<TopK> {
    const train = this.requireTrain();
    const excludeSeen = options.excludeSeen ?? true;
    const rows = users.length;
    const out: TopK = { k, items: new Int32Array(rows * k).fill(-1), scores: new Float32Array(rows * k).fill(-Infinity) };
    const banned = this.bannedMask(options);
    for (let r = 0; r < rows; r++) {
      const u = users[r];
      const seen = excludeSeen && u >= 0 && u < train.nUsers ? train.userItems(u) : null;
      if (seen) for (let j = 0; j < seen.length; j++) banned[seen[j]] |= 2;
      this.fill(banned, k, out, r * k);
      if (seen) for (let j = 0; j < seen.length; j++) banned[seen[j]] &= 1;
    }
    return out;
  }

  /** The popularity of items[j] (the same for every user). */
  async score(_users: Int32Array, items: Int32Array): Promise<Float32Array> {
    this.requireTrain();
    const out = new Float32Array(items.length);
    for (let j = 0; j < items.length; j++) out[j] = this.itemScores[items[j]];
    return out;
  }

  /** The most popular items outside the history. */
  async recommendForHistory(history: History, k: number, options: Omit<RecommendOptions, 'excludeSeen'> = {}): Promise<TopK> {
    this.requireTrain();
    const banned = this.bannedMask(options);
    for (let j = 0; j < history.items.length; j++) banned[history.items[j]] |= 2;
    const out: TopK = { k, items: new Int32Array(k).fill(-1), scores: new Float32Array(k).fill(-Infinity) };
    this.fill(banned, k, out, 0);
    return out;
  }

  /** Bit 1: filtered or not a candidate (fixed for the call); bit 2: seen by the current user. */
  private bannedMask(options: Omit<RecommendOptions, 'excludeSeen'>): Uint8Array {
    const n = this.order.length;
    const banned = new Uint8Array(n);
    if (options.candidates) {
      banned.fill(1);
      for (let j = 0; j < options.candidates.length; j++) {
        const c = options.candidates[j];
        if (!(c >= 0 && c < n)) throw new RangeError(`candidate item ${c} outside [0, ${n})`);
        banned[c] = 0;
      }
    }
    if (options.filterItems) for (let j = 0; j < options.filterItems.length; j++) banned[options.filterItems[j]] |= 1;
    return banned;
  }

  /** Walks the popularity order writing the first k allowed items at `offset`. */
  private fill(banned: Uint8Array, k: number, out: TopK, offset: number): void {
    let filled = 0;
    for (let j = 0; j < this.order.length && filled < k; j++) {
      const i = this.order[j];
      if (banned[i]) continue;
      out.items[offset + filled] = i;
      out.scores[offset + filled] = this.itemScores[i];
      filled++;
    }
  }

  /** Writes the model (popularity scores, order and training matrix) to `dir` atomically (docs/model-format.md). */
  async save(dir: string): Promise<void> {
    const arrays = { itemScores: { data: this.itemScores, shape: [this.itemScores.length] }, order: { data: this.order, shape: [this.order.length] } };
    await saveTrainedModel(dir, { modelType: this.name, hyperparameters: { ...this.params }, train: this.requireTrain(), arrays });
  }

  /** Restores a model written by {@link save}. */
  static async load(dir: string): Promise<PopularityRecommender> {
    const { snapshot, train } = await loadTrainedModel(dir, 'popularity');
    const m = new PopularityRecommender(parseParams(snapshot.hyperparameters));
    const scores = snapshot.arrays.itemScores?.data;
    const order = snapshot.arrays.order?.data;
    if (!(scores instanceof Float64Array) || scores.length !== train.nItems) throw new Error(`${dir}/model.json: array "itemScores" missing or not float64 [${train.nItems}]`);
    if (!(order instanceof Int32Array) || order.length !== train.nItems) throw new Error(`${dir}/model.json: array "order" missing or not int32 [${train.nItems}]`);
    m.itemScores = scores;
    m.order = order;
    m.train = train;
    return m;
  }

  private requireTrain(): Interactions {
    if (!this.train) throw new Error('popularity: recommend called before fit');
    return this.train;
  }
}

/** Parses and checks the hyperparameters (unknown keys are an error). */
function parseParams(params: Record<string, unknown>): PopularityParams {
  const out: PopularityParams = { ...DEFAULTS };
  for (const [key, value] of Object.entries(params)) {
    if (key === 'weighting') {
      if (value !== 'count' && value !== 'recency') throw new Error(`popularity: "weighting" must be "count" or "recency", got ${JSON.stringify(value)}`);
      out.weighting = value;
    } else if (key === 'halfLifeDays') {
      if (typeof value !== 'number' || !(value > 0)) throw new Error(`popularity: "halfLifeDays" must be a positive number, got ${JSON.stringify(value)}`);
      out.halfLifeDays = value;
    } else {
      throw new Error(`popularity: unknown hyperparameter "${key}" (known: weighting, halfLifeDays)`);
    }
  }
  return out;
}

/** Registry entry of the popularity model. */
export const popularityEntry: ModelEntry = {
  name: 'popularity',
  description: 'Most popular unseen items, by interaction count or recency-weighted count (half-life in days)',
  create: (params) => new PopularityRecommender(parseParams(params)),
  load: (dir) => PopularityRecommender.load(dir),
  defaults: { ...DEFAULTS },
};
