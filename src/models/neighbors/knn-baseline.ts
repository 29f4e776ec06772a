/**
 * KNNBaseline (Koren 2010, "Factor in the neighbors") as Surprise's `KNNBaseline` computes it, item-based by
 * default (Surprise's `sim_options={'name': 'pearson_baseline', 'user_based': False}`; `userBased: true` swaps
 * the roles of users and items).
 *
 * - Baselines b_ui = μ + b_u + b_i by Surprise's ALS (`bsl_options` reg_i 10, reg_u 15, 10 epochs: item step,
 *   then user step, each in closed form — {@link fitBiases}).
 * - Similarity `pearson_baseline`: over the n users who rated both items a and b, with d = r − b_ui,
 *   sim = Σ d_a d_b / √(Σ d_a² · Σ d_b²) · (n − 1)/(n − 1 + shrinkage); 0 when n < minSupport or a sum is 0;
 *   sim(a, a) = 1. Held as a dense items × items matrix.
 * - Prediction for (u, i): b_ui + Σ_{j∈N^k_i(u)} s_ij (r_uj − b_uj) / Σ s_ij, N^k_i(u) = the k items u rated
 *   with the highest positive similarity to i; with fewer than minNeighbors of them the neighbour term is 0.
 *   Unknown users/items give μ plus the known bias (as Surprise), and predictions are clipped to the
 *   training rating range.
 * Ranks by the (unclipped) predicted rating.
 */
import type { Interactions } from '../../data/interactions.js';
import type { DenseMatrix, TopKOptions, TopKResult } from '../../linalg/api.js';
import { bool, defineParams, int, num, type ParamsOf } from '../../core/params.js';
import { checkpoint, type FitOptions } from '../../core/progress.js';
import { defineModel } from '../registry.js';
import { fitBiases, type Biases } from '../baselines/biases.js';
import { checkPairs, matrix, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';

/** Largest number of users or items (the side the similarity is between) of the dense similarity matrix. */
export const KNN_BASELINE_MAX_SIDE = 20_000;

/** Hyperparameters of {@link KnnBaselineRecommender} (Surprise's defaults). */
export const KNN_BASELINE_PARAMS = defineParams({
  neighbors: int(40, { min: 1, doc: 'k: most similar rated items (users) a prediction uses' }),
  minNeighbors: int(1, { min: 0, doc: 'min_k: with fewer positive-similarity neighbours the neighbour term is 0' }),
  shrinkage: num(100, { min: 0, doc: 'shrinkage of pearson_baseline: sim · (n − 1)/(n − 1 + shrinkage)' }),
  minSupport: int(1, { min: 0, doc: 'pairs with fewer common users (items) get similarity 0' }),
  userBased: bool(false, { doc: 'similarities between users instead of items' }),
  regUser: num(15, { min: 0, doc: 'λ of the user baselines (bsl_options reg_u)' }),
  regItem: num(10, { min: 0, doc: 'λ of the item baselines (bsl_options reg_i)' }),
  baselineEpochs: int(10, { min: 1, doc: 'ALS sweeps of the baselines (bsl_options n_epochs)' }),
  clip: bool(true, { doc: 'clip predicted ratings to the training rating range' }),
});

/** Typed hyperparameters of {@link KnnBaselineRecommender}. */
export type KnnBaselineParams = ParamsOf<typeof KNN_BASELINE_PARAMS>;

interface KnnBaselineState {
  biases: Biases;
  /** Similarities between the x side (items, or users when user-based), row-major. */
  sim: DenseMatrix;
  minRating: number;
  maxRating: number;
}

/** Lists of (x index, rating) per y: for item-based, each user's items. */
interface Lists {
  ptr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
}

/**
 * The pearson_baseline similarity between the x's, from each y's list of (x, rating), each list sorted
 * ascending without repeats; `bx`/`by` are the baselines of the two sides (item-based: x = items, y = users).
 */
export function pearsonBaseline(lists: Lists, nX: number, mu: number, bx: ArrayLike<number>, by: ArrayLike<number>, shrinkage: number, minSupport: number): Float32Array {
  const freq = new Int32Array(nX * nX);
  const prods = new Float64Array(nX * nX);
  const sqa = new Float64Array(nX * nX);
  const sqb = new Float64Array(nX * nX);
  const nY = lists.ptr.length - 1;
  let d = new Float64Array(16);
  for (let y = 0; y < nY; y++) {
    const lo = lists.ptr[y];
    const n = lists.ptr[y + 1] - lo;
    if (d.length < n) d = new Float64Array(n);
    for (let t = 0; t < n; t++) d[t] = lists.val[lo + t] - (mu + bx[lists.idx[lo + t]] + by[y]);
    for (let s = 0; s < n; s++) {
      const a = lists.idx[lo + s];
      const da = d[s];
      const row = a * nX;
      // Each list is sorted ascending and duplicate-free (CSR rows, CSC columns): the pairs a < b are t > s.
      for (let t = s + 1; t < n; t++) {
        const db = d[t];
        const q = row + lists.idx[lo + t];
        freq[q]++;
        prods[q] += da * db;
        sqa[q] += da * da;
        sqb[q] += db * db;
      }
    }
  }
  const sim = new Float32Array(nX * nX);
  for (let a = 0; a < nX; a++) {
    sim[a * nX + a] = 1;
    for (let b = a + 1; b < nX; b++) {
      const q = a * nX + b;
      const n = freq[q];
      const den = Math.sqrt(sqa[q] * sqb[q]);
      let s = 0;
      if (n >= minSupport && den > 0) s = (prods[q] / den) * ((n - 1) / (n - 1 + shrinkage || 1));
      sim[q] = s;
      sim[b * nX + a] = s;
    }
  }
  return sim;
}

/** KNNBaseline; see the module comment. */
export class KnnBaselineRecommender extends SkeletonModel<KnnBaselineParams, KnnBaselineState> {
  readonly name = 'knn-baseline';

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(KNN_BASELINE_PARAMS.parse('knn-baseline', params));
  }

  /** The similarity matrix (items × items, or users × users when user-based); null before fit. */
  get similarities(): DenseMatrix | null {
    return this.stateOrNull?.sim ?? null;
  }

  /** The baselines μ, b_u, b_i; null before fit. */
  get baselines(): Biases | null {
    return this.stateOrNull?.biases ?? null;
  }

  /** Baselines, then the similarity matrix. */
  protected async fitState(train: Interactions, options: FitOptions): Promise<KnnBaselineState> {
    const p = this.params;
    const nX = p.userBased ? train.nUsers : train.nItems;
    if (nX > KNN_BASELINE_MAX_SIDE) {
      throw new Error(`${this.name}: a dense similarity matrix over ${nX} ${p.userBased ? 'users' : 'items'} is too large (at most ${KNN_BASELINE_MAX_SIDE})`);
    }
    const biases = fitBiases(train, p.regUser, p.regItem, p.baselineEpochs);
    options.onProgress?.({ phase: 'baselines', done: 1, total: 2 });
    await checkpoint(options.signal);
    const [bx, by] = p.userBased ? [biases.userBias, biases.itemBias] : [biases.itemBias, biases.userBias];
    const sim = pearsonBaseline(this.yLists(train), nX, biases.globalMean, bx, by, p.shrinkage, p.minSupport);
    options.onProgress?.({ phase: 'similarities', done: 2, total: 2 });
    let lo = Infinity;
    let hi = -Infinity;
    for (let q = 0; q < train.nnz; q++) {
      lo = Math.min(lo, train.values[q]);
      hi = Math.max(hi, train.values[q]);
    }
    return { biases, sim: { rows: nX, cols: nX, data: sim }, minRating: train.nnz ? lo : 0, maxRating: train.nnz ? hi : 0 };
  }

  /** Item-based: each user's (item, rating) list (CSR); user-based: each item's (user, rating) list (CSC). */
  private yLists(train: Interactions): Lists {
    if (!this.params.userBased) return { ptr: train.rowPtr, idx: train.colIdx, val: train.values };
    const c = train.csc();
    return { ptr: c.colPtr, idx: c.rowIdx, val: c.values };
  }

  /** The unclipped prediction of (u, i), both inside the training index ranges. */
  private predictor(state: KnnBaselineState): (u: number, i: number) => number {
    const train = this.trainData;
    const { biases: b, sim } = state;
    const { neighbors: k, minNeighbors, userBased } = this.params;
    const lists = this.yLists(train);
    const itemCounts = train.itemCounts();
    const nX = sim.rows;
    const [bx, by] = userBased ? [b.userBias, b.itemBias] : [b.itemBias, b.userBias];
    const heapSim = new Float64Array(k);
    const heapDev = new Float64Array(k);
    return (u, i) => {
      const ku = train.rowPtr[u + 1] > train.rowPtr[u];
      const ki = itemCounts[i] > 0;
      let est = b.globalMean + (ku ? b.userBias[u] : 0) + (ki ? b.itemBias[i] : 0);
      if (!ku || !ki) return est;
      const [x, y] = userBased ? [u, i] : [i, u];
      // min-heap of the k largest positive similarities among y's list
      let size = 0;
      for (let q = lists.ptr[y]; q < lists.ptr[y + 1]; q++) {
        const x2 = lists.idx[q];
        const s = sim.data[x * nX + x2];
        if (!(s > 0)) continue;
        if (size === k && s <= heapSim[0]) continue;
        const dev = lists.val[q] - (b.globalMean + bx[x2] + by[y]);
        let j: number;
        if (size < k) {
          j = size++;
          while (j > 0) {
            const parent = (j - 1) >> 1;
            if (heapSim[parent] <= s) break;
            heapSim[j] = heapSim[parent];
            heapDev[j] = heapDev[parent];
            j = parent;
          }
        } else {
          j = 0;
          for (;;) {
            let c = 2 * j + 1;
            if (c >= size) break;
            if (c + 1 < size && heapSim[c + 1] < heapSim[c]) c++;
            if (heapSim[c] >= s) break;
            heapSim[j] = heapSim[c];
            heapDev[j] = heapDev[c];
            j = c;
          }
        }
        heapSim[j] = s;
        heapDev[j] = dev;
      }
      if (size === 0 || size < minNeighbors) return est;
      let num = 0;
      let den = 0;
      for (let j = 0; j < size; j++) {
        num += heapSim[j] * heapDev[j];
        den += heapSim[j];
      }
      est += num / den;
      return est;
    };
  }

  /** Predicted ratings (clipped to the training range unless `clip` is off); see the module comment. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const state = this.state;
    const train = this.trainData;
    checkPairs(this.name, users, items);
    const predict = this.predictor(state);
    const { globalMean: mu, userBias, itemBias } = state.biases;
    const itemCounts = train.itemCounts();
    const clip = this.params.clip;
    return Float32Array.from(users, (u, j) => {
      const i = items[j];
      const inU = u >= 0 && u < train.nUsers;
      const inI = i >= 0 && i < train.nItems;
      const r = inU && inI ? predict(u, i) : mu + (inU ? userBias[u] : 0) + (inI && itemCounts[i] > 0 ? itemBias[i] : 0);
      return clip ? Math.min(state.maxRating, Math.max(state.minRating, r)) : r;
    });
  }

  /** Every item's predicted rating for each user of the batch, then top-k. */
  protected async rank(state: KnnBaselineState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const users = batch.users;
    if (!users) throw new Error(`${this.name}: cannot rank an unseen user's history`);
    const nI = batch.rows.cols;
    const predict = this.predictor(state);
    const scores = new Float32Array(users.length * nI);
    for (let r = 0; r < users.length; r++) for (let i = 0; i < nI; i++) scores[r * nI + i] = predict(users[r], i);
    const kn = await this.kernels();
    return kn.topk({ rows: users.length, cols: nI, data: scores }, k, select);
  }

  protected exportState(state: KnnBaselineState): StoredState {
    const b = state.biases;
    return {
      json: { globalMean: b.globalMean, minRating: state.minRating, maxRating: state.maxRating },
      arrays: { userBias: vector(b.userBias), itemBias: vector(b.itemBias), similarities: matrix(state.sim) },
    };
  }

  protected importState(saved: StateReader, train: Interactions): KnnBaselineState {
    const nX = this.params.userBased ? train.nUsers : train.nItems;
    return {
      biases: { globalMean: saved.number('globalMean'), userBias: saved.f32('userBias', train.nUsers), itemBias: saved.f32('itemBias', train.nItems) },
      sim: saved.matrix('similarities', nX, nX),
      minRating: saved.number('minRating'),
      maxRating: saved.number('maxRating'),
    };
  }
}

/** Registry entry of KNNBaseline. */
export const knnBaselineModel = defineModel({
  name: 'knn-baseline',
  description: "KNNBaseline (Koren 2010; Surprise's KNNBaseline): baselines + k nearest rated items by pearson_baseline similarity, for rating prediction",
  params: KNN_BASELINE_PARAMS,
  create: (p) => new KnnBaselineRecommender(p),
});
