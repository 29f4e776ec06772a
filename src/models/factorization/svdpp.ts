/**
 * SVD++ (Koren 2008, "Factorization meets the neighborhood") as Surprise's `SVDpp` trains it:
 * r̂ = μ + b_u + b_i + q_iᵀ(p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j), N(u) = the items u rated in training.
 * Each epoch is one SGD pass over the ratings, user by user (users and each user's ratings in a seeded random
 * order), with Surprise's updates, e = r − r̂ and z = |N(u)|^-½ Σ y_j taken before the step:
 * b_u += γ(e − λb_u); b_i += γ(e − λb_i); p_u += γ(e·q_i − λp_u); q_i += γ(e·(p_u + z) − λq_i);
 * y_j += γ(e·|N(u)|^-½·q_i − λy_j) for every j ∈ N(u).
 *
 * The y_j step is the same affine map y ← (1 − γλ)y + c for every j ∈ N(u), so while one user's ratings run,
 * the model keeps y_j = A·y_j⁰ + C lazily (a scalar A, a vector C) and Σ y_j = A·Σ y_j⁰ + |N(u)|·C exactly,
 * and writes the y_j back once per user: O(f·(ratings + Σ|N(u)|)) per epoch instead of O(f·Σ|N(u)|²), with the
 * same arithmetic as the per-rating loop (up to rounding). Predictions are clipped to the training rating
 * range (as Surprise clips to the rating scale); unknown users/items contribute no bias or factor term.
 * Ranks by b_i + q_iᵀ(p_u + z_u).
 */
import type { Interactions } from '../../data/interactions.js';
import { bool, defineParams, int, num, type ParamsOf } from '../../core/params.js';
import { checkpoint, type FitOptions } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { defineModel } from '../registry.js';
import { checkPairs, matrix, vector, type StateReader, type StoredState } from '../skeleton.js';
import { biasedRatings, type BiasedRatingState } from './biased-mf.js';
import { FactorModel, randomMatrix } from './factor-model.js';
import type { DenseMatrix } from '../../linalg/api.js';

/**
 * Hyperparameters of {@link SvdppRecommender}. Surprise's SVDpp uses 20 factors, 20 epochs, γ 0.007, λ 0.02 (init
 * std 0.1); these defaults (50, 25, 0.01, 0.1) were chosen on a held-out tenth of the training ratings of
 * MovieLens 100K (validation RMSE 0.922 against 0.931 with Surprise's values; docs/results.md).
 */
export const SVDPP_PARAMS = defineParams({
  factors: int(50, { min: 1, doc: 'latent dimensions' }),
  epochs: int(25, { min: 0, doc: 'SGD passes over the ratings' }),
  lr: num(0.01, { min: 0, doc: 'learning rate γ of every parameter' }),
  reg: num(0.1, { min: 0, doc: 'λ of the L2 penalty on biases, factors and implicit factors' }),
  initStd: num(0.1, { min: 0, doc: 'standard deviation of the initial p, q and y' }),
  clip: bool(true, { doc: 'clip predicted ratings to the training rating range' }),
  seed: int(42, { doc: 'seed of the initial factors and of the rating order' }),
});

/** Typed hyperparameters of {@link SvdppRecommender}. */
export type SvdppParams = ParamsOf<typeof SVDPP_PARAMS>;

interface SvdppState extends BiasedRatingState {
  /** The explicit user factors p_u (`user` holds p_u + z_u, the vector predictions use). */
  explicit: DenseMatrix;
  /** The implicit item factors y_j. */
  implicit: DenseMatrix;
}

/**
 * p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j for every user (the user vectors predictions and rankings use).
 * `rowPtr`/`colIdx` give N(u) per user; a user without items keeps p_u.
 */
export function effectiveUserFactors(P: Float32Array, Y: Float32Array, rowPtr: Int32Array, colIdx: Int32Array, nUsers: number, f: number): Float32Array {
  const out = new Float32Array(nUsers * f);
  const z = new Float64Array(f);
  for (let u = 0; u < nUsers; u++) {
    const lo = rowPtr[u];
    const hi = rowPtr[u + 1];
    z.fill(0);
    for (let p = lo; p < hi; p++) for (let c = 0; c < f; c++) z[c] += Y[colIdx[p] * f + c];
    const s = hi > lo ? 1 / Math.sqrt(hi - lo) : 0;
    for (let c = 0; c < f; c++) out[u * f + c] = P[u * f + c] + s * z[c];
  }
  return out;
}

/** SVD++ by SGD; see the module comment. */
export class SvdppRecommender extends FactorModel<SvdppParams, SvdppState> {
  readonly name = 'svdpp';

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(SVDPP_PARAMS.parse('svdpp', params));
  }

  /** μ (0 before fit). */
  get globalMean(): number {
    return this.stateOrNull?.globalMean ?? 0;
  }

  /** b_u (empty before fit). */
  get userBias(): Float32Array {
    return this.stateOrNull?.userBias ?? new Float32Array(0);
  }

  /** y_j, items × factors (null before fit). */
  get implicitFactors(): DenseMatrix | null {
    return this.stateOrNull?.implicit ?? null;
  }

  /** SGD epochs; reports the training RMSE of each epoch. */
  protected async fitState(train: Interactions, options: FitOptions): Promise<SvdppState> {
    const { factors: f, epochs, lr, reg, initStd, seed } = this.params;
    const rng = new Rng(seed);
    const nU = train.nUsers;
    const nI = train.nItems;
    const P = randomMatrix(nU, f, initStd, rng).data;
    const Q = randomMatrix(nI, f, initStd, rng).data;
    const Y = randomMatrix(nI, f, initStd, rng).data;
    const bu = new Float32Array(nU);
    const bi = new Float32Array(nI);
    const nnz = train.nnz;
    const vals = train.values;
    const cols = train.colIdx;
    const ptr = train.rowPtr;
    let mu = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = 0; p < nnz; p++) {
      mu += vals[p];
      if (vals[p] < lo) lo = vals[p];
      if (vals[p] > hi) hi = vals[p];
    }
    mu = nnz ? mu / nnz : 0;
    const userOrder = Int32Array.from({ length: nU }, (_, u) => u);
    const pos = new Int32Array(nnz);
    for (let p = 0; p < nnz; p++) pos[p] = p;
    const S = new Float64Array(f); // Σ_{j∈N(u)} y_j⁰ at the start of the user's block
    const C = new Float64Array(f); // the lazy shift of every y_j, j ∈ N(u)
    const z = new Float64Array(f);
    const decay = 1 - lr * reg;
    for (let ep = 0; ep < epochs; ep++) {
      await checkpoint(options.signal);
      rng.shuffle(userOrder);
      let sq = 0;
      for (let o = 0; o < nU; o++) {
        const u = userOrder[o];
        const a = ptr[u];
        const b = ptr[u + 1];
        const n = b - a;
        if (n === 0) continue;
        shuffleRange(pos, a, b, rng);
        const inv = 1 / Math.sqrt(n);
        S.fill(0);
        for (let p = a; p < b; p++) {
          const yj = cols[p] * f;
          for (let c = 0; c < f; c++) S[c] += Y[yj + c];
        }
        C.fill(0);
        let A = 1;
        const pu = u * f;
        for (let t = a; t < b; t++) {
          const e0 = pos[t];
          const i = cols[e0];
          const qi = i * f;
          let dot = 0;
          for (let c = 0; c < f; c++) {
            z[c] = (A * S[c] + n * C[c]) * inv;
            dot += Q[qi + c] * (P[pu + c] + z[c]);
          }
          const err = vals[e0] - (mu + bu[u] + bi[i] + dot);
          sq += err * err;
          bu[u] += lr * (err - reg * bu[u]);
          bi[i] += lr * (err - reg * bi[i]);
          A *= decay;
          for (let c = 0; c < f; c++) {
            const puf = P[pu + c];
            const qif = Q[qi + c];
            P[pu + c] += lr * (err * qif - reg * puf);
            Q[qi + c] += lr * (err * (puf + z[c]) - reg * qif);
            C[c] = decay * C[c] + lr * err * inv * qif;
          }
        }
        for (let p = a; p < b; p++) {
          const yj = cols[p] * f;
          for (let c = 0; c < f; c++) Y[yj + c] = A * Y[yj + c] + C[c];
        }
      }
      options.onProgress?.({ phase: 'epoch', done: ep + 1, total: epochs, metrics: { rmse: Math.sqrt(sq / Math.max(1, nnz)) } });
    }
    const user = effectiveUserFactors(P, Y, ptr, cols, nU, f);
    return {
      user: { rows: nU, cols: f, data: user }, item: { rows: nI, cols: f, data: Q }, itemBias: bi, globalMean: mu, userBias: bu,
      explicit: { rows: nU, cols: f, data: P }, implicit: { rows: nI, cols: f, data: Y },
      minRating: nnz ? lo : 0, maxRating: nnz ? hi : 0,
    };
  }

  /** Predicted ratings (clipped to the training range unless `clip` is off); unknown users/items drop their terms. */
  override async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    checkPairs(this.name, users, items);
    return biasedRatings(this.state, users, items, await this.factorDot(this.state), this.params.clip);
  }

  protected exportState(state: SvdppState): StoredState {
    const s = this.factorArrays(state);
    s.json.globalMean = state.globalMean;
    s.json.minRating = state.minRating;
    s.json.maxRating = state.maxRating;
    s.arrays.userBias = vector(state.userBias);
    s.arrays.explicitUserFactors = matrix(state.explicit);
    s.arrays.implicitItemFactors = matrix(state.implicit);
    return s;
  }

  protected importState(saved: StateReader, train: Interactions): SvdppState {
    const fs = this.readFactors(saved, train);
    if (!fs.itemBias) throw new Error(`${saved.file}: array "itemBias" is missing`);
    const f = fs.user.cols;
    return {
      ...fs, itemBias: fs.itemBias, globalMean: saved.number('globalMean'), userBias: saved.f32('userBias', train.nUsers),
      explicit: saved.matrix('explicitUserFactors', train.nUsers, f), implicit: saved.matrix('implicitItemFactors', train.nItems, f),
      minRating: saved.number('minRating'), maxRating: saved.number('maxRating'),
    };
  }
}

/** Fisher–Yates shuffle of a[lo, hi). */
function shuffleRange(a: Int32Array, lo: number, hi: number, rng: Rng): void {
  for (let j = hi - 1; j > lo; j--) {
    const k = lo + rng.int(j - lo + 1);
    const t = a[j];
    a[j] = a[k];
    a[k] = t;
  }
}

/** Registry entry of SVD++. */
export const svdppModel = defineModel({
  name: 'svdpp',
  description: "SVD++ by SGD (Koren 2008; Surprise's SVDpp): μ + b_u + b_i + q_iᵀ(p_u + |N(u)|^-½ Σ y_j) for rating prediction",
  params: SVDPP_PARAMS,
  create: (p) => new SvdppRecommender(p),
});
