/**
 * Biased matrix factorization trained by SGD (Funk / Koren; Surprise's "SVD"): r̂ = μ + b_u + b_i + q_iᵀp_u,
 * each epoch one pass over the ratings in a seeded random order with the updates
 * e = r − r̂; b_u += γ(e − λb_u); b_i += γ(e − λb_i); p_u += γ(e·q_i − λp_u); q_i += γ(e·p_u − λq_i).
 * Unknown users/items contribute no bias or factor term (as in Surprise). Predicted ratings are clipped to the
 * training rating range (as Surprise clips to the rating scale) unless `clip` is off. Ranks by b_i + q_iᵀp_u.
 */
import type { Interactions } from '../../data/interactions.js';
import { bool, defineParams, int, num, type ParamsOf } from '../../core/params.js';
import { checkpoint, type FitOptions } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { ratingRange } from '../baselines/biases.js';
import { defineModel } from '../registry.js';
import { checkPairs, vector, type StateReader, type StoredState } from '../skeleton.js';
import { FactorModel, randomMatrix, type FactorState } from './factor-model.js';

/**
 * Hyperparameters of {@link BiasedMfRecommender}. Surprise's SVD uses 100 factors, 20 epochs, γ 0.005, λ 0.02 (init
 * std 0.1); these defaults (20, 30, 0.01, 0.1) were chosen on a held-out tenth of the training ratings of
 * MovieLens 100K: validation RMSE 0.9297 against 0.955 with Surprise's values, within 0.0013 of the best
 * candidate (50 factors, 25 epochs: 0.9284) at half its cost (docs/results.md).
 */
export const BIASED_MF_PARAMS = defineParams({
  factors: int(20, { min: 1, doc: 'latent dimensions' }),
  epochs: int(30, { min: 0, doc: 'SGD passes over the shuffled ratings' }),
  lr: num(0.01, { min: 0, doc: 'learning rate γ' }),
  reg: num(0.1, { min: 0, doc: 'λ of the L2 penalty on biases and factors' }),
  initStd: num(0.1, { min: 0, doc: 'standard deviation of the initial factors' }),
  clip: bool(true, { doc: 'clip predicted ratings to the training rating range' }),
  seed: int(42, { doc: 'seed of the initial factors and of the shuffles' }),
});

/** Typed hyperparameters of {@link BiasedMfRecommender}. */
export type BiasedMfParams = ParamsOf<typeof BIASED_MF_PARAMS>;

/** The state of a biased rating model (μ + b_u + b_i + p_u·q_i): biased MF, and SVD++ with more. */
export interface BiasedRatingState extends FactorState {
  /** b_i (also the ranking's item bias). */
  itemBias: Float32Array;
  /** μ. */
  globalMean: number;
  /** b_u. */
  userBias: Float32Array;
  /** Smallest and largest training rating (the clip range). */
  minRating: number;
  maxRating: number;
}

type BiasedMfState = BiasedRatingState;

/**
 * μ + b_u + b_i + dot(u, i) for each (user, item) pair, clipped to the training range when `clip`; a user or
 * item outside the trained ones drops its terms.
 */
export function biasedRatings(state: BiasedRatingState, users: Int32Array, items: Int32Array, dot: (u: number, i: number) => number, clip: boolean): Float32Array {
  const { itemBias: bi, globalMean, userBias, minRating, maxRating } = state;
  return Float32Array.from(users, (a, j) => {
    const b = items[j];
    const ku = a >= 0 && a < state.user.rows;
    const ki = b >= 0 && b < state.item.rows;
    const r = globalMean + (ku ? userBias[a] : 0) + (ki ? bi[b] : 0) + (ku && ki ? dot(a, b) : 0);
    return clip ? Math.min(maxRating, Math.max(minRating, r)) : r;
  });
}

/**
 * The parameters one SGD pass updates in place, and its constants. The user and item factors share one array
 * (users first, then items at `itemOffset`), which makes the pass faster in V8 than two arrays.
 */
interface SgdModel {
  factors: Float32Array;
  itemOffset: number;
  bu: Float32Array;
  bi: Float32Array;
  mu: number;
  f: number;
  lr: number;
  reg: number;
}

/**
 * Fisher–Yates shuffle of the triples (users[j], items[j], ratings[j]) together, with the draws of
 * `rng.shuffle` on an array of the same length: repeated every epoch, it visits the ratings in the same order
 * as shuffling a permutation of their indices would.
 */
export function shuffleTriples(users: Int32Array, items: Int32Array, ratings: Float32Array, rng: Rng): void {
  for (let j = users.length - 1; j > 0; j--) {
    const k = rng.int(j + 1);
    const u = users[j];
    users[j] = users[k];
    users[k] = u;
    const i = items[j];
    items[j] = items[k];
    items[k] = i;
    const r = ratings[j];
    ratings[j] = ratings[k];
    ratings[k] = r;
  }
}

/**
 * One SGD pass over the ratings in their array order (the updates of the module comment, with the factor step
 * written as p ← (1 − γλ)p + γe·q); returns Σ e².
 */
function sgdEpoch(m: SgdModel, users: Int32Array, items: Int32Array, ratings: Float32Array): number {
  const { factors: W, itemOffset, bu, bi, mu, f, lr, reg } = m;
  const keep = 1 - lr * reg;
  const n = users.length;
  let sq = 0;
  for (let t = 0; t < n; t++) {
    const u = users[t];
    const i = items[t];
    const pu = u * f;
    const end = pu + f;
    const qi = itemOffset + i * f;
    let dot = 0;
    for (let a = pu, b = qi; a < end; a++, b++) dot += W[a] * W[b];
    const err = ratings[t] - (mu + bu[u] + bi[i] + dot);
    sq += err * err;
    bu[u] += lr * (err - reg * bu[u]);
    bi[i] += lr * (err - reg * bi[i]);
    const step = lr * err;
    for (let a = pu, b = qi; a < end; a++, b++) {
      const x = W[a];
      const y = W[b];
      W[a] = keep * x + step * y;
      W[b] = keep * y + step * x;
    }
  }
  return sq;
}

/** Biased MF by SGD; see the module comment. */
export class BiasedMfRecommender extends FactorModel<BiasedMfParams, BiasedMfState> {
  readonly name = 'biased-mf';

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(BIASED_MF_PARAMS.parse('biased-mf', params));
  }

  /** μ (0 before fit). */
  get globalMean(): number {
    return this.stateOrNull?.globalMean ?? 0;
  }

  /** b_u (empty before fit). */
  get userBias(): Float32Array {
    return this.stateOrNull?.userBias ?? new Float32Array(0);
  }

  /** SGD epochs over shuffled ratings; reports the training RMSE of each epoch. */
  protected async fitState(train: Interactions, options: FitOptions): Promise<BiasedMfState> {
    const { factors: f, epochs, lr, reg, initStd, seed } = this.params;
    const rng = new Rng(seed);
    const nU = train.nUsers;
    const factors = new Float32Array((nU + train.nItems) * f);
    factors.set(randomMatrix(nU, f, initStd, rng).data);
    factors.set(randomMatrix(train.nItems, f, initStd, rng).data, nU * f);
    const P = factors.subarray(0, nU * f);
    const Q = factors.subarray(nU * f);
    const bu = new Float32Array(train.nUsers);
    const bi = new Float32Array(train.nItems);
    const nnz = train.nnz;
    let mu = 0;
    for (let p = 0; p < nnz; p++) mu += train.values[p];
    mu = nnz ? mu / nnz : 0;
    // The ratings as contiguous (user, item, rating) triples, shuffled in place each epoch: the SGD pass then
    // reads them in order instead of through an index permutation.
    const users = train.rowIndices();
    const items = train.colIdx.slice();
    const ratings = train.values.slice();
    const range = ratingRange(train);
    const sgd: SgdModel = { factors, itemOffset: nU * f, bu, bi, mu, f, lr, reg };
    let best: { P: Float32Array; Q: Float32Array; bu: Float32Array; bi: Float32Array } | null = null;
    for (let ep = 0; ep < epochs; ep++) {
      await checkpoint(options.signal);
      shuffleTriples(users, items, ratings, rng);
      const sq = sgdEpoch(sgd, users, items, ratings);
      options.onProgress?.({ phase: 'epoch', done: ep + 1, total: epochs, metrics: { rmse: Math.sqrt(sq / Math.max(1, nnz)) } });
      if (options.validation) {
        const state: BiasedMfState = { user: { rows: train.nUsers, cols: f, data: P }, item: { rows: train.nItems, cols: f, data: Q }, itemBias: bi, globalMean: mu, userBias: bu, ...range };
        const verdict = await options.validation.check(ep + 1, (u, k) => this.recommendWith(state, train, u, k, {}));
        if (verdict.best) best = { P: P.slice(), Q: Q.slice(), bu: bu.slice(), bi: bi.slice() };
        if (verdict.stop) break;
      }
    }
    if (best) {
      P.set(best.P);
      Q.set(best.Q);
      bu.set(best.bu);
      bi.set(best.bi);
    }
    // The state owns separate user and item arrays, not views of the shared one.
    return { user: { rows: nU, cols: f, data: P.slice() }, item: { rows: train.nItems, cols: f, data: Q.slice() }, itemBias: bi, globalMean: mu, userBias: bu, ...range };
  }

  /** Predicted ratings (clipped to the training range unless `clip` is off); unknown users/items drop their terms. */
  override async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    checkPairs(this.name, users, items);
    return biasedRatings(this.state, users, items, await this.factorDot(this.state), this.params.clip);
  }

  protected exportState(state: BiasedMfState): StoredState {
    const s = this.factorArrays(state);
    s.json.globalMean = state.globalMean;
    s.json.minRating = state.minRating;
    s.json.maxRating = state.maxRating;
    s.arrays.userBias = vector(state.userBias);
    return s;
  }

  protected importState(saved: StateReader, train: Interactions): BiasedMfState {
    const f = this.readFactors(saved, train);
    if (!f.itemBias) throw new Error(`${saved.file}: array "itemBias" is missing`);
    // Saved before clipping existed: no range in the state (the training data gives the same one).
    const range = saved.value('minRating') === undefined && saved.value('maxRating') === undefined
      ? ratingRange(train)
      : { minRating: saved.number('minRating'), maxRating: saved.number('maxRating') };
    return { ...f, itemBias: f.itemBias, globalMean: saved.number('globalMean'), userBias: saved.f32('userBias', train.nUsers), ...range };
  }
}

/** Registry entry of biased MF. */
export const biasedMfModel = defineModel({
  name: 'biased-mf',
  description: "Biased matrix factorization by SGD (Surprise's SVD): μ + b_u + b_i + q_iᵀp_u for rating prediction",
  params: BIASED_MF_PARAMS,
  create: (p) => new BiasedMfRecommender(p),
  // Models saved before `clip` existed predicted unclipped ratings: they keep doing so.
  upgradeSaved: (saved) => ('clip' in saved ? saved : { ...saved, clip: false }),
});
