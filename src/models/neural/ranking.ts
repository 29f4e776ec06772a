/**
 * Feature-based ranking model (the seed notebook's regressor): an MLP over the concatenation of
 * [user id embedding | user features | item id embedding | item features | context], context = one-hot hour of day
 * and day of week from the event timestamp, Dense 256 → 64 → 1 with ReLU, trained with MSE to predict the
 * interaction value (rating for MovieLens, watch ratio for KuaiRec; standardized internally). `score` returns
 * predictions, `recommend` ranks items by predicted value, `evaluate` reports RMSE / MAE / R².
 * When a prediction has no timestamp, the context input is the training data's hour and weekday distribution
 * (the expected one-hot). Features come from `setFeatures(dataset)` before `fit`.
 */
import type { Interactions } from '../../data/interactions.js';
import type { DenseMatrix, Kernels } from '../../linalg/api.js';
import { miniBatches } from '../../nn/batches.js';
import { Activation } from '../../nn/layers/activations.js';
import { Concat } from '../../nn/layers/concat.js';
import { Dropout } from '../../nn/layers/dropout.js';
import type { Layer } from '../../nn/layers/layer.js';
import { Sequential } from '../../nn/layers/layer.js';
import { Linear } from '../../nn/layers/linear.js';
import { mse } from '../../nn/losses/mse.js';
import { makeOptimizer, type OptimizerName } from '../../nn/optimizers.js';
import { Rng } from '../../core/rng.js';
import { MatrixBuffer, type Param } from '../../nn/tensor.js';
import { TrackedKernels } from '../../nn/tracked-kernels.js';
import type { RecommendOptions, Recommender, TopK } from '../contract.js';
import { throwIfAborted, type FitOptions } from '../../core/progress.js';
import { loadTrainedModel, type StoredArray } from '../persistence.js';
import type { ModelEntry } from '../legacy.js';
import { freshTrackedKernels, parseHyperparams, restoreParams, rowsCsr, saveNeuralModel, snapshotArray, topKFromScores } from './common.js';
import { EntityEncoder } from './entity-encoder.js';
import { emptyEncoded, encodeFeatures, encodedArrays, encodedMeta, restoreEncoded, type EncodedFeatures, type FeatureAware, type ModelFeatures } from './features.js';

/** Hyperparameters of {@link RankingRecommender}. */
export interface RankingParams {
  [key: string]: number | string | boolean | number[];
  /** MLP hidden sizes (the seed: 256, 64). */
  hidden: number[];
  /** Id embedding size. */
  idDim: number;
  /** Categorical / multi-hot embedding size. */
  featDim: number;
  /** Dropout after each hidden layer. */
  dropout: number;
  /** Use hour-of-day and day-of-week context. */
  context: boolean;
  /** Hours added to UTC before taking hour and weekday (KuaiRec: 8 for China time). */
  utcOffsetHours: number;
  useUserFeatures: boolean;
  useItemFeatures: boolean;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  optimizer: string;
  seed: number;
}

/** Defaults (the seed's 256 → 64 → 1). */
export const RANKING_DEFAULTS: RankingParams = {
  hidden: [256, 64], idDim: 16, featDim: 8, dropout: 0, context: true, utcOffsetHours: 0, useUserFeatures: true, useItemFeatures: true,
  epochs: 10, batchSize: 512, lr: 1e-3, weightDecay: 0, optimizer: 'adam', seed: 1,
};

const CONTEXT_WIDTH = 24 + 7;

/** Regression metrics of {@link RankingRecommender.evaluate}. */
export interface RegressionReport {
  rmse: number;
  mae: number;
  /** 1 − SSE/SST (SST around the evaluated targets' mean). */
  r2: number;
  /** RMSE of always predicting the training mean, for comparison. */
  meanBaselineRmse: number;
  n: number;
}

/** MLP rating / watch-ratio predictor (see the module comment). */
export class RankingRecommender implements Recommender, FeatureAware {
  /** Registry name. */
  readonly name = 'mlp-ranker';
  /** Hyperparameters in use. */
  readonly params: RankingParams;
  /** Mean training MSE (standardized target) per epoch. */
  readonly history: { loss: number[] } = { loss: [] };
  /** Where the training data came from (set by `recsys train`, saved with the model). */
  provenance: Record<string, unknown> = {};
  private readonly baseKernels: Kernels | undefined;
  private kernels: TrackedKernels | null = null;
  private features: ModelFeatures = {};
  private userEnc: EncodedFeatures | null = null;
  private itemEnc: EncodedFeatures | null = null;
  private userE: EntityEncoder | null = null;
  private itemE: EntityEncoder | null = null;
  private mlp: Sequential | null = null;
  private concat: Concat | null = null;
  private ctxBuf: MatrixBuffer | null = null;
  private train: Interactions | null = null;
  /** Target mean and standard deviation. */
  private stats = { mean: 0, std: 1 };
  /** Expected context one-hot when there is no timestamp. */
  private meanContext = new Float32Array(CONTEXT_WIDTH);

  constructor(params: Partial<RankingParams> = {}, kernels?: Kernels) {
    this.params = parseHyperparams('mlp-ranker', RANKING_DEFAULTS, params, { optimizer: ['adam', 'adamw', 'sgd', 'adagrad'] });
    this.baseKernels = kernels;
  }

  /** Sets the user and item features (aligned with the training data's indices). */
  setFeatures(features: ModelFeatures): void {
    this.features = features;
  }

  /** Trains on every entry of `train` (value = target, timestamp = context). */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    const kernels = (this.kernels = await freshTrackedKernels(this.baseKernels, this.kernels));
    const p = this.params;
    if (train.nnz === 0) throw new Error('mlp-ranker: the training data has no entries');
    const rng = new Rng(p.seed);
    this.history.loss = [];
    this.userEnc = p.useUserFeatures ? encodeFeatures(this.features.userFeatures, train.nUsers, 'user') : emptyEncoded(train.nUsers);
    this.itemEnc = p.useItemFeatures ? encodeFeatures(this.features.itemFeatures, train.nItems, 'item') : emptyEncoded(train.nItems);
    let s = 0;
    let s2 = 0;
    for (const v of train.values) {
      s += v;
      s2 += v * v;
    }
    const mean = s / train.nnz;
    this.stats = { mean, std: Math.sqrt(Math.max(s2 / train.nnz - mean * mean, 0)) || 1 };
    this.meanContext = new Float32Array(CONTEXT_WIDTH);
    const ts = train.timestamps;
    let timed = 0;
    if (ts) {
      const one = new Float32Array(CONTEXT_WIDTH);
      for (let e = 0; e < ts.length; e++) {
        if (Number.isNaN(ts[e])) continue;
        this.contextOf(ts[e], one, 0);
        for (let j = 0; j < CONTEXT_WIDTH; j++) this.meanContext[j] += one[j];
        timed++;
      }
    }
    if (timed > 0) for (let j = 0; j < CONTEXT_WIDTH; j++) this.meanContext[j] /= timed;
    this.build(kernels, train.nUsers, train.nItems, new Rng(p.seed ^ 0x4a4b));
    this.train = train;
    const users = train.rowIndices();
    const items = train.colIdx;
    const target = new Float32Array(train.nnz);
    for (let e = 0; e < train.nnz; e++) target[e] = (train.values[e] - mean) / this.stats.std;
    const params = this.allParams();
    const opt = makeOptimizer(p.optimizer as OptimizerName, p.lr, p.weightDecay);
    const gradBuf = new MatrixBuffer(kernels);
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      let lossSum = 0;
      let nb = 0;
      for (const batch of miniBatches(train.nnz, p.batchSize, rng)) {
        throwIfAborted(options.signal);
        const bu = Int32Array.from(batch, (e) => users[e]);
        const bi = Int32Array.from(batch, (e) => items[e]);
        const bt = ts ? Float64Array.from(batch, (e) => ts[e]) : null;
        const y = await this.forward(bu, bi, bt, true);
        const t = Float32Array.from(batch, (e) => target[e]);
        const { loss, grad } = mse(y, t, gradBuf.get(y.rows, 1));
        await this.backward(grad);
        opt.step(params);
        lossSum += loss;
        nb++;
      }
      const loss = lossSum / Math.max(1, nb);
      this.history.loss.push(loss);
      options.onProgress?.({ phase: 'epoch', done: epoch + 1, total: p.epochs, metrics: { mse: loss * this.stats.std ** 2 } });
    }
  }

  /** Predicted values for pairs, with optional event timestamps (seconds; NaN or absent = unknown). */
  async predict(users: Int32Array, items: Int32Array, timestamps?: Float64Array | null): Promise<Float32Array> {
    this.requireTrain();
    if (users.length !== items.length) throw new RangeError(`mlp-ranker: ${users.length} users but ${items.length} items`);
    const out = new Float32Array(users.length);
    const chunk = 4096;
    for (let s = 0; s < users.length; s += chunk) {
      const e = Math.min(users.length, s + chunk);
      const y = await this.forward(users.subarray(s, e), items.subarray(s, e), timestamps ? timestamps.subarray(s, e) : null, false);
      for (let r = 0; r < e - s; r++) out[s + r] = y.data[r] * this.stats.std + this.stats.mean;
    }
    return out;
  }

  /** Predicted value of each pair without context (the mean context). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    return this.predict(users, items, null);
  }

  /** RMSE, MAE and R² of the predictions on `test` (its timestamps give the context). */
  async evaluate(test: Interactions): Promise<RegressionReport> {
    const users = test.rowIndices();
    const pred = await this.predict(users, test.colIdx, test.timestamps);
    let se = 0;
    let ae = 0;
    let sum = 0;
    let seMean = 0;
    const n = test.nnz;
    for (let e = 0; e < n; e++) sum += test.values[e];
    const testMean = n ? sum / n : 0;
    let sst = 0;
    for (let e = 0; e < n; e++) {
      const d = pred[e] - test.values[e];
      se += d * d;
      ae += Math.abs(d);
      sst += (test.values[e] - testMean) ** 2;
      seMean += (this.stats.mean - test.values[e]) ** 2;
    }
    return { rmse: Math.sqrt(se / n), mae: ae / n, r2: sst > 0 ? 1 - se / sst : NaN, meanBaselineRmse: Math.sqrt(seMean / n), n };
  }

  /** Ranks items by predicted value for each user (mean context). */
  async recommend(users: ArrayLike<number>, k: number, options: RecommendOptions = {}): Promise<TopK> {
    const train = this.requireTrain();
    const nI = train.nItems;
    const cand = options.candidates ? Int32Array.from(options.candidates) : null;
    const cols = cand ?? Int32Array.from({ length: nI }, (_, i) => i);
    const out: TopK = { k, items: new Int32Array(users.length * k), scores: new Float32Array(users.length * k) };
    const per = Math.max(1, Math.floor(65536 / cols.length));
    for (let s = 0; s < users.length; s += per) {
      const part = Array.from({ length: Math.min(per, users.length - s) }, (_, j) => users[s + j]);
      const pu = new Int32Array(part.length * cols.length);
      const pi = new Int32Array(part.length * cols.length);
      part.forEach((u, r) => {
        pu.fill(u, r * cols.length, (r + 1) * cols.length);
        pi.set(cols, r * cols.length);
      });
      const pred = await this.predict(pu, pi, null);
      // Scores over all items; non-candidates get −∞ via the kernel's candidate list.
      const scores: DenseMatrix = { rows: part.length, cols: nI, data: new Float32Array(part.length * nI).fill(-Infinity) };
      part.forEach((_u, r) => {
        for (let j = 0; j < cols.length; j++) scores.data[r * nI + cols[j]] = pred[r * cols.length + j];
      });
      const top = await topKFromScores(this.kernels!, scores, k, options.excludeSeen ?? true ? rowsCsr(train, part) : null, options);
      out.items.set(top.items, s * k);
      out.scores.set(top.scores, s * k);
    }
    return out;
  }

  /** Writes weights, features, context statistics and the training matrix to `dir` (src/models/persistence.ts format). */
  async save(dir: string): Promise<void> {
    const train = this.requireTrain();
    await saveNeuralModel(dir, {
      modelType: this.name,
      hyperparameters: { ...this.params },
      train,
      state: { stats: this.stats, meanContext: Array.from(this.meanContext), userFeatures: encodedMeta(this.userEnc!), itemFeatures: encodedMeta(this.itemEnc!) },
      params: this.allParams(),
      arrays: { ...encodedArrays(this.userEnc!, 'user'), ...encodedArrays(this.itemEnc!, 'item') },
      provenance: this.provenance,
    });
  }

  /** Restores a model written by {@link save}. */
  static async load(dir: string, kernels?: Kernels): Promise<RankingRecommender> {
    const { snapshot, train } = await loadTrainedModel(dir, 'mlp-ranker');
    const model = new RankingRecommender(snapshot.hyperparameters as Partial<RankingParams>, kernels);
    const k = (model.kernels = await freshTrackedKernels(kernels, null));
    const st = snapshot.state as { stats: { mean: number; std: number }; meanContext: number[]; userFeatures: Record<string, unknown>; itemFeatures: Record<string, unknown> };
    const get = (name: string): StoredArray => snapshotArray(dir, snapshot, name);
    model.userEnc = restoreEncoded(st.userFeatures, 'user', get);
    model.itemEnc = restoreEncoded(st.itemFeatures, 'item', get);
    model.stats = st.stats;
    model.meanContext = Float32Array.from(st.meanContext);
    model.build(k, train.nUsers, train.nItems, new Rng(1));
    restoreParams(dir, snapshot, model.allParams());
    model.train = train;
    model.provenance = snapshot.provenance;
    return model;
  }

  /** Returns all kernel memory of the model; fit or load again before use. */
  dispose(): void {
    this.kernels?.releaseAll();
    this.mlp = null;
  }

  private async forward(users: Int32Array, items: Int32Array, timestamps: Float64Array | null, training: boolean): Promise<DenseMatrix> {
    const parts = [this.userE!.forward(users), this.itemE!.forward(items)];
    if (this.params.context) {
      const c = this.ctxBuf!.get(users.length, CONTEXT_WIDTH);
      for (let r = 0; r < users.length; r++) {
        const t = timestamps ? timestamps[r] : NaN;
        if (Number.isNaN(t)) c.data.set(this.meanContext, r * CONTEXT_WIDTH);
        else this.contextOf(t, c.data, r * CONTEXT_WIDTH);
      }
      parts.push(c);
    }
    return this.mlp!.forward(this.concat!.forward(parts), training);
  }

  private async backward(dy: DenseMatrix): Promise<void> {
    const dx = await this.mlp!.backward(dy);
    const [du, di] = this.concat!.backward(dx);
    this.userE!.backward(du);
    this.itemE!.backward(di);
  }

  /** Writes the one-hot hour (24) and weekday (7) of `t` at `out[offset..]`. */
  private contextOf(t: number, out: Float32Array, offset: number): void {
    out.fill(0, offset, offset + CONTEXT_WIDTH);
    const local = t + this.params.utcOffsetHours * 3600;
    const hour = Math.floor(local / 3600) % 24;
    const day = Math.floor(local / 86400);
    const dow = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
    out[offset + ((hour + 24) % 24)] = 1;
    out[offset + 24 + dow] = 1;
  }

  private build(kernels: Kernels, nUsers: number, nItems: number, rng: Rng): void {
    const p = this.params;
    this.userE = new EntityEncoder(kernels, 'user', this.userEnc!, { idCount: nUsers, idDim: p.idDim, featDim: p.featDim }, rng);
    this.itemE = new EntityEncoder(kernels, 'item', this.itemEnc!, { idCount: nItems, idDim: p.idDim, featDim: p.featDim }, rng);
    let w = this.userE.width + this.itemE.width + (p.context ? CONTEXT_WIDTH : 0);
    const layers: Layer[] = [];
    p.hidden.forEach((h, i) => {
      layers.push(new Linear(kernels, `mlp.fc${i}`, w, h, rng), new Activation(kernels, 'relu'));
      if (p.dropout > 0) layers.push(new Dropout(kernels, p.dropout, rng.fork('dropout')));
      w = h;
    });
    layers.push(new Linear(kernels, 'mlp.out', w, 1, rng));
    this.mlp = new Sequential(layers);
    this.concat = new Concat(kernels);
    this.ctxBuf = new MatrixBuffer(kernels);
  }

  private allParams(): Param[] {
    return [...this.userE!.params(), ...this.itemE!.params(), ...this.mlp!.params()];
  }

  private requireTrain(): Interactions {
    if (!this.train || !this.mlp) throw new Error('mlp-ranker: used before fit or load');
    return this.train;
  }
}

/** Registry entry of the ranking model. */
export const rankingEntry: ModelEntry = {
  name: 'mlp-ranker',
  description: 'MLP ranking model (Dense 256→64→1, MSE) over user/item ids, features and hour/weekday context; predicts rating or watch ratio',
  create: (params) => new RankingRecommender(params as Partial<RankingParams>),
  load: (dir) => RankingRecommender.load(dir),
  defaults: { ...RANKING_DEFAULTS },
};
