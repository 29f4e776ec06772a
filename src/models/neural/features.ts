/**
 * Side features for the neural models. A model that uses features has `setFeatures(dataset)` (any object with
 * `userFeatures` / `itemFeatures`, e.g. a `LoadedDataset`; callers ask `usesFeatures` in the contract), called
 * before `fit`. {@link encodeFeatures} turns an `EntityFeatures` into model inputs: numeric columns
 * log-compressed when heavy-tailed (non-negative with max > 100: log1p), standardized, missing → 0 (the mean);
 * categorical codes (−1 = missing, embedded as a zero vector); multi-hot lists (mean-pooled EmbeddingBags).
 * Text is not used. The encoded inputs are part of a fitted model's state ({@link inputsState},
 * {@link readInputs}).
 */
import { z } from 'zod';
import type { EntityFeatures } from '../../data/dataset.js';
import type { Interactions } from '../../data/interactions.js';
import type { ModelFeatures } from '../contract.js';
import type { ShapedArray } from '../persistence.js';
import { vector, type StateReader, type StoredState } from '../skeleton.js';
import { arrayName } from './common.js';

export type { ModelFeatures } from '../contract.js';

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

/** The encoded user and item inputs of a model. */
export interface EntityInputs {
  user: EncodedFeatures;
  item: EncodedFeatures;
}

/** Encodes the features a model was given (each side only when its `use…Features` is on) for `train`'s entities. */
export function encodeInputs(features: ModelFeatures, use: { useUserFeatures: boolean; useItemFeatures: boolean }, train: Interactions): EntityInputs {
  return {
    user: use.useUserFeatures ? encodeFeatures(features.userFeatures, train.nUsers, 'user') : emptyEncoded(train.nUsers),
    item: use.useItemFeatures ? encodeFeatures(features.itemFeatures, train.nItems, 'item') : emptyEncoded(train.nItems),
  };
}

/** The inputs as persisted state: descriptions under `userFeatures` / `itemFeatures`, arrays under `user.*` / `item.*`. */
export function inputsState(inputs: EntityInputs): StoredState {
  return { json: { userFeatures: describe(inputs.user), itemFeatures: describe(inputs.item) }, arrays: { ...arraysOf(inputs.user, 'user'), ...arraysOf(inputs.item, 'item') } };
}

/** Reads the inputs written by {@link inputsState}, checking every description, length and code. */
export function readInputs(saved: StateReader, train: Interactions): EntityInputs {
  return { user: readEncoded(saved, 'userFeatures', 'user', train.nUsers), item: readEncoded(saved, 'itemFeatures', 'item', train.nItems) };
}

const COLUMN = z.object({ name: z.string(), size: z.number().int().min(1) });

/** The JSON description of encoded features (their arrays are stored beside it). */
const DESCRIPTION = z.object({
  count: z.number().int().min(0),
  numeric: z.object({ names: z.array(z.string()), log: z.array(z.boolean()), mean: z.array(z.number()), std: z.array(z.number()) }),
  categorical: z.array(COLUMN),
  multiHot: z.array(COLUMN),
});

function describe(e: EncodedFeatures): z.infer<typeof DESCRIPTION> {
  return {
    count: e.count,
    numeric: { names: e.numeric.names, log: e.numeric.log, mean: e.numeric.mean, std: e.numeric.std },
    categorical: e.categorical.map((c) => ({ name: c.name, size: c.size })),
    multiHot: e.multiHot.map((h) => ({ name: h.name, size: h.size })),
  };
}

function arraysOf(e: EncodedFeatures, prefix: string): Record<string, ShapedArray> {
  const out: Record<string, ShapedArray> = { [arrayName(`${prefix}.numeric`)]: vector(e.numeric.data) };
  for (const c of e.categorical) out[arrayName(`${prefix}.cat.${c.name}`)] = vector(c.codes);
  for (const h of e.multiHot) {
    out[arrayName(`${prefix}.mh.${h.name}.ptr`)] = vector(h.ptr);
    out[arrayName(`${prefix}.mh.${h.name}.idx`)] = vector(h.idx);
  }
  return out;
}

function readEncoded(saved: StateReader, key: string, prefix: string, count: number): EncodedFeatures {
  const fail = (what: string): never => {
    throw new Error(`${saved.file}: state field "${key}": ${what}`);
  };
  const parsed = DESCRIPTION.safeParse(saved.value(key));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`not a feature description (${issue.path.join('.') || 'value'}: ${issue.message})`);
  }
  const d = parsed.data;
  if (d.count !== count) fail(`describes ${d.count} entities, the training data has ${count}`);
  const m = d.numeric.names.length;
  if (d.numeric.log.length !== m || d.numeric.mean.length !== m || d.numeric.std.length !== m) fail('numeric names, log, mean and std differ in length');
  const codesIn = (name: string, a: Int32Array, lo: number, hi: number): Int32Array => {
    for (const v of a) if (v < lo || v >= hi) fail(`array "${name}" holds ${v}, outside [${lo}, ${hi})`);
    return a;
  };
  return {
    count,
    numeric: { ...d.numeric, data: saved.f32(arrayName(`${prefix}.numeric`), count * m) },
    categorical: d.categorical.map((c) => {
      const name = arrayName(`${prefix}.cat.${c.name}`);
      return { ...c, codes: codesIn(name, saved.i32(name, count), -1, c.size) };
    }),
    multiHot: d.multiHot.map((h) => {
      const ptrName = arrayName(`${prefix}.mh.${h.name}.ptr`);
      const ptr = saved.i32(ptrName, count + 1);
      for (let i = 0; i < count; i++) if (ptr[i + 1] < ptr[i]) fail(`array "${ptrName}" decreases at ${i + 1}`);
      if (ptr[0] !== 0) fail(`array "${ptrName}" does not start at 0`);
      const idxName = arrayName(`${prefix}.mh.${h.name}.idx`);
      return { ...h, ptr, idx: codesIn(idxName, saved.i32(idxName, ptr[count]), 0, h.size) };
    }),
  };
}
