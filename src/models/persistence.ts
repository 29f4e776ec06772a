/**
 * Model persistence: a model is a directory holding `model.json` (format version, model type,
 * hyperparameters, id maps, data fingerprint, small state, and a manifest of arrays) plus one raw
 * little-endian file per typed array. Saves are atomic (written into a sibling temp directory, then renamed) and
 * replace only a model directory;
 * loads check every array's byte length and sha256 and reject truncated or altered files with an error
 * naming the file. The format is documented in docs/model-format.md.
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join, resolve } from 'node:path';
import { writeDirAtomic } from '../core/safe-write.js';
import { IdMap, type ExternalId } from '../data/id-map.js';
import { Interactions } from '../data/interactions.js';
import { modelDirEntries } from './model-dir.js';
import { checkManifestFile, checkModelDir, type ArrayRecord, type DType } from './model-dir-check.js';

/** Version of the on-disk layout; bumped on incompatible change. */
export const MODEL_FORMAT_VERSION = 1;

/** Name of the manifest file inside a model directory. */
export const MANIFEST_FILE = 'model.json';

/** Typed arrays a model may store. */
export type StoredArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Element type names used in the manifest. */

/** One stored array with its logical shape (the product of `shape` is its length). */
export interface ShapedArray {
  data: StoredArray;
  shape: number[];
}

export type { ArrayRecord, DType } from './model-dir-check.js';

/** The JSON manifest (`model.json`). */
export interface ModelManifest {
  formatVersion: number;
  modelType: string;
  createdAt: string;
  hyperparameters: Record<string, unknown>;
  /** External user ids in dense-index order. */
  users: ExternalId[];
  /** External item ids in dense-index order. */
  items: ExternalId[];
  /** sha256 of the training matrix (shape, CSR structure and values), see {@link dataFingerprint}. */
  dataFingerprint: string;
  /** Small model-specific scalars (global mean, counts...). */
  state: Record<string, unknown>;
  /** Where the training data came from (dataset name, input file...), for tools like `recsys recommend`. */
  provenance: Record<string, unknown>;
  arrays: ArrayRecord[];
}

/** Everything a model writes, in memory. */
export interface ModelSnapshot {
  modelType: string;
  hyperparameters: Record<string, unknown>;
  users: IdMap;
  items: IdMap;
  dataFingerprint: string;
  state: Record<string, unknown>;
  provenance: Record<string, unknown>;
  arrays: Record<string, ShapedArray>;
}

const DTYPES: Record<DType, { bytes: number; make: (buf: ArrayBuffer, n: number) => StoredArray }> = {
  float32: { bytes: 4, make: (b, n) => new Float32Array(b, 0, n) },
  float64: { bytes: 8, make: (b, n) => new Float64Array(b, 0, n) },
  int32: { bytes: 4, make: (b, n) => new Int32Array(b, 0, n) },
  uint8: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
};

function dtypeOf(a: StoredArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'uint8';
}

function checkHost(): void {
  // The files are little-endian; typed arrays use host order, so refuse rather than silently byte-swap.
  if (endianness() !== 'LE') throw new Error('model files are little-endian; this big-endian host is not supported');
}

function bytesOf(a: StoredArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A fingerprint of a training matrix: sha256 over its shape, row pointers, column indices and values.
 * Two models trained on the same data carry the same fingerprint.
 */
export function dataFingerprint(train: Interactions): string {
  const h = createHash('sha256');
  h.update(`${train.nUsers}x${train.nItems}:${train.nnz};`);
  h.update(bytesOf(train.rowPtr));
  h.update(bytesOf(train.colIdx));
  h.update(bytesOf(train.values));
  return h.digest('hex');
}

/**
 * Writes `snapshot` to `dir` atomically through core's `writeDirAtomic`: an existing model directory there is
 * replaced; anything else there (a file, a directory that is not a model) is refused with a UsageError.
 */
export async function saveSnapshot(dir: string, snapshot: ModelSnapshot): Promise<void> {
  checkHost();
  await writeDirAtomic(dir, async (tmp) => {
    const records: ArrayRecord[] = [];
    for (const [name, { data, shape }] of Object.entries(snapshot.arrays)) {
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`array name ${JSON.stringify(name)} is not a safe file name`);
      const n = shape.reduce((a, b) => a * b, 1);
      if (n !== data.length) throw new Error(`array "${name}": shape [${shape.join(', ')}] holds ${n} values but the array has ${data.length}`);
      const file = `${name}.bin`;
      const bytes = bytesOf(data);
      await writeFile(join(tmp, file), bytes);
      records.push({ name, file, dtype: dtypeOf(data), shape: shape.slice(), byteLength: bytes.byteLength, sha256: sha256(bytes) });
    }
    const manifest: ModelManifest = {
      formatVersion: MODEL_FORMAT_VERSION,
      modelType: snapshot.modelType,
      createdAt: new Date().toISOString(),
      hyperparameters: snapshot.hyperparameters,
      users: snapshot.users.ids(),
      items: snapshot.items.ids(),
      dataFingerprint: snapshot.dataFingerprint,
      state: snapshot.state,
      provenance: snapshot.provenance,
      arrays: records,
    };
    await writeFile(join(tmp, MANIFEST_FILE), JSON.stringify(manifest));
  }, { what: 'model directory', recognize: (d) => modelDirEntries(d, MANIFEST_FILE), marker: `no ${MANIFEST_FILE} of a saved model`, force: true });
}

/** Reads and validates `dir/model.json` (not the arrays). */
export async function readManifest(dir: string): Promise<ModelManifest> {
  await checkManifestFile(dir); // model-dir-check.ts: every field and id list, by file name
  const file = join(resolve(dir), MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read model manifest (${(e as NodeJS.ErrnoException).code ?? String(e)}); is ${dir} a saved model directory?`);
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); the file is truncated or corrupted`);
  }
  const bad = (field: string, want: string): never => {
    throw new Error(`${file}: field "${field}" missing or not ${want}`);
  };
  if (typeof m !== 'object' || m === null) bad('(root)', 'an object');
  const o = m as Record<string, unknown>;
  if (typeof o.formatVersion !== 'number') bad('formatVersion', 'a number');
  if (o.formatVersion !== MODEL_FORMAT_VERSION) {
    throw new Error(`${file}: format version ${String(o.formatVersion)} is not supported (this build reads version ${MODEL_FORMAT_VERSION})`);
  }
  if (typeof o.modelType !== 'string') bad('modelType', 'a string');
  if (!Array.isArray(o.users)) bad('users', 'an array');
  if (!Array.isArray(o.items)) bad('items', 'an array');
  if (typeof o.dataFingerprint !== 'string') bad('dataFingerprint', 'a string');
  for (const f of ['hyperparameters', 'state', 'provenance']) if (typeof o[f] !== 'object' || o[f] === null) bad(f, 'an object');
  if (!Array.isArray(o.arrays)) bad('arrays', 'an array');
  (o.arrays as unknown[]).forEach((r, i) => {
    const a = r as Record<string, unknown>;
    if (typeof a.name !== 'string' || typeof a.file !== 'string' || typeof a.sha256 !== 'string' || typeof a.byteLength !== 'number') bad(`arrays[${i}]`, 'a complete array record');
    if (!(typeof a.dtype === 'string' && a.dtype in DTYPES)) bad(`arrays[${i}].dtype`, `one of ${Object.keys(DTYPES).join(', ')}`);
    if (!Array.isArray(a.shape) || !(a.shape as unknown[]).every((d) => Number.isInteger(d) && (d as number) >= 0)) bad(`arrays[${i}].shape`, 'a list of sizes');
    if ((a.file as string).includes('/') || (a.file as string).includes('\\')) bad(`arrays[${i}].file`, 'a plain file name');
  });
  return o as unknown as ModelManifest;
}

/** A model directory as loaded: the snapshot, with the manifest it came from and where it lives. */
export interface LoadedSnapshot extends ModelSnapshot {
  /** The model directory (resolved). */
  dir: string;
  /** Its `model.json`, for messages. */
  file: string;
  /** The manifest as read. */
  manifest: ModelManifest;
}

/**
 * Loads a model directory; when `expectedType` is given the manifest's model type must match. Every array
 * file must have the recorded byte length and sha256.
 */
export async function loadSnapshot(dir: string, expectedType?: string): Promise<LoadedSnapshot> {
  checkHost();
  const root = resolve(dir);
  await checkModelDir(root, expectedType); // every field, id list, array file and stored matrix, by file name
  const m = await readManifest(root);
  if (expectedType !== undefined && m.modelType !== expectedType) {
    throw new Error(`${join(root, MANIFEST_FILE)}: holds a "${m.modelType}" model, not "${expectedType}"`);
  }
  return readSnapshot(root, m);
}

/** Reads the arrays listed in an already read manifest `m` of `dir` (see {@link loadSnapshot}). */
export async function readSnapshot(dir: string, m: ModelManifest): Promise<LoadedSnapshot> {
  checkHost();
  const root = resolve(dir);
  const arrays: Record<string, ShapedArray> = {};
  for (const r of m.arrays) {
    const path = join(root, r.file);
    const { bytes, make } = DTYPES[r.dtype];
    const n = r.shape.reduce((a, b) => a * b, 1);
    if (n * bytes !== r.byteLength) throw new Error(`${join(root, MANIFEST_FILE)}: array "${r.name}" shape [${r.shape.join(', ')}] does not match byteLength ${r.byteLength}`);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new Error(`${path}: array file of "${r.name}" is missing`);
    }
    if (size !== r.byteLength) throw new Error(`${path}: ${size < r.byteLength ? 'truncated' : 'too long'}: expected ${r.byteLength} bytes for "${r.name}" (${r.dtype} [${r.shape.join(', ')}]), found ${size}`);
    const buf = await readFile(path);
    const digest = sha256(buf);
    if (digest !== r.sha256) throw new Error(`${path}: sha256 mismatch for "${r.name}" (file corrupted or modified): expected ${r.sha256}, found ${digest}`);
    // Copy into a fresh aligned buffer (Buffer pools may be unaligned for the element size).
    const ab = new ArrayBuffer(r.byteLength);
    new Uint8Array(ab).set(buf);
    arrays[r.name] = { data: make(ab, n), shape: r.shape };
  }
  return {
    modelType: m.modelType,
    hyperparameters: m.hyperparameters,
    users: IdMap.fromIds(m.users),
    items: IdMap.fromIds(m.items),
    dataFingerprint: m.dataFingerprint,
    state: m.state,
    provenance: m.provenance,
    arrays,
    dir: root,
    file: join(root, MANIFEST_FILE),
    manifest: m,
  };
}

/** The arrays that store a training matrix (CSR structure and values), for models that need it at serving time. */
export function interactionArrays(train: Interactions): Record<string, ShapedArray> {
  return {
    train_rowPtr: { data: train.rowPtr, shape: [train.rowPtr.length] },
    train_colIdx: { data: train.colIdx, shape: [train.nnz] },
    train_values: { data: train.values, shape: [train.nnz] },
  };
}

/** Rebuilds the training matrix stored by {@link interactionArrays}, checking it against the fingerprint. */
export function restoreInteractions(dir: string, s: ModelSnapshot): Interactions {
  const file = join(resolve(dir), MANIFEST_FILE);
  const get = <T extends StoredArray>(name: string, type: new (n: number) => T, dtype: DType): T => {
    const a = s.arrays[name];
    if (!a) throw new Error(`${file}: array "${name}" is missing`);
    if (!(a.data instanceof type)) throw new Error(`${file}: array "${name}" is ${dtypeOf(a.data)}, expected ${dtype}`);
    return a.data;
  };
  const train = new Interactions(s.users, s.items, get('train_rowPtr', Int32Array, 'int32'), get('train_colIdx', Int32Array, 'int32'), get('train_values', Float32Array, 'float32'), null);
  if (dataFingerprint(train) !== s.dataFingerprint) throw new Error(`${file}: the stored training matrix does not match dataFingerprint`);
  return train;
}

/** What {@link saveTrainedModel} writes. */
export interface TrainedModelParts {
  modelType: string;
  hyperparameters: Record<string, unknown>;
  train: Interactions;
  state?: Record<string, unknown>;
  arrays?: Record<string, ShapedArray>;
  provenance?: Record<string, unknown>;
}

/** Saves a model together with its training matrix (for excluding seen items after loading). */
export async function saveTrainedModel(dir: string, parts: TrainedModelParts): Promise<void> {
  const { train } = parts;
  await saveSnapshot(dir, {
    modelType: parts.modelType,
    hyperparameters: parts.hyperparameters,
    users: train.users,
    items: train.items,
    dataFingerprint: dataFingerprint(train),
    state: parts.state ?? {},
    provenance: parts.provenance ?? {},
    arrays: { ...interactionArrays(train), ...(parts.arrays ?? {}) },
  });
}

/** Loads a model saved by {@link saveTrainedModel}: the snapshot and the restored training matrix. */
export async function loadTrainedModel(dir: string, modelType: string): Promise<{ snapshot: ModelSnapshot; train: Interactions }> {
  const snapshot = await loadSnapshot(dir, modelType);
  return { snapshot, train: restoreInteractions(dir, snapshot) };
}
