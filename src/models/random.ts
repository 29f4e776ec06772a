/**
 * The seeded random recommender: every (user, item) pair gets a fixed pseudo-random score from a hash of
 * (seed, user, item), so `recommend` and `score` agree and reruns are identical. The floor every model must beat.
 */
import type { Interactions } from '../data/interactions.js';
import type { FitOptions, History, RecommendOptions, Recommender, TopK } from './recommender.js';
import { throwIfAborted } from './recommender.js';
import type { ModelEntry } from './registry.js';
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

  /** The score of (user, item): a hash mapped to [0, 1). */
  scoreOf(user: number, item: number): number {
    return hash3(this.params.seed, user, item) / 4294967296;
  }

  /** Top-k by random score; seen items excluded unless `excludeSeen` is false. */
  async recommend(users: ArrayLike<number>, k: number, options: RecommendOptions = {}): Promise<TopK> {
    const train = this.requireTrain();
    const excludeSeen = options.excludeSeen ?? true;
    const rows = users.length;
    const out: TopK = { k, items: new Int32Array(rows * k).fill(-1), scores: new Float32Array(rows * k).fill(-Infinity) };
    const banned = new Uint8Array(train.nItems);
    if (options.filterItems) for (let j = 0; j < options.filterItems.length; j++) banned[options.filterItems[j]] = 1;
    const pool = itemPool(train.nItems, options.candidates);
    for (let r = 0; r < rows; r++) {
      const u = users[r];
      const seen = excludeSeen && u >= 0 && u < train.nUsers ? train.userItems(u) : null;
      if (seen) for (let j = 0; j < seen.length; j++) banned[seen[j]] |= 2;
      selectTopK(pool, banned, (i) => this.scoreOf(u, i), k, out, r * k);
      if (seen) for (let j = 0; j < seen.length; j++) banned[seen[j]] &= 1;
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
    const banned = new Uint8Array(train.nItems);
    if (options.filterItems) for (let j = 0; j < options.filterItems.length; j++) banned[options.filterItems[j]] = 1;
    for (let j = 0; j < history.items.length; j++) banned[history.items[j]] = 1;
    const out: TopK = { k, items: new Int32Array(k).fill(-1), scores: new Float32Array(k).fill(-Infinity) };
    const userKey = -1 - (key & 0x3fffffff);
    selectTopK(itemPool(train.nItems, options.candidates), banned, (i) => this.scoreOf(userKey, i), k, out, 0);
    return out;
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

/** The items to rank: the candidates when given, else 0..nItems-1. */
function itemPool(nItems: number, candidates: ArrayLike<number> | undefined): ArrayLike<number> {
  if (candidates) {
    for (let j = 0; j < candidates.length; j++) {
      const c = candidates[j];
      if (!(c >= 0 && c < nItems)) throw new RangeError(`candidate item ${c} outside [0, ${nItems})`);
    }
    return candidates;
  }
  const all = new Int32Array(nItems);
  for (let i = 0; i < nItems; i++) all[i] = i;
  return all;
}

/**
 * Writes the k best items of `pool` (skipping those with `banned[i] != 0`) into `out` at `offset`, best first;
 * equal scores rank the lower item index first. Uses a size-k min-heap: O(n log k).
 */
function selectTopK(pool: ArrayLike<number>, banned: Uint8Array, scoreOf: (item: number) => number, k: number, out: TopK, offset: number): void {
  if (k <= 0) return;
  const hi = new Int32Array(k);
  const hs = new Float64Array(k);
  let size = 0;
  // "a is worse than b": lower score, or equal score and higher index.
  const worse = (sa: number, ia: number, sb: number, ib: number): boolean => sa < sb || (sa === sb && ia > ib);
  for (let j = 0; j < pool.length; j++) {
    const i = pool[j];
    if (banned[i]) continue;
    const s = scoreOf(i);
    if (size < k) {
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(s, i, hs[p], hi[p])) break;
        hs[c] = hs[p];
        hi[c] = hi[p];
        c = p;
      }
      hs[c] = s;
      hi[c] = i;
    } else if (worse(hs[0], hi[0], s, i)) {
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        if (l >= size) break;
        const r = l + 1;
        const m = r < size && worse(hs[r], hi[r], hs[l], hi[l]) ? r : l;
        if (!worse(hs[m], hi[m], s, i)) break;
        hs[c] = hs[m];
        hi[c] = hi[m];
        c = m;
      }
      hs[c] = s;
      hi[c] = i;
    }
  }
  // Pop the heap from worst to best into the tail of the output row.
  for (let pos = size - 1; pos >= 0; pos--) {
    out.items[offset + pos] = hi[0];
    out.scores[offset + pos] = hs[0];
    const ls = hs[size - 1];
    const li = hi[size - 1];
    size--;
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= size) break;
      const r = l + 1;
      const m = r < size && worse(hs[r], hi[r], hs[l], hi[l]) ? r : l;
      if (!worse(hs[m], hi[m], ls, li)) break;
      hs[c] = hs[m];
      hi[c] = hi[m];
      c = m;
    }
    hs[c] = ls;
    hi[c] = li;
  }
}

/** Parses and checks the hyperparameters (unknown keys are an error). */
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
