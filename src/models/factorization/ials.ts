/**
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008): minimizes Σ c_ui (p_ui − x_uᵀy_i)² + λ(‖X‖² + ‖Y‖²)
 * with preference p = [r > 0] and confidence c = 1 + α·r (or 1 + α·log(1 + r/ε)), alternating exact
 * (Cholesky) or warm-started conjugate-gradient half steps on the kernel layer. Options from Rendle et al.
 * 2022 ("Revisiting the performance of iALS"): λ scaled by (row count)^ν and a weight on the unobserved term.
 */
import type { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix, IalsOptions } from '../../linalg/api.js';
import { defineParams, int, num, oneOf, type ParamsOf } from '../../core/params.js';
import type { FitOptions } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { defineModel } from '../registry.js';
import type { StateReader, StoredState } from '../skeleton.js';
import { FoldInFactorModel, type FactorState } from './factor-model.js';

/** Hyperparameters of {@link IalsRecommender}. */
export const IALS_PARAMS = defineParams({
  factors: int(64, { min: 1, doc: 'latent dimensions' }),
  iterations: int(15, { min: 0, doc: 'alternating rounds (a user half step, then an item half step)' }),
  reg: num(20, { min: 0, doc: 'λ of the L2 penalty (20: tuned on MovieLens 100K, RecBole protocol)' }),
  alpha: num(1, { min: 0, doc: 'confidence scale α (1: tuned on MovieLens 100K, RecBole protocol)' }),
  confidence: oneOf(['linear', 'log'], 'linear', { doc: 'c = 1 + α·r (linear) or 1 + α·log(1 + r/ε) (log)' }),
  eps: num(1, { min: 0, exclusiveMin: true, doc: 'ε of the log confidence' }),
  solver: oneOf(['cg', 'cholesky'], 'cg', { doc: 'exact Cholesky half steps, or cgSteps conjugate-gradient steps warm-started from the current factors' }),
  cgSteps: int(3, { min: 1, doc: 'conjugate-gradient steps per half step (solver cg)' }),
  regExponent: num(0, { min: 0, doc: 'ν of the frequency-scaled penalty λ·(row count)^ν (0 = plain λ)' }),
  unobservedWeight: num(1, { min: 0, doc: 'weight of the unobserved (Gram) term' }),
  initScale: num(0.1, { min: 0, doc: 'the initial factors have standard deviation initScale / √factors' }),
  seed: int(42, { doc: 'seed of the initial factors' }),
});

/** Typed hyperparameters of {@link IalsRecommender}. */
export type IalsParams = ParamsOf<typeof IALS_PARAMS>;

interface IalsState extends FactorState {
  /** YᵀY of the item factors, computed on the first fold-in. */
  gram?: DenseMatrix;
}

/** Implicit ALS; see the module comment. */
export class IalsRecommender extends FoldInFactorModel<IalsParams, IalsState> {
  readonly name = 'ials';

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(IALS_PARAMS.parse('ials', params));
  }

  /** The kernel options of a half step with the given solver. */
  halfStepOptions(solver: IalsParams['solver'] = this.params.solver): IalsOptions {
    const p = this.params;
    return { alpha: p.alpha, confidence: p.confidence, eps: p.eps, reg: p.reg, regExponent: p.regExponent, unobservedWeight: p.unobservedWeight, solver, cgSteps: p.cgSteps };
  }

  /** Alternates user and item half steps `iterations` times from small random factors. */
  protected async fitState(train: Interactions, options: FitOptions): Promise<IalsState> {
    const p = this.params;
    const kn = await this.kernels();
    const opts = this.halfStepOptions();
    const f = await this.alternate(train, { ...p, initScale: p.initScale / Math.sqrt(p.factors) }, new Rng(p.seed), (r, y, x) => kn.ialsHalfStep(r, y, x, opts), options, (m) => ({ ...m, itemBias: null }));
    return { ...f, itemBias: null };
  }

  /** The exact (Cholesky) user half step for the rows against the trained item factors. */
  protected async foldInRows(state: IalsState, rows: CsrMatrix): Promise<DenseMatrix> {
    const v = state.item;
    const x = { rows: rows.rows, cols: v.cols, data: new Float32Array(rows.rows * v.cols) };
    const kn = await this.kernels();
    state.gram ??= await kn.gram(v);
    await kn.ialsHalfStep(rows, v, x, { ...this.halfStepOptions('cholesky'), gram: state.gram });
    return x;
  }

  protected exportState(state: IalsState): StoredState {
    return this.factorArrays(state);
  }

  protected importState(saved: StateReader, train: Interactions): IalsState {
    return this.readFactors(saved, train);
  }
}

/** Registry entry of implicit ALS. */
export const ialsModel = defineModel({
  name: 'ials',
  description: 'Implicit ALS (Hu/Koren/Volinsky): confidence 1+α·r or log, Cholesky or CG solver, frequency-scaled λ (Rendle 2022)',
  params: IALS_PARAMS,
  create: (p) => new IalsRecommender(p),
});
