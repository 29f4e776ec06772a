/**
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008): minimizes Σ c_ui (p_ui − x_uᵀy_i)² + λ(‖X‖² + ‖Y‖²)
 * with preference p = [r > 0] and confidence c = 1 + α·r (or 1 + α·log(1 + r/ε)), alternating exact
 * (Cholesky) or warm-started conjugate-gradient half steps on the kernel layer. Options from Rendle et al.
 * 2022 ("Revisiting the performance of iALS"): λ scaled by (row count)^ν and a weight on the unobserved term.
 */
import type { Interactions } from '../data/interactions.js';
import type { DenseMatrix, IalsOptions } from '../linalg/api.js';
import { Rng } from '../core/rng.js';
import { historyRow, readParams } from './base.js';
import { FactorRecommender } from './factor-model.js';
import { requireAtLeast, requireInt, resolveParams } from './params.js';
import type { FitOptions, History, RecommendOptions, TopK } from './recommender.js';
import type { ModelEntry } from './registry.js';

/** Hyperparameters of {@link IalsRecommender}. */
export const IALS_DEFAULTS = {
  factors: 64,
  iterations: 15,
  /** λ. */
  reg: 0.01,
  alpha: 40,
  confidence: 'linear',
  eps: 1,
  solver: 'cg',
  cgSteps: 3,
  /** ν of the frequency-scaled regularization λ·(n_u)^ν (0 = plain λ). */
  regExponent: 0,
  /** Weight of the unobserved (Gram) term. */
  unobservedWeight: 1,
  /** Standard deviation of the initial factors is initScale / √factors. */
  initScale: 0.1,
  seed: 42,
};

/** Implicit ALS; see the module comment. */
export class IalsRecommender extends FactorRecommender {
  /** YᵀY of the item factors, computed on the first fold-in after fit or load. */
  private itemGram: DenseMatrix | null = null;
  readonly name = 'ials';
  readonly params: typeof IALS_DEFAULTS;

  constructor(params: Record<string, unknown> = {}) {
    super();
    const p = resolveParams('ials', IALS_DEFAULTS, params, { confidence: ['linear', 'log'], solver: ['cg', 'cholesky'] });
    requireInt('ials', 'factors', p.factors, 1);
    requireInt('ials', 'iterations', p.iterations, 0);
    requireInt('ials', 'cgSteps', p.cgSteps, 1);
    requireAtLeast('ials', 'reg', p.reg, 0);
    requireAtLeast('ials', 'alpha', p.alpha, 0);
    requireAtLeast('ials', 'unobservedWeight', p.unobservedWeight, 0);
    requireAtLeast('ials', 'eps', p.eps, Number.MIN_VALUE);
    this.params = p;
  }

  /** The kernel options of a half step with the given solver. */
  halfStepOptions(solver: 'cg' | 'cholesky' = this.params.solver as 'cg' | 'cholesky'): IalsOptions {
    const p = this.params;
    return {
      alpha: p.alpha,
      confidence: p.confidence as 'linear' | 'log',
      eps: p.eps,
      reg: p.reg,
      regExponent: p.regExponent,
      unobservedWeight: p.unobservedWeight,
      solver,
      cgSteps: p.cgSteps,
    };
  }

  /** Alternates user and item half steps `iterations` times from small random factors. */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    const p = this.params;
    const kn = await this.kernels();
    const rng = new Rng(p.seed);
    const scale = p.initScale / Math.sqrt(p.factors);
    const opts = this.halfStepOptions();
    await this.alternate(train, { ...p, initScale: scale }, rng, (r, y, x) => kn.ialsHalfStep(r, y, x, opts), options);
    this.train = train;
    this.factorsChanged();
  }

  /** The exact (Cholesky) user half step for `history` against the trained item factors. */
  async foldIn(history: History): Promise<Float32Array> {
    const { v } = this.factors();
    const row = historyRow(history, v.rows);
    const x = { rows: 1, cols: v.cols, data: new Float32Array(v.cols) };
    const kn = await this.kernels();
    this.itemGram ??= await kn.gram(v);
    await kn.ialsHalfStep(row, v, x, { ...this.halfStepOptions('cholesky'), gram: this.itemGram });
    return x.data;
  }

  /** Forgets YᵀY with the factors it was computed from. */
  protected override factorsChanged(): void {
    super.factorsChanged();
    this.itemGram = null;
  }

  /** Top-k for an unseen user's history via {@link foldIn}, excluding the history's items. */
  async recommendForHistory(history: History, k: number, options: Omit<RecommendOptions, 'excludeSeen'> = {}): Promise<TopK> {
    return this.recommendForVector(await this.foldIn(history), history, k, options);
  }

  /** Restores a model saved with `save`. */
  static async load(dir: string): Promise<IalsRecommender> {
    const m = await readParams(dir, 'ials');
    return new IalsRecommender(m).restoreFrom(dir);
  }
}

/** Registry entry of implicit ALS. */
export const ialsEntry: ModelEntry = {
  name: 'ials',
  description: 'Implicit ALS (Hu/Koren/Volinsky): confidence 1+α·r or log, Cholesky or CG solver, frequency-scaled λ (Rendle 2022)',
  create: (params) => new IalsRecommender(params),
  load: (dir) => IalsRecommender.load(dir),
  defaults: { ...IALS_DEFAULTS },
};
