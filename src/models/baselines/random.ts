/**
 * The seeded random recommender: every (user, item) pair gets a fixed pseudo-random score from a hash of
 * (seed, user, item), so `recommend` and `score` agree and reruns are identical. The floor every model must beat.
 */
import type { Interactions } from '../../data/interactions.js';
import type { TopKOptions, TopKResult } from '../../linalg/api.js';
import { defineParams, int, type ParamsOf } from '../../core/params.js';
import type { FitOptions } from '../../core/progress.js';
import type { History, HistoryOptions, TopK } from '../contract.js';
import { defineModel } from '../registry.js';
import { checkPairs, SkeletonModel, type RowBatch, type StoredState } from '../skeleton.js';

/** Hyperparameters of {@link RandomRecommender}. */
export const RANDOM_PARAMS = defineParams({
  seed: int(42, { doc: 'seed of the score hash' }),
});

/** Typed hyperparameters of {@link RandomRecommender}. */
export type RandomParams = ParamsOf<typeof RANDOM_PARAMS>;

/** Nothing is learned: the fitted state only marks the model as fitted. */
type RandomState = Readonly<Record<string, never>>;

/** A 32-bit integer hash of three integers (murmur3-style finalizer mixing); uniform in [0, 2^32). */
export function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ Math.imul(c, 0x27d4eb2f), 0x165667b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return h >>> 0;
}

/** Scores items uniformly at random (deterministically per seed, user and item). */
export class RandomRecommender extends SkeletonModel<RandomParams, RandomState> {
  readonly name = 'random';
  /** Rows × items float32 scores per kernel call. */
  protected override batchSize = 256;

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(RANDOM_PARAMS.parse('random', params));
  }

  /** Nothing to learn (the training data is kept for excluding seen items). */
  protected async fitState(_train: Interactions, options: FitOptions): Promise<RandomState> {
    options.onProgress?.({ phase: 'fit', done: 1, total: 1 });
    return {};
  }

  /** The score of (user, item): a hash mapped to [0, 1), rounded to float32 (the precision of ranked scores). */
  scoreOf(user: number, item: number): number {
    return Math.fround(hash3(this.params.seed, user, item) / 4294967296);
  }

  /** Scores every item for each row's key (the user, or a hash of the history) and selects with the kernels. */
  protected async rank(_state: RandomState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const nItems = batch.rows.cols;
    const keys = batch.users ?? Int32Array.of(historyKey(batch.history?.items ?? batch.rows.colIdx));
    const data = new Float32Array(keys.length * nItems);
    for (let r = 0; r < keys.length; r++) for (let i = 0; i < nItems; i++) data[r * nItems + i] = this.scoreOf(keys[r], i);
    return (await this.kernels()).topk({ rows: keys.length, cols: nItems, data }, k, select);
  }

  /** Random scores of (users[j], items[j]). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    checkPairs(this.name, users, items);
    return Float32Array.from(users, (u, j) => this.scoreOf(u, items[j]));
  }

  /** Random top-k for an unseen user (scores keyed on a hash of the history), excluding the history. */
  async recommendForHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    return this.rankHistory(history, k, options);
  }

  protected exportState(): StoredState {
    return { json: {}, arrays: {} };
  }

  protected importState(): RandomState {
    return {};
  }
}

/** The pseudo-user key of a history (negative, so it never equals a training user). */
function historyKey(items: ArrayLike<number>): number {
  let key = 0x1234567;
  for (let j = 0; j < items.length; j++) key = hash3(key, items[j], j);
  return -1 - (key & 0x3fffffff);
}

/** Registry entry of the random model. */
export const randomModel = defineModel({
  name: 'random',
  description: 'Uniformly random scores (seeded, deterministic): the floor every model must beat',
  params: RANDOM_PARAMS,
  create: (p) => new RandomRecommender(p),
});
