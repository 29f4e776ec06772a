/**
 * Item-based nearest neighbours: items are vectors over users (optionally TF-IDF or BM25 weighted, as in the
 * `implicit` library), similarity is the shrunk cosine s_ij = w_i·w_j / (‖w_i‖‖w_j‖ + shrink), and a user's score for j is
 * Σ_{i ∈ history} x_ui · s_ij over the kept pairs. `neighborhood: target` keeps, for each target item j, its K
 * most similar source items (RecBole's ComputeSimilarity); `source` keeps each history item's K neighbours
 * (implicit's ItemItemRecommender). The dot products come
 * from the kernel layer's item Gram blocks; neighbour selection uses the kernels' top-k.
 */
import type { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix, TopKOptions, TopKResult } from '../../linalg/api.js';
import { bool, defineParams, int, num, oneOf, type ParamsOf } from '../../core/params.js';
import { checkpoint, type FitOptions } from '../../core/progress.js';
import type { History, HistoryOptions, TopK } from '../contract.js';
import { itemUserCsr, SharedCopies, transposeCsr, withValues } from '../matrices.js';
import { defineModel } from '../registry.js';
import { checkItem, checkK, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { itemGramBlocks } from './item-gram.js';
import { pairScores } from './pair-scores.js';

/** Hyperparameters of {@link ItemKnnRecommender}. */
export const ITEM_KNN_PARAMS = defineParams({
  neighbors: int(100, { min: 1, doc: 'neighbours kept per item' }),
  neighborhood: oneOf(['target', 'source'], 'target', { doc: "whose K nearest are kept: each target item's K most similar source items (RecBole's ComputeSimilarity), or each source item's K (implicit)" }),
  shrink: num(0, { min: 0, doc: 'added to the cosine denominator (shrinks similarities built on little co-occurrence)' }),
  weighting: oneOf(['none', 'tfidf', 'bm25'], 'none', { doc: 'weights of the item vectors over users: none, TF-IDF (√x·idf) or BM25' }),
  bm25K1: num(100, { min: 0, doc: "BM25 K1 (implicit's default)" }),
  bm25B: num(0.8, { min: 0, max: 1, doc: "BM25 b (implicit's default)" }),
  binary: bool(true, { doc: 'use X = [r > 0] for similarity and scoring (true) or the raw values' }),
});

/** Typed hyperparameters of {@link ItemKnnRecommender}. */
export type ItemKnnParams = ParamsOf<typeof ITEM_KNN_PARAMS>;

interface ItemKnnState {
  /** Scoring weights, one row per source item: score_j = Σ_{i ∈ history} x_ui · sim[i][j]. */
  sim: CsrMatrix;
  /** Each item's K nearest items by decreasing similarity (the same matrix as `sim` with `neighborhood: source`). */
  neighbours: CsrMatrix;
}

/**
 * Weights the values of Xᵀ (items × users CSR) in place: TF-IDF (√x · idf_u) or BM25 with
 * idf_u = log(nItems) − log(1 + n_u) (n_u = the user's item count), as `implicit` does on its item × user matrix.
 */
export function weightItemUser(xt: CsrMatrix, weighting: ItemKnnParams['weighting'], k1: number, b: number): Float32Array {
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
export class ItemKnnRecommender extends SkeletonModel<ItemKnnParams, ItemKnnState> {
  readonly name = 'item-knn';

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(ITEM_KNN_PARAMS.parse('item-knn', params));
  }

  /** Neighbour lists: items × K CSR (neighbours by decreasing similarity), null before fit. */
  get similarity(): CsrMatrix | null {
    return this.stateOrNull?.neighbours ?? null;
  }

  /** Scoring weights, one row per source item (score_j = Σ_{i ∈ history} x_ui · w[i][j]), null before fit. */
  get weights(): CsrMatrix | null {
    return this.stateOrNull?.sim ?? null;
  }

  /** Builds the K-neighbour lists from Gram blocks. */
  protected async fitState(train: Interactions, options: FitOptions): Promise<ItemKnnState> {
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
    try {
      const gram = await itemGramBlocks(kn, xt);
      const block = gram.block;
      const blocks = Math.ceil(n / block);
      for (let s = 0, step = 0; s < n; s += block, step++) {
        await checkpoint(options.signal);
        const e = Math.min(n, s + block);
        const cols = await gram.columns(s, e);
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
    const neighbours = compactNeighbours(n, kk, nbrIdx, nbrSim);
    // The similarity is symmetric, so the K-lists are the same; `target` keeps list j as column j (the sources of target j).
    return { sim: p.neighborhood === 'target' ? transposeCsr(neighbours) : neighbours, neighbours };
  }

  /** Dense scores of the rows: scores[r][j] = Σ x_ri s_ij. */
  private scoreRows(s: CsrMatrix, rows: CsrMatrix): DenseMatrix {
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

  protected async rank(state: ItemKnnState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    return (await this.kernels()).topk(this.scoreRows(state.sim, batch.rows), k, select);
  }

  /** Σ_{i ∈ history(u)} x_ui s_ij for each pair. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const s = this.state.sim;
    return pairScores(this.name, this.trainData, users, items, this.params.binary, (i, t) => {
      for (let q = s.rowPtr[i]; q < s.rowPtr[i + 1]; q++) if (s.colIdx[q] === t) return s.values[q];
      return 0;
    });
  }

  /** The item's stored neighbours, most similar first (padded when it has fewer than k). */
  async similarItems(item: number, k: number): Promise<TopK> {
    const s = this.state.neighbours;
    checkK(k, this.name);
    checkItem(this.name, item, s.rows);
    const out: TopK = { k, items: new Int32Array(k).fill(-1), scores: new Float32Array(k).fill(-Infinity) };
    const a = s.rowPtr[item];
    const m = Math.min(k, s.rowPtr[item + 1] - a);
    out.items.set(s.colIdx.subarray(a, a + m));
    out.scores.set(s.values.subarray(a, a + m));
    return out;
  }

  /** Scores a new user's history directly (no fold-in needed). */
  async recommendForHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    return this.rankHistory(history, k, options);
  }

  protected exportState(state: ItemKnnState): StoredState {
    const s = state.sim;
    return { json: {}, arrays: { sim_rowPtr: vector(s.rowPtr), sim_colIdx: vector(s.colIdx), sim_values: vector(s.values) } };
  }

  protected importState(saved: StateReader, train: Interactions): ItemKnnState {
    const n = train.nItems;
    const rowPtr = saved.i32('sim_rowPtr', n + 1);
    const nnz = rowPtr[n];
    const colIdx = saved.i32('sim_colIdx', nnz);
    for (let p = 0; p < nnz; p++) if (!(colIdx[p] >= 0 && colIdx[p] < n)) throw new Error(`${saved.file}: sim_colIdx[${p}] = ${colIdx[p]} outside [0, ${n})`);
    const sim: CsrMatrix = { rows: n, cols: n, rowPtr, colIdx, values: saved.f32('sim_values', nnz) };
    return { sim, neighbours: this.params.neighborhood === 'target' ? sortRowsDescending(transposeCsr(sim)) : sim };
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

/** Each row ordered by decreasing value (ties: lower column first), in place; returns `m`. */
function sortRowsDescending(m: CsrMatrix): CsrMatrix {
  for (let i = 0; i < m.rows; i++) {
    const a = m.rowPtr[i];
    const b = m.rowPtr[i + 1];
    const order = Array.from({ length: b - a }, (_, j) => a + j).sort((x, y) => m.values[y] - m.values[x] || m.colIdx[x] - m.colIdx[y]);
    const c = order.map((q) => m.colIdx[q]);
    const v = order.map((q) => m.values[q]);
    m.colIdx.set(c, a);
    m.values.set(v, a);
  }
  return m;
}

/** Registry entry of item-KNN. */
export const itemKnnModel = defineModel({
  name: 'item-knn',
  description: 'Item-based KNN: shrunk cosine over (none | TF-IDF | BM25)-weighted item vectors, K neighbours per item',
  params: ITEM_KNN_PARAMS,
  create: (p) => new ItemKnnRecommender(p),
});
