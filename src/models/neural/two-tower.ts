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
import type { Interactions } from '../../data/interactions.js';
import type { DenseMatrix, Kernels } from '../../linalg/api.js';
import { Activation } from '../../nn/layers/activations.js';
import { Concat } from '../../nn/layers/concat.js';
import { EmbeddingBag, type Bags } from '../../nn/layers/embedding-bag.js';
import { L2Normalize } from '../../nn/layers/l2-normalize.js';
import type { Layer } from '../../nn/layers/layer.js';
import { Sequential } from '../../nn/layers/layer.js';
import { Linear } from '../../nn/layers/linear.js';
import { InBatchSoftmax } from '../../nn/losses/sampled-softmax.js';
import { EarlyStopping } from '../../nn/early-stopping.js';
import { miniBatches } from '../../nn/batches.js';
import { makeOptimizer, type OptimizerName } from '../../nn/optimizers.js';
import { Rng } from '../../core/rng.js';
import { copyToKernel, type Param } from '../../nn/tensor.js';
import { TrackedKernels } from '../../nn/tracked-kernels.js';
import type { History, RecommendOptions, Recommender, TopK } from '../contract.js';
import { throwIfAborted, type FitOptions } from '../../core/progress.js';
import { loadTrainedModel, type StoredArray } from '../persistence.js';
import type { ModelEntry } from '../legacy.js';
import { freshTrackedKernels, holdoutSplit, meanNdcg, parseHyperparams, restoreParams, rowsCsr, saveNeuralModel, snapshotArray } from './common.js';
import { EntityEncoder } from './entity-encoder.js';
import {
  emptyEncoded, encodeFeatures, encodedArrays, encodedMeta, restoreEncoded, type EncodedFeatures, type FeatureAware, type ModelFeatures,
} from './features.js';

/** Hyperparameters of {@link TwoTowerRecommender}. */
export interface TwoTowerParams {
  [key: string]: number | string | boolean | number[];
  /** Output embedding size d. */
  dim: number;
  /** Id embedding size (user id, item id, history items). */
  idDim: number;
  /** Size of each categorical / multi-hot feature embedding. */
  featDim: number;
  /** Hidden layer sizes of each tower's MLP (ReLU). */
  hidden: number[];
  /** 'cosine' or 'dot'. */
  score: string;
  /** Softmax temperature τ. */
  temperature: number;
  /** Recent positive items in the user tower's history bag (0 = no history input). */
  historyLength: number;
  /** Probability of dropping a warm item's id embedding in training. */
  idDropout: number;
  /** Apply the log-q correction. */
  logQ: boolean;
  /** Training entries with value >= this are positives. */
  positiveThreshold: number;
  /** Use user features when given. */
  useUserFeatures: boolean;
  /** Use item features when given. */
  useItemFeatures: boolean;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  optimizer: string;
  /** Share of users lending 20% of their entries to a validation set for early stopping (0 = off). */
  holdout: number;
  patience: number;
  evalK: number;
  seed: number;
}

/** Defaults. */
export const TWO_TOWER_DEFAULTS: TwoTowerParams = {
  dim: 32, idDim: 32, featDim: 16, hidden: [64], score: 'cosine', temperature: 0.2, historyLength: 20, idDropout: 0.1, logQ: true,
  positiveThreshold: 0, useUserFeatures: true, useItemFeatures: true, epochs: 10, batchSize: 256, lr: 3e-3, weightDecay: 0,
  optimizer: 'adam', holdout: 0, patience: 3, evalK: 10, seed: 1,
};

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

/** Two-tower retrieval model (see the module comment). */
export class TwoTowerRecommender implements Recommender, FeatureAware {
  /** Registry name. */
  readonly name = 'two-tower';
  /** Hyperparameters in use. */
  readonly params: TwoTowerParams;
  /** Mean training loss per epoch and validation NDCG per epoch (when early stopping is on). */
  readonly history: { loss: number[]; validationNdcg: number[] } = { loss: [], validationNdcg: [] };
  /** Where the training data came from (set by `recsys train`, saved with the model). */
  provenance: Record<string, unknown> = {};
  private readonly baseKernels: Kernels | undefined;
  private kernels: TrackedKernels | null = null;
  private features: ModelFeatures = {};
  private userEnc: EncodedFeatures | null = null;
  private itemEnc: EncodedFeatures | null = null;
  private userTower: Tower | null = null;
  private itemTower: Tower | null = null;
  private train: Interactions | null = null;
  /** Recent positive items per user (CSR, most recent last). */
  private hist: { ptr: Int32Array; idx: Int32Array } = { ptr: new Int32Array(1), idx: new Int32Array(0) };
  /** Training positives per item (0 = cold item: id embedding dropped). */
  private itemPositives: Int32Array = new Int32Array(0);
  private itemCache: DenseMatrix | null = null;

  constructor(params: Partial<TwoTowerParams> = {}, kernels?: Kernels) {
    this.params = parseHyperparams('two-tower', TWO_TOWER_DEFAULTS, params, { score: ['cosine', 'dot'], optimizer: ['adam', 'adamw', 'sgd', 'adagrad'] });
    if (!(this.params.temperature > 0)) throw new Error(`two-tower: "temperature" must be > 0, got ${this.params.temperature}`);
    this.baseKernels = kernels;
  }

  /** Sets the user and item features used by the towers (aligned with the training data's indices). */
  setFeatures(features: ModelFeatures): void {
    this.features = features;
  }

  /** Flops of one training step on a batch of B pairs (tower GEMMs forward+backward, in-batch logits and gradients). */
  flopsPerStep(batch: number): number {
    const towers = [this.userTower, this.itemTower];
    let dense = 0;
    for (const t of towers) for (const p of t ? t.mlp.params() : []) if (p.rows > 1) dense += p.rows * p.cols;
    return 6 * batch * dense + 6 * batch * batch * this.params.dim;
  }

  /** Trains on the positives of `train`. */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    this.itemCache = null;
    const kernels = (this.kernels = await freshTrackedKernels(this.baseKernels, this.kernels));
    const p = this.params;
    const rng = new Rng(p.seed);
    this.history.loss = [];
    this.history.validationNdcg = [];
    this.userEnc = p.useUserFeatures ? encodeFeatures(this.features.userFeatures, train.nUsers, 'user') : emptyEncoded(train.nUsers);
    this.itemEnc = p.useItemFeatures ? encodeFeatures(this.features.itemFeatures, train.nItems, 'item') : emptyEncoded(train.nItems);
    let fitData = train;
    let validation: { data: Interactions; users: Int32Array } | null = null;
    if (p.holdout > 0) {
      const s = holdoutSplit(train, p.holdout, p.seed);
      if (s.users.length > 0) {
        fitData = s.fit;
        validation = { data: s.validation.minValue(p.positiveThreshold), users: s.users };
      }
    }
    const positives = fitData.minValue(p.positiveThreshold);
    if (positives.nnz === 0) throw new Error(`two-tower: no training entries with value >= positiveThreshold (${p.positiveThreshold})`);
    this.itemPositives = positives.itemCounts();
    this.hist = recentItems(positives, p.historyLength);
    this.build(kernels, train.nUsers, train.nItems, new Rng(p.seed ^ 0x7077));
    this.train = fitData;
    const userT = this.userTower!;
    const itemT = this.itemTower!;
    const params = [...userT.params(), ...itemT.params()];
    const opt = makeOptimizer(p.optimizer as OptimizerName, p.lr, p.weightDecay);
    const softmax = new InBatchSoftmax(kernels);
    const pairUser = positives.rowIndices();
    const pairItem = positives.colIdx;
    const logQAll = new Float32Array(train.nItems);
    for (let i = 0; i < train.nItems; i++) logQAll[i] = Math.log(Math.max(1, this.itemPositives[i]) / positives.nnz);
    const es = validation ? new EarlyStopping({ patience: p.patience }) : null;
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      let lossSum = 0;
      let nb = 0;
      for (const batch of miniBatches(pairUser.length, p.batchSize, rng)) {
        throwIfAborted(options.signal);
        if (batch.length < 2) continue;
        const users = Int32Array.from(batch, (e) => pairUser[e]);
        const items = Int32Array.from(batch, (e) => pairItem[e]);
        const drop = new Uint8Array(batch.length);
        if (p.idDropout > 0) for (let r = 0; r < batch.length; r++) drop[r] = rng.uniform() < p.idDropout ? 1 : 0;
        const bags = this.historyBags(users, items);
        const u = await userT.forward(users, null, bags, true);
        const v = await itemT.forward(items, drop, null, true);
        const logQ = p.logQ ? Float32Array.from(items, (i) => logQAll[i]) : undefined;
        const res = await softmax.compute({ users: u, items: v, itemIds: items, logQ, temperature: p.temperature });
        await userT.backward(res.gradUsers);
        await itemT.backward(res.gradItems);
        opt.step(params);
        lossSum += res.loss;
        nb++;
      }
      this.dropItemCache();
      const loss = lossSum / Math.max(1, nb);
      this.history.loss.push(loss);
      const metrics: Record<string, number> = { loss };
      let stop = false;
      if (validation && es) {
        const ndcg = meanNdcg(await this.recommend(validation.users, p.evalK), validation.users, validation.data);
        this.history.validationNdcg.push(ndcg);
        metrics[`val_ndcg@${p.evalK}`] = ndcg;
        stop = es.report(ndcg, params);
      }
      options.onProgress?.({ phase: 'epoch', done: epoch + 1, total: p.epochs, metrics });
      if (stop) break;
    }
    es?.restore(params);
    this.dropItemCache();
    this.train = train;
  }

  /** Item tower outputs for every item (I × d, kernel memory; cached until the next fit). */
  async itemEmbeddings(): Promise<DenseMatrix> {
    if (this.itemCache) return this.itemCache;
    const tower = this.requireTower(this.itemTower);
    const n = this.requireTrain().nItems;
    const d = this.params.dim;
    const out = copyToKernel(this.kernels!, { rows: n, cols: d, data: new Float32Array(n * d) });
    const chunk = 1024;
    for (let s = 0; s < n; s += chunk) {
      const ids = Int32Array.from({ length: Math.min(chunk, n - s) }, (_, j) => s + j);
      const drop = Uint8Array.from(ids, (i) => (this.itemPositives[i] > 0 ? 0 : 1));
      const v = await tower.forward(ids, drop, null, false);
      out.data.set(v.data.subarray(0, ids.length * d), s * d);
    }
    this.itemCache = out;
    return out;
  }

  /** User tower outputs for `users` (rows × d, a copy). */
  async userEmbeddings(users: ArrayLike<number>): Promise<DenseMatrix> {
    const tower = this.requireTower(this.userTower);
    const ids = Int32Array.from(users);
    const u = await tower.forward(ids, null, this.historyBags(ids, null), false);
    return copyToKernel(this.kernels!, u);
  }

  /** Exact top-k by the tower score (fused `scoreTopK`), excluding seen items unless `excludeSeen` is false. */
  async recommend(users: ArrayLike<number>, k: number, options: RecommendOptions = {}): Promise<TopK> {
    const train = this.requireTrain();
    const v = await this.itemEmbeddings();
    const out: TopK = { k, items: new Int32Array(users.length * k), scores: new Float32Array(users.length * k) };
    const chunk = 512;
    for (let s = 0; s < users.length; s += chunk) {
      const part = Array.from({ length: Math.min(chunk, users.length - s) }, (_, j) => users[s + j]);
      const u = await this.userEmbeddings(part);
      const top = await this.kernels!.scoreTopK(u, v, k, {
        exclude: options.excludeSeen ?? true ? rowsCsr(train, part) : undefined,
        excludeAll: options.filterItems ? Int32Array.from(options.filterItems) : undefined,
        candidates: options.candidates ? Int32Array.from(options.candidates) : undefined,
      });
      this.kernels!.free(u.data);
      out.items.set(top.items, s * k);
      out.scores.set(top.scores, s * k);
    }
    return out;
  }

  /** u·v / τ for each pair. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const v = await this.itemEmbeddings();
    const u = await this.userEmbeddings(users);
    const d = this.params.dim;
    const out = new Float32Array(users.length);
    for (let r = 0; r < users.length; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += u.data[r * d + j] * v.data[items[r] * d + j];
      out[r] = s / this.params.temperature;
    }
    this.kernels!.free(u.data);
    return out;
  }

  /** Items whose item-tower embeddings score highest against `item`'s. */
  async similarItems(item: number, k: number): Promise<TopK> {
    const v = await this.itemEmbeddings();
    const d = this.params.dim;
    const q = copyToKernel(this.kernels!, { rows: 1, cols: d, data: v.data.subarray(item * d, (item + 1) * d) });
    const top = await this.kernels!.scoreTopK(q, v, k, { excludeAll: Int32Array.from([item]) });
    this.kernels!.free(q.data);
    return { k: top.k, items: top.items, scores: top.scores };
  }

  /** The user-tower embedding of an unseen user from their history (most recent items last). */
  async foldIn(history: History): Promise<Float32Array> {
    const tower = this.requireTower(this.userTower);
    const n = this.params.historyLength;
    const items = history.items.subarray(Math.max(0, history.items.length - n));
    const u = await tower.forward(Int32Array.from([-1]), null, { ptr: Int32Array.from([0, items.length]), ids: items }, false);
    return Float32Array.from(u.data.subarray(0, this.params.dim));
  }

  /** Top-k for an unseen user's history (history items excluded). */
  async recommendForHistory(history: History, k: number, options: Omit<RecommendOptions, 'excludeSeen'> = {}): Promise<TopK> {
    const v = await this.itemEmbeddings();
    const code = await this.foldIn(history);
    const u = copyToKernel(this.kernels!, { rows: 1, cols: code.length, data: code });
    const seen = Int32Array.from(new Set(history.items)).sort();
    const top = await this.kernels!.scoreTopK(u, v, k, {
      exclude: { rows: 1, cols: v.rows, rowPtr: Int32Array.from([0, seen.length]), colIdx: seen, values: new Float32Array(seen.length) },
      excludeAll: options.filterItems ? Int32Array.from(options.filterItems) : undefined,
      candidates: options.candidates ? Int32Array.from(options.candidates) : undefined,
    });
    this.kernels!.free(u.data);
    return { k: top.k, items: top.items, scores: top.scores };
  }

  /** Writes weights, encoded features, histories and the training matrix to `dir` (src/models/persistence.ts format). */
  async save(dir: string): Promise<void> {
    const train = this.requireTrain();
    await saveNeuralModel(dir, {
      modelType: this.name,
      hyperparameters: { ...this.params },
      train,
      state: { userFeatures: encodedMeta(this.userEnc!), itemFeatures: encodedMeta(this.itemEnc!) },
      params: [...this.requireTower(this.userTower).params(), ...this.requireTower(this.itemTower).params()],
      arrays: { ...encodedArrays(this.userEnc!, 'user'), ...encodedArrays(this.itemEnc!, 'item'), 'hist.ptr': this.hist.ptr, 'hist.idx': this.hist.idx, itemPositives: this.itemPositives },
      provenance: this.provenance,
    });
  }

  /** Restores a model written by {@link save}. */
  static async load(dir: string, kernels?: Kernels): Promise<TwoTowerRecommender> {
    const { snapshot, train } = await loadTrainedModel(dir, 'two-tower');
    const model = new TwoTowerRecommender(snapshot.hyperparameters as Partial<TwoTowerParams>, kernels);
    const k = (model.kernels = await freshTrackedKernels(kernels, null));
    const get = (name: string): StoredArray => snapshotArray(dir, snapshot, name);
    const state = snapshot.state as { userFeatures: Record<string, unknown>; itemFeatures: Record<string, unknown> };
    model.userEnc = restoreEncoded(state.userFeatures, 'user', get);
    model.itemEnc = restoreEncoded(state.itemFeatures, 'item', get);
    model.hist = { ptr: get('hist.ptr') as Int32Array, idx: get('hist.idx') as Int32Array };
    model.itemPositives = get('itemPositives') as Int32Array;
    model.build(k, train.nUsers, train.nItems, new Rng(1));
    restoreParams(dir, snapshot, [...model.userTower!.params(), ...model.itemTower!.params()]);
    model.train = train;
    model.provenance = snapshot.provenance;
    return model;
  }

  /** Returns all kernel memory of the model (weights, item embeddings); fit or load again before use. */
  dispose(): void {
    this.kernels?.releaseAll();
    this.itemCache = null;
    this.userTower = null;
    this.itemTower = null;
  }

  /** History bags for `users`; when `exclude` is given, row r leaves out item exclude[r] (the training target). */
  private historyBags(users: Int32Array, exclude: Int32Array | null): Bags | null {
    if (this.params.historyLength <= 0) return null;
    const { ptr, idx } = this.hist;
    const out = new Int32Array(users.length + 1);
    const ids: number[] = [];
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      if (u >= 0 && u < ptr.length - 1) {
        for (let p = ptr[u]; p < ptr[u + 1]; p++) if (!exclude || idx[p] !== exclude[r]) ids.push(idx[p]);
      }
      out[r + 1] = ids.length;
    }
    return { ptr: out, ids: Int32Array.from(ids) };
  }

  private build(kernels: Kernels, nUsers: number, nItems: number, rng: Rng): void {
    const p = this.params;
    const cosine = p.score === 'cosine';
    const userEncoder = new EntityEncoder(kernels, 'user', this.userEnc!, { idCount: nUsers, idDim: p.idDim, featDim: p.featDim }, rng);
    const history = p.historyLength > 0 ? new EmbeddingBag(kernels, 'user.history', nItems, p.idDim, 'mean', rng) : null;
    this.userTower = new Tower(kernels, 'user', userEncoder, history, p.hidden, p.dim, cosine, rng);
    const itemEncoder = new EntityEncoder(kernels, 'item', this.itemEnc!, { idCount: nItems, idDim: p.idDim, featDim: p.featDim }, rng);
    this.itemTower = new Tower(kernels, 'item', itemEncoder, null, p.hidden, p.dim, cosine, rng);
    this.dropItemCache();
  }

  /** Forgets the cached item embeddings (returning their kernel memory). */
  private dropItemCache(): void {
    if (this.itemCache && this.kernels) this.kernels.free(this.itemCache.data);
    this.itemCache = null;
  }

  private requireTower(t: Tower | null): Tower {
    if (!t || !this.kernels) throw new Error('two-tower: used before fit or load');
    return t;
  }

  private requireTrain(): Interactions {
    if (!this.train) throw new Error('two-tower: used before fit or load');
    return this.train;
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
export const twoTowerEntry: ModelEntry = {
  name: 'two-tower',
  description: 'Two-tower retrieval: id + feature + history towers, in-batch softmax with log-q correction, cold-start items from features',
  create: (params) => new TwoTowerRecommender(params as Partial<TwoTowerParams>),
  load: (dir) => TwoTowerRecommender.load(dir),
  defaults: { ...TWO_TOWER_DEFAULTS },
};
