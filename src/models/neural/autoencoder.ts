/**
 * Autoencoder recommenders over a user's interaction vector:
 * - `deep-autoencoder`: the seed notebook's model — I → 256 → 128 → 256 → I, ReLU, dropout 0.3 after the first
 *   hidden layer, sigmoid output trained with binary cross-entropy against the 0/1 vector, Adam (seed lr 2e-5).
 * - `mult-dae` / `mult-vae` (Liang et al. 2018, "Variational Autoencoders for Collaborative Filtering"):
 *   I → 600 → 200 → 600 → I by default for the DAE (I → 600 → 64 → 600 → I for the VAE), tanh, input L2-normalized
 *   then dropout 0.5, multinomial log-likelihood over all items; the VAE's encoder outputs [μ | log σ²], samples
 *   z = μ + σ·ε in training, and adds β·KL with β annealed linearly to `annealCap` over `totalAnnealSteps` updates.
 * Inputs and targets are binarized (every training entry counts as 1). The first layer is a sparse × dense product
 * (`csrMatmul`) whose weight gradient Xᵀ·δ only touches the batch's items. Training runs on the `nn` trainer
 * (optional early stopping on a validation NDCG).
 */
import { defineParams, int, intList, num, type ParamsOf } from '../../core/params.js';
import type { FitOptions } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import type { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix, Kernels, TopKOptions, TopKResult } from '../../linalg/api.js';
import { gatherCsrRows } from '../../nn/batches.js';
import { Activation, type ActivationKind } from '../../nn/layers/activations.js';
import { Dropout, dropoutCsr } from '../../nn/layers/dropout.js';
import { l2NormalizeCsr } from '../../nn/layers/l2-normalize.js';
import { Sequential, type Layer } from '../../nn/layers/layer.js';
import { Linear } from '../../nn/layers/linear.js';
import { Reparameterize } from '../../nn/layers/reparameterize.js';
import { SparseLinear } from '../../nn/layers/sparse-linear.js';
import { bceWithLogits } from '../../nn/losses/bce.js';
import { gaussianKl } from '../../nn/losses/gaussian-kl.js';
import { multinomialNll } from '../../nn/losses/multinomial.js';
import { makeOptimizer, type Optimizer } from '../../nn/optimizers.js';
import { MatrixBuffer, type Param } from '../../nn/tensor.js';
import { trainEpochs } from '../../nn/trainer.js';
import type { History, HistoryOptions, TopK } from '../contract.js';
import { defineModel } from '../registry.js';
import { checkItem, checkPairs, checkUsers, historyRow, ones, userRows, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { earlyStoppingHoldout, earlyStoppingParams, NeuralModel, noHistory, rate, readWeights, trainingParams, weightArrays, type NeuralState } from './common.js';

/** The three autoencoder flavours (= registry names). */
export type AutoEncoderVariant = 'deep-autoencoder' | 'mult-dae' | 'mult-vae';

interface VariantDefaults {
  hidden: number[];
  dropout: number;
  dropoutDoc: string;
  lr: number;
  weightDecay: number;
  epochs: number;
  batchSize: number;
}

function networkParams(d: VariantDefaults) {
  return {
    hidden: intList(d.hidden, { min: 1, minLength: 1, doc: 'encoder layer sizes after the input (the decoder mirrors them)' }),
    dropout: rate(d.dropout, d.dropoutDoc),
  };
}

function fitParams(d: VariantDefaults) {
  return { ...trainingParams({ epochs: d.epochs, batchSize: d.batchSize, examples: 'users', lr: d.lr, weightDecay: d.weightDecay }), ...earlyStoppingParams(5) };
}

const DAE: VariantDefaults = { hidden: [256, 128], dropout: 0.3, dropoutDoc: 'dropout rate after the first hidden layer', lr: 2e-5, weightDecay: 0, epochs: 20, batchSize: 256 };
const MULT_INPUT_DROPOUT = 'dropout rate on the L2-normalized input';
const MULT_DAE: VariantDefaults = { hidden: [600, 200], dropout: 0.5, dropoutDoc: MULT_INPUT_DROPOUT, lr: 1e-3, weightDecay: 0.01, epochs: 50, batchSize: 500 };
/**
 * Mult-VAE: a 64-wide latent code, lr 0.004 and at most 30 epochs, chosen by validation NDCG@10 on the RecBole
 * ml-100k split (docs/results.md; never test): 0.2426 (best epoch, mean of seeds 1–3) against 0.2375 for
 * RecBole's 600 → 128 at lr 0.007 and 0.2338 (seed 1) for the former defaults, Liang et al.'s 600 → 200 at
 * lr 0.001. The cap serves both uses: with a validation part (experiments, search) training stops early inside it
 * (best epochs 23 and 27 of seeds 1 and 2 fall within it; seed 3's best within 30 epochs is 0.2354 against 0.2406
 * at epoch 36); without one the 30 epochs are the whole fit, within 0.0012 of the mean curve's peak (0.2384
 * against 0.2396 at epoch 27; 40 epochs give 0.2312, past ~30 the model slowly overfits). Saved models carry every
 * hyperparameter, so those saved with the former defaults load with them.
 */
const MULT_VAE: VariantDefaults = { ...MULT_DAE, hidden: [600, 64], lr: 0.004, weightDecay: 0, epochs: 30 };

/** Hyperparameters of `deep-autoencoder`. */
export const DEEP_AUTOENCODER_PARAMS = defineParams({ ...networkParams(DAE), ...fitParams(DAE) });

/** Hyperparameters of `mult-dae`. */
export const MULT_DAE_PARAMS = defineParams({ ...networkParams(MULT_DAE), ...fitParams(MULT_DAE) });

/** Hyperparameters of `mult-vae` (the KL annealing besides the common ones). */
export const MULT_VAE_PARAMS = defineParams({
  ...networkParams(MULT_VAE),
  annealCap: num(0.2, { min: 0, doc: 'KL weight cap β_max' }),
  totalAnnealSteps: int(200000, {
    min: 0,
    doc: 'β = min(annealCap, updates / totalAnnealSteps) (Liang et al.); set it near the planned number of updates on small data (0: β = annealCap from the start)',
  }),
  ...fitParams(MULT_VAE),
});

const SCHEMAS = { 'deep-autoencoder': DEEP_AUTOENCODER_PARAMS, 'mult-dae': MULT_DAE_PARAMS, 'mult-vae': MULT_VAE_PARAMS } as const;

/** Typed hyperparameters of {@link AutoEncoderRecommender}: the common ones, and the annealing of `mult-vae`. */
export type AutoEncoderParams = ParamsOf<typeof MULT_DAE_PARAMS> & Partial<Pick<ParamsOf<typeof MULT_VAE_PARAMS>, 'annealCap' | 'totalAnnealSteps'>>;

/** The network: sparse first layer, encoder, VAE sampling (mult-vae), decoder. */
interface Net {
  first: SparseLinear;
  encoder: Sequential;
  reparam: Reparameterize | null;
  decoder: Sequential;
  params: Param[];
}

/** The fitted state: the network and the updates it took (they drive KL annealing). */
interface AeState extends NeuralState {
  net: Net;
  steps: number;
}

/** An autoencoder recommender (see the module comment for the variants). */
export class AutoEncoderRecommender extends NeuralModel<AutoEncoderParams, AeState> {
  /** Registry name (= variant). */
  readonly name: AutoEncoderVariant;
  protected override batchSize = 256;

  constructor(variant: AutoEncoderVariant, params: Readonly<Record<string, unknown>> = {}) {
    super(SCHEMAS[variant].parse(variant, params));
    this.name = variant;
  }

  /** Updates the last fit took (0 before fit). */
  get steps(): number {
    return this.stateOrNull?.steps ?? 0;
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

  /**
   * Trains on the binarized `train`. Early stopping (the best epoch's weights kept): on the runner's validation
   * (`options.validation`, e.g. an experiment's `earlyStopping`) when given, else with `holdout` > 0 on NDCG@evalK
   * of a holdout of the training data.
   */
  protected async fitState(train: Interactions, options: FitOptions): Promise<AeState> {
    const p = this.params;
    return this.withKernels(async (kernels) => {
      // Independent streams from the seed: holdout, initialization, shuffling, dropout, VAE sampling.
      const rng = new Rng(p.seed);
      const full = train.binarize();
      // The runner's validation part (experiments, search) replaces the model's own holdout.
      const holdout = options.validation ? null : earlyStoppingHoldout(full, p.holdout, rng);
      const fitData = holdout?.fit ?? full;
      const dropout = rng.fork('dropout');
      const state: AeState = { kernels, net: this.build(kernels, train.nItems, rng, dropout), steps: 0, history: noHistory() };
      const step = this.trainStep(state, makeOptimizer(p.optimizer, p.lr, p.weightDecay), dropout);
      const users: number[] = [];
      for (let u = 0; u < fitData.nUsers; u++) if (fitData.rowPtr[u + 1] > fitData.rowPtr[u]) users.push(u);
      state.history = await trainEpochs(users.length, (batch) => step(gatherCsrRows(fitData.rowPtr, fitData.colIdx, fitData.values, fitData.nItems, Array.from(batch, (b) => users[b]))), {
        epochs: p.epochs,
        batchSize: p.batchSize,
        rng: rng.fork('shuffle'),
        signal: options.signal,
        onProgress: options.onProgress,
        validation: holdout && this.ndcgValidation(holdout, holdout.validation, p.evalK, p.patience, state.net.params, (u, k) => this.recommendWith(state, fitData, u, k, {})),
        runnerValidation: options.validation ? { monitor: options.validation, rank: (u, k) => this.recommendWith(state, fitData, u, k, {}), params: state.net.params } : null,
      });
      return state;
    });
  }

  /** The update on a batch of binarized user rows, returning its loss (negative ELBO for the VAE). */
  private trainStep(state: AeState, opt: Optimizer, dropout: Rng): (x: CsrMatrix) => Promise<number> {
    const p = this.params;
    const { net, kernels } = state;
    const gradBuf = new MatrixBuffer(kernels);
    const klBuf = new MatrixBuffer(kernels);
    const targetBuf = new MatrixBuffer(kernels);
    const annealCap = p.annealCap ?? 0;
    const annealSteps = p.totalAnnealSteps ?? 0;
    return async (x) => {
      const input = this.preprocess(kernels, x, dropout);
      const h = await net.encoder.forward(await net.first.forward(input), true);
      let z = h;
      let kl: { loss: number; grad: DenseMatrix } | null = null;
      let beta = 0;
      if (net.reparam) {
        kl = gaussianKl(h, klBuf.get(h.rows, h.cols));
        beta = Math.min(annealCap, annealSteps > 0 ? state.steps / annealSteps : annealCap);
        z = await net.reparam.forward(h, true);
      }
      const logits = await net.decoder.forward(z, true);
      const gradOut = gradBuf.get(logits.rows, logits.cols);
      let loss: number;
      let grad: DenseMatrix;
      if (this.name === 'deep-autoencoder') {
        const t = targetBuf.get(x.rows, x.cols, true);
        t.data.fill(0, 0, x.rows * x.cols);
        for (let r = 0; r < x.rows; r++) for (let q = x.rowPtr[r]; q < x.rowPtr[r + 1]; q++) t.data[r * x.cols + x.colIdx[q]] = 1;
        ({ loss, grad } = bceWithLogits(logits, t, gradOut));
      } else {
        ({ loss, grad } = await multinomialNll(kernels, logits, x, gradOut));
      }
      let dh = await net.decoder.backward(grad);
      if (net.reparam && kl) {
        dh = await net.reparam.backward(dh);
        const n = dh.rows * dh.cols;
        for (let i = 0; i < n; i++) dh.data[i] += beta * kl.grad.data[i];
        loss += beta * kl.loss;
      }
      await net.first.backward(await net.encoder.backward(dh));
      await opt.stepAsync(net.params);
      state.steps++;
      return loss;
    };
  }

  /** Output logits (rows × items) for binarized rows `x` in inference mode (no dropout, z = μ). */
  private async scoreRows(state: AeState, x: CsrMatrix): Promise<DenseMatrix> {
    const { net } = state;
    const z = await this.code(state, x);
    return net.decoder.forward(net.reparam ? await net.reparam.forward(z, false) : z, false);
  }

  /** The encoder output for binarized rows `x` in inference mode ([μ | log σ²] for the VAE). */
  private async code(state: AeState, x: CsrMatrix): Promise<DenseMatrix> {
    const { net } = state;
    return net.encoder.forward(await net.first.forward(this.preprocess(state.kernels, x, null)), false);
  }

  protected async rank(state: AeState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    return state.kernels.topk(await this.scoreRows(state, ones(batch.rows)), k, select);
  }

  /** The output logit of each (user, item) pair. */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const state = this.state;
    const train = this.trainData;
    checkPairs(this.name, users, items);
    const all = checkUsers(this.name, users, train.nUsers);
    for (const i of items) checkItem(this.name, i, train.nItems);
    const out = new Float32Array(users.length);
    for (let s = 0; s < all.length; s += this.batchSize) {
      const part = all.subarray(s, Math.min(all.length, s + this.batchSize));
      const scores = await this.scoreRows(state, ones(userRows(train, part)));
      for (let j = 0; j < part.length; j++) out[s + j] = scores.data[j * train.nItems + items[s + j]];
    }
    return out;
  }

  /** The latent code of a history: μ for the VAE, the bottleneck activations otherwise. */
  async foldIn(history: History): Promise<Float32Array> {
    const state = this.state;
    const h = await this.code(state, ones(historyRow(history, this.trainData.nItems)));
    return Float32Array.from(h.data.subarray(0, state.net.reparam ? h.cols / 2 : h.cols));
  }

  /** Top-k items for an unseen user's history (the history's items excluded). */
  async recommendForHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    return this.rankHistory(history, k, options);
  }

  protected exportState(state: AeState): StoredState {
    return { json: { steps: state.steps }, arrays: weightArrays(state.net.params) };
  }

  protected async importState(saved: StateReader, train: Interactions): Promise<AeState> {
    return this.withKernels((kernels) => {
      const rng = new Rng(this.params.seed);
      const net = this.build(kernels, train.nItems, rng, rng.fork('dropout'));
      readWeights(saved, net.params);
      return { kernels, net, steps: saved.int('steps'), history: noHistory() };
    });
  }

  /** L2-normalize and (training: `dropout` given) drop out for mult-*; the 0/1 rows as they are for deep-autoencoder. */
  private preprocess(kernels: Kernels, x: CsrMatrix, dropout: Rng | null): CsrMatrix {
    if (this.name === 'deep-autoencoder') return x;
    const n = l2NormalizeCsr(x);
    return dropout ? dropoutCsr(kernels, n, this.params.dropout, dropout) : n;
  }

  /**
   * The network with fresh weights from `rng`'s "init" fork; in training `dropout` drives the hidden dropout
   * (deep-autoencoder) and the "sampling" fork the VAE's ε.
   */
  private build(kernels: Kernels, nItems: number, rng: Rng, dropout: Rng): Net {
    const h = this.params.hidden;
    const init = rng.fork('init');
    const vae = this.name === 'mult-vae';
    const act: ActivationKind = this.name === 'deep-autoencoder' ? 'relu' : 'tanh';
    const first = new SparseLinear(kernels, 'enc0', nItems, h[0], init);
    const enc: Layer[] = [new Activation(kernels, act)];
    if (this.name === 'deep-autoencoder' && this.params.dropout > 0) enc.push(new Dropout(kernels, this.params.dropout, dropout));
    for (let i = 1; i < h.length; i++) {
      const last = i === h.length - 1;
      enc.push(new Linear(kernels, `enc${i}`, h[i - 1], vae && last ? 2 * h[i] : h[i], init));
      if (!(vae && last)) enc.push(new Activation(kernels, act));
    }
    const dec: Layer[] = [];
    for (let i = h.length - 1; i >= 1; i--) {
      dec.push(new Linear(kernels, `dec${h.length - 1 - i}`, h[i], h[i - 1], init));
      dec.push(new Activation(kernels, act));
    }
    dec.push(new Linear(kernels, 'out', h[0], nItems, init));
    const encoder = new Sequential(enc);
    const decoder = new Sequential(dec);
    const reparam = vae ? new Reparameterize(kernels, rng.fork('sampling')) : null;
    return { first, encoder, reparam, decoder, params: [...first.params(), ...encoder.params(), ...decoder.params()] };
  }
}

/** Models saved before the variants had their own schemas carry the annealing keys in every variant. */
function withoutAnnealing(saved: Record<string, unknown>): Record<string, unknown> {
  const { annealCap: _cap, totalAnnealSteps: _steps, ...rest } = saved;
  return rest;
}

function registered(variant: AutoEncoderVariant, description: string) {
  return defineModel({
    name: variant,
    description,
    params: SCHEMAS[variant],
    create: (p) => new AutoEncoderRecommender(variant, p),
    ...(variant === 'mult-vae' ? {} : { upgradeSaved: withoutAnnealing }),
  });
}

/** Registry entry: the seed's deep autoencoder. */
export const deepAutoEncoderModel = registered('deep-autoencoder', "Seed notebook's deep autoencoder: I→256→128→256→I, ReLU, dropout 0.3, BCE, Adam");
/** Registry entry: Mult-DAE. */
export const multDaeModel = registered('mult-dae', 'Mult-DAE (Liang et al. 2018): denoising autoencoder with multinomial likelihood, I→600→200→600→I');
/** Registry entry: Mult-VAE. */
export const multVaeModel = registered('mult-vae', 'Mult-VAE (Liang et al. 2018): variational autoencoder with multinomial likelihood and KL annealing');
