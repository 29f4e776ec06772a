/**
 * What the latent-factor models (ALS, iALS, BPR, PureSVD, biased MF) share: user and item factor matrices and
 * an optional item bias added to ranking scores, fused scoring + top-k through the kernels, similar items by
 * cosine of item factors, persistence of the factors, and the alternating least-squares loop. Models that can
 * fold an unseen user in extend {@link FoldInFactorModel}.
 */
import type { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix, TopKOptions, TopKResult } from '../../linalg/api.js';
import { checkpoint, type FitOptions } from '../../core/progress.js';
import type { Rng } from '../../core/rng.js';
import type { History, HistoryOptions, TopK } from '../contract.js';
import { itemUserCsr, SharedCopies, userItemCsr } from '../matrices.js';
import { checkItem, checkK, excludeItem, historyRow, matrix, scorePairs, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';

/** A rows × cols matrix of N(0, scale²) entries. */
export function randomMatrix(rows: number, cols: number, scale: number, rng: Rng): DenseMatrix {
  const data = new Float32Array(rows * cols);
  for (let j = 0; j < data.length; j++) data[j] = rng.normal() * scale;
  return { rows, cols, data };
}

/** The fitted state of a factor model. */
export interface FactorState {
  /** Users × factors. */
  user: DenseMatrix;
  /** Items × factors. */
  item: DenseMatrix;
  /** Per-item term added to every ranking score, when the model has one. */
  itemBias: Float32Array | null;
  /** Row-normalized item factors for `similarItems`, built on first use. */
  normalized?: DenseMatrix;
}

/** Base class of the factor models; subclasses compute a {@link FactorState} (plus their own fields) in `fitState`. */
export abstract class FactorModel<P extends Record<string, unknown>, S extends FactorState> extends SkeletonModel<P, S> {
  /** Users × factors, null before fit. */
  get userFactors(): DenseMatrix | null {
    return this.stateOrNull?.user ?? null;
  }

  /** Items × factors, null before fit. */
  get itemFactors(): DenseMatrix | null {
    return this.stateOrNull?.item ?? null;
  }

  /** The item bias of the ranking scores, null when the model has none (or before fit). */
  get itemBias(): Float32Array | null {
    return this.stateOrNull?.itemBias ?? null;
  }

  /**
   * Alternating least squares: from N(0, initScale²) factors (users drawn first), `iterations` rounds of a user
   * half step then an item half step, run on shared-memory copies of the factors and of R / Rᵀ.
   * `halfStep(r, y, x)` solves the rows of X against Y for the rows of R. With `options.validation`, each round
   * is validated through `asState` (the factors as this model's state) and the best round's factors are returned.
   */
  protected async alternate(
    train: Interactions, shape: { factors: number; iterations: number; initScale: number }, rng: Rng,
    halfStep: (r: CsrMatrix, y: DenseMatrix, x: DenseMatrix) => Promise<void>, options: FitOptions,
    asState?: (factors: { user: DenseMatrix; item: DenseMatrix }) => S,
  ): Promise<{ user: DenseMatrix; item: DenseMatrix }> {
    const shared = new SharedCopies(await this.kernels());
    const copy = (m: DenseMatrix): DenseMatrix => ({ rows: m.rows, cols: m.cols, data: m.data.slice() });
    try {
      const users = shared.dense(randomMatrix(train.nUsers, shape.factors, shape.initScale, rng));
      const items = shared.dense(randomMatrix(train.nItems, shape.factors, shape.initScale, rng));
      const r = shared.csr(userItemCsr(train));
      const rt = shared.csr(itemUserCsr(train));
      let best: { user: DenseMatrix; item: DenseMatrix } | null = null;
      for (let it = 0; it < shape.iterations; it++) {
        await checkpoint(options.signal);
        await halfStep(r, items, users);
        await halfStep(rt, users, items);
        options.onProgress?.({ phase: 'iteration', done: it + 1, total: shape.iterations });
        if (options.validation && asState) {
          const state = asState({ user: users, item: items });
          const verdict = await options.validation.check(it + 1, (u, k) => this.recommendWith(state, train, u, k, {}));
          if (verdict.best) best = { user: copy(users), item: copy(items) };
          if (verdict.stop) break;
        }
      }
      return best ?? { user: copy(users), item: copy(items) };
    } finally {
      shared.release();
    }
  }

  /** User vectors of the batch: the trained rows, or the folded-in histories. */
  protected async rank(state: S, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const x = batch.users ? gatherRows(state.user, batch.users) : await this.foldInRows(state, batch.rows);
    const kn = await this.kernels();
    return kn.scoreTopK(x, state.item, k, state.itemBias ? { ...select, itemBias: state.itemBias } : select);
  }

  /** User vectors for history rows; only models that declare fold-in (see {@link FoldInFactorModel}) have them. */
  protected foldInRows(_state: S, _rows: CsrMatrix): Promise<DenseMatrix> {
    return Promise.reject(new Error(`${this.name}: cannot fold in unseen users`));
  }

  /** The ranking score u·v (+ item bias) of each pair (NaN outside the index ranges); rating models override this. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const state = this.state;
    const { itemBias } = state;
    const dot = await this.factorDot(state);
    return scorePairs(this.name, users, items, state.user.rows, state.item.rows, (a, b) => dot(a, b) + (itemBias ? itemBias[b] : 0));
  }

  /** u_a·v_b of valid indices, on the kernels. */
  protected async factorDot(state: S): Promise<(a: number, b: number) => number> {
    const kn = await this.kernels();
    const { user: u, item: v } = state;
    const f = u.cols;
    return (a, b) => kn.dot(u.data.subarray(a * f, a * f + f), v.data.subarray(b * f, b * f + f));
  }

  /** Items whose factor vectors have the highest cosine with `item`'s (the item itself excluded). */
  async similarItems(item: number, k: number): Promise<TopK> {
    const state = this.state;
    const v = state.item;
    checkK(k, this.name);
    checkItem(this.name, item, v.rows);
    const kn = await this.kernels();
    if (!state.normalized) {
      const copy: DenseMatrix = { rows: v.rows, cols: v.cols, data: v.data.slice(0, v.rows * v.cols) };
      kn.normalizeRows(copy);
      state.normalized = copy;
    }
    const n = state.normalized;
    const q: DenseMatrix = { rows: 1, cols: n.cols, data: n.data.slice(item * n.cols, (item + 1) * n.cols) };
    return kn.scoreTopK(q, n, k, { exclude: excludeItem(item, n.rows) });
  }

  /** The factor arrays (and item bias); subclasses add their own fields. */
  protected factorArrays(state: FactorState): StoredState {
    const arrays: StoredState['arrays'] = { userFactors: matrix(state.user), itemFactors: matrix(state.item) };
    if (state.itemBias) arrays.itemBias = vector(state.itemBias);
    return { json: { factors: state.user.cols }, arrays };
  }

  /** Reads what {@link factorArrays} wrote. */
  protected readFactors(saved: StateReader, train: Interactions): FactorState {
    const f = saved.int('factors', 1);
    return {
      user: saved.matrix('userFactors', train.nUsers, f),
      item: saved.matrix('itemFactors', train.nItems, f),
      itemBias: saved.has('itemBias') ? saved.f32('itemBias', train.nItems) : null,
    };
  }
}

/** A factor model that folds unseen users in (declares `foldIn` and `recommendForHistory`). */
export abstract class FoldInFactorModel<P extends Record<string, unknown>, S extends FactorState> extends FactorModel<P, S> {
  /** The user vector this model gives a history. */
  async foldIn(history: History): Promise<Float32Array> {
    const state = this.state;
    const x = await this.foldInRows(state, historyRow(history, state.item.rows));
    return x.data.slice(0, x.cols);
  }

  /** Top-k for an unseen user's history via the folded-in vector, excluding the history's items. */
  async recommendForHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    return this.rankHistory(history, k, options);
  }

  protected abstract override foldInRows(state: S, rows: CsrMatrix): Promise<DenseMatrix>;
}

/** The rows `rows` of `m`, copied into a new matrix in that order. */
export function gatherRows(m: DenseMatrix, rows: Int32Array): DenseMatrix {
  const f = m.cols;
  const data = new Float32Array(rows.length * f);
  for (let r = 0; r < rows.length; r++) data.set(m.data.subarray(rows[r] * f, rows[r] * f + f), r * f);
  return { rows: rows.length, cols: f, data };
}
