/**
 * What the neural models share: the training hyperparameters (declared once, defaults per model), the base
 * class that keeps a fit's kernel memory with its state, the network weights as persisted arrays, and early
 * stopping on a validation NDCG over a holdout of the training data.
 */
import { z } from 'zod';
import { int, num, oneOf, type ParamSpec } from '../../core/params.js';
import type { Rng } from '../../core/rng.js';
import type { Interactions } from '../../data/interactions.js';
import { OPTIMIZER_NAMES } from '../../nn/optimizers.js';
import type { Param } from '../../nn/tensor.js';
import { TrackedKernels } from '../../nn/tracked-kernels.js';
import { holdoutSplit, HOLDOUT_ENTRY_SHARE, HOLDOUT_MIN_ENTRIES, type Holdout, type TrainingHistory, type Validation } from '../../nn/trainer.js';
import type { TopK } from '../contract.js';
import { meanNdcg } from '../ndcg.js';
import type { ShapedArray } from '../persistence.js';
import { SkeletonModel, type StateReader } from '../skeleton.js';

/** The defaults of the training hyperparameters that differ between models. */
export interface TrainingDefaults {
  epochs: number;
  batchSize: number;
  /** What one example of a batch is, for the docs: "users", "(user, item) pairs". */
  examples: string;
  lr: number;
  weightDecay: number;
}

/** The training hyperparameters every neural model has (spread into its `defineParams`). */
export function trainingParams(d: TrainingDefaults) {
  return {
    epochs: int(d.epochs, { min: 1, doc: 'passes over the training data' }),
    batchSize: int(d.batchSize, { min: 1, doc: `${d.examples} per update` }),
    lr: num(d.lr, { min: 0, exclusiveMin: true, doc: 'learning rate' }),
    weightDecay: num(d.weightDecay, { min: 0, doc: 'L2 penalty λ on the weights (λ·w added to the gradient; decoupled with adamw); biases are not decayed' }),
    optimizer: oneOf(OPTIMIZER_NAMES, 'adam', { doc: 'update rule' }),
    seed: int(1, { doc: 'seed of initialization, shuffling, dropout and sampling' }),
  };
}

/** The early-stopping hyperparameters (autoencoders, two-tower). */
export function earlyStoppingParams(patience: number) {
  return {
    holdout: num(0, {
      min: 0,
      max: 1,
      doc: `share of the users with ≥ ${HOLDOUT_MIN_ENTRIES} entries that lend ${100 * HOLDOUT_ENTRY_SHARE}% of their entries to a validation set for early stopping; 0 = off`,
    }),
    patience: int(patience, { min: 1, doc: 'early stopping: epochs without a better validation NDCG before training stops (the best epoch is kept)' }),
    evalK: int(10, { min: 1, doc: 'early stopping: the k of the validation NDCG@k' }),
  };
}

/** A rate in [0, 1), e.g. a dropout probability. */
export function rate(def: number, doc: string): ParamSpec<number> {
  return { kind: 'number', default: def, schema: z.number().min(0).lt(1), expects: 'a number >= 0 and < 1', doc };
}

/** What every neural model's state holds besides its network: the kernels its arrays were allocated through. */
export interface NeuralState {
  /** Tracks every kernel array of this state, so that replacing or disposing the state frees them all. */
  kernels: TrackedKernels;
  /** What the fit did (loss and validation per epoch; empty for a loaded model). */
  history: TrainingHistory;
}

/** An empty training history (a loaded model's). */
export function noHistory(): TrainingHistory {
  return { loss: [], validation: [], bestEpoch: 0, stoppedAt: null };
}

/** Base of the neural models: a fitted state owns its kernel memory (see {@link NeuralState}). */
export abstract class NeuralModel<P extends Record<string, unknown>, S extends NeuralState> extends SkeletonModel<P, S> {
  /** The last fit's training history (empty before fit and for a loaded model). */
  get history(): TrainingHistory {
    return this.stateOrNull?.history ?? noHistory();
  }

  /** Frees all kernel memory of the state (weights, activations, caches). */
  protected override releaseState(state: S): void {
    state.kernels.releaseAll();
  }

  /** Runs `build` with fresh allocation-tracking kernels over the model's kernels; frees them when it throws. */
  protected async withKernels(build: (kernels: TrackedKernels) => Promise<S> | S): Promise<S> {
    const kernels = new TrackedKernels(await this.kernels());
    try {
      return await build(kernels);
    } catch (e) {
      kernels.releaseAll();
      throw e;
    }
  }

  /**
   * Early stopping on NDCG@`k` of the holdout's users against their held-out entries, ranked by
   * `recommend` (the full recommend path on the state in training, seen = the entries trained on).
   */
  protected ndcgValidation(holdout: Holdout, relevant: Interactions, k: number, patience: number, params: Param[], recommend: (users: Int32Array, k: number) => Promise<TopK>): Validation {
    return {
      metric: `val_ndcg@${k}`,
      patience,
      params,
      evaluate: async () => meanNdcg(await recommend(holdout.users, k), holdout.users, relevant),
    };
  }
}

/** The validation holdout of `train` when `share` > 0 (null when off or no user qualifies). */
export function earlyStoppingHoldout(train: Interactions, share: number, rng: Rng): Holdout | null {
  return share > 0 ? holdoutSplit(train, share, rng.fork('holdout')) : null;
}

/** A persistence-safe array name (letters, digits, `_`, `.`, `-`). */
export function arrayName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** The weights as persisted arrays named `w.<param name>`, shape [rows, cols]. */
export function weightArrays(params: readonly Param[]): Record<string, ShapedArray> {
  const out: Record<string, ShapedArray> = {};
  for (const p of params) out[arrayName(`w.${p.name}`)] = { data: p.value, shape: [p.rows, p.cols] };
  return out;
}

/** Copies the saved `w.<param name>` arrays into `params` (each checked: present, float32, rows·cols values). */
export function readWeights(saved: StateReader, params: readonly Param[]): void {
  for (const p of params) p.value.set(saved.f32(arrayName(`w.${p.name}`), p.rows * p.cols));
}
