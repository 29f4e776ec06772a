/**
 * The seeded random recommender: every (user, item) pair gets a fixed pseudo-random score from a hash of
 * (seed, user, item), so `recommend` and `score` agree and reruns are identical. The floor every model must beat.
 */
import type { Interactions } from '../data/interactions.js';
import type { FitOptions, History, RecommendOptions, Recommender, TopK } from './recommender.js';
import { throwIfAborted } from './recommender.js';
import type { ModelEntry } from './registry.js';
import type { CsrMatrix, TopKResult } from '../linalg/api.js';
import { getKernels } from '../linalg/index.js';
import { historyRow } from './base.js';
import { loadTrainedModel, saveTrainedModel } from './persistence.js';

/** Hyperparameters of {@link RandomRecommender}. */
export interface RandomParams {
  /** Seed of the score hash (default 42). */
  seed: number;
}

const DEFAULTS: RandomParams = { seed: 42 };

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
export class RandomRecommender implements Recommender {
  /** Registry name. */
  readonly name = 'random';
  /** The hyperparameters in use. */
  readonly params: RandomParams;
  private train: Interactions | null = null;

  constructor(params: Partial<RandomParams> = {}) {
    this.params = { ...DEFAULTS, ...params };
  }

  /** Remembers the training data (for excluding seen items); nothing to learn. */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    this.train = train;
    options.onProgress?.({ phase: 'fit', done: 1, total: 1 });
  }

  /** The score of (user, item): a hash mapped to [0, 1), rounded to float32 (the precision of ranked scores). */
  scoreOf(user: number, item: number): number {
    return Math.fround(hash3(this.params.seed, user, item) / 4294967296);
  }

  /** Top-k by random score (through the kernel layer's top-k); seen items excluded unless `excludeSeen` is false. */
  async recommend(users: ArrayLike<number>, k: number, options: RecommendOptions = {}): Promise<TopK> {
    const train = this.requireTrain();
    const excludeSeen = options.excludeSeen ?? true;
    const ids = Int32Array.from(users);
    const out: TopK = { k, items: new Int32Array(ids.length * k).fill(-1), scores: new Float32Array(ids.length * k).fill(-Infinity) };
    for (let start = 0; start < ids.length; start += BATCH_USERS) {
      const batch = ids.subarray(start, Math.min(start + BATCH_USERS, ids.length));
      const top = await this.topFor(batch, (row) => batch[row], k, options, excludeSeen ? seenRows(train, batch) : undefined);
      out.items.set(top.items, start * k);
      out.scores.set(top.scores, start * k);
    }
    return out;
  }

  /** Random scores of (users[j], items[j]). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    const out = new Float32Array(users.length);
    for (let j = 0; j < users.length; j++) out[j] = this.scoreOf(users[j], items[j]);
    return out;
  }

  /** Random top-k for an unseen user (scores keyed on a hash of the history), excluding the history. */
  async recommendForHistory(history: History, k: number, options: Omit<RecommendOptions, 'excludeSeen'> = {}): Promise<TopK> {
    const train = this.requireTrain();
    let key = 0x1234567;
    for (let j = 0; j < history.items.length; j++) key = hash3(key, history.items[j], j);
    const userKey = -1 - (key & 0x3fffffff);
    const seen = historyRow(history, train.nItems);
    return this.topFor(Int32Array.of(userKey), () => userKey, k, options, { ...seen, values: new Float32Array(seen.colIdx.length) });
  }

  /** Scores `rows` users (user key of row r: `keyOf(r)`) over all items and selects the top k with the kernels. */
  private async topFor(rows: Int32Array, keyOf: (row: number) => number, k: number, options: Omit<RecommendOptions, 'excludeSeen'>, exclude: CsrMatrix | undefined): Promise<TopKResult> {
    const nItems = this.requireTrain().nItems;
    const data = new Float32Array(rows.length * nItems);
    for (let r = 0; r < rows.length; r++) {
      const key = keyOf(r);
      for (let i = 0; i < nItems; i++) data[r * nItems + i] = this.scoreOf(key, i);
    }
    const kernels = await getKernels();
    return kernels.topk({ rows: rows.length, cols: nItems, data }, k, {
      exclude,
      excludeAll: options.filterItems ? Int32Array.from(options.filterItems) : undefined,
      candidates: options.candidates ? Int32Array.from(options.candidates) : undefined,
    });
  }

  /** Writes the model (seed and training matrix) to `dir` atomically (docs/model-format.md). */
  async save(dir: string): Promise<void> {
    await saveTrainedModel(dir, { modelType: this.name, hyperparameters: { ...this.params }, train: this.requireTrain() });
  }

  /** Restores a model written by {@link save}. */
  static async load(dir: string): Promise<RandomRecommender> {
    const { snapshot, train } = await loadTrainedModel(dir, 'random');
    const m = new RandomRecommender(parseParams(snapshot.hyperparameters));
    m.train = train;
    return m;
  }

  private requireTrain(): Interactions {
    if (!this.train) throw new Error('random: recommend called before fit');
    return this.train;
  }
}

/** Users scored per kernel call (rows × items float32 scores). */
const BATCH_USERS = 256;

/** The training rows of `users` as CSR (empty rows for users outside the training data). */
function seenRows(train: Interactions, users: Int32Array): CsrMatrix {
  const known = (u: number): boolean => u >= 0 && u < train.nUsers;
  const ptr = new Int32Array(users.length + 1);
  for (let r = 0; r < users.length; r++) ptr[r + 1] = ptr[r] + (known(users[r]) ? train.userItems(users[r]).length : 0);
  const idx = new Int32Array(ptr[users.length]);
  for (let r = 0; r < users.length; r++) if (known(users[r])) idx.set(train.userItems(users[r]), ptr[r]);
  return { rows: users.length, cols: train.nItems, rowPtr: ptr, colIdx: idx, values: new Float32Array(idx.length) };
}

function parseParams(params: Record<string, unknown>): RandomParams {
  const out: RandomParams = { ...DEFAULTS };
  for (const [key, value] of Object.entries(params)) {
    if (key === 'seed') {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`random: "seed" must be an integer, got ${JSON.stringify(value)}`);
      out.seed = value;
    } else {
      throw new Error(`random: unknown hyperparameter "${key}" (known: seed)`);
    }
  }
  return out;
}

/** Registry entry of the random model. */
export const randomEntry: ModelEntry = {
  name: 'random',
  description: 'Uniformly random scores (seeded, deterministic): the floor every model must beat',
  create: (params) => new RandomRecommender(parseParams(params)),
  load: (dir) => RandomRecommender.load(dir),
  defaults: { ...DEFAULTS },
};
