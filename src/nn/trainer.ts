/**
 * The training loop of the neural models, written once: epochs of shuffled mini-batches, abort between batches,
 * progress per epoch, and optional validation with early stopping that keeps the best epoch's weights. Also the
 * validation holdout that early stopping is measured on ({@link holdoutSplit}). A model supplies only the
 * update on one batch of example indices and, for early stopping, how to measure the current weights.
 */
import { checkpoint, throwIfAborted, type EpochValidation, type FitOptions, type RankUsers } from '../core/progress.js';
import type { Rng } from '../core/rng.js';
import type { Interactions } from '../data/interactions.js';
import { miniBatches } from './batches.js';
import { EarlyStopping } from './early-stopping.js';
import type { Param } from './tensor.js';

/** Validation after every epoch, with early stopping. */
export interface Validation {
  /** Name of the metric in the progress reports, e.g. "val_ndcg@10". */
  metric: string;
  /** Measures the current weights. */
  evaluate(): Promise<number>;
  /** Epochs without improvement after which training stops. */
  patience: number;
  /** 'max' for metrics like NDCG (default), 'min' for losses. */
  mode?: 'max' | 'min';
  /** The weights: copied at the best epoch and copied back when training ends. */
  params: Param[];
}

/**
 * The experiment runner's validation ({@link FitOptions.validation}: a monitor of a metric on the split's own
 * validation part) wired to the model: after each epoch the monitor ranks through `rank` and decides best/stop.
 */
export interface RunnerValidation {
  monitor: EpochValidation;
  /** The model's ranking with the current weights (training items excluded). */
  rank: RankUsers;
  /** The weights: copied at the best epoch and copied back when training ends. */
  params: Param[];
}

/** Options of {@link trainEpochs} (its own holdout `validation` takes the place of the runner's per-epoch callback). */
export interface TrainOptions extends Omit<FitOptions, 'validation'> {
  /** Passes over the examples. */
  epochs: number;
  /** Examples per update (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** Shuffles the examples at the start of every epoch. */
  rng: Rng;
  /** Batches with fewer examples are skipped (in-batch softmax needs two); default 1. */
  minBatch?: number;
  /** Validation and early stopping; none when absent or null. */
  validation?: Validation | null;
  /** The runner's validation; when given it takes the place of `validation` (the runner's split is the real one). */
  runnerValidation?: RunnerValidation | null;
  /** The progress figures of an epoch from its mean loss (default `{ loss }`). */
  lossMetrics?: (loss: number) => Record<string, number>;
}

/** What a training run did. */
export interface TrainingHistory {
  /** Mean loss of the updates of each epoch. */
  loss: number[];
  /** The validation metric after each epoch (empty without validation). */
  validation: number[];
  /**
   * 1-based epoch whose weights the model holds at the end: the best validated epoch with validation (its
   * weights are restored), else the last epoch (0 when no epoch ran).
   */
  bestEpoch: number;
  /** The epoch after which early stopping ended training, or null when every epoch ran. */
  stoppedAt: number | null;
}

/**
 * Runs `epochs` passes over `examples` example indices in shuffled batches, calling `step` with each batch (a
 * view of example indices, valid during the call) and expecting the batch's loss back.
 *
 * - Abort: `signal` is checked before every batch and before validation; an abort throws `AbortError` and
 *   leaves the weights as the last completed batch left them (the caller discards them).
 * - Progress: after each epoch `{ phase: 'epoch', done: epoch, total: epochs, metrics }` with the loss figures
 *   and, with validation, the metric under its name. When early stopping ends training, one more report with
 *   `done = total` and `stopped_at` = the last epoch run.
 * - Early stopping: after each epoch the validation metric is measured; training stops once `patience`
 *   epochs in a row have not improved on the best, and — whether it stopped early or ran every epoch — the
 *   weights of the best epoch are copied back into `validation.params`. With `runnerValidation`, the runner's
 *   monitor makes the same two decisions (best: copy the weights; stop) on its own validation part instead.
 */
export async function trainEpochs(examples: number, step: (batch: Int32Array) => Promise<number>, options: TrainOptions): Promise<TrainingHistory> {
  const { epochs, batchSize, rng, signal, onProgress } = options;
  const minBatch = options.minBatch ?? 1;
  const runner = options.runnerValidation ?? null;
  const validation = runner ? null : options.validation ?? null;
  let snapshot: Float32Array[] | null = null;
  const lossMetrics = options.lossMetrics ?? ((loss: number) => ({ loss }));
  const es = validation ? new EarlyStopping({ patience: validation.patience, mode: validation.mode }) : null;
  const history: TrainingHistory = { loss: [], validation: [], bestEpoch: 0, stoppedAt: null };
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let sum = 0;
    let updates = 0;
    for (const batch of miniBatches(examples, batchSize, rng)) {
      await checkpoint(signal);
      if (batch.length < minBatch) continue;
      sum += await step(batch);
      updates++;
    }
    const loss = sum / Math.max(1, updates);
    history.loss.push(loss);
    const metrics: Record<string, number> = { ...lossMetrics(loss) };
    let stop = false;
    if (validation && es) {
      throwIfAborted(signal);
      const value = await validation.evaluate();
      history.validation.push(value);
      metrics[validation.metric] = value;
      stop = es.report(value, validation.params);
    } else if (runner) {
      throwIfAborted(signal);
      const verdict = await runner.monitor.check(epoch, runner.rank);
      if (verdict.best) {
        snapshot = runner.params.map((q) => q.value.slice());
        history.bestEpoch = epoch;
      }
      stop = verdict.stop;
    } else history.bestEpoch = epoch;
    onProgress?.({ phase: 'epoch', done: epoch, total: epochs, metrics });
    if (stop) {
      history.stoppedAt = epoch;
      onProgress?.({ phase: 'epoch', done: epochs, total: epochs, metrics: { ...metrics, stopped_at: epoch } });
      break;
    }
  }
  if (validation && es) {
    es.restore(validation.params);
    // No finite validation value: nothing was restored, the last epoch's weights stay.
    history.bestEpoch = es.bestIndex >= 0 ? es.bestIndex + 1 : history.loss.length;
  }
  if (runner) {
    if (snapshot) runner.params.forEach((q, i) => q.value.set(snapshot![i]));
    else history.bestEpoch = history.loss.length;
  }
  return history;
}

/** Share of a held-out user's entries that go to the validation part. */
export const HOLDOUT_ENTRY_SHARE = 0.2;

/** Users with fewer entries never lend any to the validation part. */
export const HOLDOUT_MIN_ENTRIES = 5;

/** A training matrix split for validation: same users and items, disjoint entries. */
export interface Holdout {
  /** The entries trained on. */
  fit: Interactions;
  /** The held-out entries. */
  validation: Interactions;
  /** The users with held-out entries, ascending. */
  users: Int32Array;
}

/**
 * Splits `train` for early stopping: each user with at least {@link HOLDOUT_MIN_ENTRIES} entries is held out
 * with probability `fraction` (users in index order, at most `maxUsers` of them) and gives
 * round({@link HOLDOUT_ENTRY_SHARE} · entries), at least one, of its entries, drawn at random, to the validation
 * part. Every draw comes from `rng` (pass a `fork('holdout')` of the model's generator). Returns null when no
 * user was held out.
 */
export function holdoutSplit(train: Interactions, fraction: number, rng: Rng, maxUsers = 2000): Holdout | null {
  const keep = new Uint8Array(train.nnz).fill(1);
  const users: number[] = [];
  for (let u = 0; u < train.nUsers && users.length < maxUsers; u++) {
    const a = train.rowPtr[u];
    const n = train.rowPtr[u + 1] - a;
    if (n < HOLDOUT_MIN_ENTRIES || rng.uniform() >= fraction) continue;
    users.push(u);
    const take = Math.max(1, Math.round(n * HOLDOUT_ENTRY_SHARE));
    for (const j of rng.sample(n, take)) keep[a + j] = 0;
  }
  if (users.length === 0) return null;
  return { fit: train.selectEntries(keep), validation: train.selectEntries(keep.map((v) => 1 - v)), users: Int32Array.from(users) };
}
