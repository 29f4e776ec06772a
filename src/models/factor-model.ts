/**
 * Shared machinery of the latent-factor models (ALS, iALS, BPR, PureSVD, biased MF): user and item factor
 * matrices, an optional item bias added to ranking scores, fused scoring + top-k through the kernels,
 * similar items by cosine of item factors, and persistence of the factors.
 */
import type { Interactions } from '../data/interactions.js';
import type { CsrMatrix, DenseMatrix, TopKOptions, TopKResult } from '../linalg/api.js';
import type { Rng } from '../core/rng.js';
import { checkK, f32, historyRow, itemOptions, TrainedRecommender, type ModelState } from './base.js';
import type { ShapedArray } from './persistence.js';
import { itemUserCsr, SharedCopies, userItemCsr } from './matrices.js';
import { throwIfAborted, type FitOptions, type History, type RecommendOptions, type TopK } from './recommender.js';

/** A rows × cols matrix of N(0, scale²) entries. */
export function randomMatrix(rows: number, cols: number, scale: number, rng: Rng): DenseMatrix {
  const data = new Float32Array(rows * cols);
  for (let j = 0; j < data.length; j++) data[j] = rng.normal() * scale;
  return { rows, cols, data };
}

/** Base class of the factor models; subclasses fit `userFactors`/`itemFactors` (and optionally `itemBias`). */
export abstract class FactorRecommender extends TrainedRecommender {
  /** Users × factors, after fit. */
  userFactors: DenseMatrix | null = null;
  /** Items × factors, after fit. */
  itemFactors: DenseMatrix | null = null;
  /** Per-item term added to every ranking score, when the model has one. */
  itemBias: Float32Array | null = null;
  private normalizedItems: DenseMatrix | null = null;

  /** The factors; throws before fit. */
  protected factors(): { u: DenseMatrix; v: DenseMatrix } {
    if (!this.userFactors || !this.itemFactors) throw new Error(`${this.name}: used before fit or load`);
    return { u: this.userFactors, v: this.itemFactors };
  }

  /**
   * Alternating least squares: from N(0, initScale²) factors (users drawn first), `iterations` rounds of a user
   * half step then an item half step, run on shared-memory copies of the factors and of R / Rᵀ; stores the
   * factors. `halfStep(r, y, x)` solves the rows of X against Y for the rows of R.
   */
  protected async alternate(
    train: Interactions, shape: { factors: number; iterations: number; initScale: number }, rng: Rng,
    halfStep: (r: CsrMatrix, y: DenseMatrix, x: DenseMatrix) => Promise<void>, options: FitOptions,
  ): Promise<void> {
    const shared = new SharedCopies(await this.kernels());
    try {
      const users = shared.dense(randomMatrix(train.nUsers, shape.factors, shape.initScale, rng));
      const items = shared.dense(randomMatrix(train.nItems, shape.factors, shape.initScale, rng));
      const r = shared.csr(userItemCsr(train));
      const rt = shared.csr(itemUserCsr(train));
      for (let it = 0; it < shape.iterations; it++) {
        throwIfAborted(options.signal);
        await halfStep(r, items, users);
        await halfStep(rt, users, items);
        options.onProgress?.({ phase: 'iteration', done: it + 1, total: shape.iterations });
      }
      this.userFactors = { rows: users.rows, cols: users.cols, data: users.data.slice() };
      this.itemFactors = { rows: items.rows, cols: items.cols, data: items.data.slice() };
    } finally {
      shared.release();
    }
  }

  /** Call after changing the factors (fit, load). */
  protected factorsChanged(): void {
    this.normalizedItems = null;
  }

  protected async topKBatch(users: Int32Array, k: number, options: TopKOptions): Promise<TopKResult> {
    const { u, v } = this.factors();
    const f = u.cols;
    const rows = new Float32Array(users.length * f);
    for (let r = 0; r < users.length; r++) rows.set(u.data.subarray(users[r] * f, users[r] * f + f), r * f);
    const kn = await this.kernels();
    return kn.scoreTopK({ rows: users.length, cols: f, data: rows }, v, k, this.itemBias ? { ...options, itemBias: this.itemBias } : options);
  }

  /** The ranking score u·v (+ item bias) of each pair; subclasses predicting ratings override this. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const { u, v } = this.factors();
    if (users.length !== items.length) throw new Error(`${this.name}.score: ${users.length} users but ${items.length} items`);
    const kn = await this.kernels();
    const f = u.cols;
    const out = new Float32Array(users.length);
    for (let j = 0; j < users.length; j++) {
      const a = users[j];
      const b = items[j];
      if (!(a >= 0 && a < u.rows && b >= 0 && b < v.rows)) {
        out[j] = NaN;
        continue;
      }
      out[j] = kn.dot(u.data.subarray(a * f, a * f + f), v.data.subarray(b * f, b * f + f)) + (this.itemBias ? this.itemBias[b] : 0);
    }
    return out;
  }

  /** Items whose factor vectors have the highest cosine with `item`'s (the item itself excluded). */
  async similarItems(item: number, k: number): Promise<TopK> {
    const { v } = this.factors();
    checkK(k);
    if (!(Number.isInteger(item) && item >= 0 && item < v.rows)) throw new RangeError(`${this.name}: item index ${item} outside [0, ${v.rows})`);
    const kn = await this.kernels();
    if (!this.normalizedItems) {
      const copy: DenseMatrix = { rows: v.rows, cols: v.cols, data: v.data.slice(0, v.rows * v.cols) };
      kn.normalizeRows(copy);
      this.normalizedItems = copy;
    }
    const n = this.normalizedItems;
    const q: DenseMatrix = { rows: 1, cols: n.cols, data: n.data.slice(item * n.cols, (item + 1) * n.cols) };
    return kn.scoreTopK(q, n, k, { exclude: { rows: 1, cols: n.rows, rowPtr: Int32Array.from([0, 1]), colIdx: Int32Array.from([item]), values: Float32Array.from([1]) } });
  }

  /**
   * Top-k for a folded-in user vector `x` of `history`, excluding the history's items. Models that can fold
   * users in (iALS, PureSVD) implement `foldIn` and `recommendForHistory` with it; the others leave both
   * methods undefined so that callers can tell.
   */
  protected async recommendForVector(x: Float32Array, history: History, k: number, options: Omit<RecommendOptions, 'excludeSeen'>): Promise<TopK> {
    const { v } = this.factors();
    checkK(k);
    const row = historyRow(history, v.rows);
    const kn = await this.kernels();
    const opts: TopKOptions & { itemBias?: Float32Array } = { ...itemOptions(options, v.rows), exclude: row };
    if (this.itemBias) opts.itemBias = this.itemBias;
    return kn.scoreTopK({ rows: 1, cols: v.cols, data: x }, v, k, opts);
  }

  /** Factor arrays (and item bias) for persistence; subclasses add their own. */
  protected exportState(): ModelState {
    const { u, v } = this.factors();
    const arrays: Record<string, ShapedArray> = {
      userFactors: { data: u.data.subarray(0, u.rows * u.cols), shape: [u.rows, u.cols] },
      itemFactors: { data: v.data.subarray(0, v.rows * v.cols), shape: [v.rows, v.cols] },
    };
    if (this.itemBias) arrays.itemBias = { data: this.itemBias, shape: [this.itemBias.length] };
    return { state: { factors: u.cols }, arrays };
  }

  protected importState(state: Record<string, unknown>, arrays: Record<string, ShapedArray>, where: string): void {
    const train = this.trainData;
    const f = state.factors;
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 1) throw new Error(`${where}: state field "factors" missing or invalid`);
    this.userFactors = { rows: train.nUsers, cols: f, data: f32(arrays, 'userFactors', train.nUsers * f, where) };
    this.itemFactors = { rows: train.nItems, cols: f, data: f32(arrays, 'itemFactors', train.nItems * f, where) };
    this.itemBias = arrays.itemBias ? f32(arrays, 'itemBias', train.nItems, where) : null;
    this.factorsChanged();
  }
}
