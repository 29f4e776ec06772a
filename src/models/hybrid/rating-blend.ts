/**
 * Rating blend: a learned linear stack of rating predictors (by default SVD++, item- and user-based KNNBaseline
 * and biased MF), in the spirit of the Netflix Prize probe blends and feature-weighted linear stacking (Sill et
 * al. 2009). The blend is fitted on the training data only:
 * 1. a seeded share `holdout` of the training ratings is held out; every component is fitted on the rest and
 *    predicts the held-out ratings;
 * 2. ridge regression (λ `ridge`, intercept unpenalised) of the held-out ratings on the features
 *    1, g_u, g_i and, per component c, p_c, p_c·g_u, p_c·g_i, where g_u = ln(1 + |R(u)|) and g_i = ln(1 + |R(i)|)
 *    count the ratings of the user and item in the fit part — so a component's weight can grow or shrink with
 *    how much is known about the user and the item;
 * 3. with `refit` (default), every component is fitted again on all the training data and the weights are
 *    applied to its predictions (g_u, g_i then count all the training ratings).
 * Predictions are clipped to the training rating range unless `clip` is off. Ranks by the predicted rating.
 * Saved as a model directory whose `components/<j>/` subdirectories hold the components' saved models.
 */
import { join } from 'node:path';
import type { Interactions } from '../../data/interactions.js';
import type { TopKOptions, TopKResult } from '../../linalg/api.js';
import { Rng } from '../../core/rng.js';
import { bool, defineParams, int, num, ParamError, type ParamsOf } from '../../core/params.js';
import { throwIfAborted, type FitOptions } from '../../core/progress.js';
import type { Recommender } from '../contract.js';
import { ratingRange } from '../baselines/biases.js';
import { loadModel } from '../load.js';
import { createModel, defineModel, type RegisteredModel } from '../registry.js';
import { checkPairs, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { componentsParam, parseComponents, type ComponentSpec } from './hybrid.js';

/** The default components: the rating models whose errors differ most. */
export const RATING_BLEND_COMPONENTS: ComponentSpec[] = [
  { model: 'svdpp', params: {}, label: 'svdpp' },
  { model: 'knn-baseline', params: {}, label: 'knn-item' },
  { model: 'knn-baseline', params: { userBased: true }, label: 'knn-user' },
  // The validation-best biased MF (its own defaults trade 0.0013 RMSE for half the fit time).
  { model: 'biased-mf', params: { factors: 50, epochs: 25 }, label: 'biased-mf' },
];

/** Hyperparameters of {@link RatingBlendRecommender}. */
export const RATING_BLEND_PARAMS = defineParams({
  components: componentsParam(RATING_BLEND_COMPONENTS, 'the blended rating models (each must have score)'),
  holdout: num(0.1, { min: 0, exclusiveMin: true, max: 0.5, doc: 'share of the training ratings held out to fit the blend weights' }),
  ridge: num(1, { min: 0, doc: 'λ of the ridge penalty on the blend weights (not on the intercept)' }),
  supportFeatures: bool(true, { doc: 'let each weight vary with ln(1 + ratings) of the user and of the item' }),
  refit: bool(true, { doc: 'refit the components on all the training data after the weights are learned' }),
  clip: bool(true, { doc: 'clip predicted ratings to the training rating range' }),
  seed: int(42, { doc: 'seed of the held-out split' }),
});

/** Typed hyperparameters of {@link RatingBlendRecommender}. */
export type RatingBlendParams = ParamsOf<typeof RATING_BLEND_PARAMS>;

interface RatingBlendState {
  models: Recommender[];
  /** Regression weights, in the order of {@link featureRow}. */
  weights: Float64Array;
  /** g_u and g_i: ln(1 + ratings) of each user and item in the data the components were fitted on. */
  userSupport: Float64Array;
  itemSupport: Float64Array;
  minRating: number;
  maxRating: number;
  /** RMSE on the held-out ratings: of the blend (in-sample) and of each component alone. */
  holdoutRmse: { blend: number; alone: number[] };
}

/** ln(1 + count) per index. */
function logCounts(counts: ArrayLike<number>): Float64Array {
  return Float64Array.from(counts as ArrayLike<number>, (c) => Math.log1p(c));
}

/**
 * The features of one pair into `out`: 1, g_u, g_i, then per component p, p·g_u, p·g_i (or 1, then p per
 * component without support features).
 */
export function featureRow(preds: ArrayLike<number>, gu: number, gi: number, support: boolean, out: Float64Array): void {
  if (!support) {
    out[0] = 1;
    for (let c = 0; c < preds.length; c++) out[1 + c] = preds[c];
    return;
  }
  out[0] = 1;
  out[1] = gu;
  out[2] = gi;
  for (let c = 0; c < preds.length; c++) {
    out[3 + 3 * c] = preds[c];
    out[4 + 3 * c] = preds[c] * gu;
    out[5 + 3 * c] = preds[c] * gi;
  }
}

/** Number of features of {@link featureRow}. */
export function featureCount(components: number, support: boolean): number {
  return support ? 3 + 3 * components : 1 + components;
}

/**
 * Ridge regression min ‖Xw − y‖² + λ Σ_{j≥1} w_j² (column 0, the intercept, unpenalised), X n × d row-major,
 * by the normal equations and Gaussian elimination with partial pivoting.
 */
export function ridgeRegression(X: Float64Array, y: ArrayLike<number>, d: number, lambda: number): Float64Array {
  const n = y.length;
  const A = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) {
      const xj = X[o + j];
      b[j] += xj * y[r];
      for (let k = j; k < d; k++) A[j * d + k] += xj * X[o + k];
    }
  }
  for (let j = 0; j < d; j++) for (let k = 0; k < j; k++) A[j * d + k] = A[k * d + j];
  for (let j = 1; j < d; j++) A[j * d + j] += lambda;
  return solve(A, b, d);
}

/** Solves A x = b (A d × d, overwritten) by Gaussian elimination with partial pivoting; singular → throws. */
function solve(A: Float64Array, b: Float64Array, d: number): Float64Array {
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(A[r * d + c]) > Math.abs(A[piv * d + c])) piv = r;
    if (!(Math.abs(A[piv * d + c]) > 1e-12)) throw new Error('rating-blend: the blend regression is singular (components predict the same values; raise ridge)');
    if (piv !== c) {
      for (let k = 0; k < d; k++) [A[c * d + k], A[piv * d + k]] = [A[piv * d + k], A[c * d + k]];
      [b[c], b[piv]] = [b[piv], b[c]];
    }
    for (let r = c + 1; r < d; r++) {
      const f = A[r * d + c] / A[c * d + c];
      if (f === 0) continue;
      for (let k = c; k < d; k++) A[r * d + k] -= f * A[c * d + k];
      b[r] -= f * b[c];
    }
  }
  const x = new Float64Array(d);
  for (let r = d - 1; r >= 0; r--) {
    let s = b[r];
    for (let k = r + 1; k < d; k++) s -= A[r * d + k] * x[k];
    x[r] = s / A[r * d + r];
  }
  return x;
}

/** The rating blend; see the module comment. */
export class RatingBlendRecommender extends SkeletonModel<RatingBlendParams, RatingBlendState> {
  readonly name = 'rating-blend';
  protected override batchSize = 64;
  /** The components, parsed from the `components` hyperparameter. */
  readonly components: ComponentSpec[];
  /** Components loaded from a model directory, waiting for `importState`. */
  private loaded: Recommender[] | null = null;

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(RATING_BLEND_PARAMS.parse('rating-blend', params));
    const specs = parseComponents(this.params.components);
    if (!specs) throw new ParamError('rating-blend', 'components', 'components must be a non-empty list of { model, params, label }');
    const labels = specs.map((c) => c.label);
    if (new Set(labels).size !== labels.length) throw new ParamError('rating-blend', 'components', `component labels must be distinct (got ${labels.join(', ')}); give each a label`);
    for (const c of specs) {
      if (c.model === 'rating-blend') throw new ParamError('rating-blend', 'components', 'a rating blend cannot contain a rating blend');
      let m: Recommender;
      try {
        m = createModel(c.model, c.params);
      } catch (e) {
        throw new ParamError('rating-blend', 'components', `component "${c.label}": ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!m.score) throw new ParamError('rating-blend', 'components', `component "${c.label}" (${c.model}) does not predict ratings (no score)`);
    }
    this.components = specs;
  }

  /** The learned weights by feature name (empty before fit). */
  get blendWeights(): Record<string, number> {
    const s = this.stateOrNull;
    if (!s) return {};
    const names = this.params.supportFeatures
      ? ['intercept', 'g_u', 'g_i', ...this.components.flatMap((c) => [c.label, `${c.label}·g_u`, `${c.label}·g_i`])]
      : ['intercept', ...this.components.map((c) => c.label)];
    return Object.fromEntries(names.map((n, j) => [n, s.weights[j]]));
  }

  private async fitComponents(train: Interactions, options: FitOptions, what: string): Promise<Recommender[]> {
    const out: Recommender[] = [];
    for (const c of this.components) {
      throwIfAborted(options.signal);
      const m = createModel(c.model, c.params);
      await m.fit(train, { signal: options.signal, onProgress: (p) => options.onProgress?.({ ...p, phase: `${what} ${c.label}: ${p.phase}` }) });
      out.push(m);
    }
    return out;
  }

  /** Each component's predictions of the pairs. */
  private static async predictions(models: Recommender[], users: Int32Array, items: Int32Array): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const m of models) out.push(await m.score!(users, items));
    return out;
  }

  protected async fitState(train: Interactions, options: FitOptions): Promise<RatingBlendState> {
    const p = this.params;
    if (train.nnz < 2) throw new Error('rating-blend: the training data needs at least 2 ratings (one to fit, one to hold out)');
    const rng = new Rng(p.seed).fork('rating-blend:holdout');
    const perm = rng.permutation(train.nnz);
    const hold = new Uint8Array(train.nnz);
    const nHold = Math.max(1, Math.min(train.nnz - 1, Math.round(p.holdout * train.nnz)));
    for (let j = 0; j < nHold; j++) hold[perm[j]] = 1;
    const fitPart = train.selectEntries(Uint8Array.from(hold, (h) => 1 - h));
    const held = train.selectEntries(hold).toCoo();
    let models = await this.fitComponents(fitPart, options, 'holdout');
    const preds = await RatingBlendRecommender.predictions(models, held.userIdx, held.itemIdx);
    const gu = logCounts(fitPart.userCounts());
    const gi = logCounts(fitPart.itemCounts());
    const C = models.length;
    const d = featureCount(C, p.supportFeatures);
    const n = held.userIdx.length;
    const X = new Float64Array(n * d);
    const row = new Float64Array(d);
    const pr = new Float64Array(C);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < C; c++) pr[c] = preds[c][r];
      featureRow(pr, gu[held.userIdx[r]], gi[held.itemIdx[r]], p.supportFeatures, row);
      X.set(row, r * d);
    }
    const weights = ridgeRegression(X, held.values, d, p.ridge);
    const range = ratingRange(train);
    const rmseOf = (f: (r: number) => number): number => {
      let s = 0;
      for (let r = 0; r < n; r++) s += (f(r) - held.values[r]) ** 2;
      return Math.sqrt(s / n);
    };
    const clipped = (x: number): number => (p.clip ? Math.min(range.maxRating, Math.max(range.minRating, x)) : x);
    const holdoutRmse = {
      blend: rmseOf((r) => {
        let s = 0;
        for (let j = 0; j < d; j++) s += X[r * d + j] * weights[j];
        return clipped(s);
      }),
      alone: preds.map((q) => rmseOf((r) => q[r])),
    };
    options.onProgress?.({ phase: 'weights', done: 1, total: 1 });
    let userSupport = gu;
    let itemSupport = gi;
    if (p.refit) {
      for (const m of models) m.dispose?.();
      models = await this.fitComponents(train, options, 'final');
      userSupport = logCounts(train.userCounts());
      itemSupport = logCounts(train.itemCounts());
    }
    return { models, weights, userSupport, itemSupport, ...range, holdoutRmse };
  }

  /** The blended prediction of each pair (clipped unless `clip` is off). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    checkPairs(this.name, users, items);
    return this.blend(this.state, users, items);
  }

  private async blend(state: RatingBlendState, users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const p = this.params;
    const preds = await RatingBlendRecommender.predictions(state.models, users, items);
    const gu = state.userSupport;
    const gi = state.itemSupport;
    const C = state.models.length;
    const d = state.weights.length;
    const row = new Float64Array(d);
    const pr = new Float64Array(C);
    const out = new Float32Array(users.length);
    for (let r = 0; r < users.length; r++) {
      for (let c = 0; c < C; c++) pr[c] = preds[c][r];
      const u = users[r];
      const i = items[r];
      featureRow(pr, u >= 0 && u < gu.length ? gu[u] : 0, i >= 0 && i < gi.length ? gi[i] : 0, p.supportFeatures, row);
      let s = 0;
      for (let j = 0; j < d; j++) s += row[j] * state.weights[j];
      out[r] = p.clip ? Math.min(state.maxRating, Math.max(state.minRating, s)) : s;
    }
    return out;
  }

  /** Every item's blended prediction for each user of the batch, then top-k. */
  protected async rank(state: RatingBlendState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const users = batch.users;
    if (!users) throw new Error(`${this.name}: cannot rank an unseen user's history`);
    const nI = batch.rows.cols;
    const us = new Int32Array(users.length * nI);
    const is = new Int32Array(users.length * nI);
    for (let r = 0; r < users.length; r++) {
      us.fill(users[r], r * nI, (r + 1) * nI);
      for (let i = 0; i < nI; i++) is[r * nI + i] = i;
    }
    const data = await this.blend(state, us, is);
    return (await this.kernels()).topk({ rows: users.length, cols: nI, data }, k, select);
  }

  /** The held-out RMSE of the blend and of each component alone, and the weights. */
  fitNotes(): string[] {
    const s = this.stateOrNull;
    if (!s) return [];
    const alone = this.components.map((c, j) => `${c.label} ${s.holdoutRmse.alone[j].toFixed(4)}`).join(', ');
    const w = Object.entries(this.blendWeights).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ');
    return [`rating-blend: held-out RMSE (${this.params.holdout} of the training ratings) ${s.holdoutRmse.blend.toFixed(4)} (alone: ${alone}); weights ${w}`];
  }

  /** Saves the blend and each component in `dir/components/<j>/`. */
  override async save(dir: string): Promise<void> {
    await super.save(dir);
    for (const [j, m] of this.state.models.entries()) {
      if (!m.save) throw new Error(`rating-blend: component "${this.components[j].label}" (${m.name}) cannot be saved`);
      await m.save(join(dir, 'components', String(j)));
    }
  }

  /** Loads the components saved by {@link save}; called by the registry before `restore`. */
  async loadComponents(dir: string): Promise<void> {
    const out: Recommender[] = [];
    for (let j = 0; j < this.components.length; j++) {
      const sub = join(dir, 'components', String(j));
      const m = await loadModel(sub);
      if (m.name !== this.components[j].model) throw new Error(`${sub}: holds a "${m.name}" model, but component ${j} is "${this.components[j].model}"`);
      out.push(m);
    }
    this.loaded = out;
  }

  protected exportState(state: RatingBlendState): StoredState {
    return {
      json: { minRating: state.minRating, maxRating: state.maxRating, holdoutRmse: state.holdoutRmse },
      arrays: { weights: vector(state.weights), userSupport: vector(state.userSupport), itemSupport: vector(state.itemSupport) },
    };
  }

  protected importState(saved: StateReader, train: Interactions): RatingBlendState {
    const models = this.loaded;
    this.loaded = null;
    if (!models) throw new Error(`${saved.file}: the rating blend's components were not loaded (load it with loadModel)`);
    const weights = saved.f64('weights', featureCount(models.length, this.params.supportFeatures));
    const h = saved.value('holdoutRmse');
    const holdoutRmse = isHoldout(h, models.length) ? h : { blend: NaN, alone: models.map(() => NaN) };
    return {
      models, weights, userSupport: saved.f64('userSupport', train.nUsers), itemSupport: saved.f64('itemSupport', train.nItems),
      minRating: saved.number('minRating'), maxRating: saved.number('maxRating'), holdoutRmse,
    };
  }

  protected override releaseState(state: RatingBlendState): void {
    for (const m of state.models) m.dispose?.();
  }
}

function isHoldout(v: unknown, n: number): v is { blend: number; alone: number[] } {
  if (typeof v !== 'object' || v === null || !('blend' in v) || !('alone' in v)) return false;
  return typeof v.blend === 'number' && Array.isArray(v.alone) && v.alone.length === n && v.alone.every((x) => typeof x === 'number');
}

/** Registry entry of the rating blend (its restore loads the components' directories first). */
export const ratingBlendModel: RegisteredModel = defineModel({
  name: 'rating-blend',
  description: 'Linear stack of rating models (SVD++, KNNBaseline item/user, biased MF) with support-weighted features, weights by ridge regression on held-out training ratings',
  params: RATING_BLEND_PARAMS,
  create: (p) => new RatingBlendRecommender(p),
  restoreParts: (model, dir) => model.loadComponents(dir),
});
