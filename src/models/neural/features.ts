/**
 * Side features for the neural models. A model that uses features implements {@link FeatureAware}: call
 * `setFeatures(dataset)` (any object with `userFeatures` / `itemFeatures`, e.g. a `LoadedDataset`) before `fit`.
 * {@link encodeFeatures} turns an `EntityFeatures` into model inputs: numeric columns log-compressed when
 * heavy-tailed (non-negative with max > 100: log1p), standardized, missing → 0 (the mean); categorical codes
 * (−1 = missing, embedded as a zero vector); multi-hot lists (mean-pooled EmbeddingBags). Text is not used.
 */
import type { EntityFeatures } from '../../data/dataset.js';
import type { StoredArray } from '../persistence.js';
import type { ModelFeatures } from '../contract.js';

export { usesFeatures, type ModelFeatures } from '../contract.js';

/** A model that takes side features before `fit`. */
export interface FeatureAware {
  /** Gives the model the features aligned with the dense user and item indices of the training data. */
  setFeatures(features: ModelFeatures): void;
}

/** One entity type's features as model inputs. */
export interface EncodedFeatures {
  /** Number of entities. */
  count: number;
  /** Standardized numeric columns, count × names.length row-major. */
  numeric: { names: string[]; data: Float32Array; log: boolean[]; mean: number[]; std: number[] };
  /** Categorical columns: codes per entity (−1 missing) and vocabulary size. */
  categorical: { name: string; size: number; codes: Int32Array }[];
  /** Multi-hot columns as CSR over entities. */
  multiHot: { name: string; size: number; ptr: Int32Array; idx: Int32Array }[];
}

/** No features for `count` entities. */
export function emptyEncoded(count: number): EncodedFeatures {
  return { count, numeric: { names: [], data: new Float32Array(0), log: [], mean: [], std: [] }, categorical: [], multiHot: [] };
}

/**
 * Encodes `features` for `count` entities; `what` ("user" or "item") names the entity in errors. Columns whose
 * length differs from `count` are an error naming the column.
 */
export function encodeFeatures(features: EntityFeatures | undefined, count: number, what: string): EncodedFeatures {
  const out = emptyEncoded(count);
  if (!features) return out;
  const names = Object.keys(features.numeric).sort();
  const m = names.length;
  out.numeric.names = names;
  out.numeric.data = new Float32Array(count * m);
  names.forEach((name, c) => {
    const col = features.numeric[name];
    if (col.length !== count) throw new Error(`${what} features: numeric column "${name}" has ${col.length} values, expected ${count}`);
    let max = -Infinity;
    let min = Infinity;
    for (let i = 0; i < count; i++) if (!Number.isNaN(col[i])) { max = Math.max(max, col[i]); min = Math.min(min, col[i]); }
    const log = min >= 0 && max > 100;
    let s = 0;
    let s2 = 0;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const x = col[i];
      if (Number.isNaN(x) || !Number.isFinite(x)) continue;
      const v = log ? Math.log1p(x) : x;
      s += v;
      s2 += v * v;
      n++;
    }
    const mean = n ? s / n : 0;
    const std = n ? Math.sqrt(Math.max(0, s2 / n - mean * mean)) : 0;
    out.numeric.log.push(log);
    out.numeric.mean.push(mean);
    out.numeric.std.push(std);
    for (let i = 0; i < count; i++) {
      const x = col[i];
      out.numeric.data[i * m + c] = Number.isFinite(x) && std > 0 ? ((log ? Math.log1p(x) : x) - mean) / std : 0;
    }
  });
  for (const name of Object.keys(features.categorical).sort()) {
    const c = features.categorical[name];
    if (c.codes.length !== count) throw new Error(`${what} features: categorical column "${name}" has ${c.codes.length} codes, expected ${count}`);
    for (let i = 0; i < count; i++) {
      if (c.codes[i] < -1 || c.codes[i] >= c.names.length) throw new Error(`${what} features: categorical column "${name}", ${what} ${i}: code ${c.codes[i]} outside [-1, ${c.names.length})`);
    }
    if (c.names.length > 0) out.categorical.push({ name, size: c.names.length, codes: c.codes });
  }
  for (const name of Object.keys(features.multiHot).sort()) {
    const h = features.multiHot[name];
    if (h.ptr.length !== count + 1) throw new Error(`${what} features: multi-hot column "${name}" has ${h.ptr.length - 1} rows, expected ${count}`);
    for (let p = 0; p < h.ptr[count]; p++) {
      if (h.idx[p] < 0 || h.idx[p] >= h.names.length) throw new Error(`${what} features: multi-hot column "${name}": index ${h.idx[p]} outside [0, ${h.names.length})`);
    }
    if (h.names.length > 0) out.multiHot.push({ name, size: h.names.length, ptr: h.ptr, idx: h.idx });
  }
  return out;
}

/** The JSON part of encoded features (the arrays go to {@link encodedArrays}). */
export function encodedMeta(e: EncodedFeatures): Record<string, unknown> {
  return {
    count: e.count,
    numeric: { names: e.numeric.names, log: e.numeric.log, mean: e.numeric.mean, std: e.numeric.std },
    categorical: e.categorical.map((c) => ({ name: c.name, size: c.size })),
    multiHot: e.multiHot.map((h) => ({ name: h.name, size: h.size })),
  };
}

/** The arrays of encoded features, keys prefixed with `prefix`. */
export function encodedArrays(e: EncodedFeatures, prefix: string): Record<string, StoredArray> {
  const out: Record<string, StoredArray> = { [`${prefix}.numeric`]: e.numeric.data };
  for (const c of e.categorical) out[`${prefix}.cat.${c.name}`] = c.codes;
  for (const h of e.multiHot) {
    out[`${prefix}.mh.${h.name}.ptr`] = h.ptr;
    out[`${prefix}.mh.${h.name}.idx`] = h.idx;
  }
  return out;
}

/** Restores encoded features saved with {@link encodedMeta} and {@link encodedArrays}; `get` returns a saved array by name. */
export function restoreEncoded(meta: Record<string, unknown>, prefix: string, get: (name: string) => StoredArray): EncodedFeatures {
  const m = meta as { count: number; numeric: { names: string[]; log: boolean[]; mean: number[]; std: number[] }; categorical: { name: string; size: number }[]; multiHot: { name: string; size: number }[] };
  return {
    count: m.count,
    numeric: { ...m.numeric, data: get(`${prefix}.numeric`) as Float32Array },
    categorical: m.categorical.map((c) => ({ ...c, codes: get(`${prefix}.cat.${c.name}`) as Int32Array })),
    multiHot: m.multiHot.map((h) => ({ ...h, ptr: get(`${prefix}.mh.${h.name}.ptr`) as Int32Array, idx: get(`${prefix}.mh.${h.name}.idx`) as Int32Array })),
  };
}
