/**
 * Feature-based ranking model (the seed notebook's regressor): an MLP over the concatenation of
 * [user id embedding | user features | item id embedding | item features | context], context = one-hot hour of day
 * and day of week from the event timestamp, Dense 256 → 64 → 1 with ReLU, trained with MSE to predict the
 * interaction value (rating for MovieLens, watch ratio for KuaiRec; standardized internally). `score` returns
 * predictions, `recommend` ranks items by predicted value, `evaluate` reports RMSE / MAE / R².
 * When a prediction has no timestamp, the context input is the training data's hour and weekday distribution
 * (the expected one-hot). Features come from `setFeatures(dataset)` before `fit`.
 */
import { z } from 'zod';
import { bool, defineParams, int, intList, num, type ParamsOf } from '../../core/params.js';
import type { FitOptions } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import type { Interactions } from '../../data/interactions.js';
import type { DenseMatrix, Kernels, TopKOptions, TopKResult } from '../../linalg/api.js';
import { Activation } from '../../nn/layers/activations.js';
import { Concat } from '../../nn/layers/concat.js';
import { Dropout } from '../../nn/layers/dropout.js';
import { Sequential, type Layer } from '../../nn/layers/layer.js';
import { Linear } from '../../nn/layers/linear.js';
import { mse } from '../../nn/losses/mse.js';
import { makeOptimizer } from '../../nn/optimizers.js';
import { MatrixBuffer, type Param } from '../../nn/tensor.js';
import { trainEpochs } from '../../nn/trainer.js';
import type { ModelFeatures } from '../contract.js';
import { defineModel } from '../registry.js';
import { checkItem, checkUsers, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { NeuralModel, noHistory, rate, readWeights, trainingParams, weightArrays, type NeuralState } from './common.js';
import { EntityEncoder } from './entity-encoder.js';
import { encodeInputs, inputsState, readInputs, type EntityInputs } from './features.js';

/** Hyperparameters of {@link RankingRecommender} (defaults: the seed's 256 → 64 → 1). */
export const RANKING_PARAMS = defineParams({
  hidden: intList([256, 64], { min: 1, doc: 'MLP hidden layer sizes (ReLU)' }),
  idDim: int(16, { min: 1, doc: 'id embedding size' }),
  featDim: int(8, { min: 1, doc: 'size of each categorical / multi-hot feature embedding' }),
  dropout: rate(0, 'dropout rate after each hidden layer'),
  context: bool(true, { doc: 'use hour-of-day and day-of-week context from the event timestamp' }),
  utcOffsetHours: num(0, { min: -12, max: 14, doc: 'hours added to UTC before taking hour and weekday (KuaiRec: 8 for China time)' }),
  useUserFeatures: bool(true, { doc: 'use user features when given' }),
  useItemFeatures: bool(true, { doc: 'use item features when given' }),
  ...trainingParams({ epochs: 10, batchSize: 512, examples: 'training entries', lr: 1e-3, weightDecay: 0 }),
});

/** Typed hyperparameters of {@link RankingRecommender}. */
export type RankingParams = ParamsOf<typeof RANKING_PARAMS>;

const CONTEXT_WIDTH = 24 + 7;

/** Pairs predicted per forward pass. */
const PREDICT_CHUNK = 4096;

/** Pairs scored per step of `recommend` (users × candidate items). */
const RANK_PAIRS = 65536;

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

/** The network: [user encoder | item encoder | context] → MLP → 1. */
interface RankerNet {
  user: EntityEncoder;
  item: EntityEncoder;
  mlp: Sequential;
  concat: Concat;
  /** Context rows of the current batch. */
  context: MatrixBuffer;
  params: Param[];
}

/** The fitted state. */
interface RankerState extends NeuralState {
  inputs: EntityInputs;
  net: RankerNet;
  /** Mean and standard deviation of the training target (the network predicts the standardized value). */
  stats: { mean: number; std: number };
  /** The expected context one-hot (training hours and weekdays) for predictions without a timestamp. */
  meanContext: Float32Array;
}

const STATS = z.object({ mean: z.number(), std: z.number().positive() });
const MEAN_CONTEXT = z.array(z.number()).length(CONTEXT_WIDTH);

/** MLP rating / watch-ratio predictor (see the module comment). */
export class RankingRecommender extends NeuralModel<RankingParams, RankerState> {
  /** Registry name. */
  readonly name = 'mlp-ranker';
  private features: ModelFeatures = {};

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(RANKING_PARAMS.parse('mlp-ranker', params));
  }

  /** Sets the user and item features (aligned with the training data's indices). */
  setFeatures(features: ModelFeatures): void {
    this.features = features;
  }

  /** Trains on every entry of `train` (value = target, timestamp = context). */
  protected async fitState(train: Interactions, options: FitOptions): Promise<RankerState> {
    const p = this.params;
    if (train.nnz === 0) throw new Error('mlp-ranker: the training data has no entries');
    const inputs = encodeInputs(this.features, p, train);
    let s = 0;
    let s2 = 0;
    for (const v of train.values) {
      s += v;
      s2 += v * v;
    }
    const mean = s / train.nnz;
    const stats = { mean, std: Math.sqrt(Math.max(s2 / train.nnz - mean * mean, 0)) || 1 };
    const ts = train.timestamps;
    const meanContext = new Float32Array(CONTEXT_WIDTH);
    let timed = 0;
    if (ts) {
      const one = new Float32Array(CONTEXT_WIDTH);
      for (let e = 0; e < ts.length; e++) {
        if (Number.isNaN(ts[e])) continue;
        this.contextOf(ts[e], one, 0);
        for (let j = 0; j < CONTEXT_WIDTH; j++) meanContext[j] += one[j];
        timed++;
      }
    }
    if (timed > 0) for (let j = 0; j < CONTEXT_WIDTH; j++) meanContext[j] /= timed;
    const rng = new Rng(p.seed);
    return this.withKernels(async (kernels) => {
      const state: RankerState = { kernels, inputs, net: this.build(kernels, inputs, train.nUsers, train.nItems, rng), stats, meanContext, history: noHistory() };
      const users = train.rowIndices();
      const items = train.colIdx;
      const target = Float32Array.from(train.values, (v) => (v - mean) / stats.std);
      const opt = makeOptimizer(p.optimizer, p.lr, p.weightDecay);
      const gradBuf = new MatrixBuffer(kernels);
      const step = async (batch: Int32Array): Promise<number> => {
        const bu = Int32Array.from(batch, (e) => users[e]);
        const bi = Int32Array.from(batch, (e) => items[e]);
        const bt = ts ? Float64Array.from(batch, (e) => ts[e]) : null;
        const y = await this.forward(state, bu, bi, bt, true);
        const { loss, grad } = mse(y, Float32Array.from(batch, (e) => target[e]), gradBuf.get(y.rows, 1));
        await this.backward(state.net, grad);
        opt.step(state.net.params);
        return loss;
      };
      state.history = await trainEpochs(train.nnz, step, {
        epochs: p.epochs,
        batchSize: p.batchSize,
        rng: rng.fork('shuffle'),
        signal: options.signal,
        onProgress: options.onProgress,
        lossMetrics: (loss) => ({ mse: loss * stats.std ** 2 }),
      });
      return state;
    });
  }

  /** Predicted values for pairs of training users and items, with optional event timestamps (seconds; NaN or absent = unknown). */
  async predict(users: Int32Array, items: Int32Array, timestamps?: Float64Array | null): Promise<Float32Array> {
    const state = this.state;
    const train = this.trainData;
    if (users.length !== items.length) throw new RangeError(`mlp-ranker: ${users.length} users but ${items.length} items`);
    if (timestamps && timestamps.length !== users.length) throw new RangeError(`mlp-ranker: ${users.length} users but ${timestamps.length} timestamps`);
    checkUsers(this.name, users, train.nUsers);
    for (const i of items) checkItem(this.name, i, train.nItems);
    return this.predictWith(state, users, items, timestamps ?? null);
  }

  /** Predicted value of each pair without context (the mean context). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    return this.predict(users, items, null);
  }

  /** RMSE, MAE and R² of the predictions on `test` (its timestamps give the context). */
  async evaluate(test: Interactions): Promise<RegressionReport> {
    const trainMean = this.state.stats.mean;
    const pred = await this.predict(test.rowIndices(), test.colIdx, test.timestamps);
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
      seMean += (trainMean - test.values[e]) ** 2;
    }
    return { rmse: Math.sqrt(se / n), mae: ae / n, r2: sst > 0 ? 1 - se / sst : NaN, meanBaselineRmse: Math.sqrt(seMean / n), n };
  }

  /** Ranks the items (or the candidates) by predicted value at the mean context. */
  protected async rank(state: RankerState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const nI = batch.rows.cols;
    const users = batch.users ?? new Int32Array(batch.rows.rows).fill(-1);
    const cols = select.candidates ?? Int32Array.from({ length: nI }, (_, i) => i);
    // Scores over all items; non-candidates stay −∞ (and are left out by the kernel's candidate list).
    const scores: DenseMatrix = { rows: users.length, cols: nI, data: new Float32Array(users.length * nI).fill(-Infinity) };
    const per = Math.max(1, Math.floor(RANK_PAIRS / Math.max(1, cols.length)));
    for (let s = 0; s < users.length; s += per) {
      const part = users.subarray(s, Math.min(users.length, s + per));
      const pu = new Int32Array(part.length * cols.length);
      const pi = new Int32Array(part.length * cols.length);
      part.forEach((u, r) => {
        pu.fill(u, r * cols.length, (r + 1) * cols.length);
        pi.set(cols, r * cols.length);
      });
      const pred = await this.predictWith(state, pu, pi, null);
      for (let r = 0; r < part.length; r++) for (let j = 0; j < cols.length; j++) scores.data[(s + r) * nI + cols[j]] = pred[r * cols.length + j];
    }
    return state.kernels.topk(scores, k, select);
  }

  protected exportState(state: RankerState): StoredState {
    const inputs = inputsState(state.inputs);
    return {
      json: { stats: state.stats, meanContext: Array.from(state.meanContext), ...inputs.json },
      arrays: { ...weightArrays(state.net.params), ...inputs.arrays },
    };
  }

  protected async importState(saved: StateReader, train: Interactions): Promise<RankerState> {
    const stats = STATS.safeParse(saved.value('stats'));
    if (!stats.success) throw new Error(`${saved.file}: state field "stats" must be { mean, std > 0 }`);
    const meanContext = MEAN_CONTEXT.safeParse(saved.value('meanContext'));
    if (!meanContext.success) throw new Error(`${saved.file}: state field "meanContext" must be ${CONTEXT_WIDTH} numbers`);
    const inputs = readInputs(saved, train);
    return this.withKernels((kernels) => {
      const net = this.build(kernels, inputs, train.nUsers, train.nItems, new Rng(this.params.seed));
      readWeights(saved, net.params);
      return { kernels, inputs, net, stats: stats.data, meanContext: Float32Array.from(meanContext.data), history: noHistory() };
    });
  }

  /** Predictions in the target's unit for valid pairs, in chunks. */
  private async predictWith(state: RankerState, users: Int32Array, items: Int32Array, timestamps: Float64Array | null): Promise<Float32Array> {
    const out = new Float32Array(users.length);
    const { mean, std } = state.stats;
    for (let s = 0; s < users.length; s += PREDICT_CHUNK) {
      const e = Math.min(users.length, s + PREDICT_CHUNK);
      const y = await this.forward(state, users.subarray(s, e), items.subarray(s, e), timestamps ? timestamps.subarray(s, e) : null, false);
      for (let r = 0; r < e - s; r++) out[s + r] = y.data[r] * std + mean;
    }
    return out;
  }

  private async forward(state: RankerState, users: Int32Array, items: Int32Array, timestamps: Float64Array | null, training: boolean): Promise<DenseMatrix> {
    const { net } = state;
    const parts = [net.user.forward(users), net.item.forward(items)];
    if (this.params.context) {
      const c = net.context.get(users.length, CONTEXT_WIDTH);
      for (let r = 0; r < users.length; r++) {
        const t = timestamps ? timestamps[r] : NaN;
        if (Number.isNaN(t)) c.data.set(state.meanContext, r * CONTEXT_WIDTH);
        else this.contextOf(t, c.data, r * CONTEXT_WIDTH);
      }
      parts.push(c);
    }
    return net.mlp.forward(net.concat.forward(parts), training);
  }

  private async backward(net: RankerNet, dy: DenseMatrix): Promise<void> {
    const [du, di] = net.concat.backward(await net.mlp.backward(dy));
    net.user.backward(du);
    net.item.backward(di);
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

  /** The network with fresh weights from `seed`'s "init" fork (a loaded model overwrites them); one dropout stream per layer. */
  private build(kernels: Kernels, inputs: EntityInputs, nUsers: number, nItems: number, seed: Rng): RankerNet {
    const p = this.params;
    const rng = seed.fork('init');
    const user = new EntityEncoder(kernels, 'user', inputs.user, { idCount: nUsers, idDim: p.idDim, featDim: p.featDim }, rng);
    const item = new EntityEncoder(kernels, 'item', inputs.item, { idCount: nItems, idDim: p.idDim, featDim: p.featDim }, rng);
    let w = user.width + item.width + (p.context ? CONTEXT_WIDTH : 0);
    const layers: Layer[] = [];
    p.hidden.forEach((h, i) => {
      layers.push(new Linear(kernels, `mlp.fc${i}`, w, h, rng), new Activation(kernels, 'relu'));
      if (p.dropout > 0) layers.push(new Dropout(kernels, p.dropout, seed.fork(`dropout.${i}`)));
      w = h;
    });
    layers.push(new Linear(kernels, 'mlp.out', w, 1, rng));
    const mlp = new Sequential(layers);
    return { user, item, mlp, concat: new Concat(kernels), context: new MatrixBuffer(kernels), params: [...user.params(), ...item.params(), ...mlp.params()] };
  }
}

/** Registry entry of the ranking model. */
export const rankingModel = defineModel({
  name: 'mlp-ranker',
  description: 'MLP ranking model (Dense 256→64→1, MSE) over user/item ids, features and hour/weekday context; predicts rating or watch ratio',
  params: RANKING_PARAMS,
  create: (p) => new RankingRecommender(p),
});
