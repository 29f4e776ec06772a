/**
 * Rating baselines for RMSE/MAE comparisons: a uniformly random rating, a rating drawn from the training
 * rating distribution, the most frequent rating, the global mean, and regularized user + item biases.
 * They rank items by their item term (the item bias for `biases`, nothing for the others: every item
 * scores the same and ties go to the lower index), so they also serve as trivial ranking baselines.
 */
import type { Interactions } from '../../data/interactions.js';
import type { TopKOptions, TopKResult } from '../../linalg/api.js';
import { defineParams, int, num, type ParamsOf } from '../../core/params.js';
import type { FitOptions } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { defineModel, type RegisteredModel } from '../registry.js';
import { checkPairs, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { biasPrediction, fitBiases, type Biases } from './biases.js';

/** The baselines. */
export const RATING_BASELINE_KINDS = ['uniform', 'sampled', 'majority', 'mean', 'biases'] as const;

/** Which baseline. */
export type RatingBaselineKind = (typeof RATING_BASELINE_KINDS)[number];

/** Registry name of each baseline kind. */
export const RATING_BASELINE_NAMES: Record<RatingBaselineKind, string> = {
  uniform: 'rating-uniform',
  sampled: 'rating-sampled',
  majority: 'rating-majority',
  mean: 'global-mean',
  biases: 'biases',
};

/** Hyperparameters of the rating baselines (regularization applies to `biases`, the seed to the random ones). */
export const RATING_BASELINE_PARAMS = defineParams({
  regUser: num(15, { min: 0, doc: 'λ of the user biases (biases)' }),
  regItem: num(10, { min: 0, doc: 'λ of the item biases (biases)' }),
  iterations: int(10, { min: 1, doc: 'alternating closed-form sweeps (biases)' }),
  seed: int(42, { doc: 'seed of the predicted ratings (rating-uniform, rating-sampled)' }),
});

/** Typed hyperparameters of the rating baselines. */
export type RatingBaselineParams = ParamsOf<typeof RATING_BASELINE_PARAMS>;

interface BaselineState {
  /** Distinct training values, ascending, and their cumulative frequencies (for `sampled`). */
  values: Float32Array;
  cdf: Float32Array;
  biases: Biases;
  /** The majority value or the global mean. */
  constant: number;
  /** Training entries per item (an item without any is cold: no bias). */
  itemCounts: Int32Array;
  /** The stream of the random predictions (uniform, sampled). */
  rng: Rng;
}

/** A rating baseline; see the module comment. */
export class RatingBaselineRecommender extends SkeletonModel<RatingBaselineParams, BaselineState> {
  readonly name: string;

  constructor(readonly kind: RatingBaselineKind, params: Readonly<Record<string, unknown>> = {}) {
    super(RATING_BASELINE_PARAMS.parse(RATING_BASELINE_NAMES[kind], params));
    this.name = RATING_BASELINE_NAMES[kind];
  }

  /** Computes the value distribution, mean, mode and (for `biases`) the biases. */
  protected async fitState(train: Interactions, options: FitOptions): Promise<BaselineState> {
    if (train.nnz === 0) throw new Error(`${this.name}: the training data has no entries`);
    const counts = new Map<number, number>();
    for (let p = 0; p < train.nnz; p++) counts.set(train.values[p], (counts.get(train.values[p]) ?? 0) + 1);
    const vals = [...counts.keys()].sort((a, b) => a - b);
    let acc = 0;
    const cdf = Float32Array.from(vals, (v) => (acc += counts.get(v) ?? 0) / train.nnz);
    const biases = fitBiases(train, this.params.regUser, this.params.regItem, this.kind === 'biases' ? this.params.iterations : 0);
    let constant = biases.globalMean;
    if (this.kind === 'majority') {
      constant = vals[0];
      for (const v of vals) if ((counts.get(v) ?? 0) > (counts.get(constant) ?? 0)) constant = v;
    }
    options.onProgress?.({ phase: 'fit', done: 1, total: 1 });
    return { values: Float32Array.from(vals), cdf, biases, constant, itemCounts: train.itemCounts(), rng: new Rng(this.params.seed) };
  }

  /** The predicted rating of each (user, item) pair. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const train = this.trainData;
    const { values: vals, cdf, biases, constant, itemCounts, rng } = this.state;
    checkPairs(this.name, users, items);
    const out = new Float32Array(users.length);
    const lo = vals[0];
    const hi = vals[vals.length - 1];
    const knownUser = (u: number): boolean => u >= 0 && u < train.nUsers && train.rowPtr[u + 1] > train.rowPtr[u];
    const knownItem = (i: number): boolean => i >= 0 && i < train.nItems && itemCounts[i] > 0;
    for (let j = 0; j < users.length; j++) {
      switch (this.kind) {
        case 'uniform':
          out[j] = lo + rng.uniform() * (hi - lo);
          break;
        case 'sampled': {
          const x = rng.uniform();
          let k = 0;
          while (k < vals.length - 1 && cdf[k] <= x) k++;
          out[j] = vals[k];
          break;
        }
        case 'biases':
          out[j] = biasPrediction(biases, users[j], items[j], knownUser, knownItem);
          break;
        default:
          out[j] = constant;
      }
    }
    return out;
  }

  /** Ranks by the item term: the item bias for `biases`, nothing (ties by index) for the others. */
  protected async rank(state: BaselineState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const kn = await this.kernels();
    const rows = batch.rows.rows;
    const nItems = batch.rows.cols;
    const itemBias = this.kind === 'biases' ? state.biases.itemBias : new Float32Array(nItems);
    return kn.scoreTopK({ rows, cols: 1, data: new Float32Array(rows) }, { rows: nItems, cols: 1, data: new Float32Array(nItems) }, k, { ...select, itemBias });
  }

  protected exportState(state: BaselineState): StoredState {
    const b = state.biases;
    return {
      json: { globalMean: b.globalMean, constant: state.constant },
      arrays: { ratingValues: vector(state.values), ratingCdf: vector(state.cdf), userBias: vector(b.userBias), itemBias: vector(b.itemBias) },
    };
  }

  protected importState(saved: StateReader, train: Interactions): BaselineState {
    const values = saved.f32('ratingValues');
    if (values.length === 0) throw new Error(`${saved.file}: array "ratingValues" is empty`);
    return {
      values,
      cdf: saved.f32('ratingCdf', values.length),
      constant: saved.number('constant'),
      biases: { globalMean: saved.number('globalMean'), userBias: saved.f32('userBias', train.nUsers), itemBias: saved.f32('itemBias', train.nItems) },
      itemCounts: train.itemCounts(),
      rng: new Rng(this.params.seed),
    };
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
export function ratingBaselineModel(kind: RatingBaselineKind): RegisteredModel {
  return defineModel({ name: RATING_BASELINE_NAMES[kind], description: DESCRIPTIONS[kind], params: RATING_BASELINE_PARAMS, create: (p) => new RatingBaselineRecommender(kind, p) });
}

/** Registry entries of all rating baselines. */
export const ratingBaselineModels: RegisteredModel[] = RATING_BASELINE_KINDS.map(ratingBaselineModel);
