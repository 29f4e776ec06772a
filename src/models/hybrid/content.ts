/**
 * Content-based recommender: items are compared by their features, not by who interacted with them, so items
 * without any interaction (cold items) are ranked like any other. Item vectors come from `item-vectors.ts`
 * (multi-hot / categorical labels, TF-IDF over text tokens, standardised numeric columns; unit length).
 *
 * A user's score for item j, with w_ui the user's weight on history item i (`weighting`):
 * - `profile` (cosine): s_uj = p_u · x_j with the profile p_u = Σ_i w_ui x_i, i.e. Σ_i w_ui cos(i, j) over the
 *   whole history;
 * - `neighbors`: s_uj = Σ_i w_ui sim(i, j) over the history items i that have j among their `neighbors` most
 *   similar items (cosine, or Jaccard over the sets of sparse features; numeric columns are not sets and are
 *   ignored by Jaccard).
 */
import type { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix, TopKOptions, TopKResult } from '../../linalg/api.js';
import { defineParams, int, num, oneOf, ParamError, str, type ParamsOf } from '../../core/params.js';
import { throwIfAborted, type FitOptions } from '../../core/progress.js';
import type { History, HistoryOptions, ModelFeatures, TopK } from '../contract.js';
import { defineModel } from '../registry.js';
import { checkItem, checkK, checkPairs, excludeItem, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { buildItemVectors, type ItemVectors } from './item-vectors.js';

/** Hyperparameters of {@link ContentRecommender}. */
export const CONTENT_PARAMS = defineParams({
  similarity: oneOf(['cosine', 'jaccard'], 'cosine', { doc: 'item–item similarity: cosine of the feature vectors, or Jaccard of the sparse feature sets (needs scoring "neighbors")' }),
  scoring: oneOf(['profile', 'neighbors'], 'profile', { doc: 'profile: profile vector · item vector (the whole history); neighbors: sum over history items of their similarity to the item, top `neighbors` per item' }),
  neighbors: int(50, { min: 1, doc: 'most similar items kept per item (scoring "neighbors")' }),
  weighting: oneOf(['value', 'binary', 'centered'], 'value', { doc: 'weight of a history item: its value, 1, or its value minus the user mean' }),
  setWeight: num(1, { min: 0, doc: 'weight of each multi-hot / categorical column (tags, categories, genres)' }),
  textWeight: num(1, { min: 0, doc: 'weight of each text column (TF-IDF over tokens)' }),
  numericWeight: num(0.5, { min: 0, doc: 'weight of the numeric columns together (standardised)' }),
  ngram: int(2, { min: 1, max: 4, doc: 'character n-gram length for CJK text (Latin text is split into words)' }),
  minDf: int(2, { min: 1, doc: 'text tokens in fewer items are dropped' }),
  columns: str('', { doc: 'comma-separated item feature columns to use; empty: every column' }),
});

/** Typed hyperparameters of {@link ContentRecommender}. */
export type ContentParams = ParamsOf<typeof CONTENT_PARAMS>;

interface ContentState {
  vectors: ItemVectors;
  /** Neighbour lists (scoring "neighbors"): items × K, −1 padded, similarities aligned. */
  nbrIdx: Int32Array | null;
  nbrSim: Float32Array | null;
  K: number;
  /** Cache: the sparse part by feature (CSC), for similarity rows. */
  csc?: { ptr: Int32Array; item: Int32Array; val: Float32Array };
}

/** Content-based recommender; see the module comment. */
export class ContentRecommender extends SkeletonModel<ContentParams, ContentState> {
  readonly name = 'content';
  private features: ModelFeatures | null = null;

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(CONTENT_PARAMS.parse('content', params));
    if (this.params.similarity === 'jaccard' && this.params.scoring === 'profile') {
      throw new ParamError('content', 'scoring', 'similarity "jaccard" needs scoring "neighbors" (a profile vector is a cosine construction)');
    }
  }

  /** Gives the model the item features (aligned with the training item indices); call before `fit`. */
  setFeatures(features: ModelFeatures): void {
    this.features = features;
  }

  /** The feature blocks the fitted item vectors use (empty before fit). */
  get blocks(): string[] {
    return this.stateOrNull?.vectors.blocks ?? [];
  }

  protected async fitState(train: Interactions, options: FitOptions): Promise<ContentState> {
    const f = this.features?.itemFeatures;
    if (!f) throw new Error('content: no item features; call setFeatures with a data set that has item features (the experiment runner does this)');
    const p = this.params;
    const columns = p.columns.split(',').map((c) => c.trim()).filter((c) => c !== '');
    const vectors = buildItemVectors(f, train.nItems, { setWeight: p.setWeight, textWeight: p.textWeight, numericWeight: p.numericWeight, ngram: p.ngram, minDf: p.minDf, columns });
    if (vectors.nFeatures === 0 && vectors.numericNames.length === 0) throw new Error('content: the item features give no usable column (check `columns` and the weights)');
    options.onProgress?.({ phase: 'vectors', done: 1, total: 2 });
    const state: ContentState = { vectors, nbrIdx: null, nbrSim: null, K: 0 };
    if (p.scoring === 'neighbors') {
      const n = train.nItems;
      const K = Math.min(p.neighbors, Math.max(1, n - 1));
      const nbrIdx = new Int32Array(n * K).fill(-1);
      const nbrSim = new Float32Array(n * K);
      const row = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        if (i % 256 === 0) {
          throwIfAborted(options.signal);
          await Promise.resolve();
        }
        this.similarityRow(state, i, row);
        row[i] = -Infinity;
        const top = topIndices(row, K);
        for (let k = 0; k < top.length; k++) {
          nbrIdx[i * K + k] = top[k];
          nbrSim[i * K + k] = row[top[k]];
        }
      }
      Object.assign(state, { nbrIdx, nbrSim, K });
    }
    options.onProgress?.({ phase: 'neighbors', done: 2, total: 2 });
    return state;
  }

  /** sim(i, j) for every j into `out`: cosine (dot of unit vectors) or Jaccard of the sparse feature sets. */
  private similarityRow(state: ContentState, i: number, out: Float32Array): void {
    const v = state.vectors;
    const csc = (state.csc ??= toCsc(v));
    out.fill(0);
    const jaccard = this.params.similarity === 'jaccard';
    for (let p = v.ptr[i]; p < v.ptr[i + 1]; p++) {
      const f = v.idx[p];
      const x = jaccard ? 1 : v.val[p];
      for (let q = csc.ptr[f]; q < csc.ptr[f + 1]; q++) out[csc.item[q]] += jaccard ? 1 : x * csc.val[q];
    }
    if (jaccard) {
      const a = v.ptr[i + 1] - v.ptr[i];
      for (let j = 0; j < v.nItems; j++) {
        const inter = out[j];
        const union = a + (v.ptr[j + 1] - v.ptr[j]) - inter;
        out[j] = union > 0 ? inter / union : 0;
      }
      return;
    }
    const m = v.numericNames.length;
    if (m > 0) {
      for (let j = 0; j < v.nItems; j++) {
        let s = 0;
        for (let c = 0; c < m; c++) s += v.numeric[i * m + c] * v.numeric[j * m + c];
        out[j] += s;
      }
    }
  }

  /** Weights of a CSR row's entries (`weighting`). */
  private weights(rows: CsrMatrix, r: number): Float32Array {
    const s = rows.rowPtr[r];
    const e = rows.rowPtr[r + 1];
    const w = rows.values.slice(s, e);
    if (this.params.weighting === 'binary') w.fill(1);
    else if (this.params.weighting === 'centered' && e > s) {
      let mean = 0;
      for (const x of w) mean += x;
      mean /= e - s;
      for (let k = 0; k < w.length; k++) w[k] -= mean;
    }
    return w;
  }

  /** Dense scores rows × items for the CSR rows. */
  private scoreRows(state: ContentState, rows: CsrMatrix): DenseMatrix {
    const v = state.vectors;
    const n = v.nItems;
    const m = v.numericNames.length;
    const out = new Float32Array(rows.rows * n);
    const prof = new Float64Array(v.nFeatures);
    const pnum = new Float64Array(m);
    for (let r = 0; r < rows.rows; r++) {
      const w = this.weights(rows, r);
      const s0 = rows.rowPtr[r];
      const o = out.subarray(r * n, (r + 1) * n);
      if (state.nbrIdx && state.nbrSim) {
        const K = state.K;
        for (let q = 0; q < w.length; q++) {
          const i = rows.colIdx[s0 + q];
          for (let k = 0; k < K; k++) {
            const j = state.nbrIdx[i * K + k];
            if (j < 0) break;
            o[j] += w[q] * state.nbrSim[i * K + k];
          }
        }
        continue;
      }
      prof.fill(0);
      pnum.fill(0);
      for (let q = 0; q < w.length; q++) {
        const i = rows.colIdx[s0 + q];
        for (let p = v.ptr[i]; p < v.ptr[i + 1]; p++) prof[v.idx[p]] += w[q] * v.val[p];
        for (let c = 0; c < m; c++) pnum[c] += w[q] * v.numeric[i * m + c];
      }
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = v.ptr[j]; p < v.ptr[j + 1]; p++) s += v.val[p] * prof[v.idx[p]];
        for (let c = 0; c < m; c++) s += v.numeric[j * m + c] * pnum[c];
        o[j] = s;
      }
    }
    return { rows: rows.rows, cols: n, data: out };
  }

  protected async rank(state: ContentState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    return (await this.kernels()).topk(this.scoreRows(state, batch.rows), k, select);
  }

  /** The ranking score of each pair (NaN outside the training users and items). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    checkPairs(this.name, users, items);
    const train = this.trainData;
    const out = new Float32Array(users.length).fill(NaN);
    const byUser = new Map<number, number[]>();
    users.forEach((u, j) => {
      if (u >= 0 && u < train.nUsers && items[j] >= 0 && items[j] < train.nItems) byUser.set(u, [...(byUser.get(u) ?? []), j]);
    });
    for (const [u, js] of byUser) {
      const row: CsrMatrix = { rows: 1, cols: train.nItems, rowPtr: Int32Array.from([0, train.userItems(u).length]), colIdx: train.userItems(u), values: train.userValues(u) };
      const s = this.scoreRows(this.state, row).data;
      for (const j of js) out[j] = s[items[j]];
    }
    return out;
  }

  /** The items most similar to `item` by their features. */
  async similarItems(item: number, k: number): Promise<TopK> {
    const state = this.state;
    const n = state.vectors.nItems;
    checkK(k, this.name);
    checkItem(this.name, item, n);
    const row = new Float32Array(n);
    this.similarityRow(state, item, row);
    return (await this.kernels()).topk({ rows: 1, cols: n, data: row }, k, { exclude: excludeItem(item, n) });
  }

  /** Scores a new user's history (the history is the profile; no training needed). */
  async recommendForHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    return this.rankHistory(history, k, options);
  }

  protected exportState(state: ContentState): StoredState {
    const v = state.vectors;
    const arrays: StoredState['arrays'] = { 'vec.rowStart': vector(v.ptr), 'vec.feature': vector(v.idx), 'vec.value': vector(v.val), 'vec.numeric': vector(v.numeric) };
    if (state.nbrIdx && state.nbrSim) {
      arrays['nbr.idx'] = vector(state.nbrIdx);
      arrays['nbr.sim'] = vector(state.nbrSim);
    }
    return { json: { nFeatures: v.nFeatures, numericNames: v.numericNames, blocks: v.blocks, K: state.K }, arrays };
  }

  protected importState(saved: StateReader, train: Interactions): ContentState {
    const n = train.nItems;
    const nFeatures = saved.int('nFeatures');
    const numericNames = stringList(saved.value('numericNames'), saved.file, 'numericNames');
    const blocks = stringList(saved.value('blocks'), saved.file, 'blocks');
    const ptr = saved.i32('vec.rowStart', n + 1);
    if (ptr[0] !== 0) throw new Error(`${saved.file}: array "vec.rowStart" must start at 0`);
    for (let i = 0; i < n; i++) if (ptr[i + 1] < ptr[i]) throw new Error(`${saved.file}: array "vec.rowStart" decreases at item ${i}`);
    const idx = saved.i32('vec.feature', ptr[n]);
    for (let p = 0; p < idx.length; p++) if (!(idx[p] >= 0 && idx[p] < nFeatures)) throw new Error(`${saved.file}: array "vec.feature"[${p}] = ${idx[p]} outside [0, ${nFeatures})`);
    const vectors: ItemVectors = { nItems: n, ptr, idx, val: saved.f32('vec.value', ptr[n]), nFeatures, numeric: saved.f32('vec.numeric', n * numericNames.length), numericNames, blocks };
    const K = saved.int('K');
    if (this.params.scoring !== 'neighbors') return { vectors, nbrIdx: null, nbrSim: null, K: 0 };
    const nbrIdx = saved.i32('nbr.idx', n * K);
    for (let p = 0; p < nbrIdx.length; p++) if (!(nbrIdx[p] >= -1 && nbrIdx[p] < n)) throw new Error(`${saved.file}: array "nbr.idx"[${p}] = ${nbrIdx[p]} outside [-1, ${n})`);
    return { vectors, nbrIdx, nbrSim: saved.f32('nbr.sim', n * K), K };
  }
}

function stringList(v: unknown, file: string, key: string): string[] {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new Error(`${file}: state field "${key}" missing or not a list of strings`);
  return v;
}

/** The sparse part of the item vectors by feature. */
function toCsc(v: ItemVectors): { ptr: Int32Array; item: Int32Array; val: Float32Array } {
  const ptr = new Int32Array(v.nFeatures + 1);
  for (const f of v.idx) ptr[f + 1]++;
  for (let f = 0; f < v.nFeatures; f++) ptr[f + 1] += ptr[f];
  const fill = ptr.slice(0, v.nFeatures);
  const item = new Int32Array(v.idx.length);
  const val = new Float32Array(v.idx.length);
  for (let i = 0; i < v.nItems; i++) {
    for (let p = v.ptr[i]; p < v.ptr[i + 1]; p++) {
      const q = fill[v.idx[p]]++;
      item[q] = i;
      val[q] = v.val[p];
    }
  }
  return { ptr, item, val };
}

/** Indices of the `k` largest finite values with value > 0, best first (ties: lower index). */
function topIndices(row: Float32Array, k: number): number[] {
  const c: number[] = [];
  for (let j = 0; j < row.length; j++) if (row[j] > 0) c.push(j);
  c.sort((a, b) => row[b] - row[a] || a - b);
  return c.slice(0, k);
}

/** Registry entry of the content model. */
export const contentModel = defineModel({
  name: 'content',
  description: 'Content-based: item similarity from item features (labels, TF-IDF text, numeric); ranks cold items too',
  params: CONTENT_PARAMS,
  create: (p) => new ContentRecommender(p),
});
