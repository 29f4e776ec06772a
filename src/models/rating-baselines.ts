/**
 * Rating baselines for RMSE/MAE comparisons: a uniformly random rating, a rating drawn from the training
 * rating distribution, the most frequent rating, the global mean, and regularized user + item biases.
 * They rank items by their item term (the item bias for `biases`, nothing for the others: every item
 * scores the same and ties go to the lower index), so they also serve as trivial ranking baselines.
 */
import type { Interactions } from '../data/interactions.js';
import type { TopKOptions, TopKResult } from '../linalg/api.js';
import { Rng } from '../core/rng.js';
import { f32, num, readParams, TrainedRecommender, type ModelState } from './base.js';
import { biasPrediction, fitBiases, type Biases } from './biases.js';
import type { ShapedArray } from './persistence.js';
import { requireAtLeast, requireInt, resolveParams } from './params.js';
import type { FitOptions } from './recommender.js';
import { throwIfAborted } from './recommender.js';
import type { ModelEntry } from './registry.js';

/** Which baseline. */
export type RatingBaselineKind = 'uniform' | 'sampled' | 'majority' | 'mean' | 'biases';

/** Registry name of each baseline kind. */
export const RATING_BASELINE_NAMES: Record<RatingBaselineKind, string> = {
  uniform: 'rating-uniform',
  sampled: 'rating-sampled',
  majority: 'rating-majority',
  mean: 'global-mean',
  biases: 'biases',
};

/** Hyperparameters of the rating baselines (regularization applies to `biases`, seed to the random ones). */
export const RATING_BASELINE_DEFAULTS = { regUser: 15, regItem: 10, iterations: 10, seed: 42 };

/** A rating baseline; see the module comment. */
export class RatingBaselineRecommender extends TrainedRecommender {
  readonly name: string;
  readonly params: typeof RATING_BASELINE_DEFAULTS;
  /** Distinct training values, ascending, and their cumulative frequencies (for `sampled`). */
  private ratingValues: Float32Array = new Float32Array(0);
  private ratingCdf: Float32Array = new Float32Array(0);
  private biases: Biases | null = null;
  private constant = 0;
  private rng: Rng;

  constructor(readonly kind: RatingBaselineKind, params: Record<string, unknown> = {}) {
    super();
    this.name = RATING_BASELINE_NAMES[kind];
    const p = resolveParams(this.name, RATING_BASELINE_DEFAULTS, params);
    requireAtLeast(this.name, 'regUser', p.regUser, 0);
    requireAtLeast(this.name, 'regItem', p.regItem, 0);
    requireInt(this.name, 'iterations', p.iterations, 1);
    this.params = p;
    this.rng = new Rng(p.seed);
  }

  /** Computes the value distribution, mean, mode and (for `biases`) the biases. */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (train.nnz === 0) throw new Error(`${this.name}: the training data has no entries`);
    const counts = new Map<number, number>();
    for (let p = 0; p < train.nnz; p++) counts.set(train.values[p], (counts.get(train.values[p]) ?? 0) + 1);
    const vals = [...counts.keys()].sort((a, b) => a - b);
    this.ratingValues = Float32Array.from(vals);
    let acc = 0;
    this.ratingCdf = Float32Array.from(vals, (v) => (acc += counts.get(v) ?? 0) / train.nnz);
    this.train = train;
    this.biases = fitBiases(train, this.params.regUser, this.params.regItem, this.kind === 'biases' ? this.params.iterations : 0);
    if (this.kind === 'majority') {
      let best = vals[0];
      for (const v of vals) if ((counts.get(v) ?? 0) > (counts.get(best) ?? 0)) best = v;
      this.constant = best;
    } else {
      this.constant = this.biases.globalMean;
    }
    options.onProgress?.({ phase: 'fit', done: 1, total: 1 });
  }

  /** The predicted rating of each (user, item) pair. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const train = this.trainData;
    if (users.length !== items.length) throw new Error(`${this.name}.score: ${users.length} users but ${items.length} items`);
    const out = new Float32Array(users.length);
    const vals = this.ratingValues;
    const lo = vals[0];
    const hi = vals[vals.length - 1];
    const b = this.biases as Biases;
    const knownUser = (u: number): boolean => u >= 0 && u < train.nUsers && train.rowPtr[u + 1] > train.rowPtr[u];
    const counts = this.kind === 'biases' ? train.itemCounts() : null;
    const knownItem = (i: number): boolean => counts !== null && i >= 0 && i < train.nItems && counts[i] > 0;
    for (let j = 0; j < users.length; j++) {
      switch (this.kind) {
        case 'uniform':
          out[j] = lo + this.rng.uniform() * (hi - lo);
          break;
        case 'sampled': {
          const x = this.rng.uniform();
          let k = 0;
          while (k < vals.length - 1 && this.ratingCdf[k] <= x) k++;
          out[j] = vals[k];
          break;
        }
        case 'biases':
          out[j] = biasPrediction(b, users[j], items[j], knownUser, knownItem);
          break;
        default:
          out[j] = this.constant;
      }
    }
    return out;
  }

  protected async topKBatch(users: Int32Array, k: number, options: TopKOptions): Promise<TopKResult> {
    const kn = await this.kernels();
    const nItems = this.trainData.nItems;
    const itemBias = this.kind === 'biases' ? (this.biases as Biases).itemBias : new Float32Array(nItems);
    return kn.scoreTopK({ rows: users.length, cols: 1, data: new Float32Array(users.length) }, { rows: nItems, cols: 1, data: new Float32Array(nItems) }, k, { ...options, itemBias });
  }

  protected exportState(): ModelState {
    const b = this.biases as Biases;
    return {
      state: { globalMean: b.globalMean, constant: this.constant },
      arrays: {
        ratingValues: { data: this.ratingValues, shape: [this.ratingValues.length] },
        ratingCdf: { data: this.ratingCdf, shape: [this.ratingCdf.length] },
        userBias: { data: b.userBias, shape: [b.userBias.length] },
        itemBias: { data: b.itemBias, shape: [b.itemBias.length] },
      },
    };
  }

  protected importState(state: Record<string, unknown>, arrays: Record<string, ShapedArray>, where: string): void {
    const train = this.trainData;
    const n = arrays.ratingValues?.data.length ?? 0;
    this.ratingValues = f32(arrays, 'ratingValues', n, where);
    this.ratingCdf = f32(arrays, 'ratingCdf', n, where);
    this.constant = num(state, 'constant', where);
    this.biases = { globalMean: num(state, 'globalMean', where), userBias: f32(arrays, 'userBias', train.nUsers, where), itemBias: f32(arrays, 'itemBias', train.nItems, where) };
  }

  /** Restores a saved baseline of the given kind. */
  static async load(dir: string, kind: RatingBaselineKind): Promise<RatingBaselineRecommender> {
    return new RatingBaselineRecommender(kind, await readParams(dir, RATING_BASELINE_NAMES[kind])).restoreFrom(dir);
  }
}

const DESCRIPTIONS: Record<RatingBaselineKind, string> = {
  uniform: 'Rating baseline: a uniformly random rating in the training range',
  sampled: 'Rating baseline: a rating drawn from the training rating distribution',
  majority: 'Rating baseline: the most frequent training rating',
  mean: 'Rating baseline: the global mean rating',
  biases: 'Rating baseline: global mean + regularized user and item biases (alternating closed form)',
};

/** Registry entry of one rating baseline kind. */
export function ratingBaselineEntry(kind: RatingBaselineKind): ModelEntry {
  return {
    name: RATING_BASELINE_NAMES[kind],
    description: DESCRIPTIONS[kind],
    create: (params) => new RatingBaselineRecommender(kind, params),
    load: (dir) => RatingBaselineRecommender.load(dir, kind),
    defaults: { ...RATING_BASELINE_DEFAULTS },
  };
}

/** Registry entries of all rating baselines. */
export const ratingBaselineEntries: ModelEntry[] = (Object.keys(RATING_BASELINE_NAMES) as RatingBaselineKind[]).map(ratingBaselineEntry);
