/**
 * Two-tower retrieval (Yi et al. 2019 style). User tower: user id embedding + user features (categorical
 * embeddings, standardized numeric) + mean EmbeddingBag of the user's recent positive items → MLP → d. Item tower:
 * item id embedding + categorical / multi-hot (tags, categories, genres) embeddings + standardized numeric content
 * features → MLP → d. Score: cosine (both outputs L2-normalized) or dot product, divided by a temperature. Trained
 * with in-batch sampled softmax and log-q correction (q = the item's share of training positives).
 *
 * Cold start: items without training positives never use their id embedding (it is dropped in inference, and
 * warm items drop it with probability `idDropout` in training so the tower learns to work from features alone).
 * Features come from `setFeatures(dataset)` before `fit` (see features.ts); without features the towers are
 * id (+ history) only.
 */
import { bool, defineParams, int, intList, num, oneOf, type ParamsOf } from '../../core/params.js';
import type { FitOptions } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import type { Interactions } from '../../data/interactions.js';
import type { DenseMatrix, Kernels, TopKOptions, TopKResult } from '../../linalg/api.js';
import { Activation } from '../../nn/layers/activations.js';
import { Concat } from '../../nn/layers/concat.js';
import { EmbeddingBag, type Bags } from '../../nn/layers/embedding-bag.js';
import { L2Normalize } from '../../nn/layers/l2-normalize.js';
import { Sequential, type Layer } from '../../nn/layers/layer.js';
import { Linear } from '../../nn/layers/linear.js';
import { InBatchSoftmax } from '../../nn/losses/sampled-softmax.js';
import { makeOptimizer } from '../../nn/optimizers.js';
import { copyToKernel, type Param } from '../../nn/tensor.js';
import { trainEpochs } from '../../nn/trainer.js';
import type { History, HistoryOptions, ModelFeatures, TopK } from '../contract.js';
import { defineModel } from '../registry.js';
import { checkItem, checkK, checkPairs, checkUsers, excludeItem, historyRow, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { earlyStoppingHoldout, earlyStoppingParams, NeuralModel, noHistory, rate, readWeights, trainingParams, weightArrays, type NeuralState } from './common.js';
import { EntityEncoder } from './entity-encoder.js';
import { encodeInputs, inputsState, readInputs, type EntityInputs } from './features.js';

/** Hyperparameters of {@link TwoTowerRecommender}. */
export const TWO_TOWER_PARAMS = defineParams({
  dim: int(32, { min: 1, doc: 'output embedding size d' }),
  idDim: int(32, { min: 1, doc: 'id embedding size (user id, item id, history items)' }),
  featDim: int(16, { min: 1, doc: 'size of each categorical / multi-hot feature embedding' }),
  hidden: intList([64], { min: 1, doc: "hidden layer sizes of each tower's MLP (ReLU)" }),
  score: oneOf(['cosine', 'dot'], 'cosine', { doc: 'cosine (both towers L2-normalized) or dot product' }),
  temperature: num(0.2, { min: 0, exclusiveMin: true, doc: 'softmax temperature τ' }),
  historyLength: int(20, { min: 0, doc: "recent positive items in the user tower's history bag (0 = no history input)" }),
  idDropout: rate(0.1, "probability of dropping a warm item's id embedding in training (so cold items work from features)"),
  logQ: bool(true, { doc: "apply the log-q correction (q = the item's share of training positives)" }),
  positiveThreshold: num(0, { doc: 'training entries with value >= this are positives' }),
  useUserFeatures: bool(true, { doc: 'use user features when given' }),
  useItemFeatures: bool(true, { doc: 'use item features when given' }),
  ...trainingParams({ epochs: 10, batchSize: 256, examples: '(user, item) positive pairs', lr: 3e-3, weightDecay: 0 }),
  ...earlyStoppingParams(3),
});

/** Typed hyperparameters of {@link TwoTowerRecommender}. */
export type TwoTowerParams = ParamsOf<typeof TWO_TOWER_PARAMS>;

/** One tower: an entity encoder (+ optional history bag) followed by an MLP and optional L2 normalization. */
class Tower {
  readonly mlp: Sequential;
  readonly norm: L2Normalize | null;
  private readonly concat: Concat;

  constructor(kernels: Kernels, name: string, readonly encoder: EntityEncoder, readonly history: EmbeddingBag | null, hidden: number[], dim: number, cosine: boolean, rng: Rng) {
    const layers: Layer[] = [];
    let w = encoder.width + (history ? history.dim : 0);
    hidden.forEach((h, i) => {
      layers.push(new Linear(kernels, `${name}.fc${i}`, w, h, rng), new Activation(kernels, 'relu'));
      w = h;
    });
    layers.push(new Linear(kernels, `${name}.out`, w, dim, rng));
    this.mlp = new Sequential(layers);
    this.norm = cosine ? new L2Normalize(kernels) : null;
    this.concat = new Concat(kernels);
  }

  async forward(ids: Int32Array, dropId: Uint8Array | null, bags: Bags | null, training: boolean): Promise<DenseMatrix> {
    const e = this.encoder.forward(ids, dropId);
    const x = this.history && bags ? this.concat.forward([e, this.history.forward(bags)]) : e;
    const y = await this.mlp.forward(x, training);
    return this.norm ? this.norm.forward(y, training) : y;
  }

  async backward(dy: DenseMatrix): Promise<void> {
    const g = this.norm ? await this.norm.backward(dy) : dy;
    const dx = await this.mlp.backward(g);
    if (this.history) {
      const [de, dh] = this.concat.backward(dx);
      this.encoder.backward(de);
      this.history.backward(dh);
    } else this.encoder.backward(dx);
  }

  params(): Param[] {
    return [...this.encoder.params(), ...(this.history ? this.history.params() : []), ...this.mlp.params()];
  }
}

/** Recent positive items per user (CSR over users, most recent last). */
interface RecentItems {
  ptr: Int32Array;
  idx: Int32Array;
}

/** The fitted state. */
interface TwoTowerState extends NeuralState {
  inputs: EntityInputs;
  user: Tower;
  item: Tower;
  /** The history bags' items (from the positives trained on). */
  recent: RecentItems;
  /** Training positives per item (0 = cold item: id embedding dropped). */
  itemPositives: Int32Array;
  /** Item tower outputs for every item (I × d, kernel memory), built on first use. */
  itemCache: DenseMatrix | null;
}

/** Two-tower retrieval model (see the module comment). */
export class TwoTowerRecommender extends NeuralModel<TwoTowerParams, TwoTowerState> {
  /** Registry name. */
  readonly name = 'two-tower';
  protected override batchSize = 512;
  private features: ModelFeatures = {};

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(TWO_TOWER_PARAMS.parse('two-tower', params));
  }

  /** Sets the user and item features used by the towers (aligned with the training data's indices). */
  setFeatures(features: ModelFeatures): void {
    this.features = features;
  }

  /** Flops of one training step on a batch of B pairs (tower GEMMs forward+backward, in-batch logits and gradients); 0 before fit. */
  flopsPerStep(batch: number): number {
    const s = this.stateOrNull;
    let dense = 0;
    for (const t of s ? [s.user, s.item] : []) for (const p of t.mlp.params()) if (p.rows > 1) dense += p.rows * p.cols;
    return 6 * batch * dense + 6 * batch * batch * this.params.dim;
  }

  /**
   * Trains on the positives of `train` (entries with value >= positiveThreshold). Early stopping (the best
   * epoch's weights kept): on the runner's validation (`options.validation`, e.g. an experiment's
   * `earlyStopping`) when given, else with `holdout` > 0 on NDCG@evalK of a holdout of the training data.
   */
  protected async fitState(train: Interactions, options: FitOptions): Promise<TwoTowerState> {
    const p = this.params;
    const inputs = encodeInputs(this.features, p, train);
    const rng = new Rng(p.seed);
    // The runner's validation part (experiments, search) replaces the model's own holdout.
    const holdout = options.validation ? null : earlyStoppingHoldout(train, p.holdout, rng);
    const fitData = holdout?.fit ?? train;
    const positives = fitData.minValue(p.positiveThreshold);
    if (positives.nnz === 0) throw new Error(`two-tower: no training entries with value >= positiveThreshold (${p.positiveThreshold})`);
    return this.withKernels(async (kernels) => {
      const itemPositives = positives.itemCounts();
      const { user, item } = this.build(kernels, inputs, train.nUsers, train.nItems, rng.fork('init'));
      const idDrop = rng.fork('dropout');
      const state: TwoTowerState = { kernels, inputs, user, item, recent: recentItems(positives, p.historyLength), itemPositives, itemCache: null, history: noHistory() };
      const params = [...user.params(), ...item.params()];
      const opt = makeOptimizer(p.optimizer, p.lr, p.weightDecay);
      const softmax = new InBatchSoftmax(kernels);
      const pairUser = positives.rowIndices();
      const pairItem = positives.colIdx;
      const logQAll = Float32Array.from(itemPositives, (c) => Math.log(Math.max(1, c) / positives.nnz));
      const step = async (batch: Int32Array): Promise<number> => {
        const users = Int32Array.from(batch, (e) => pairUser[e]);
        const items = Int32Array.from(batch, (e) => pairItem[e]);
        const drop = new Uint8Array(batch.length);
        if (p.idDropout > 0) for (let r = 0; r < batch.length; r++) drop[r] = idDrop.uniform() < p.idDropout ? 1 : 0;
        const u = await user.forward(users, null, this.historyBags(state, users, items), true);
        const v = await item.forward(items, drop, null, true);
        const logQ = p.logQ ? Float32Array.from(items, (i) => logQAll[i]) : undefined;
        const res = await softmax.compute({ users: u, items: v, itemIds: items, logQ, temperature: p.temperature });
        await user.backward(res.gradUsers);
        await item.backward(res.gradItems);
        opt.step(params);
        return res.loss;
      };
      // Rankings during training see the current weights: the cached item embeddings are rebuilt each time.
      const rank = (u: Int32Array, k: number): Promise<TopK> => {
        this.dropItemCache(state);
        return this.recommendWith(state, fitData, u, k, {});
      };
      const validation = holdout && this.ndcgValidation(holdout, holdout.validation.minValue(p.positiveThreshold), p.evalK, p.patience, params, rank);
      const runnerValidation = options.validation ? { monitor: options.validation, rank, params } : null;
      state.history = await trainEpochs(pairUser.length, step, {
        epochs: p.epochs, batchSize: p.batchSize, minBatch: 2, rng: rng.fork('shuffle'), signal: options.signal, onProgress: options.onProgress, validation, runnerValidation,
      });
      this.dropItemCache(state);
      return state;
    });
  }

  /** Item tower outputs for every item (I × d, kernel memory, valid until the next fit or dispose). */
  async itemEmbeddings(): Promise<DenseMatrix> {
    return this.itemMatrix(this.state);
  }

  /** User tower outputs for training users `users` (rows × d, a copy in kernel memory). */
  async userEmbeddings(users: ArrayLike<number>): Promise<DenseMatrix> {
    const state = this.state;
    return this.userMatrix(state, checkUsers(this.name, users, this.trainData.nUsers));
  }

  /** Exact top-k by the tower score u·v (fused `scoreTopK`), users from their ids and histories or a given history. */
  protected async rank(state: TwoTowerState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const v = await this.itemMatrix(state);
    const u = batch.users ? await this.userMatrix(state, batch.users) : await this.historyMatrix(state, batch.history?.items ?? batch.rows.colIdx);
    try {
      return await state.kernels.scoreTopK(u, v, k, select);
    } finally {
      state.kernels.free(u.data);
    }
  }

  /** u·v / τ for each pair. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const state = this.state;
    checkPairs(this.name, users, items);
    for (const i of items) checkItem(this.name, i, this.trainData.nItems);
    const v = await this.itemMatrix(state);
    const u = await this.userEmbeddings(users);
    const d = this.params.dim;
    const out = new Float32Array(users.length);
    for (let r = 0; r < users.length; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += u.data[r * d + j] * v.data[items[r] * d + j];
      out[r] = s / this.params.temperature;
    }
    state.kernels.free(u.data);
    return out;
  }

  /** Items whose item-tower embeddings score highest against `item`'s. */
  async similarItems(item: number, k: number): Promise<TopK> {
    const state = this.state;
    const n = this.trainData.nItems;
    checkK(k, this.name);
    checkItem(this.name, item, n);
    const v = await this.itemMatrix(state);
    const d = this.params.dim;
    const q = copyToKernel(state.kernels, { rows: 1, cols: d, data: v.data.subarray(item * d, (item + 1) * d) });
    try {
      return await state.kernels.scoreTopK(q, v, k, { exclude: excludeItem(item, n) });
    } finally {
      state.kernels.free(q.data);
    }
  }

  /** The user-tower embedding of an unseen user from their history (its last `historyLength` items count). */
  async foldIn(history: History): Promise<Float32Array> {
    const state = this.state;
    historyRow(history, this.trainData.nItems);
    const u = await this.historyMatrix(state, history.items);
    const code = Float32Array.from(u.data.subarray(0, this.params.dim));
    state.kernels.free(u.data);
    return code;
  }

  /** Top-k for an unseen user's history (history items excluded). */
  async recommendForHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    return this.rankHistory(history, k, options);
  }

  protected exportState(state: TwoTowerState): StoredState {
    const inputs = inputsState(state.inputs);
    return {
      json: inputs.json,
      arrays: { ...weightArrays([...state.user.params(), ...state.item.params()]), ...inputs.arrays, 'hist.ptr': vector(state.recent.ptr), 'hist.idx': vector(state.recent.idx), itemPositives: vector(state.itemPositives) },
    };
  }

  protected async importState(saved: StateReader, train: Interactions): Promise<TwoTowerState> {
    const inputs = readInputs(saved, train);
    const ptr = saved.i32('hist.ptr', train.nUsers + 1);
    const recent = { ptr, idx: saved.i32('hist.idx', ptr[train.nUsers]) };
    for (let u = 0; u < train.nUsers; u++) if (ptr[u + 1] < ptr[u]) throw new Error(`${saved.file}: array "hist.ptr" decreases at ${u + 1}`);
    for (const i of recent.idx) if (!(i >= 0 && i < train.nItems)) throw new Error(`${saved.file}: array "hist.idx" holds item ${i}, outside [0, ${train.nItems})`);
    const itemPositives = saved.i32('itemPositives', train.nItems);
    return this.withKernels((kernels) => {
      const { user, item } = this.build(kernels, inputs, train.nUsers, train.nItems, new Rng(this.params.seed).fork('init'));
      readWeights(saved, [...user.params(), ...item.params()]);
      return { kernels, inputs, user, item, recent, itemPositives, itemCache: null, history: noHistory() };
    });
  }

  private async itemMatrix(state: TwoTowerState): Promise<DenseMatrix> {
    if (state.itemCache) return state.itemCache;
    const n = state.itemPositives.length;
    const d = this.params.dim;
    const out = copyToKernel(state.kernels, { rows: n, cols: d, data: new Float32Array(n * d) });
    const chunk = 1024;
    for (let s = 0; s < n; s += chunk) {
      const ids = Int32Array.from({ length: Math.min(chunk, n - s) }, (_, j) => s + j);
      const drop = Uint8Array.from(ids, (i) => (state.itemPositives[i] > 0 ? 0 : 1));
      const v = await state.item.forward(ids, drop, null, false);
      out.data.set(v.data.subarray(0, ids.length * d), s * d);
    }
    state.itemCache = out;
    return out;
  }

  /** User tower outputs for valid training users (a copy in kernel memory; the caller frees it). */
  private async userMatrix(state: TwoTowerState, users: Int32Array): Promise<DenseMatrix> {
    return copyToKernel(state.kernels, await state.user.forward(users, null, this.historyBags(state, users, null), false));
  }

  /** The user tower output for an unseen user with `items` (most recent last; a copy the caller frees). */
  private async historyMatrix(state: TwoTowerState, items: Int32Array): Promise<DenseMatrix> {
    const recent = items.subarray(Math.max(0, items.length - this.params.historyLength));
    const bags = this.params.historyLength > 0 ? { ptr: Int32Array.from([0, recent.length]), ids: recent } : null;
    return copyToKernel(state.kernels, await state.user.forward(Int32Array.from([-1]), null, bags, false));
  }

  /** History bags for `users`; when `exclude` is given, row r leaves out item exclude[r] (the training target). */
  private historyBags(state: TwoTowerState, users: Int32Array, exclude: Int32Array | null): Bags | null {
    if (this.params.historyLength <= 0) return null;
    const { ptr, idx } = state.recent;
    const out = new Int32Array(users.length + 1);
    const ids: number[] = [];
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      for (let q = ptr[u]; q < ptr[u + 1]; q++) if (!exclude || idx[q] !== exclude[r]) ids.push(idx[q]);
      out[r + 1] = ids.length;
    }
    return { ptr: out, ids: Int32Array.from(ids) };
  }

  private build(kernels: Kernels, inputs: EntityInputs, nUsers: number, nItems: number, rng: Rng): { user: Tower; item: Tower } {
    const p = this.params;
    const cosine = p.score === 'cosine';
    const userEncoder = new EntityEncoder(kernels, 'user', inputs.user, { idCount: nUsers, idDim: p.idDim, featDim: p.featDim }, rng);
    const history = p.historyLength > 0 ? new EmbeddingBag(kernels, 'user.history', nItems, p.idDim, 'mean', rng) : null;
    const user = new Tower(kernels, 'user', userEncoder, history, p.hidden, p.dim, cosine, rng);
    const itemEncoder = new EntityEncoder(kernels, 'item', inputs.item, { idCount: nItems, idDim: p.idDim, featDim: p.featDim }, rng);
    return { user, item: new Tower(kernels, 'item', itemEncoder, null, p.hidden, p.dim, cosine, rng) };
  }

  /** Forgets the cached item embeddings (the weights changed), returning their kernel memory. */
  private dropItemCache(state: TwoTowerState): void {
    if (state.itemCache) state.kernels.free(state.itemCache.data);
    state.itemCache = null;
  }
}

/** Each user's last `n` items of `m` by timestamp (CSR order when there is no time), most recent last. */
export function recentItems(m: Interactions, n: number): { ptr: Int32Array; idx: Int32Array } {
  const ptr = new Int32Array(m.nUsers + 1);
  const idx: number[] = [];
  for (let u = 0; u < m.nUsers; u++) {
    const items = m.userItems(u);
    const times = m.userTimes(u);
    const order = Array.from({ length: items.length }, (_, j) => j);
    if (times) order.sort((a, b) => (Number.isNaN(times[a]) ? -Infinity : times[a]) - (Number.isNaN(times[b]) ? -Infinity : times[b]) || a - b);
    for (const j of order.slice(Math.max(0, order.length - n))) idx.push(items[j]);
    ptr[u + 1] = idx.length;
  }
  return { ptr, idx: Int32Array.from(idx) };
}

/** Registry entry of the two-tower model. */
export const twoTowerModel = defineModel({
  name: 'two-tower',
  description: 'Two-tower retrieval: id + feature + history towers, in-batch softmax with log-q correction, cold-start items from features',
  params: TWO_TOWER_PARAMS,
  create: (p) => new TwoTowerRecommender(p),
});
