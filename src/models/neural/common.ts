/**
 * Helpers shared by the neural models: hyperparameter parsing, the kernel instance, top-k from score batches,
 * storing the training matrix in a model directory, and a validation NDCG@k for early stopping.
 */
import type { ExternalId } from '../../data/id-map.js';
import { IdMap } from '../../data/id-map.js';
import { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix, Kernels, TopKOptions } from '../../linalg/api.js';
import { getKernels } from '../../linalg/index.js';
import { TrackedKernels } from '../../nn/tracked-kernels.js';
import type { ModelManifest, StoredArray } from '../../nn/weights.js';
import { loadArray } from '../../nn/weights.js';
import type { RecommendOptions, TopK } from '../recommender.js';

/** A hyperparameter value as it appears in configs. */
export type HyperValue = number | string | boolean | number[];

/**
 * Checks `params` against `defaults`: unknown keys and values of another type than the default are errors
 * naming the model and the key. Returns the defaults overridden by `params`.
 */
export function parseHyperparams<T extends { [key: string]: HyperValue }>(model: string, defaults: T, params: Record<string, unknown>, choices: Partial<Record<keyof T, readonly string[]>> = {}): T {
  const out: { [key: string]: HyperValue } = { ...defaults };
  for (const [key, value] of Object.entries(params)) {
    if (!(key in defaults)) throw new Error(`${model}: unknown hyperparameter "${key}" (known: ${Object.keys(defaults).join(', ')})`);
    const d = defaults[key];
    const ok = Array.isArray(d)
      ? Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)
      : typeof value === typeof d && (typeof value !== 'number' || Number.isFinite(value));
    if (!ok) throw new Error(`${model}: hyperparameter "${key}" must be ${Array.isArray(d) ? 'a list of positive numbers' : `a ${typeof d}`}, got ${JSON.stringify(value)}`);
    const allowed = choices[key as keyof T];
    if (allowed && !allowed.includes(value as string)) throw new Error(`${model}: hyperparameter "${key}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    out[key] = value as HyperValue;
  }
  return out as T;
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

/** The training matrix as arrays for a model directory. */
export function interactionArrays(m: Interactions): Record<string, StoredArray> {
  const out: Record<string, StoredArray> = { 'train.rowPtr': m.rowPtr, 'train.colIdx': m.colIdx, 'train.values': m.values };
  if (m.timestamps) out['train.timestamps'] = m.timestamps;
  return out;
}

/** The id maps of the training matrix, for model.json. */
export function interactionIds(m: Interactions): { users: ExternalId[]; items: ExternalId[] } {
  return { users: m.users.ids(), items: m.items.ids() };
}

/** Rebuilds the training matrix saved with {@link interactionArrays} and {@link interactionIds}. */
export async function restoreInteractions(dir: string, manifest: ModelManifest, ids: { users: ExternalId[]; items: ExternalId[] }): Promise<Interactions> {
  const rowPtr = (await loadArray(dir, manifest, 'train.rowPtr')) as Int32Array;
  const colIdx = (await loadArray(dir, manifest, 'train.colIdx')) as Int32Array;
  const values = (await loadArray(dir, manifest, 'train.values')) as Float32Array;
  const ts = manifest.arrays.some((a) => a.name === 'train.timestamps') ? ((await loadArray(dir, manifest, 'train.timestamps')) as Float64Array) : null;
  return new Interactions(IdMap.fromIds(ids.users), IdMap.fromIds(ids.items), rowPtr, colIdx, values, ts);
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
