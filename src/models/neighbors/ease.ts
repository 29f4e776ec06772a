/**
 * EASE (Steck 2019): the item–item weight matrix B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, i.e.
 * B_ij = −P_ij / P_jj off the diagonal and 0 on it; a user's scores are x_u·B. The Gram matrix is built in
 * row blocks on the kernel layer and inverted with the kernels' `spdInverse`.
 */
import type { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix, Kernels, TopKOptions, TopKResult } from '../../linalg/api.js';
import { bool, defineParams, num, type ParamsOf } from '../../core/params.js';
import { checkpoint, throwIfAborted, type FitOptions } from '../../core/progress.js';
import type { History, HistoryOptions, TopK } from '../contract.js';
import { itemUserCsr, SharedCopies, withValues } from '../matrices.js';
import { defineModel } from '../registry.js';
import { checkItem, checkK, excludeItem, matrix, ones, SkeletonModel, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { itemGramBlocks } from './item-gram.js';
import { pairScores } from './pair-scores.js';

/** Hyperparameters of {@link EaseRecommender}. */
export const EASE_PARAMS = defineParams({
  reg: num(500, { min: 0, exclusiveMin: true, doc: 'λ added to the Gram diagonal' }),
  binary: bool(true, { doc: 'use X = [r > 0] (true) or the raw values' }),
});

/** Typed hyperparameters of {@link EaseRecommender}. */
export type EaseParams = ParamsOf<typeof EASE_PARAMS>;

interface EaseState {
  /** B, items × items. */
  weights: DenseMatrix;
  /**
   * B split into column panels (items × w each) in the kernels' shared memory, built on first scoring: each
   * panel stays in cache while a batch's non-zeros stream past it (scoring against the whole n × n matrix at
   * once is memory-bound), and nothing is copied per call.
   */
  panels: { kn: Kernels; list: DenseMatrix[] } | null;
}

/** EASE; see the module comment. */
export class EaseRecommender extends SkeletonModel<EaseParams, EaseState> {
  readonly name = 'ease';

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(EASE_PARAMS.parse('ease', params));
  }

  /** The items × items weight matrix, null before fit. */
  get weights(): DenseMatrix | null {
    return this.stateOrNull?.weights ?? null;
  }

  /** Gram matrix in blocks, then the closed form. Progress: Gram blocks, then the inversion. */
  protected async fitState(train: Interactions, options: FitOptions): Promise<EaseState> {
    const kn = await this.kernels();
    const n = train.nItems;
    const base = itemUserCsr(train);
    const shared = new SharedCopies(kn);
    const g: DenseMatrix = { rows: n, cols: n, data: kn.allocF32(n * n) };
    let steps = 1;
    try {
      const xt = shared.csr(withValues(base, this.params.binary ? new Float32Array(base.values.length).fill(1) : base.values));
      const gram = await itemGramBlocks(kn, xt);
      const block = gram.block;
      steps = gram.full ? 2 : Math.ceil(n / block) + 1;
      if (gram.full) {
        g.data.set(gram.full.data);
        options.onProgress?.({ phase: 'gram', done: 1, total: steps });
      }
      for (let s = 0, step = 0; s < n && !gram.full; s += block, step++) {
        await checkpoint(options.signal);
        const e = Math.min(n, s + block);
        const cols = await gram.columns(s, e);
        const b = e - s;
        for (let i = 0; i < n; i++) g.data.set(cols.data.subarray(i * b, i * b + b), i * n + s);
        options.onProgress?.({ phase: 'gram', done: step + 1, total: steps });
      }
    } catch (err) {
      kn.free(g.data);
      throw err;
    } finally {
      shared.release();
    }
    for (let i = 0; i < n; i++) g.data[i * n + i] += this.params.reg;
    let p: DenseMatrix;
    try {
      throwIfAborted(options.signal);
      p = await kn.spdInverse(g);
    } finally {
      kn.free(g.data);
    }
    const b = new Float32Array(n * n);
    const diag = Float64Array.from({ length: n }, (_, j) => p.data[j * n + j]);
    for (let i = 0; i < n; i++) {
      const o = i * n;
      for (let j = 0; j < n; j++) b[o + j] = -p.data[o + j] / diag[j];
      b[o + i] = 0;
    }
    try {
      kn.free(p.data);
    } catch {
      // spdInverse's result may not come from the allocator; then the GC owns it.
    }
    options.onProgress?.({ phase: 'inverse', done: steps, total: steps });
    return { weights: { rows: n, cols: n, data: b }, panels: null };
  }

  /** Floats per scoring panel (≈ 4 MB, to stay in cache); tests lower it to exercise several panels. */
  static panelFloats = 1024 * 1024;

  /** Column-panel width: a multiple of 8 between 8 and 512 with items × width ≈ {@link panelFloats}. */
  static panelWidth(nItems: number): number {
    return Math.max(1, Math.min(nItems, Math.max(8, Math.min(512, Math.floor(EaseRecommender.panelFloats / Math.max(1, nItems) / 8) * 8))));
  }

  private async sharedPanels(state: EaseState): Promise<DenseMatrix[]> {
    if (!state.panels) {
      const kn = await this.kernels();
      const w = state.weights;
      const n = w.rows;
      const width = EaseRecommender.panelWidth(n);
      const list: DenseMatrix[] = [];
      for (let s = 0; s < n; s += width) {
        const cols = Math.min(width, n - s);
        const data = kn.allocF32(n * cols);
        for (let i = 0; i < n; i++) data.set(w.data.subarray(i * n + s, i * n + s + cols), i * cols);
        list.push({ rows: n, cols, data });
      }
      state.panels = { kn, list };
    }
    return state.panels.list;
  }

  /** Returns the scoring panels to the kernels' allocator. */
  protected override releaseState(state: EaseState): void {
    if (state.panels) for (const p of state.panels.list) state.panels.kn.free(p.data);
    state.panels = null;
  }

  /** Dense scores rows × items of the CSR rows: x·B, panel by panel. */
  private async scoreRows(state: EaseState, rows: CsrMatrix): Promise<DenseMatrix> {
    const kn = await this.kernels();
    const panels = await this.sharedPanels(state);
    const n = state.weights.cols;
    const out = new Float32Array(rows.rows * n);
    const shared = new SharedCopies(kn);
    try {
      const x = shared.csr(rows);
      let s = 0;
      for (const p of panels) {
        const part = await kn.csrMatmul(x, p);
        for (let r = 0; r < rows.rows; r++) out.set(part.data.subarray(r * p.cols, (r + 1) * p.cols), r * n + s);
        s += p.cols;
      }
    } finally {
      shared.release();
    }
    return { rows: rows.rows, cols: n, data: out };
  }

  protected async rank(state: EaseState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const scores = await this.scoreRows(state, this.params.binary ? ones(batch.rows) : batch.rows);
    return (await this.kernels()).topk(scores, k, select);
  }

  /** x·B for each pair. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const w = this.state.weights;
    return pairScores(this.name, this.trainData, users, items, this.params.binary, (i, t) => w.data[i * w.cols + t]);
  }

  /** The items with the largest weights in `item`'s row of B. */
  async similarItems(item: number, k: number): Promise<TopK> {
    const w = this.state.weights;
    checkK(k, this.name);
    checkItem(this.name, item, w.rows);
    const kn = await this.kernels();
    const row: DenseMatrix = { rows: 1, cols: w.cols, data: w.data.subarray(item * w.cols, (item + 1) * w.cols) };
    return kn.topk(row, k, { exclude: excludeItem(item, w.cols) });
  }

  /** Scores a new user's history with B (EASE needs no fold-in: the history is the representation). */
  async recommendForHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    return this.rankHistory(history, k, options);
  }

  protected exportState(state: EaseState): StoredState {
    return { json: {}, arrays: { weights: matrix(state.weights) } };
  }

  protected importState(saved: StateReader, train: Interactions): EaseState {
    return { weights: saved.matrix('weights', train.nItems, train.nItems), panels: null };
  }
}

/** Registry entry of EASE. */
export const easeModel = defineModel({
  name: 'ease',
  description: 'EASE (Steck 2019): closed-form item–item weights B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹',
  params: EASE_PARAMS,
  create: (p) => new EaseRecommender(p),
});
