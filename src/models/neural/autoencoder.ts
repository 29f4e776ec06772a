/**
 * Autoencoder recommenders over a user's interaction vector:
 * - `deep-autoencoder`: the seed notebook's model — I → 256 → 128 → 256 → I, ReLU, dropout 0.3 after the first
 *   hidden layer, sigmoid output trained with binary cross-entropy against the 0/1 vector, Adam (seed lr 2e-5).
 * - `mult-dae` / `mult-vae` (Liang et al. 2018, "Variational Autoencoders for Collaborative Filtering"):
 *   I → 600 → 200 → 600 → I, tanh, input L2-normalized then dropout 0.5, multinomial log-likelihood over all items;
 *   the VAE's encoder outputs [μ | log σ²], samples z = μ + σ·ε in training, and adds β·KL with β annealed linearly
 *   to `annealCap` over `totalAnnealSteps` updates.
 * Inputs and targets are binarized (every training entry counts as 1). The first layer is a sparse × dense product
 * (`csrMatmul`) whose weight gradient Xᵀ·δ only touches the batch's items.
 */
import type { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix, Kernels } from '../../linalg/api.js';
import { gatherCsrRows, miniBatches } from '../../nn/batches.js';
import { EarlyStopping } from '../../nn/early-stopping.js';
import { Activation, type ActivationKind } from '../../nn/layers/activations.js';
import { Dropout, dropoutCsr } from '../../nn/layers/dropout.js';
import { l2NormalizeCsr } from '../../nn/layers/l2-normalize.js';
import type { Layer } from '../../nn/layers/layer.js';
import { Sequential } from '../../nn/layers/layer.js';
import { Linear } from '../../nn/layers/linear.js';
import { Reparameterize } from '../../nn/layers/reparameterize.js';
import { SparseLinear } from '../../nn/layers/sparse-linear.js';
import { bceWithLogits } from '../../nn/losses/bce.js';
import { gaussianKl } from '../../nn/losses/gaussian-kl.js';
import { multinomialNll } from '../../nn/losses/multinomial.js';
import { makeOptimizer, type Optimizer, type OptimizerName } from '../../nn/optimizers.js';
import { Rng } from '../../core/rng.js';
import { MatrixBuffer, type Param } from '../../nn/tensor.js';
import { TrackedKernels } from '../../nn/tracked-kernels.js';
import type { History, RecommendOptions, Recommender, TopK } from '../contract.js';
import { throwIfAborted, type FitOptions } from '../../core/progress.js';
import { loadTrainedModel } from '../persistence.js';
import type { ModelEntry } from '../legacy.js';
import {
  historyCsr, holdoutSplit, freshTrackedKernels, meanNdcg, parseHyperparams, restoreParams, rowsCsr, saveNeuralModel,
  topKFromScores,
} from './common.js';

/** The three autoencoder flavours. */
export type AutoEncoderVariant = 'deep-autoencoder' | 'mult-dae' | 'mult-vae';

/** Hyperparameters of {@link AutoEncoderRecommender}. */
export interface AutoEncoderParams {
  [key: string]: number | string | boolean | number[];
  /** Encoder sizes after the input (the decoder mirrors them), e.g. [600, 200]. */
  hidden: number[];
  /** Dropout rate: on the normalized input (mult-*) or after the first hidden layer (deep-autoencoder). */
  dropout: number;
  /** Learning rate. */
  lr: number;
  /** L2 penalty on weights (λ·w added to the gradient). */
  weightDecay: number;
  /** 'adam', 'adamw', 'sgd' or 'adagrad'. */
  optimizer: string;
  /** Passes over the training users. */
  epochs: number;
  /** Users per update. */
  batchSize: number;
  /** Mult-VAE: KL weight cap β_max. */
  annealCap: number;
  /** Mult-VAE: β = min(annealCap, updates / totalAnnealSteps) (Liang et al.); set it near the planned number of updates on small data. */
  totalAnnealSteps: number;
  /** Share of users (≥ 5 entries) lending 20% of their entries to an internal validation set for early stopping; 0 = off. */
  holdout: number;
  /** Early stopping: epochs without validation NDCG improvement. */
  patience: number;
  /** Early stopping: the k of NDCG@k. */
  evalK: number;
  /** Seed of initialization, shuffling, dropout and sampling. */
  seed: number;
}

const COMMON = { optimizer: 'adam', holdout: 0, patience: 5, evalK: 10, seed: 1, annealCap: 0.2, totalAnnealSteps: 200000 };

/** Default hyperparameters per variant. */
export const AUTOENCODER_DEFAULTS: Record<AutoEncoderVariant, AutoEncoderParams> = {
  'deep-autoencoder': { ...COMMON, hidden: [256, 128], dropout: 0.3, lr: 2e-5, weightDecay: 0, epochs: 20, batchSize: 256 },
  'mult-dae': { ...COMMON, hidden: [600, 200], dropout: 0.5, lr: 1e-3, weightDecay: 0.01, epochs: 50, batchSize: 500 },
  'mult-vae': { ...COMMON, hidden: [600, 200], dropout: 0.5, lr: 1e-3, weightDecay: 0, epochs: 50, batchSize: 500 },
};

const OPTIMIZERS = ['adam', 'adamw', 'sgd', 'adagrad'] as const;

/** The network pieces. */
interface Net {
  first: SparseLinear;
  encoder: Sequential;
  reparam: Reparameterize | null;
  decoder: Sequential;
  params: Param[];
}

/** An autoencoder recommender (see the module comment for the variants). */
export class AutoEncoderRecommender implements Recommender {
  /** Registry name (= variant). */
  readonly name: AutoEncoderVariant;
  /** Hyperparameters in use. */
  readonly params: AutoEncoderParams;
  /** Training history: loss per epoch and validation NDCG per epoch (when early stopping is on). */
  readonly history: { loss: number[]; validationNdcg: number[] } = { loss: [], validationNdcg: [] };
  /** Updates done so far (drives KL annealing). */
  steps = 0;
  /** Where the training data came from (set by `recsys train`, saved with the model). */
  provenance: Record<string, unknown> = {};
  private readonly baseKernels: Kernels | undefined;
  private kernels: TrackedKernels | null = null;
  private net: Net | null = null;
  private train: Interactions | null = null;
  private rng: Rng;
  private readonly gradBuf: MatrixBuffer[] = [];
  private readonly targetBuf: MatrixBuffer[] = [];

  constructor(variant: AutoEncoderVariant, params: Partial<AutoEncoderParams> = {}, kernels?: Kernels) {
    this.name = variant;
    this.params = parseHyperparams(variant, AUTOENCODER_DEFAULTS[variant], params, { optimizer: OPTIMIZERS });
    if (this.params.hidden.length < 1) throw new Error(`${variant}: "hidden" needs at least one size`);
    if (!(this.params.dropout >= 0 && this.params.dropout < 1)) throw new Error(`${variant}: "dropout" must be in [0, 1), got ${this.params.dropout}`);
    this.baseKernels = kernels;
    this.rng = new Rng(this.params.seed);
  }

  /** Floating-point operations of one training step on a batch (dense layers 6·B·in·out, sparse first layer 4·nnz·out). */
  flopsPerStep(batchRows: number, batchNnz: number, nItems: number): number {
    const h = this.params.hidden;
    const vae = this.name === 'mult-vae';
    let dense = 0;
    for (let i = 1; i < h.length; i++) dense += h[i - 1] * h[i] * (vae && i === h.length - 1 ? 2 : 1) + h[i] * h[i - 1];
    dense += h[0] * nItems;
    return 6 * batchRows * dense + 4 * batchNnz * h[0];
  }

  /** Trains on the binarized `train`; with `holdout` > 0, stops early on validation NDCG@evalK and keeps the best weights. */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    const kernels = (this.kernels = await freshTrackedKernels(this.baseKernels, this.kernels));
    this.gradBuf.length = 0;
    this.targetBuf.length = 0;
    const p = this.params;
    this.rng = new Rng(p.seed);
    this.steps = 0;
    this.history.loss = [];
    this.history.validationNdcg = [];
    const full = train.binarize();
    const net = (this.net = this.build(kernels, train.nItems));
    const opt = makeOptimizer(p.optimizer as OptimizerName, p.lr, p.weightDecay);
    let fitData = full;
    let validation: { data: Interactions; users: Int32Array } | null = null;
    if (p.holdout > 0) {
      const s = holdoutSplit(full, p.holdout, p.seed);
      if (s.users.length > 0) {
        fitData = s.fit;
        validation = { data: s.validation, users: s.users };
      }
    }
    this.train = fitData;
    const users: number[] = [];
    for (let u = 0; u < fitData.nUsers; u++) if (fitData.rowPtr[u + 1] > fitData.rowPtr[u]) users.push(u);
    const es = validation ? new EarlyStopping({ patience: p.patience }) : null;
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      let lossSum = 0;
      let batches = 0;
      for (const batch of miniBatches(users.length, p.batchSize, this.rng)) {
        throwIfAborted(options.signal);
        const rows = Array.from(batch, (b) => users[b]);
        const x = gatherCsrRows(fitData.rowPtr, fitData.colIdx, fitData.values, fitData.nItems, rows);
        lossSum += await this.trainStep(net, opt, x);
        batches++;
      }
      const loss = lossSum / Math.max(1, batches);
      this.history.loss.push(loss);
      const metrics: Record<string, number> = { loss };
      let stop = false;
      if (validation && es) {
        const top = await this.recommend(validation.users, p.evalK);
        const ndcg = meanNdcg(top, validation.users, validation.data);
        this.history.validationNdcg.push(ndcg);
        metrics[`val_ndcg@${p.evalK}`] = ndcg;
        stop = es.report(ndcg, net.params);
      }
      options.onProgress?.({ phase: 'epoch', done: epoch + 1, total: p.epochs, metrics });
      if (stop) {
        options.onProgress?.({ phase: 'epoch', done: p.epochs, total: p.epochs, metrics: { ...metrics, stopped_at: epoch + 1 } });
        break;
      }
    }
    es?.restore(net.params);
    this.train = full;
  }

  /** One update on a batch of binarized user rows; returns the loss (negative ELBO for the VAE). */
  async trainStep(net: Net, opt: Optimizer, x: CsrMatrix): Promise<number> {
    const p = this.params;
    const input = this.preprocess(x, true);
    const h1 = await net.first.forward(input);
    const h = await net.encoder.forward(h1, true);
    let z = h;
    let kl: { loss: number; grad: DenseMatrix } | null = null;
    let beta = 0;
    if (net.reparam) {
      kl = gaussianKl(h, this.buffer(this.gradBuf, 1).get(h.rows, h.cols));
      beta = Math.min(p.annealCap, p.totalAnnealSteps > 0 ? this.steps / p.totalAnnealSteps : p.annealCap);
      z = await net.reparam.forward(h, true);
    }
    const logits = await net.decoder.forward(z, true);
    const gradOut = this.buffer(this.gradBuf, 0).get(logits.rows, logits.cols);
    let loss: number;
    let grad: DenseMatrix;
    if (this.name === 'deep-autoencoder') {
      const t = this.buffer(this.targetBuf, 0).get(x.rows, x.cols, true);
      t.data.fill(0, 0, x.rows * x.cols);
      for (let r = 0; r < x.rows; r++) for (let q = x.rowPtr[r]; q < x.rowPtr[r + 1]; q++) t.data[r * x.cols + x.colIdx[q]] = 1;
      ({ loss, grad } = bceWithLogits(logits, t, gradOut));
    } else {
      ({ loss, grad } = await multinomialNll(this.kernels!, logits, x, gradOut));
    }
    const dz = await net.decoder.backward(grad);
    let dh = dz;
    if (net.reparam && kl) {
      dh = await net.reparam.backward(dz);
      const n = dh.rows * dh.cols;
      for (let i = 0; i < n; i++) dh.data[i] += beta * kl.grad.data[i];
      loss += beta * kl.loss;
    }
    const dh1 = await net.encoder.backward(dh);
    await net.first.backward(dh1);
    await opt.stepAsync(net.params);
    this.steps++;
    return loss;
  }

  /** Output logits (rows × items) for user rows `x` in inference mode (no dropout, z = μ). */
  async scoreRows(x: CsrMatrix): Promise<DenseMatrix> {
    const net = this.requireNet();
    const h = await net.encoder.forward(await net.first.forward(this.preprocess(x, false)), false);
    const z = net.reparam ? await net.reparam.forward(h, false) : h;
    return net.decoder.forward(z, false);
  }

  /** Top-k items per user from their training rows. */
  async recommend(users: ArrayLike<number>, k: number, options: RecommendOptions = {}): Promise<TopK> {
    const train = this.requireTrain();
    const kernels = this.kernels!;
    const out: TopK = { k, items: new Int32Array(users.length * k), scores: new Float32Array(users.length * k) };
    const chunk = 256;
    for (let s = 0; s < users.length; s += chunk) {
      const part = Array.from({ length: Math.min(chunk, users.length - s) }, (_, j) => users[s + j]);
      const x = rowsCsr(train, part);
      const scores = await this.scoreRows(x);
      const top = await topKFromScores(kernels, scores, k, options.excludeSeen ?? true ? x : null, options);
      out.items.set(top.items, s * k);
      out.scores.set(top.scores, s * k);
    }
    return out;
  }

  /** The output logit of each (user, item) pair. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const train = this.requireTrain();
    const out = new Float32Array(users.length);
    const chunk = 256;
    for (let s = 0; s < users.length; s += chunk) {
      const part = users.subarray(s, Math.min(users.length, s + chunk));
      const scores = await this.scoreRows(rowsCsr(train, part));
      for (let j = 0; j < part.length; j++) out[s + j] = scores.data[j * train.nItems + items[s + j]];
    }
    return out;
  }

  /** The latent code of a history: μ for the VAE, the bottleneck activations otherwise. */
  async foldIn(history: History): Promise<Float32Array> {
    const net = this.requireNet();
    const x = historyCsr(history.items, undefined, this.requireTrain().nItems);
    x.values.fill(1);
    const h = await net.encoder.forward(await net.first.forward(this.preprocess(x, false)), false);
    const k = net.reparam ? h.cols / 2 : h.cols;
    return Float32Array.from(h.data.subarray(0, k));
  }

  /** Top-k items for an unseen user's history (the history's items excluded). */
  async recommendForHistory(history: History, k: number, options: Omit<RecommendOptions, 'excludeSeen'> = {}): Promise<TopK> {
    const x = historyCsr(history.items, undefined, this.requireTrain().nItems);
    x.values.fill(1);
    const scores = await this.scoreRows(x);
    return topKFromScores(this.kernels!, scores, k, x, options);
  }

  /** Writes hyperparameters, weights and the training matrix to `dir` (the format of src/models/persistence.ts). */
  async save(dir: string): Promise<void> {
    const net = this.requireNet();
    const train = this.requireTrain();
    await saveNeuralModel(dir, { modelType: this.name, hyperparameters: { ...this.params }, train, state: { steps: this.steps }, params: net.params, provenance: this.provenance });
  }

  /** Restores a model written by {@link save}. */
  static async load(dir: string, variant: AutoEncoderVariant, kernels?: Kernels): Promise<AutoEncoderRecommender> {
    const { snapshot, train } = await loadTrainedModel(dir, variant);
    const model = new AutoEncoderRecommender(variant, snapshot.hyperparameters as Partial<AutoEncoderParams>, kernels);
    const k = (model.kernels = await freshTrackedKernels(kernels, null));
    model.net = model.build(k, train.nItems);
    restoreParams(dir, snapshot, model.net.params);
    model.train = train;
    model.steps = Number(snapshot.state.steps ?? 0);
    model.provenance = snapshot.provenance;
    return model;
  }

  /** Returns all kernel memory of the model (weights, activations); the model must be fitted or loaded again to be used. */
  dispose(): void {
    this.kernels?.releaseAll();
    this.net = null;
    this.gradBuf.length = 0;
    this.targetBuf.length = 0;
  }

  /** L2-normalize and drop out (mult-*), or pass the 0/1 rows through (deep-autoencoder). */
  private preprocess(x: CsrMatrix, training: boolean): CsrMatrix {
    if (this.name === 'deep-autoencoder') return x;
    const n = l2NormalizeCsr(x);
    return training ? dropoutCsr(this.kernels!, n, this.params.dropout, this.rng) : n;
  }

  private build(kernels: Kernels, nItems: number): Net {
    const h = this.params.hidden;
    const rng = new Rng(this.params.seed ^ 0x5eed);
    const vae = this.name === 'mult-vae';
    const act: ActivationKind = this.name === 'deep-autoencoder' ? 'relu' : 'tanh';
    const first = new SparseLinear(kernels, 'enc0', nItems, h[0], rng);
    const enc: Layer[] = [new Activation(kernels, act)];
    if (this.name === 'deep-autoencoder' && this.params.dropout > 0) enc.push(new Dropout(kernels, this.params.dropout, this.rng));
    for (let i = 1; i < h.length; i++) {
      const last = i === h.length - 1;
      enc.push(new Linear(kernels, `enc${i}`, h[i - 1], vae && last ? 2 * h[i] : h[i], rng));
      if (!(vae && last)) enc.push(new Activation(kernels, act));
    }
    const dec: Layer[] = [];
    for (let i = h.length - 1; i >= 1; i--) {
      dec.push(new Linear(kernels, `dec${h.length - 1 - i}`, h[i], h[i - 1], rng));
      dec.push(new Activation(kernels, act));
    }
    dec.push(new Linear(kernels, 'out', h[0], nItems, rng));
    const encoder = new Sequential(enc);
    const decoder = new Sequential(dec);
    const reparam = vae ? new Reparameterize(kernels, this.rng) : null;
    return { first, encoder, reparam, decoder, params: [...first.params(), ...encoder.params(), ...decoder.params()] };
  }

  private buffer(list: MatrixBuffer[], i: number): MatrixBuffer {
    while (list.length <= i) list.push(new MatrixBuffer(this.kernels!));
    return list[i];
  }

  private requireNet(): Net {
    if (!this.net) throw new Error(`${this.name}: used before fit or load`);
    return this.net;
  }

  private requireTrain(): Interactions {
    if (!this.train) throw new Error(`${this.name}: used before fit or load`);
    return this.train;
  }
}

function entry(variant: AutoEncoderVariant, description: string): ModelEntry {
  return {
    name: variant,
    description,
    create: (params) => new AutoEncoderRecommender(variant, params as Partial<AutoEncoderParams>),
    load: (dir) => AutoEncoderRecommender.load(dir, variant),
    defaults: { ...AUTOENCODER_DEFAULTS[variant] },
  };
}

/** Registry entry: the seed's deep autoencoder. */
export const deepAutoEncoderEntry = entry('deep-autoencoder', "Seed notebook's deep autoencoder: I→256→128→256→I, ReLU, dropout 0.3, BCE, Adam");
/** Registry entry: Mult-DAE. */
export const multDaeEntry = entry('mult-dae', 'Mult-DAE (Liang et al. 2018): denoising autoencoder with multinomial likelihood, I→600→200→600→I');
/** Registry entry: Mult-VAE. */
export const multVaeEntry = entry('mult-vae', 'Mult-VAE (Liang et al. 2018): variational autoencoder with multinomial likelihood and KL annealing');
