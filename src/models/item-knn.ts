/**
 * Item-based nearest neighbours: items are vectors over users (optionally TF-IDF or BM25 weighted, as in the
 * `implicit` library), similarity is the shrunk cosine s_ij = w_i·w_j / (‖w_i‖‖w_j‖ + shrink), each item keeps
 * its K most similar items, and a user's score for j is Σ_{i ∈ history} x_ui · s_ij. The dot products come
 * from the kernel layer's item Gram blocks; neighbour selection uses the kernels' top-k.
 */
import type { Interactions } from '../data/interactions.js';
import type { CsrMatrix, DenseMatrix, TopKOptions, TopKResult } from '../linalg/api.js';
import { checkK, f32, historyRow, i32, itemOptions, readParams, TrainedRecommender, type ModelState } from './base.js';
import { gramBlockSize, itemGramColumns } from './item-gram.js';
import { itemUserCsr, SharedCopies, withValues } from './matrices.js';
import type { ShapedArray } from './persistence.js';
import { requireAtLeast, requireInt, resolveParams } from './params.js';
import type { FitOptions, History, RecommendOptions, TopK } from './recommender.js';
import { throwIfAborted } from './recommender.js';
import type { ModelEntry } from './registry.js';

/** Hyperparameters of {@link ItemKnnRecommender}. */
export const ITEM_KNN_DEFAULTS = {
  /** Neighbours kept per item. */
  neighbors: 100,
  /** Added to the cosine denominator (shrinks similarities built on little co-occurrence). */
  shrink: 0,
  weighting: 'none',
  /** BM25 parameters (implicit's defaults). */
  bm25K1: 100,
  bm25B: 0.8,
  /** Use X = [r > 0] for similarity and scoring (true) or the raw values. */
  binary: true,
};

/**
 * Weights the values of Xᵀ (items × users CSR) in place: TF-IDF (√x · idf_u) or BM25 with
 * idf_u = log(nItems) − log(1 + n_u) (n_u = the user's item count), as `implicit` does on its item × user matrix.
 */
export function weightItemUser(xt: CsrMatrix, weighting: string, k1: number, b: number): Float32Array {
  const vals = Float32Array.from(xt.values);
  if (weighting === 'none') return vals;
  const nUsers = xt.cols;
  const userCount = new Float64Array(nUsers);
  for (let p = 0; p < xt.rowPtr[xt.rows]; p++) userCount[xt.colIdx[p]]++;
  const idf = Float64Array.from(userCount, (c) => Math.log(xt.rows) - Math.log1p(c));
  if (weighting === 'tfidf') {
    for (let p = 0; p < vals.length; p++) vals[p] = Math.sqrt(vals[p]) * idf[xt.colIdx[p]];
    return vals;
  }
  const rowSum = new Float64Array(xt.rows);
  let total = 0;
  for (let i = 0; i < xt.rows; i++) {
    for (let p = xt.rowPtr[i]; p < xt.rowPtr[i + 1]; p++) rowSum[i] += vals[p];
    total += rowSum[i];
  }
  const avg = total / Math.max(1, xt.rows) || 1;
  for (let i = 0; i < xt.rows; i++) {
    const lengthNorm = 1 - b + (b * rowSum[i]) / avg;
    for (let p = xt.rowPtr[i]; p < xt.rowPtr[i + 1]; p++) vals[p] = ((vals[p] * (k1 + 1)) / (k1 * lengthNorm + vals[p])) * idf[xt.colIdx[p]];
  }
  return vals;
}

/** Item-KNN; see the module comment. */
export class ItemKnnRecommender extends TrainedRecommender {
  readonly name = 'item-knn';
  readonly params: typeof ITEM_KNN_DEFAULTS;
  /** Neighbour lists: items × K CSR (neighbours by decreasing similarity), after fit. */
  similarity: CsrMatrix | null = null;

  constructor(params: Record<string, unknown> = {}) {
    super();
    const p = resolveParams('item-knn', ITEM_KNN_DEFAULTS, params, { weighting: ['none', 'tfidf', 'bm25'] });
    requireInt('item-knn', 'neighbors', p.neighbors, 1);
    requireAtLeast('item-knn', 'shrink', p.shrink, 0);
    this.params = p;
  }

  /** Builds the K-neighbour lists from Gram blocks. */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    const kn = await this.kernels();
    const p = this.params;
    const n = train.nItems;
    const base = itemUserCsr(train);
    const raw = p.binary ? new Float32Array(base.values.length).fill(1) : base.values;
    const shared = new SharedCopies(kn);
    const xt = shared.csr(withValues(base, weightItemUser(withValues(base, raw), p.weighting, p.bm25K1, p.bm25B)));
    const norms = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let q = xt.rowPtr[i]; q < xt.rowPtr[i + 1]; q++) s += xt.values[q] * xt.values[q];
      norms[i] = Math.sqrt(s);
    }
    const kk = Math.min(p.neighbors, Math.max(1, n - 1));
    const nbrIdx = new Int32Array(n * kk);
    const nbrSim = new Float32Array(n * kk);
    const block = gramBlockSize(train.nUsers, n);
    const blocks = Math.ceil(n / block);
    try {
      for (let s = 0, step = 0; s < n; s += block, step++) {
        throwIfAborted(options.signal);
        const e = Math.min(n, s + block);
        const cols = await itemGramColumns(kn, xt, s, e);
        const b = e - s;
        // Transpose to one row per block item while applying the shrunk cosine normalization.
        const g: DenseMatrix = { rows: b, cols: n, data: new Float32Array(b * n) };
        for (let j = 0; j < n; j++) {
          const nj = norms[j];
          for (let r = 0; r < b; r++) {
            const dot = cols.data[j * b + r];
            const d = norms[s + r] * nj + p.shrink;
            g.data[r * n + j] = dot > 0 && d > 0 ? dot / d : 0;
          }
        }
        const self = Int32Array.from({ length: e - s }, (_, r) => s + r);
        const top = await kn.topk(g, kk, { exclude: { rows: e - s, cols: n, rowPtr: Int32Array.from({ length: e - s + 1 }, (_, r) => r), colIdx: self, values: new Float32Array(e - s).fill(1) } });
        nbrIdx.set(top.items, s * kk);
        nbrSim.set(top.scores, s * kk);
        options.onProgress?.({ phase: 'similarity', done: step + 1, total: blocks });
      }
    } finally {
      shared.release();
    }
    this.similarity = compactNeighbours(n, kk, nbrIdx, nbrSim);
    this.train = train;
  }

  private requireSim(): CsrMatrix {
    if (!this.similarity) throw new Error('item-knn: used before fit or load');
    return this.similarity;
  }

  /** Dense scores of history rows: scores[r][j] = Σ x_ri s_ij. */
  private scoreRows(rows: CsrMatrix): DenseMatrix {
    const s = this.requireSim();
    const n = s.rows;
    const out = new Float32Array(rows.rows * n);
    const binary = this.params.binary;
    const { rowPtr: sPtr, colIdx: sIdx, values: sVal } = s;
    for (let r = 0; r < rows.rows; r++) {
      const o = r * n;
      for (let p = rows.rowPtr[r]; p < rows.rowPtr[r + 1]; p++) {
        const i = rows.colIdx[p];
        const x = binary ? 1 : rows.values[p];
        const end = sPtr[i + 1];
        for (let q = sPtr[i]; q < end; q++) out[o + sIdx[q]] += x * sVal[q];
      }
    }
    return { rows: rows.rows, cols: n, data: out };
  }

  protected async topKBatch(users: Int32Array, k: number, options: TopKOptions): Promise<TopKResult> {
    const train = this.trainData;
    const ptr = new Int32Array(users.length + 1);
    for (let r = 0; r < users.length; r++) ptr[r + 1] = ptr[r] + train.rowPtr[users[r] + 1] - train.rowPtr[users[r]];
    const idx = new Int32Array(ptr[users.length]);
    const val = new Float32Array(ptr[users.length]);
    for (let r = 0; r < users.length; r++) {
      idx.set(train.userItems(users[r]), ptr[r]);
      val.set(train.userValues(users[r]), ptr[r]);
    }
    const scores = this.scoreRows({ rows: users.length, cols: train.nItems, rowPtr: ptr, colIdx: idx, values: val });
    return (await this.kernels()).topk(scores, k, options);
  }

  /** Σ_{i ∈ history(u)} x_ui s_ij for each pair. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const train = this.trainData;
    const s = this.requireSim();
    const out = new Float32Array(users.length);
    for (let j = 0; j < users.length; j++) {
      const u = users[j];
      const t = items[j];
      if (!(u >= 0 && u < train.nUsers && t >= 0 && t < train.nItems)) {
        out[j] = NaN;
        continue;
      }
      let acc = 0;
      for (let p = train.rowPtr[u]; p < train.rowPtr[u + 1]; p++) {
        const i = train.colIdx[p];
        for (let q = s.rowPtr[i]; q < s.rowPtr[i + 1]; q++) if (s.colIdx[q] === t) acc += (this.params.binary ? 1 : train.values[p]) * s.values[q];
      }
      out[j] = acc;
    }
    return out;
  }

  /** The item's stored neighbours, most similar first (padded when it has fewer than k). */
  async similarItems(item: number, k: number): Promise<TopK> {
    const s = this.requireSim();
    checkK(k);
    if (!(Number.isInteger(item) && item >= 0 && item < s.rows)) throw new RangeError(`item-knn: item index ${item} outside [0, ${s.rows})`);
    const out: TopK = { k, items: new Int32Array(k).fill(-1), scores: new Float32Array(k).fill(-Infinity) };
    const a = s.rowPtr[item];
    const m = Math.min(k, s.rowPtr[item + 1] - a);
    out.items.set(s.colIdx.subarray(a, a + m));
    out.scores.set(s.values.subarray(a, a + m));
    return out;
  }

  /** Scores a new user's history directly (no fold-in needed). */
  async recommendForHistory(history: History, k: number, options: Omit<RecommendOptions, 'excludeSeen'> = {}): Promise<TopK> {
    const s = this.requireSim();
    checkK(k);
    const row = historyRow(history, s.rows);
    return (await this.kernels()).topk(this.scoreRows(row), k, { ...itemOptions(options, s.rows), exclude: row });
  }

  protected exportState(): ModelState {
    const s = this.requireSim();
    return {
      state: {},
      arrays: {
        sim_rowPtr: { data: s.rowPtr, shape: [s.rowPtr.length] },
        sim_colIdx: { data: s.colIdx, shape: [s.colIdx.length] },
        sim_values: { data: s.values, shape: [s.values.length] },
      },
    };
  }

  protected importState(_state: Record<string, unknown>, arrays: Record<string, ShapedArray>, where: string): void {
    const n = this.trainData.nItems;
    const rowPtr = i32(arrays, 'sim_rowPtr', n + 1, where);
    const nnz = rowPtr[n];
    const colIdx = i32(arrays, 'sim_colIdx', nnz, where);
    for (let p = 0; p < nnz; p++) if (!(colIdx[p] >= 0 && colIdx[p] < n)) throw new Error(`${where}: sim_colIdx[${p}] = ${colIdx[p]} outside [0, ${n})`);
    this.similarity = { rows: n, cols: n, rowPtr, colIdx, values: f32(arrays, 'sim_values', nnz, where) };
  }

  /** Restores a model saved with `save`. */
  static async load(dir: string): Promise<ItemKnnRecommender> {
    return new ItemKnnRecommender(await readParams(dir, 'item-knn')).restoreFrom(dir);
  }
}

/** Neighbour lists as CSR, dropping padding and non-positive similarities. */
function compactNeighbours(n: number, kk: number, idx: Int32Array, sim: Float32Array): CsrMatrix {
  const rowPtr = new Int32Array(n + 1);
  let m = 0;
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < kk; r++) if (idx[i * kk + r] >= 0 && sim[i * kk + r] > 0) m++;
    rowPtr[i + 1] = m;
  }
  const colIdx = new Int32Array(m);
  const values = new Float32Array(m);
  let o = 0;
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < kk; r++) {
      const p = i * kk + r;
      if (idx[p] >= 0 && sim[p] > 0) {
        colIdx[o] = idx[p];
        values[o] = sim[p];
        o++;
      }
    }
  }
  return { rows: n, cols: n, rowPtr, colIdx, values };
}

/** Registry entry of item-KNN. */
export const itemKnnEntry: ModelEntry = {
  name: 'item-knn',
  description: 'Item-based KNN: shrunk cosine over (none | TF-IDF | BM25)-weighted item vectors, K neighbours per item',
  create: (params) => new ItemKnnRecommender(params),
  load: (dir) => ItemKnnRecommender.load(dir),
  defaults: { ...ITEM_KNN_DEFAULTS },
};
