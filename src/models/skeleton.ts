/**
 * The one skeleton every model stands on (see docs/model-substrate.md). {@link SkeletonModel} holds the
 * hyperparameters, the training matrix and the fitted state as one unit, and does everything that is the same
 * for all models exactly once:
 * - `fit`: the model computes a fresh state object; it is installed only when the fit completes, so an aborted
 *   or failed fit leaves the model as it was (never half trained);
 * - `recommend`: validates the users (RangeError naming the range), `k` and the item options, converts the
 *   options to the kernels' top-k options, batches the users, builds each batch's seen rows once and hands them
 *   to the model's batch scorer `rank` (as input and, unless `excludeSeen` is false, as the exclusion);
 * - `rankHistory`: the same for one unseen user's history row (for models that declare `recommendForHistory`);
 * - `save` / `restore`: one persistence format (`persistence.ts`); the model only maps its state to named arrays
 *   and JSON values and back ({@link StoredState}, {@link StateReader}). Loading goes through the registry.
 */
import type { Interactions } from '../data/interactions.js';
import type { CsrMatrix, DenseMatrix, Kernels, TopKOptions, TopKResult } from '../linalg/api.js';
import { getKernels } from '../linalg/index.js';
import { throwIfAborted, type FitOptions } from '../core/progress.js';
import type { History, HistoryOptions, RecommendOptions, Recommender, TopK } from './contract.js';
import { restoreInteractions, saveTrainedModel, type DType, type LoadedSnapshot, type ShapedArray, type StoredArray } from './persistence.js';

/** Users scored per call of the model's batch scorer, unless the model sets its own `batchSize`. */
export const RECOMMEND_BATCH = 1024;

/** A batch of rows for the model's batch scorer. */
export interface RowBatch {
  /** Dense training indices of the rows' users, or null when the row is an unseen user's history. */
  users: Int32Array | null;
  /** One CSR row per user (items sorted, values as in the training data): the training row or the history. */
  rows: CsrMatrix;
  /** The history as given (items in the caller's order), when `users` is null. */
  history: History | null;
}

/** A model's fitted state as persisted: small JSON values and named typed arrays. */
export interface StoredState {
  json: Record<string, unknown>;
  arrays: Record<string, ShapedArray>;
}

/** Base class of every model; see the module comment. `P` is the typed hyperparameters, `S` the fitted state. */
export abstract class SkeletonModel<P extends Record<string, unknown>, S> implements Recommender {
  /** Registry name. */
  abstract readonly name: string;
  /** Hyperparameters in use (typed by the model's schema). */
  readonly params: P;
  /** Where the training data came from (set by `recsys train`, saved with the model). */
  provenance: Record<string, unknown> = {};
  /** Users per call of {@link rank}. */
  protected batchSize = RECOMMEND_BATCH;
  private current: { train: Interactions; state: S } | null = null;
  private kernelsOverride: Kernels | null = null;

  protected constructor(params: P) {
    this.params = params;
  }

  /**
   * Trains on `train` and returns the complete fitted state (do not assign fields of `this`). Check
   * `options.signal` between units of work and report them through `options.onProgress`. If it throws, it must
   * release whatever kernel memory it allocated.
   */
  protected abstract fitState(train: Interactions, options: FitOptions): Promise<S>;

  /**
   * The batch scorer: scores the batch's rows (training users, or one history when `batch.users` is null) and
   * selects each row's top `k` with `select` (seen rows, filtered items and candidates already converted).
   */
  protected abstract rank(state: S, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult>;

  /** The state to persist besides hyperparameters and training matrix. */
  protected abstract exportState(state: S): StoredState;

  /**
   * Rebuilds the state written by {@link exportState}, checking every field (the reader's errors name the file).
   * May be async (models whose state lives in kernel memory allocate it here); if it throws, it must release
   * what it allocated.
   */
  protected abstract importState(saved: StateReader, train: Interactions): S | Promise<S>;

  /** Frees what a state holds outside the garbage-collected heap (kernel memory); called when it is replaced. */
  protected releaseState(_state: S): void {}

  /** Uses `kernels` instead of the process-wide instance (tests compare implementations this way). */
  useKernels(kernels: Kernels): this {
    this.kernelsOverride = kernels;
    return this;
  }

  /** The kernels this model computes with. */
  protected async kernels(): Promise<Kernels> {
    return this.kernelsOverride ?? (await getKernels());
  }

  /** Whether the model has been fitted or loaded. */
  get fitted(): boolean {
    return this.current !== null;
  }

  /** The training matrix; throws when the model is neither fitted nor loaded. */
  get trainData(): Interactions {
    return this.require().train;
  }

  /** The fitted state; throws when the model is neither fitted nor loaded. */
  protected get state(): S {
    return this.require().state;
  }

  /** The fitted state, or null before fit (for accessors that report "not fitted" as null). */
  protected get stateOrNull(): S | null {
    return this.current?.state ?? null;
  }

  /**
   * Trains on `train`; the new state replaces the old one only when the fit completes. An abort at any point
   * (checked by the model between units of work, and here before and after) throws `AbortError` and installs
   * nothing.
   */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    const state = await this.fitState(train, options);
    if (options.signal?.aborted) {
      this.releaseState(state);
      throwIfAborted(options.signal);
    }
    this.install(train, state);
  }

  /** Top-k items for each user in `users` (dense indices of the training data). */
  async recommend(users: ArrayLike<number>, k: number, options: RecommendOptions = {}): Promise<TopK> {
    const { train, state } = this.require();
    return this.recommendWith(state, train, users, k, options);
  }

  /**
   * {@link recommend} with a given state and training matrix — for validation during a fit, before the state is
   * installed.
   */
  protected async recommendWith(state: S, train: Interactions, users: ArrayLike<number>, k: number, options: RecommendOptions): Promise<TopK> {
    checkK(k, this.name);
    const all = checkUsers(this.name, users, train.nUsers);
    const base = itemOptions(this.name, options, train.nItems);
    const excludeSeen = options.excludeSeen ?? true;
    const n = all.length;
    const out: TopK = { k, items: new Int32Array(n * k), scores: new Float32Array(n * k) };
    for (let start = 0; start < n; start += this.batchSize) {
      const batch = all.subarray(start, Math.min(n, start + this.batchSize));
      const rows = userRows(train, batch);
      const r = await this.rank(state, { users: batch, rows, history: null }, k, excludeSeen ? { ...base, exclude: rows } : base);
      out.items.set(r.items, start * k);
      out.scores.set(r.scores, start * k);
    }
    return out;
  }

  /** Top-k for an unseen user's history through the batch scorer, the history's items excluded. */
  protected async rankHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    const { train, state } = this.require();
    checkK(k, this.name);
    const row = historyRow(history, train.nItems);
    const r = await this.rank(state, { users: null, rows: row, history }, k, { ...itemOptions(this.name, options, train.nItems), exclude: row });
    return { k, items: r.items, scores: r.scores };
  }

  /** Writes the model to `dir` atomically (docs/model-format.md). */
  async save(dir: string): Promise<void> {
    const { train, state } = this.require();
    const { json, arrays } = this.exportState(state);
    await saveTrainedModel(dir, { modelType: this.name, hyperparameters: { ...this.params }, train, state: json, arrays, provenance: this.provenance });
  }

  /** Installs a saved model of this type (the registry's `loadModel` calls this on a freshly created model). */
  async restore(saved: LoadedSnapshot): Promise<this> {
    if (saved.modelType !== this.name) throw new Error(`${saved.file}: holds a "${saved.modelType}" model, not "${this.name}"`);
    const train = restoreInteractions(saved.dir, saved);
    this.install(train, await this.importState(new StateReader(saved), train));
    this.provenance = { ...saved.provenance };
    return this;
  }

  /** Releases the fitted state; the model must be fitted or loaded again before use. */
  dispose(): void {
    if (this.current) this.releaseState(this.current.state);
    this.current = null;
  }

  private install(train: Interactions, state: S): void {
    if (this.current && this.current.state !== state) this.releaseState(this.current.state);
    this.current = { train, state };
  }

  private require(): { train: Interactions; state: S } {
    if (!this.current) throw new Error(`${this.name}: used before fit or load`);
    return this.current;
  }
}

/** Reads a saved state: typed arrays and JSON fields, each checked, errors naming the file and the field. */
export class StateReader {
  constructor(private readonly saved: Pick<LoadedSnapshot, 'file' | 'state' | 'arrays'>) {}

  /** The model's `model.json` path. */
  get file(): string {
    return this.saved.file;
  }

  /** Whether an array named `name` was saved. */
  has(name: string): boolean {
    return name in this.saved.arrays;
  }

  /** A float32 array, of `length` values when given. */
  f32(name: string, length?: number): Float32Array {
    return this.array(name, Float32Array, 'float32', length);
  }

  /** A float64 array, of `length` values when given. */
  f64(name: string, length?: number): Float64Array {
    return this.array(name, Float64Array, 'float64', length);
  }

  /** An int32 array, of `length` values when given. */
  i32(name: string, length?: number): Int32Array {
    return this.array(name, Int32Array, 'int32', length);
  }

  /** A float32 rows × cols matrix. */
  matrix(name: string, rows: number, cols: number): DenseMatrix {
    return { rows, cols, data: this.f32(name, rows * cols) };
  }

  /** A finite number from the JSON state. */
  number(key: string): number {
    const v = this.saved.state[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${this.file}: state field "${key}" missing or not a number`);
    return v;
  }

  /** An integer >= `min` from the JSON state. */
  int(key: string, min = 0): number {
    const v = this.saved.state[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${this.file}: state field "${key}" missing or not an integer >= ${min}`);
    return v;
  }

  /** A JSON value from the state, unchecked (for structured values the model validates itself). */
  value(key: string): unknown {
    return this.saved.state[key];
  }

  private array<T extends StoredArray>(name: string, type: new (n: number) => T, dtype: DType, length: number | undefined): T {
    const a = this.saved.arrays[name];
    if (!a || !(a.data instanceof type)) throw new Error(`${this.file}: array "${name}" missing or not ${dtype}`);
    if (length !== undefined && a.data.length !== length) throw new Error(`${this.file}: array "${name}" has ${a.data.length} values, expected ${length}`);
    return a.data;
  }
}

/** A one-dimensional array for {@link StoredState}. */
export function vector(data: StoredArray): ShapedArray {
  return { data, shape: [data.length] };
}

/** A dense matrix for {@link StoredState}. */
export function matrix(m: DenseMatrix): ShapedArray {
  return { data: m.data.subarray(0, m.rows * m.cols), shape: [m.rows, m.cols] };
}

/** Checks a top-k size: a positive integer. */
export function checkK(k: number, owner = 'recommend'): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${owner}: k must be a positive integer (got ${k})`);
}

/** Checks an item index against `nItems`. */
export function checkItem(owner: string, item: number, nItems: number): void {
  if (!(Number.isInteger(item) && item >= 0 && item < nItems)) throw new RangeError(`${owner}: item index ${item} outside [0, ${nItems})`);
}

/** The users as int32, each checked to be a training user index. */
export function checkUsers(owner: string, users: ArrayLike<number>, nUsers: number): Int32Array {
  const out = new Int32Array(users.length);
  for (let r = 0; r < users.length; r++) {
    const u = users[r];
    if (!(Number.isInteger(u) && u >= 0 && u < nUsers)) throw new RangeError(`${owner}: user index ${u} outside [0, ${nUsers})`);
    out[r] = u;
  }
  return out;
}

/** Kernel top-k options for `filterItems` / `candidates`, each item checked against `nItems`. */
export function itemOptions(owner: string, options: HistoryOptions, nItems: number): TopKOptions {
  const check = (arr: ArrayLike<number>, what: string): Int32Array => {
    const a = new Int32Array(arr.length);
    for (let j = 0; j < arr.length; j++) {
      const i = arr[j];
      if (!(Number.isInteger(i) && i >= 0 && i < nItems)) throw new RangeError(`${owner}: ${what} item ${i} outside [0, ${nItems})`);
      a[j] = i;
    }
    return a;
  };
  const o: TopKOptions = {};
  if (options.filterItems) o.excludeAll = check(options.filterItems, 'filterItems');
  if (options.candidates) o.candidates = check(options.candidates, 'candidates');
  return o;
}

/** The training rows of `users` (valid indices) as a CSR, one row each in order; fresh arrays. */
export function userRows(train: Interactions, users: Int32Array): CsrMatrix {
  const ptr = new Int32Array(users.length + 1);
  for (let r = 0; r < users.length; r++) ptr[r + 1] = ptr[r] + train.rowPtr[users[r] + 1] - train.rowPtr[users[r]];
  const idx = new Int32Array(ptr[users.length]);
  const val = new Float32Array(ptr[users.length]);
  for (let r = 0; r < users.length; r++) {
    idx.set(train.userItems(users[r]), ptr[r]);
    val.set(train.userValues(users[r]), ptr[r]);
  }
  return { rows: users.length, cols: train.nItems, rowPtr: ptr, colIdx: idx, values: val };
}

/** A one-row CSR from a history: items checked, sorted, repeated items summed (values default to 1). */
export function historyRow(history: History, nItems: number): CsrMatrix {
  const merged = new Map<number, number>();
  const { items, values } = history;
  if (values && values.length !== items.length) throw new Error(`history has ${items.length} items but ${values.length} values`);
  for (let j = 0; j < items.length; j++) {
    const i = items[j];
    if (!(Number.isInteger(i) && i >= 0 && i < nItems)) throw new RangeError(`history item ${i} outside [0, ${nItems})`);
    merged.set(i, (merged.get(i) ?? 0) + (values ? values[j] : 1));
  }
  const cols = Int32Array.from(merged.keys()).sort();
  const vals = Float32Array.from(cols, (c) => merged.get(c) ?? 0);
  return { rows: 1, cols: nItems, rowPtr: Int32Array.from([0, cols.length]), colIdx: cols, values: vals };
}

/** A CSR with the same structure as `m` and every value 1 (binarized input). */
export function ones(m: CsrMatrix): CsrMatrix {
  return { ...m, values: new Float32Array(m.rowPtr[m.rows]).fill(1) };
}

/** A one-row exclusion of `item` (similar-items queries leave the item itself out). */
export function excludeItem(item: number, nItems: number): CsrMatrix {
  return { rows: 1, cols: nItems, rowPtr: Int32Array.from([0, 1]), colIdx: Int32Array.from([item]), values: Float32Array.from([1]) };
}

/** Throws unless `users` and `items` (pairs of `score`) have the same length. */
export function checkPairs(owner: string, users: ArrayLike<number>, items: ArrayLike<number>): void {
  if (users.length !== items.length) throw new Error(`${owner}.score: ${users.length} users but ${items.length} items`);
}

/** `f(users[j], items[j])` for each pair, NaN for a pair outside [0, nUsers) × [0, nItems); checks the lengths. */
export function scorePairs(owner: string, users: Int32Array, items: Int32Array, nUsers: number, nItems: number, f: (u: number, i: number) => number): Float32Array {
  checkPairs(owner, users, items);
  return Float32Array.from(users, (u, j) => {
    const i = items[j];
    return u >= 0 && u < nUsers && i >= 0 && i < nItems ? f(u, i) : NaN;
  });
}
