/**
 * LightFM-style hybrid factorisation (Kula 2015): an item is the sum of the embeddings of its features —
 * its identity feature (`identity`) and its item-feature labels (multi-hot and categorical columns, and text
 * tokens when `textTokens`) — each item's feature weights normalised to sum 1; an item's bias likewise. A user
 * is their id embedding (user features are not used). Score p_u · q_i + b_i. Items without interactions get
 * vectors from their features, so they can be ranked (cold start); with `identity: false` the model is a pure
 * feature model, with no features a plain matrix factorisation.
 *
 * Training: Adagrad on each training entry (u, i) with a sampled negative j not in u's training row —
 * `bpr`: gradient σ(−(s_ui − s_uj)) of ln σ(s_ui − s_uj); `warp`: negatives are drawn until one violates
 * s_uj > s_ui − 1, at most `maxSampled` times; a violation found at draw N updates the hinge with weight
 * ln(⌊(n − 1)/N⌋) ({@link warpWeight}), none found means no update. L2 `reg` on every touched parameter.
 */
import type { EntityFeatures } from '../../data/dataset.js';
import type { Interactions } from '../../data/interactions.js';
import type { DenseMatrix, TopKOptions, TopKResult } from '../../linalg/api.js';
import { Rng } from '../../core/rng.js';
import { bool, defineParams, int, num, oneOf, type ParamsOf } from '../../core/params.js';
import { throwIfAborted, type FitOptions } from '../../core/progress.js';
import type { ModelFeatures } from '../contract.js';
import { defineModel } from '../registry.js';
import { checkPairs, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { tokenize } from './item-vectors.js';

/** Hyperparameters of {@link LightFmRecommender}. */
export const LIGHTFM_PARAMS = defineParams({
  factors: int(32, { min: 1, doc: 'embedding dimensions' }),
  epochs: int(10, { min: 1, doc: 'passes over the training entries' }),
  learningRate: num(0.05, { min: 0, exclusiveMin: true, doc: 'Adagrad learning rate' }),
  reg: num(1e-5, { min: 0, doc: 'L2 penalty on the touched parameters per update' }),
  loss: oneOf(['warp', 'bpr'], 'warp', { doc: 'WARP (sampled rank-weighted hinge) or BPR' }),
  maxSampled: int(10, { min: 1, doc: 'WARP: negatives drawn per positive at most' }),
  identity: bool(true, { doc: 'give every item its own id feature' }),
  itemFeatures: bool(true, { doc: 'use the item-feature labels (multi-hot and categorical columns)' }),
  textTokens: bool(false, { doc: 'also use text tokens (content model tokenizer, bigrams for CJK) appearing in >= 5 items' }),
  seed: int(42, { doc: 'seed of initialisation and sampling' }),
});

/** Typed hyperparameters of {@link LightFmRecommender}. */
export type LightFmParams = ParamsOf<typeof LIGHTFM_PARAMS>;

/** WARP's rank weight for a violating negative found at draw `trials` among `nItems` items: ln ⌊(n − 1)/N⌋ (≥ 0). */
export function warpWeight(nItems: number, trials: number): number {
  return Math.log(Math.max(1, Math.floor((nItems - 1) / trials)));
}

/**
 * WARP's sampling rule: draws negatives with `draw` until one scores above `positive − 1`, at most `maxSampled`
 * times; returns the negative and the draw count, or null when none violated.
 */
export function warpSample(positive: number, maxSampled: number, draw: () => number, scoreOf: (j: number) => number): { item: number; trials: number } | null {
  for (let t = 1; t <= maxSampled; t++) {
    const j = draw();
    if (j < 0) return null;
    if (scoreOf(j) > positive - 1) return { item: j, trials: t };
  }
  return null;
}

interface LightFmState {
  d: number;
  /** Item → feature CSR (weights sum to 1 per item). */
  fptr: Int32Array;
  fidx: Int32Array;
  fval: Float32Array;
  nFeatures: number;
  /** Feature embeddings nFeatures × d, feature biases, user embeddings nUsers × d. */
  emb: Float32Array;
  bias: Float32Array;
  users: Float32Array;
  /** Cache: item vectors and biases. */
  items?: { q: DenseMatrix; b: Float32Array };
}

/** The item-feature matrix: identity, labels, tokens (see the module comment). */
function itemFeatureMatrix(f: EntityFeatures | undefined, n: number, p: LightFmParams): { ptr: Int32Array; idx: Int32Array; val: Float32Array; nFeatures: number } {
  const rows: number[][] = Array.from({ length: n }, (_, i) => (p.identity ? [i] : []));
  let offset = p.identity ? n : 0;
  if (f && p.itemFeatures) {
    for (const name of Object.keys(f.multiHot).sort()) {
      const h = f.multiHot[name];
      if (h.ptr.length !== n + 1) throw new Error(`lightfm: multi-hot item feature "${name}" has ${h.ptr.length - 1} rows, expected ${n}`);
      for (let i = 0; i < n; i++) for (let q = h.ptr[i]; q < h.ptr[i + 1]; q++) rows[i].push(offset + h.idx[q]);
      offset += h.names.length;
    }
    for (const name of Object.keys(f.categorical).sort()) {
      const c = f.categorical[name];
      if (c.codes.length !== n) throw new Error(`lightfm: categorical item feature "${name}" has ${c.codes.length} values, expected ${n}`);
      for (let i = 0; i < n; i++) if (c.codes[i] >= 0) rows[i].push(offset + c.codes[i]);
      offset += c.names.length;
    }
  }
  if (f && p.textTokens) {
    for (const name of Object.keys(f.text).sort()) {
      const toks = f.text[name].map((t) => [...new Set(tokenize(t ?? '', 2))]);
      const df = new Map<string, number>();
      for (const ts of toks) for (const w of ts) df.set(w, (df.get(w) ?? 0) + 1);
      const vocab = [...df.keys()].filter((w) => (df.get(w) ?? 0) >= 5).sort();
      const id = new Map(vocab.map((w, k) => [w, k]));
      toks.forEach((ts, i) => ts.forEach((w) => { const k = id.get(w); if (k !== undefined) rows[i].push(offset + k); }));
      offset += vocab.length;
    }
  }
  const ptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) ptr[i + 1] = ptr[i] + rows[i].length;
  const idx = Int32Array.from(rows.flat());
  const val = new Float32Array(idx.length);
  for (let i = 0; i < n; i++) for (let q = ptr[i]; q < ptr[i + 1]; q++) val[q] = 1 / (ptr[i + 1] - ptr[i]);
  return { ptr, idx, val, nFeatures: offset };
}

/** LightFM-style factorisation; see the module comment. */
export class LightFmRecommender extends SkeletonModel<LightFmParams, LightFmState> {
  readonly name = 'lightfm';
  private features: ModelFeatures | null = null;

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(LIGHTFM_PARAMS.parse('lightfm', params));
  }

  /** Gives the model the item features; call before `fit`. */
  setFeatures(features: ModelFeatures): void {
    this.features = features;
  }

  protected async fitState(train: Interactions, options: FitOptions): Promise<LightFmState> {
    const p = this.params;
    const n = train.nItems;
    const d = p.factors;
    const fm = itemFeatureMatrix(this.features?.itemFeatures, n, p);
    if (fm.nFeatures === 0) throw new Error('lightfm: no item features and identity false: items have no representation');
    const rng = new Rng(p.seed).fork('lightfm');
    const init = (len: number): Float32Array => Float32Array.from({ length: len }, () => (rng.uniform() - 0.5) / d);
    const emb = init(fm.nFeatures * d);
    const users = init(train.nUsers * d);
    const bias = new Float32Array(fm.nFeatures);
    const embAcc = new Float32Array(emb.length).fill(1);
    const userAcc = new Float32Array(users.length).fill(1);
    const biasAcc = new Float32Array(bias.length).fill(1);
    const lr = p.learningRate;
    const reg = p.reg;
    const qi = new Float32Array(d);
    const qj = new Float32Array(d);
    const pu = new Float32Array(d);
    const itemVec = (i: number, out: Float32Array): number => {
      out.fill(0);
      let b = 0;
      for (let q = fm.ptr[i]; q < fm.ptr[i + 1]; q++) {
        const f = fm.idx[q];
        const w = fm.val[q];
        for (let k = 0; k < d; k++) out[k] += w * emb[f * d + k];
        b += w * bias[f];
      }
      return b;
    };
    const dot = (u: number, q: Float32Array): number => {
      let s = 0;
      for (let k = 0; k < d; k++) s += users[u * d + k] * q[k];
      return s;
    };
    // Entries' users in CSR order.
    const rowOf = new Int32Array(train.nnz);
    for (let u = 0; u < train.nUsers; u++) rowOf.fill(u, train.rowPtr[u], train.rowPtr[u + 1]);
    const seen = (u: number, j: number): boolean => train.find(u, j) >= 0;
    const drawNeg = (u: number): number => {
      const cnt = train.rowPtr[u + 1] - train.rowPtr[u];
      if (cnt >= n) return -1;
      for (;;) {
        const j = rng.int(n);
        if (!seen(u, j)) return j;
      }
    };
    const step = (u: number, i: number, j: number, g: number): void => {
      // Ascent direction g·(s_ui − s_uj); pu holds p_u before the update.
      for (let k = 0; k < d; k++) pu[k] = users[u * d + k];
      for (let k = 0; k < d; k++) {
        const G = g * (qi[k] - qj[k]) - reg * users[u * d + k];
        userAcc[u * d + k] += G * G;
        users[u * d + k] += (lr * G) / Math.sqrt(userAcc[u * d + k]);
      }
      for (const [item, sign] of [[i, 1], [j, -1]] as const) {
        for (let q = fm.ptr[item]; q < fm.ptr[item + 1]; q++) {
          const f = fm.idx[q];
          const w = fm.val[q] * sign * g;
          for (let k = 0; k < d; k++) {
            const G = w * pu[k] - reg * emb[f * d + k];
            embAcc[f * d + k] += G * G;
            emb[f * d + k] += (lr * G) / Math.sqrt(embAcc[f * d + k]);
          }
          const Gb = w - reg * bias[f];
          biasAcc[f] += Gb * Gb;
          bias[f] += (lr * Gb) / Math.sqrt(biasAcc[f]);
        }
      }
    };
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      throwIfAborted(options.signal);
      const order = rng.permutation(train.nnz);
      for (let t = 0; t < order.length; t++) {
        if (t % 20000 === 0 && t > 0) {
          throwIfAborted(options.signal);
          await Promise.resolve();
        }
        const e = order[t];
        const u = rowOf[e];
        const i = train.colIdx[e];
        const bi = itemVec(i, qi);
        const si = bi + dot(u, qi);
        if (p.loss === 'bpr') {
          const j = drawNeg(u);
          if (j < 0) continue;
          const sj = itemVec(j, qj) + dot(u, qj);
          step(u, i, j, 1 / (1 + Math.exp(si - sj)));
        } else {
          const hit = warpSample(si, p.maxSampled, () => drawNeg(u), (j) => itemVec(j, qj) + dot(u, qj));
          if (!hit) continue;
          itemVec(hit.item, qj);
          step(u, i, hit.item, warpWeight(n, hit.trials));
        }
      }
      options.onProgress?.({ phase: 'epoch', done: epoch + 1, total: p.epochs });
    }
    return { d, fptr: fm.ptr, fidx: fm.idx, fval: fm.val, nFeatures: fm.nFeatures, emb, bias, users };
  }

  /** Item vectors q_i = Σ w_if E_f and biases (cached on the state). */
  private items(state: LightFmState): { q: DenseMatrix; b: Float32Array } {
    if (!state.items) {
      const n = state.fptr.length - 1;
      const d = state.d;
      const q = new Float32Array(n * d);
      const b = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        for (let p = state.fptr[i]; p < state.fptr[i + 1]; p++) {
          const f = state.fidx[p];
          const w = state.fval[p];
          for (let k = 0; k < d; k++) q[i * d + k] += w * state.emb[f * d + k];
          b[i] += w * state.bias[f];
        }
      }
      state.items = { q: { rows: n, cols: d, data: q }, b };
    }
    return state.items;
  }

  /** The item vectors (items × factors), for retrieval; throws before fit. */
  itemVectors(): DenseMatrix {
    return this.items(this.state).q;
  }

  protected async rank(state: LightFmState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    if (!batch.users) throw new Error('lightfm: cannot rank a history');
    const d = state.d;
    const u = new Float32Array(batch.users.length * d);
    batch.users.forEach((x, r) => u.set(state.users.subarray(x * d, (x + 1) * d), r * d));
    const { q, b } = this.items(state);
    return (await this.kernels()).scoreTopK({ rows: batch.users.length, cols: d, data: u }, q, k, { ...select, itemBias: b });
  }

  /** p_u · q_i + b_i for each pair (NaN outside the training users and items). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    checkPairs(this.name, users, items);
    const s = this.state;
    const { q, b } = this.items(s);
    const nU = s.users.length / s.d;
    return Float32Array.from(users, (u, j) => {
      const i = items[j];
      if (!(u >= 0 && u < nU && i >= 0 && i < q.rows)) return NaN;
      let x = b[i];
      for (let k = 0; k < s.d; k++) x += s.users[u * s.d + k] * q.data[i * s.d + k];
      return x;
    });
  }

  protected exportState(state: LightFmState): StoredState {
    return {
      json: { factors: state.d, nFeatures: state.nFeatures },
      arrays: { 'feat.start': vector(state.fptr), 'feat.feature': vector(state.fidx), 'feat.weight': vector(state.fval), embeddings: vector(state.emb), biases: vector(state.bias), userEmbeddings: vector(state.users) },
    };
  }

  protected importState(saved: StateReader, train: Interactions): LightFmState {
    const d = saved.int('factors', 1);
    const nFeatures = saved.int('nFeatures', 1);
    const fptr = saved.i32('feat.start', train.nItems + 1);
    for (let i = 0; i < train.nItems; i++) if (fptr[0] !== 0 || fptr[i + 1] < fptr[i]) throw new Error(`${saved.file}: array "feat.start" is not a row-pointer array`);
    const fidx = saved.i32('feat.feature', fptr[train.nItems]);
    for (let p = 0; p < fidx.length; p++) if (!(fidx[p] >= 0 && fidx[p] < nFeatures)) throw new Error(`${saved.file}: array "feat.feature"[${p}] = ${fidx[p]} outside [0, ${nFeatures})`);
    return {
      d, nFeatures, fptr, fidx, fval: saved.f32('feat.weight', fidx.length),
      emb: saved.f32('embeddings', nFeatures * d), bias: saved.f32('biases', nFeatures), users: saved.f32('userEmbeddings', train.nUsers * d),
    };
  }
}

/** Registry entry of the LightFM-style model. */
export const lightFmModel = defineModel({
  name: 'lightfm',
  description: 'LightFM-style factorisation (Kula 2015): items as sums of id and feature embeddings, WARP or BPR; cold items from features',
  params: LIGHTFM_PARAMS,
  create: (p) => new LightFmRecommender(p),
});
