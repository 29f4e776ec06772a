/**
 * Helpers shared by the neural models: hyperparameter parsing, the kernel instance, top-k from score batches,
 * storing the training matrix in a model directory, and a validation NDCG@k for early stopping.
 */
import { join } from 'node:path';
import type { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix, Kernels, TopKOptions } from '../../linalg/api.js';
import { getKernels } from '../../linalg/index.js';
import { TrackedKernels } from '../../nn/tracked-kernels.js';
import type { Param } from '../../nn/tensor.js';
import { saveTrainedModel, type ModelSnapshot, type ShapedArray, type StoredArray } from '../persistence.js';
import type { RecommendOptions, TopK } from '../contract.js';

/** A hyperparameter value as it appears in configs. */
export type HyperValue = number | string | boolean | number[];

/**
 * Checks `params` against `defaults`: unknown keys and values of another type than the default are errors
 * naming the model and the key. Strings from the command line (`--param epochs=20`, `hidden=600,200`,
 * `logQ=false`) are converted to the default's type. Returns the defaults overridden by `params`.
 */
export function parseHyperparams<T extends { [key: string]: HyperValue }>(model: string, defaults: T, params: Record<string, unknown>, choices: Partial<Record<keyof T, readonly string[]>> = {}): T {
  const out: { [key: string]: HyperValue } = { ...defaults };
  for (const [key, raw] of Object.entries(params)) {
    if (!(key in defaults)) throw new Error(`${model}: unknown hyperparameter "${key}" (known: ${Object.keys(defaults).join(', ')})`);
    const d = defaults[key];
    const value = coerceFromString(raw, d);
    const ok = Array.isArray(d)
      ? Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)
      : typeof value === typeof d && (typeof value !== 'number' || Number.isFinite(value));
    if (!ok) throw new Error(`${model}: hyperparameter "${key}" must be ${Array.isArray(d) ? 'a list of positive numbers' : `a ${typeof d}`}, got ${JSON.stringify(raw)}`);
    const allowed = choices[key as keyof T];
    if (allowed && !allowed.includes(value as string)) throw new Error(`${model}: hyperparameter "${key}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
    out[key] = value as HyperValue;
  }
  return out as T;
}

/** Converts a command-line string to the type of `like` (numbers, booleans, comma or JSON lists); other values pass through. */
function coerceFromString(raw: unknown, like: HyperValue): unknown {
  if (typeof raw !== 'string' || typeof like === 'string') return raw;
  const t = raw.trim();
  if (typeof like === 'number') return t === '' ? raw : Number(t);
  if (typeof like === 'boolean') return t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : raw;
  const inner = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
  return inner === '' ? [] : inner.split(',').map((x) => Number(x.trim()));
}

/** The given kernels, or the process-wide ones. */
export async function resolveKernels(kernels: Kernels | undefined): Promise<Kernels> {
  return kernels ?? (await getKernels());
}

/** Fresh allocation-tracking kernels over `base` (or the process-wide kernels), after releasing `previous`. */
export async function freshTrackedKernels(base: Kernels | undefined, previous: TrackedKernels | null): Promise<TrackedKernels> {
  previous?.releaseAll();
  return new TrackedKernels(await resolveKernels(base));
}

/** CSR of the rows `users` of `m` (for exclusion of seen items); users outside the matrix get empty rows. */
export function rowsCsr(m: Interactions, users: ArrayLike<number>): CsrMatrix {
  const ptr = new Int32Array(users.length + 1);
  for (let r = 0; r < users.length; r++) {
    const u = users[r];
    ptr[r + 1] = ptr[r] + (u >= 0 && u < m.nUsers ? m.rowPtr[u + 1] - m.rowPtr[u] : 0);
  }
  const idx = new Int32Array(ptr[users.length]);
  const val = new Float32Array(ptr[users.length]);
  for (let r = 0; r < users.length; r++) {
    const u = users[r];
    if (!(u >= 0 && u < m.nUsers)) continue;
    idx.set(m.userItems(u), ptr[r]);
    val.set(m.userValues(u), ptr[r]);
  }
  return { rows: users.length, cols: m.nItems, rowPtr: ptr, colIdx: idx, values: val };
}

/** A one-row CSR from a history (items sorted, duplicates summed). */
export function historyCsr(items: Int32Array, values: Float32Array | undefined, nItems: number): CsrMatrix {
  const merged = new Map<number, number>();
  for (let j = 0; j < items.length; j++) {
    const i = items[j];
    if (!(i >= 0 && i < nItems)) throw new RangeError(`history item ${i} outside [0, ${nItems})`);
    merged.set(i, (merged.get(i) ?? 0) + (values ? values[j] : 1));
  }
  const cols = Int32Array.from(merged.keys()).sort();
  const vals = Float32Array.from(cols, (c) => merged.get(c) ?? 0);
  return { rows: 1, cols: nItems, rowPtr: Int32Array.from([0, cols.length]), colIdx: cols, values: vals };
}

/** Top-k of each score row, honouring `RecommendOptions` (exclude = the rows' seen items, or null). */
export async function topKFromScores(kernels: Kernels, scores: DenseMatrix, k: number, exclude: CsrMatrix | null, options: Omit<RecommendOptions, 'excludeSeen'>): Promise<TopK> {
  const o: TopKOptions = {};
  if (exclude) o.exclude = exclude;
  if (options.filterItems) o.excludeAll = Int32Array.from(options.filterItems);
  if (options.candidates) o.candidates = Int32Array.from(options.candidates);
  const r = await kernels.topk(scores, k, o);
  return { k: r.k, items: r.items, scores: r.scores };
}

/** A persistence-safe array name (letters, digits, `_`, `.`, `-`). */
export function arrayName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** The parameters as persistence arrays named `w.<param name>` with shape [rows, cols]. */
export function paramArrays(params: Param[]): Record<string, ShapedArray> {
  const out: Record<string, ShapedArray> = {};
  for (const p of params) out[arrayName(`w.${p.name}`)] = { data: p.value, shape: [p.rows, p.cols] };
  return out;
}

/** One-dimensional persistence arrays (names made safe with {@link arrayName}). */
export function vectorArrays(arrays: Record<string, StoredArray>): Record<string, ShapedArray> {
  const out: Record<string, ShapedArray> = {};
  for (const [name, data] of Object.entries(arrays)) out[arrayName(name)] = { data, shape: [data.length] };
  return out;
}

/** The array `name` of a loaded snapshot; an error naming the model file when it is missing. */
export function snapshotArray(dir: string, snapshot: ModelSnapshot, name: string): StoredArray {
  const a = snapshot.arrays[arrayName(name)];
  if (!a) throw new Error(`${join(dir, 'model.json')}: array "${arrayName(name)}" is missing`);
  return a.data;
}

/** Copies the saved `w.<name>` arrays into `params`, checking every shape. */
export function restoreParams(dir: string, snapshot: ModelSnapshot, params: Param[]): void {
  for (const p of params) {
    const name = arrayName(`w.${p.name}`);
    const a = snapshot.arrays[name];
    if (!a) throw new Error(`${join(dir, 'model.json')}: array "${name}" is missing`);
    if (a.shape.length !== 2 || a.shape[0] !== p.rows || a.shape[1] !== p.cols || !(a.data instanceof Float32Array)) {
      throw new Error(`${join(dir, 'model.json')}: array "${name}" is ${a.data.constructor.name} [${a.shape.join(', ')}], the model expects float32 [${p.rows}, ${p.cols}]`);
    }
    p.value.set(a.data);
  }
}

/** Saves a neural model: hyperparameters, state, parameters, extra arrays and the training matrix. */
export async function saveNeuralModel(dir: string, parts: { modelType: string; hyperparameters: Record<string, unknown>; train: Interactions; state: Record<string, unknown>; params: Param[]; arrays?: Record<string, StoredArray>; provenance?: Record<string, unknown> }): Promise<void> {
  await saveTrainedModel(dir, {
    modelType: parts.modelType,
    hyperparameters: parts.hyperparameters,
    train: parts.train,
    state: parts.state,
    arrays: { ...paramArrays(parts.params), ...vectorArrays(parts.arrays ?? {}) },
    provenance: parts.provenance ?? {},
  });
}

/**
 * Splits `train` for early stopping: a share `fraction` of the users with at least 5 entries (at most
 * `maxUsers`) each give 20% of their entries (at least one) to the validation part.
 */
export function holdoutSplit(train: Interactions, fraction: number, seed: number, maxUsers = 2000): { fit: Interactions; validation: Interactions; users: Int32Array } {
  let state = seed >>> 0 || 1;
  const rand = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const keep = new Uint8Array(train.nnz).fill(1);
  const users: number[] = [];
  for (let u = 0; u < train.nUsers && users.length < maxUsers; u++) {
    const a = train.rowPtr[u];
    const n = train.rowPtr[u + 1] - a;
    if (n < 5 || rand() >= fraction) continue;
    users.push(u);
    const take = Math.max(1, Math.round(n * 0.2));
    const pos = Array.from({ length: n }, (_, j) => j);
    for (let j = n - 1; j > 0; j--) {
      const s = Math.floor(rand() * (j + 1));
      [pos[j], pos[s]] = [pos[s], pos[j]];
    }
    for (let j = 0; j < take; j++) keep[a + pos[j]] = 0;
  }
  const drop = keep.map((v) => 1 - v);
  return { fit: train.selectEntries(keep), validation: train.selectEntries(drop), users: Int32Array.from(users) };
}

/** Mean binary NDCG@k of `topk` rows (aligned with `users`) against each user's items in `relevant`. */
export function meanNdcg(topk: TopK, users: ArrayLike<number>, relevant: Interactions): number {
  const k = topk.k;
  let total = 0;
  let n = 0;
  for (let r = 0; r < users.length; r++) {
    const rel = relevant.userItems(users[r]);
    if (rel.length === 0) continue;
    const set = new Set(rel);
    let dcg = 0;
    for (let j = 0; j < k; j++) if (set.has(topk.items[r * k + j])) dcg += 1 / Math.log2(j + 2);
    let idcg = 0;
    for (let j = 0; j < Math.min(k, rel.length); j++) idcg += 1 / Math.log2(j + 2);
    total += dcg / idcg;
    n++;
  }
  return n === 0 ? 0 : total / n;
}
