/**
 * EASE (Steck 2019): the item–item weight matrix B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, i.e.
 * B_ij = −P_ij / P_jj off the diagonal and 0 on it; a user's scores are x_u·B. The Gram matrix is built in
 * row blocks on the kernel layer and inverted with the kernels' `spdInverse`.
 */
import type { Interactions } from '../data/interactions.js';
import type { CsrMatrix, DenseMatrix, Kernels, TopKOptions, TopKResult } from '../linalg/api.js';
import { checkK, f32, historyRow, itemOptions, readParams, TrainedRecommender, userRowsCsr, type ModelState } from './base.js';
import { gramBlockSize, itemGramColumns } from './item-gram.js';
import { itemUserCsr, SharedCopies, withValues } from './matrices.js';
import type { ShapedArray } from './persistence.js';
import { requireAtLeast, resolveParams } from './params.js';
import type { FitOptions, History, RecommendOptions, TopK } from './recommender.js';
import { throwIfAborted } from './recommender.js';
import type { ModelEntry } from './registry.js';

/** Hyperparameters of {@link EaseRecommender}. */
export const EASE_DEFAULTS = {
  /** λ added to the Gram diagonal. */
  reg: 500,
  /** Use X = [r > 0] (true) or the raw values. */
  binary: true,
};

/** EASE; see the module comment. */
export class EaseRecommender extends TrainedRecommender {
  readonly name = 'ease';
  readonly params: typeof EASE_DEFAULTS;
  /** The items × items weight matrix after fit. */
  weights: DenseMatrix | null = null;
  /**
   * B split into column panels (items × w each) in the kernels' shared memory, built on first scoring: each
   * panel stays in cache while a batch's non-zeros stream past it (scoring against the whole n × n matrix at
   * once is memory-bound), and nothing is copied per call.
   */
  private panels: DenseMatrix[] | null = null;

  constructor(params: Record<string, unknown> = {}) {
    super();
    const p = resolveParams('ease', EASE_DEFAULTS, params);
    requireAtLeast('ease', 'reg', p.reg, Number.MIN_VALUE);
    this.params = p;
  }

  /** Gram matrix in blocks, then the closed form. Progress: Gram blocks, then the inversion. */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    const kn = await this.kernels();
    const n = train.nItems;
    const base = itemUserCsr(train);
    const shared = new SharedCopies(kn);
    const g: DenseMatrix = { rows: n, cols: n, data: kn.allocF32(n * n) };
    const block = gramBlockSize(train.nUsers, n);
    const steps = Math.ceil(n / block) + 1;
    try {
      const xt = shared.csr(withValues(base, this.params.binary ? new Float32Array(base.values.length).fill(1) : base.values));
      for (let s = 0, step = 0; s < n; s += block, step++) {
        throwIfAborted(options.signal);
        const e = Math.min(n, s + block);
        const cols = await itemGramColumns(kn, xt, s, e);
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
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) b[i * n + j] = i === j ? 0 : -p.data[i * n + j] / p.data[j * n + j];
    }
    try {
      kn.free(p.data);
    } catch {
      // spdInverse's result may not come from the allocator; then the GC owns it.
    }
    options.onProgress?.({ phase: 'inverse', done: steps, total: steps });
    this.weights = { rows: n, cols: n, data: b };
    this.releasePanels(kn);
    this.train = train;
  }

  private requireWeights(): DenseMatrix {
    if (!this.weights) throw new Error('ease: used before fit or load');
    return this.weights;
  }

  /** Floats per scoring panel (≈ 4 MB, to stay in cache); tests lower it to exercise several panels. */
  static panelFloats = 1024 * 1024;

  /** Column-panel width: a multiple of 8 between 8 and 512 with items × width ≈ {@link panelFloats}. */
  static panelWidth(nItems: number): number {
    return Math.max(1, Math.min(nItems, Math.max(8, Math.min(512, Math.floor(EaseRecommender.panelFloats / Math.max(1, nItems) / 8) * 8))));
  }

  private async sharedPanels(): Promise<DenseMatrix[]> {
    const w = this.requireWeights();
    if (!this.panels) {
      const kn = await this.kernels();
      const n = w.rows;
      const width = EaseRecommender.panelWidth(n);
      const panels: DenseMatrix[] = [];
      for (let s = 0; s < n; s += width) {
        const cols = Math.min(width, n - s);
        const data = kn.allocF32(n * cols);
        for (let i = 0; i < n; i++) data.set(w.data.subarray(i * n + s, i * n + s + cols), i * cols);
        panels.push({ rows: n, cols, data });
      }
      this.panels = panels;
    }
    return this.panels;
  }

  private releasePanels(kn: Kernels): void {
    if (this.panels) for (const p of this.panels) kn.free(p.data);
    this.panels = null;
  }

  /** Dense scores rows × items of the CSR history rows: x·B, panel by panel. */
  private async scoreRows(rows: CsrMatrix): Promise<DenseMatrix> {
    const kn = await this.kernels();
    const panels = await this.sharedPanels();
    const n = this.requireWeights().cols;
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

  protected async topKBatch(users: Int32Array, k: number, options: TopKOptions): Promise<TopKResult> {
    const rows = userRowsCsr(this.trainData, users);
    if (this.params.binary) rows.values.fill(1);
    const scores = await this.scoreRows(rows);
    return (await this.kernels()).topk(scores, k, options);
  }

  /** x·B for each pair. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const w = this.requireWeights();
    const train = this.trainData;
    const out = new Float32Array(users.length);
    for (let j = 0; j < users.length; j++) {
      const u = users[j];
      const i = items[j];
      if (!(u >= 0 && u < train.nUsers && i >= 0 && i < train.nItems)) {
        out[j] = NaN;
        continue;
      }
      let s = 0;
      for (let p = train.rowPtr[u]; p < train.rowPtr[u + 1]; p++) s += (this.params.binary ? 1 : train.values[p]) * w.data[train.colIdx[p] * w.cols + i];
      out[j] = s;
    }
    return out;
  }

  /** The items with the largest weights in `item`'s row of B. */
  async similarItems(item: number, k: number): Promise<TopK> {
    const w = this.requireWeights();
    checkK(k);
    if (!(Number.isInteger(item) && item >= 0 && item < w.rows)) throw new RangeError(`ease: item index ${item} outside [0, ${w.rows})`);
    const kn = await this.kernels();
    const row: DenseMatrix = { rows: 1, cols: w.cols, data: w.data.subarray(item * w.cols, (item + 1) * w.cols) };
    return kn.topk(row, k, { exclude: { rows: 1, cols: w.cols, rowPtr: Int32Array.from([0, 1]), colIdx: Int32Array.from([item]), values: Float32Array.from([1]) } });
  }

  /** Scores a new user's history with B (EASE needs no fold-in: the history is the representation). */
  async recommendForHistory(history: History, k: number, options: Omit<RecommendOptions, 'excludeSeen'> = {}): Promise<TopK> {
    const w = this.requireWeights();
    checkK(k);
    const row = historyRow(history, w.rows);
    if (this.params.binary) row.values.fill(1);
    const kn = await this.kernels();
    const scores = await this.scoreRows(row);
    return kn.topk(scores, k, { ...itemOptions(options, w.rows), exclude: row });
  }

  protected exportState(): ModelState {
    const w = this.requireWeights();
    return { state: {}, arrays: { weights: { data: w.data, shape: [w.rows, w.cols] } } };
  }

  protected importState(_state: Record<string, unknown>, arrays: Record<string, ShapedArray>, where: string): void {
    const n = this.trainData.nItems;
    this.weights = { rows: n, cols: n, data: f32(arrays, 'weights', n * n, where) };
    this.panels = null;
  }

  /** Restores a model saved with `save`. */
  static async load(dir: string): Promise<EaseRecommender> {
    return new EaseRecommender(await readParams(dir, 'ease')).restoreFrom(dir);
  }
}

/** Registry entry of EASE. */
export const easeEntry: ModelEntry = {
  name: 'ease',
  description: 'EASE (Steck 2019): closed-form item–item weights B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹',
  create: (params) => new EaseRecommender(params),
  load: (dir) => EaseRecommender.load(dir),
  defaults: { ...EASE_DEFAULTS },
};
