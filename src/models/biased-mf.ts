/**
 * Biased matrix factorization trained by SGD (Funk / Koren; Surprise's "SVD"): r̂ = μ + b_u + b_i + q_iᵀp_u,
 * each epoch one pass over the ratings in a seeded random order with the updates
 * e = r − r̂; b_u += γ(e − λb_u); b_i += γ(e − λb_i); p_u += γ(e·q_i − λp_u); q_i += γ(e·p_u − λq_i).
 * Unknown users/items contribute no bias or factor term (as in Surprise). Ranks by b_i + q_iᵀp_u.
 */
import type { Interactions } from '../data/interactions.js';
import { Rng } from '../core/rng.js';
import { f32, num, readParams, type ModelState } from './base.js';
import { FactorRecommender, randomMatrix } from './factor-model.js';
import type { ShapedArray } from './persistence.js';
import { requireAtLeast, requireInt, resolveParams } from './params.js';
import type { FitOptions } from './recommender.js';
import { throwIfAborted } from './recommender.js';
import type { ModelEntry } from './registry.js';

/** Hyperparameters of {@link BiasedMfRecommender} (Surprise's defaults). */
export const BIASED_MF_DEFAULTS = { factors: 100, epochs: 20, lr: 0.005, reg: 0.02, initStd: 0.1, seed: 42 };

/** Biased MF by SGD; see the module comment. */
export class BiasedMfRecommender extends FactorRecommender {
  readonly name = 'biased-mf';
  readonly params: typeof BIASED_MF_DEFAULTS;
  /** μ. */
  globalMean = 0;
  /** b_u. */
  userBias: Float32Array = new Float32Array(0);

  constructor(params: Record<string, unknown> = {}) {
    super();
    const p = resolveParams('biased-mf', BIASED_MF_DEFAULTS, params);
    requireInt('biased-mf', 'factors', p.factors, 1);
    requireInt('biased-mf', 'epochs', p.epochs, 0);
    requireAtLeast('biased-mf', 'lr', p.lr, 0);
    requireAtLeast('biased-mf', 'reg', p.reg, 0);
    this.params = p;
  }

  /** SGD epochs over shuffled ratings; reports the training RMSE of each epoch. */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    const { factors: f, epochs, lr, reg, initStd, seed } = this.params;
    const rng = new Rng(seed);
    const P = randomMatrix(train.nUsers, f, initStd, rng).data;
    const Q = randomMatrix(train.nItems, f, initStd, rng).data;
    const bu = new Float32Array(train.nUsers);
    const bi = new Float32Array(train.nItems);
    const nnz = train.nnz;
    let mu = 0;
    for (let p = 0; p < nnz; p++) mu += train.values[p];
    mu = nnz ? mu / nnz : 0;
    const rows = train.rowIndices();
    const cols = train.colIdx;
    const vals = train.values;
    const order = Int32Array.from({ length: nnz }, (_, j) => j);
    for (let ep = 0; ep < epochs; ep++) {
      throwIfAborted(options.signal);
      for (let j = nnz - 1; j > 0; j--) {
        const s = rng.int(j + 1);
        const t = order[j];
        order[j] = order[s];
        order[s] = t;
      }
      let sq = 0;
      for (let n = 0; n < nnz; n++) {
        const e0 = order[n];
        const u = rows[e0];
        const i = cols[e0];
        const pu = u * f;
        const qi = i * f;
        let dot = 0;
        for (let c = 0; c < f; c++) dot += P[pu + c] * Q[qi + c];
        const err = vals[e0] - (mu + bu[u] + bi[i] + dot);
        sq += err * err;
        bu[u] += lr * (err - reg * bu[u]);
        bi[i] += lr * (err - reg * bi[i]);
        for (let c = 0; c < f; c++) {
          const a = P[pu + c];
          const b = Q[qi + c];
          P[pu + c] += lr * (err * b - reg * a);
          Q[qi + c] += lr * (err * a - reg * b);
        }
      }
      options.onProgress?.({ phase: 'epoch', done: ep + 1, total: epochs, metrics: { rmse: Math.sqrt(sq / Math.max(1, nnz)) } });
    }
    this.train = train;
    this.globalMean = mu;
    this.userBias = bu;
    this.itemBias = bi;
    this.userFactors = { rows: train.nUsers, cols: f, data: P };
    this.itemFactors = { rows: train.nItems, cols: f, data: Q };
    this.factorsChanged();
  }

  /** Predicted ratings; unknown users/items (outside the index range) drop their terms. */
  override async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const { u, v } = this.factors();
    if (users.length !== items.length) throw new Error(`biased-mf.score: ${users.length} users but ${items.length} items`);
    const kn = await this.kernels();
    const f = u.cols;
    const out = new Float32Array(users.length);
    const bi = this.itemBias as Float32Array;
    for (let j = 0; j < users.length; j++) {
      const a = users[j];
      const b = items[j];
      const ku = a >= 0 && a < u.rows;
      const ki = b >= 0 && b < v.rows;
      let s = this.globalMean + (ku ? this.userBias[a] : 0) + (ki ? bi[b] : 0);
      if (ku && ki) s += kn.dot(u.data.subarray(a * f, a * f + f), v.data.subarray(b * f, b * f + f));
      out[j] = s;
    }
    return out;
  }

  protected override exportState(): ModelState {
    const s = super.exportState();
    s.state.globalMean = this.globalMean;
    s.arrays.userBias = { data: this.userBias, shape: [this.userBias.length] };
    return s;
  }

  protected override importState(state: Record<string, unknown>, arrays: Record<string, ShapedArray>, where: string): void {
    super.importState(state, arrays, where);
    this.globalMean = num(state, 'globalMean', where);
    this.userBias = f32(arrays, 'userBias', this.trainData.nUsers, where);
    if (!this.itemBias) throw new Error(`${where}: array "itemBias" is missing`);
  }

  /** Restores a model saved with `save`. */
  static async load(dir: string): Promise<BiasedMfRecommender> {
    return new BiasedMfRecommender(await readParams(dir, 'biased-mf')).restoreFrom(dir);
  }
}

/** Registry entry of biased MF. */
export const biasedMfEntry: ModelEntry = {
  name: 'biased-mf',
  description: "Biased matrix factorization by SGD (Surprise's SVD): μ + b_u + b_i + q_iᵀp_u for rating prediction",
  create: (params) => new BiasedMfRecommender(params),
  load: (dir) => BiasedMfRecommender.load(dir),
  defaults: { ...BIASED_MF_DEFAULTS },
};
