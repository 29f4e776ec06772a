/**
 * ALS for explicit ratings (ALS-WR, Zhou et al. 2008): minimizes Σ_(u,i) (r_ui − x_uᵀy_i)² + λ(Σ n_u‖x_u‖²
 * + Σ n_i‖y_i‖²), alternating exact half steps on the kernel layer. Predicts ratings with `score`. Users or
 * items without training ratings are cold: `coldStart: 'drop'` predicts NaN for them (drop those pairs, as
 * Spark's coldStartStrategy="drop"), `'mean'` falls back to global mean + the known side's bias.
 */
import type { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix } from '../../linalg/api.js';
import { bool, defineParams, int, num, oneOf, type ParamsOf } from '../../core/params.js';
import type { FitOptions } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { biasPrediction, fitBiases, type Biases } from '../baselines/biases.js';
import { defineModel } from '../registry.js';
import { vector, type StateReader, type StoredState } from '../skeleton.js';
import { FoldInFactorModel, type FactorState } from './factor-model.js';

/** Hyperparameters of {@link AlsRecommender}. */
export const ALS_PARAMS = defineParams({
  factors: int(10, { min: 1, doc: 'latent dimensions' }),
  iterations: int(10, { min: 0, doc: 'alternating rounds (a user half step, then an item half step)' }),
  reg: num(0.1, { min: 0, doc: 'λ of the L2 penalty' }),
  scaleByCount: bool(true, { doc: 'λ·n_u per row (ALS-WR) when true, plain λ otherwise' }),
  coldStart: oneOf(['drop', 'mean'], 'mean', { doc: 'prediction for users/items without training ratings: NaN (drop) or global mean + the known bias (mean)' }),
  initScale: num(0.1, { min: 0, doc: 'standard deviation of the initial factors' }),
  seed: int(42, { doc: 'seed of the initial factors' }),
});

/** Typed hyperparameters of {@link AlsRecommender}. */
export type AlsParams = ParamsOf<typeof ALS_PARAMS>;

interface AlsState extends FactorState {
  /** Fallback predictions for cold users/items. */
  biases: Biases;
  userKnown: Uint8Array;
  itemKnown: Uint8Array;
}

/** Explicit ALS-WR; see the module comment. */
export class AlsRecommender extends FoldInFactorModel<AlsParams, AlsState> {
  readonly name = 'als';

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(ALS_PARAMS.parse('als', params));
  }

  /** The bias fallback of cold pairs, null before fit. */
  get biases(): Biases | null {
    return this.stateOrNull?.biases ?? null;
  }

  /** Alternating ALS-WR half steps from small random factors (users first). */
  protected async fitState(train: Interactions, options: FitOptions): Promise<AlsState> {
    const p = this.params;
    const kn = await this.kernels();
    const opts = { reg: p.reg, scaleByCount: p.scaleByCount };
    const biases = fitBiases(train, p.reg, p.reg, 5);
    const seen = known(train);
    const f = await this.alternate(train, p, new Rng(p.seed), (r, y, x) => kn.alsExplicitHalfStep(r, y, x, opts), options, (m) => ({ ...m, itemBias: null, biases, ...seen }));
    return { ...f, itemBias: null, biases, ...seen };
  }

  /** Predicted ratings x_uᵀy_i; cold pairs follow `coldStart`. */
  override async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const out = await super.score(users, items);
    const { biases, userKnown, itemKnown } = this.state;
    const ku = (u: number): boolean => u >= 0 && u < userKnown.length && userKnown[u] === 1;
    const ki = (i: number): boolean => i >= 0 && i < itemKnown.length && itemKnown[i] === 1;
    for (let j = 0; j < out.length; j++) {
      if (ku(users[j]) && ki(items[j])) continue;
      out[j] = this.params.coldStart === 'drop' ? NaN : biasPrediction(biases, users[j], items[j], ku, ki);
    }
    return out;
  }

  /** The exact ALS-WR user half step for the rows (values are ratings) against the trained item factors. */
  protected async foldInRows(state: AlsState, rows: CsrMatrix): Promise<DenseMatrix> {
    const v = state.item;
    const x = { rows: rows.rows, cols: v.cols, data: new Float32Array(rows.rows * v.cols) };
    const kn = await this.kernels();
    await kn.alsExplicitHalfStep(rows, v, x, { reg: this.params.reg, scaleByCount: this.params.scaleByCount });
    return x;
  }

  protected exportState(state: AlsState): StoredState {
    const s = this.factorArrays(state);
    s.json.globalMean = state.biases.globalMean;
    s.arrays.userBias = vector(state.biases.userBias);
    s.arrays.biasItem = vector(state.biases.itemBias);
    return s;
  }

  protected importState(saved: StateReader, train: Interactions): AlsState {
    const biases = { globalMean: saved.number('globalMean'), userBias: saved.f32('userBias', train.nUsers), itemBias: saved.f32('biasItem', train.nItems) };
    return { ...this.readFactors(saved, train), biases, ...known(train) };
  }
}

/** Which users and items have training ratings. */
function known(train: Interactions): { userKnown: Uint8Array; itemKnown: Uint8Array } {
  return {
    userKnown: Uint8Array.from(train.userCounts(), (c) => (c > 0 ? 1 : 0)),
    itemKnown: Uint8Array.from(train.itemCounts(), (c) => (c > 0 ? 1 : 0)),
  };
}

/** Registry entry of explicit ALS. */
export const alsModel = defineModel({
  name: 'als',
  description: 'Explicit-rating ALS-WR (λ scaled by counts), rating predictions with a cold-start strategy (drop | mean)',
  params: ALS_PARAMS,
  create: (p) => new AlsRecommender(p),
});
