/**
 * The common skeleton of the models in this folder: holding the training matrix, turning
 * {@link RecommendOptions} into kernel top-k options, batching `recommend`, and saving/loading through
 * {@link saveSnapshot}/{@link loadSnapshot}. A model supplies `topKBatch` (score a batch of users and select)
 * and its own state arrays.
 */
import type { Interactions } from '../data/interactions.js';
import type { CsrMatrix, Kernels, TopKOptions, TopKResult } from '../linalg/api.js';
import { getKernels } from '../linalg/index.js';
import { loadTrainedModel, readManifest, saveTrainedModel, type ShapedArray } from './persistence.js';
import type { FitOptions, History, RecommendOptions, Recommender, TopK } from './recommender.js';
import type { ParamValue } from './params.js';

/** Users scored per kernel call in `recommend`. */
export const RECOMMEND_BATCH = 1024;

/** State a model writes besides its hyperparameters and training matrix. */
export interface ModelState {
  /** Small JSON scalars. */
  state: Record<string, unknown>;
  /** Typed arrays with shapes. */
  arrays: Record<string, ShapedArray>;
}

/** Base class of the trained models: see the module comment. */
export abstract class TrainedRecommender implements Recommender {
  /** Registry name. */
  abstract readonly name: string;
  /** Hyperparameters in use. */
  abstract readonly params: Record<string, ParamValue>;
  /** Where the training data came from (set by the CLI, saved with the model). */
  provenance: Record<string, unknown> = {};
  /** The training matrix (set by fit or load). */
  protected train: Interactions | null = null;
  private kernelsOverride: Kernels | null = null;

  abstract fit(train: Interactions, options?: FitOptions): Promise<void>;

  /** Scores the users (rows of the batch) and selects their top k with the given kernel options. */
  protected abstract topKBatch(users: Int32Array, k: number, options: TopKOptions): Promise<TopKResult>;

  /** The state to persist (besides hyperparameters and training matrix). */
  protected abstract exportState(): ModelState;

  /** Restores the state written by {@link exportState}; `train` is already set. */
  protected abstract importState(state: Record<string, unknown>, arrays: Record<string, ShapedArray>, where: string): void;

  /** Uses `kernels` instead of the process-wide instance (tests compare implementations this way). */
  useKernels(kernels: Kernels): this {
    this.kernelsOverride = kernels;
    return this;
  }

  /** The kernels this model computes with. */
  protected async kernels(): Promise<Kernels> {
    return this.kernelsOverride ?? (await getKernels());
  }

  /** The training matrix; throws when the model is neither fitted nor loaded. */
  get trainData(): Interactions {
    if (!this.train) throw new Error(`${this.name}: used before fit or load`);
    return this.train;
  }

  /** Top-k items for each user in `users` (dense indices of the training data). */
  async recommend(users: ArrayLike<number>, k: number, options: RecommendOptions = {}): Promise<TopK> {
    const train = this.trainData;
    checkK(k);
    const n = users.length;
    const all = Int32Array.from(users);
    for (let r = 0; r < n; r++) {
      if (!(all[r] >= 0 && all[r] < train.nUsers)) throw new RangeError(`${this.name}: user index ${all[r]} outside [0, ${train.nUsers})`);
    }
    const base = itemOptions(options, train.nItems);
    const out: TopK = { k, items: new Int32Array(n * k), scores: new Float32Array(n * k) };
    for (let start = 0; start < n; start += RECOMMEND_BATCH) {
      const batch = all.subarray(start, Math.min(n, start + RECOMMEND_BATCH));
      const opts: TopKOptions = { ...base };
      if (options.excludeSeen ?? true) opts.exclude = userRowsCsr(train, batch);
      const r = await this.topKBatch(batch, k, opts);
      out.items.set(r.items, start * k);
      out.scores.set(r.scores, start * k);
    }
    return out;
  }

  /** Writes the model to `dir` atomically. */
  async save(dir: string): Promise<void> {
    const { state, arrays } = this.exportState();
    await saveTrainedModel(dir, { modelType: this.name, hyperparameters: { ...this.params }, train: this.trainData, state, arrays, provenance: this.provenance });
  }

  /** Restores a saved model of this type into this (freshly constructed) instance. */
  protected async restoreFrom(dir: string): Promise<this> {
    const { snapshot: snap, train } = await loadTrainedModel(dir, this.name);
    this.train = train;
    this.provenance = snap.provenance;
    this.importState(snap.state, snap.arrays, `${dir}/model.json`);
    return this;
  }
}

/** Checks a top-k size. */
export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer (got ${k})`);
}

/** Kernel top-k options for filterItems/candidates, with range checks. */
export function itemOptions(options: Omit<RecommendOptions, 'excludeSeen'>, nItems: number): TopKOptions {
  const o: TopKOptions = {};
  const check = (arr: ArrayLike<number>, what: string): Int32Array => {
    const a = Int32Array.from(arr);
    for (let j = 0; j < a.length; j++) if (!(a[j] >= 0 && a[j] < nItems)) throw new RangeError(`${what} item ${a[j]} outside [0, ${nItems})`);
    return a;
  };
  if (options.filterItems) o.excludeAll = check(options.filterItems, 'filterItems');
  if (options.candidates) o.candidates = check(options.candidates, 'candidates');
  return o;
}

/** CSR of the training rows of `users` (one row each, aligned), for excluding seen items. */
export function userRowsCsr(train: Interactions, users: Int32Array): CsrMatrix {
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

/** Fetches a float32 array from a loaded snapshot, checking its presence, type and length. */
export function f32(arrays: Record<string, ShapedArray>, name: string, length: number, where: string): Float32Array {
  const a = arrays[name];
  if (!a || !(a.data instanceof Float32Array)) throw new Error(`${where}: array "${name}" missing or not float32`);
  if (a.data.length !== length) throw new Error(`${where}: array "${name}" has ${a.data.length} values, expected ${length}`);
  return a.data;
}

/** Fetches an int32 array from a loaded snapshot, checking presence, type and (when given) length. */
export function i32(arrays: Record<string, ShapedArray>, name: string, length: number | null, where: string): Int32Array {
  const a = arrays[name];
  if (!a || !(a.data instanceof Int32Array)) throw new Error(`${where}: array "${name}" missing or not int32`);
  if (length !== null && a.data.length !== length) throw new Error(`${where}: array "${name}" has ${a.data.length} values, expected ${length}`);
  return a.data;
}

/** Reads a numeric scalar from a loaded state object. */
export function num(state: Record<string, unknown>, key: string, where: string): number {
  const v = state[key];
  if (typeof v !== 'number') throw new Error(`${where}: state field "${key}" missing or not a number`);
  return v;
}

/** The hyperparameters stored in a model directory of type `type` (to construct the model before restoring it). */
export async function readParams(dir: string, type: string): Promise<Record<string, unknown>> {
  const m = await readManifest(dir);
  if (m.modelType !== type) throw new Error(`${dir}/model.json: holds a "${m.modelType}" model, not "${type}"`);
  return m.hyperparameters;
}
