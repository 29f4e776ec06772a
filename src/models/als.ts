/**
 * ALS for explicit ratings (ALS-WR, Zhou et al. 2008): minimizes Σ_(u,i) (r_ui − x_uᵀy_i)² + λ(Σ n_u‖x_u‖²
 * + Σ n_i‖y_i‖²), alternating exact half steps on the kernel layer. Predicts ratings with `score`. Users or
 * items without training ratings are cold: `coldStart: 'drop'` predicts NaN for them (drop those pairs, as
 * Spark's coldStartStrategy="drop"), `'mean'` falls back to global mean + the known side's bias.
 */
import type { Interactions } from '../data/interactions.js';
import { Rng } from '../core/rng.js';
import { f32, historyRow, num, readParams } from './base.js';
import { biasPrediction, fitBiases, type Biases } from './biases.js';
import { FactorRecommender } from './factor-model.js';
import type { ShapedArray } from './persistence.js';
import { requireAtLeast, requireInt, resolveParams } from './params.js';
import type { FitOptions, History, RecommendOptions, TopK } from './recommender.js';
import type { ModelEntry } from './registry.js';
import type { ModelState } from './base.js';

/** Hyperparameters of {@link AlsRecommender}. */
export const ALS_DEFAULTS = {
  factors: 10,
  iterations: 10,
  reg: 0.1,
  /** λ·n_u (ALS-WR) when true, plain λ otherwise. */
  scaleByCount: true,
  coldStart: 'mean',
  initScale: 0.1,
  seed: 42,
};

/** Explicit ALS-WR; see the module comment. */
export class AlsRecommender extends FactorRecommender {
  readonly name = 'als';
  readonly params: typeof ALS_DEFAULTS;
  /** Fallback predictions for cold users/items. */
  biases: Biases | null = null;
  private userKnown: Uint8Array = new Uint8Array(0);
  private itemKnown: Uint8Array = new Uint8Array(0);

  constructor(params: Record<string, unknown> = {}) {
    super();
    const p = resolveParams('als', ALS_DEFAULTS, params, { coldStart: ['drop', 'mean'] });
    requireInt('als', 'factors', p.factors, 1);
    requireInt('als', 'iterations', p.iterations, 0);
    requireAtLeast('als', 'reg', p.reg, 0);
    this.params = p;
  }

  /** Alternating ALS-WR half steps from small random factors (users first). */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    const p = this.params;
    const kn = await this.kernels();
    const rng = new Rng(p.seed);
    const opts = { reg: p.reg, scaleByCount: p.scaleByCount };
    await this.alternate(train, p, rng, (r, y, x) => kn.alsExplicitHalfStep(r, y, x, opts), options);
    this.train = train;
    this.biases = fitBiases(train, p.reg, p.reg, 5);
    this.markKnown();
    this.factorsChanged();
  }

  private markKnown(): void {
    const train = this.trainData;
    this.userKnown = Uint8Array.from(train.userCounts(), (c) => (c > 0 ? 1 : 0));
    this.itemKnown = Uint8Array.from(train.itemCounts(), (c) => (c > 0 ? 1 : 0));
  }

  /** Predicted ratings x_uᵀy_i; cold pairs follow `coldStart`. */
  override async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const out = await super.score(users, items);
    const b = this.biases as Biases;
    const ku = (u: number): boolean => u >= 0 && u < this.userKnown.length && this.userKnown[u] === 1;
    const ki = (i: number): boolean => i >= 0 && i < this.itemKnown.length && this.itemKnown[i] === 1;
    for (let j = 0; j < out.length; j++) {
      if (ku(users[j]) && ki(items[j])) continue;
      out[j] = this.params.coldStart === 'drop' ? NaN : biasPrediction(b, users[j], items[j], ku, ki);
    }
    return out;
  }

  /** The exact ALS-WR user half step for `history` (values are ratings) against the trained item factors. */
  async foldIn(history: History): Promise<Float32Array> {
    const { v } = this.factors();
    const row = historyRow(history, v.rows);
    const x = { rows: 1, cols: v.cols, data: new Float32Array(v.cols) };
    const kn = await this.kernels();
    await kn.alsExplicitHalfStep(row, v, x, { reg: this.params.reg, scaleByCount: this.params.scaleByCount });
    return x.data;
  }

  /** Top-k by predicted rating for an unseen user's ratings, via {@link foldIn}. */
  async recommendForHistory(history: History, k: number, options: Omit<RecommendOptions, 'excludeSeen'> = {}): Promise<TopK> {
    return this.recommendForVector(await this.foldIn(history), history, k, options);
  }

  protected override exportState(): ModelState {
    const s = super.exportState();
    const b = this.biases as Biases;
    s.state.globalMean = b.globalMean;
    s.arrays.userBias = { data: b.userBias, shape: [b.userBias.length] };
    s.arrays.biasItem = { data: b.itemBias, shape: [b.itemBias.length] };
    return s;
  }

  protected override importState(state: Record<string, unknown>, arrays: Record<string, ShapedArray>, where: string): void {
    super.importState(state, arrays, where);
    const train = this.trainData;
    this.biases = { globalMean: num(state, 'globalMean', where), userBias: f32(arrays, 'userBias', train.nUsers, where), itemBias: f32(arrays, 'biasItem', train.nItems, where) };
    this.markKnown();
  }

  /** Restores a model saved with `save`. */
  static async load(dir: string): Promise<AlsRecommender> {
    return new AlsRecommender(await readParams(dir, 'als')).restoreFrom(dir);
  }
}

/** Registry entry of explicit ALS. */
export const alsEntry: ModelEntry = {
  name: 'als',
  description: 'Explicit-rating ALS-WR (λ scaled by counts), rating predictions with a cold-start strategy (drop | mean)',
  create: (params) => new AlsRecommender(params),
  load: (dir) => AlsRecommender.load(dir),
  defaults: { ...ALS_DEFAULTS },
};
