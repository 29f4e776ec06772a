/**
 * Validation of a model directory before it is loaded (see docs/model-format.md): `model.json` parsed and
 * checked field by field, the id lists unique, every array record consistent (name, file, dtype, shape,
 * byte length), every array file present with its recorded size and sha256, and the stored sparse matrices
 * well formed (row pointers from 0 to nnz, column indices in range and sorted, values finite). Whatever is
 * wrong is reported as a {@link ModelDirError} naming the file and the inconsistency, instead of surfacing
 * later as an engine error (`IdMap.fromIds: id 43 appears twice`, `rowPtr length …`).
 *
 * The checks are model-independent; each model still checks that the arrays it needs are there with the
 * shapes it expects.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';

/** A model directory that cannot be loaded; the message starts with the offending file. */
export class ModelDirError extends UsageError {
  override name = 'ModelDirError';
}

/** Format version this build reads (kept equal to persistence.ts's MODEL_FORMAT_VERSION by a test). */
const FORMAT_VERSION = 1;

/** Bytes per element of each stored dtype. */
const DTYPE_BYTES = { float32: 4, float64: 8, int32: 4, uint8: 1 } as const;
/** The element types an array file may hold. */
export type DType = keyof typeof DTYPE_BYTES;

/** Manifest entry describing one array file (declared here, where it is checked; persistence.ts re-exports it). */
export interface ArrayRecord {
  name: string;
  file: string;
  dtype: DType;
  shape: number[];
  byteLength: number;
  sha256: string;
}

/** What the checks establish about `model.json`. */
export interface CheckedManifest {
  modelType: string;
  hyperparameters: Record<string, unknown>;
  users: (string | number)[];
  items: (string | number)[];
  arrays: ArrayRecord[];
}

const SAFE_FILE = /^[A-Za-z0-9_.-]+$/;

/** Throws a {@link ModelDirError} for `file`. */
function fail(file: string, what: string): never {
  throw new ModelDirError(`${file}: ${what}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON value's kind for messages ("null", "an array", "a string"...). */
function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A JSON value as shown in messages: its text, at most 60 characters, or "nothing". */
function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const t = JSON.stringify(v);
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

/** Checks an id list: strings or finite numbers, each once. */
function checkIds(file: string, field: 'users' | 'items', v: unknown): (string | number)[] {
  if (!Array.isArray(v)) fail(file, `field "${field}" must be a list of ids, found ${kind(v)}`);
  const seen = new Map<string | number, number>();
  v.forEach((id: unknown, i) => {
    if (!(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)))) fail(file, `${field}[${i}] is ${kind(id)}, not a string or number id`);
    const first = seen.get(id);
    if (first !== undefined) fail(file, `${field} id ${JSON.stringify(id)} appears twice (positions ${first} and ${i}); the id list is corrupted`);
    seen.set(id, i);
  });
  return v as (string | number)[];
}

/** Checks one array record. */
function checkRecord(file: string, r: unknown, i: number): ArrayRecord {
  const at = `arrays[${i}]`;
  if (!isPlainObject(r)) fail(file, `${at} must be an array record, found ${kind(r)}`);
  if (typeof r.name !== 'string' || !SAFE_FILE.test(r.name)) fail(file, `${at}.name must be a plain name, found ${shown(r.name)}`);
  const name = r.name;
  if (typeof r.file !== 'string' || !SAFE_FILE.test(r.file) || r.file === '.' || r.file === '..' || r.file === 'model.json') {
    fail(file, `${at}.file of "${name}" must be a plain file name inside the model directory, found ${shown(r.file)}`);
  }
  if (typeof r.dtype !== 'string' || !(r.dtype in DTYPE_BYTES)) fail(file, `${at}.dtype of "${name}" must be one of ${Object.keys(DTYPE_BYTES).join(', ')}, found ${shown(r.dtype)}`);
  const dtype = r.dtype as DType;
  if (!Array.isArray(r.shape) || !r.shape.every((d: unknown) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    fail(file, `${at}.shape of "${name}" must be a list of non-negative integers, found ${shown(r.shape)}`);
  }
  const shape = r.shape as number[];
  if (typeof r.byteLength !== 'number' || !Number.isSafeInteger(r.byteLength) || r.byteLength < 0) fail(file, `${at}.byteLength of "${name}" must be a non-negative integer, found ${shown(r.byteLength)}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n * DTYPE_BYTES[dtype] !== r.byteLength) {
    fail(file, `array "${name}": shape [${shape.join(', ')}] of ${dtype} is ${n * DTYPE_BYTES[dtype]} bytes, but byteLength says ${r.byteLength}`);
  }
  if (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256)) fail(file, `${at}.sha256 of "${name}" must be 64 hex digits, found ${shown(r.sha256)}`);
  return { name, file: r.file, dtype, shape, byteLength: r.byteLength, sha256: r.sha256 };
}

/** Checks a hyperparameter value: a finite number, string, boolean, or a list of those. */
function checkParam(file: string, key: string, v: unknown): void {
  const ok = (x: unknown): boolean => typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x));
  if (ok(v) || (Array.isArray(v) && v.every(ok))) return;
  fail(file, `hyperparameters.${key} is ${kind(v)}${v === null ? ' (a NaN or infinite value when saved, or an edit)' : ''}, not a number, string or boolean`);
}

/**
 * Checks a parsed `model.json` (`file` names it in errors): every field, the ids, the array records, and
 * the training matrix's records against the id lists. `expectedType`, when given, must be the model type.
 */
export function checkManifest(file: string, m: unknown, expectedType?: string): CheckedManifest {
  if (!isPlainObject(m)) fail(file, `must hold a JSON object, found ${kind(m)}`);
  if (typeof m.formatVersion !== 'number') fail(file, `field "formatVersion" missing or not a number (found ${kind(m.formatVersion)})`);
  if (m.formatVersion !== FORMAT_VERSION) fail(file, `format version ${String(m.formatVersion)} is not supported (this build reads version ${FORMAT_VERSION})`);
  if (typeof m.modelType !== 'string' || m.modelType === '') fail(file, `field "modelType" missing or not a model name (found ${shown(m.modelType)})`);
  if (expectedType !== undefined && m.modelType !== expectedType) fail(file, `holds a "${m.modelType}" model, not "${expectedType}"`);
  for (const f of ['hyperparameters', 'state', 'provenance'] as const) if (!isPlainObject(m[f])) fail(file, `field "${f}" missing or not an object (found ${kind(m[f])})`);
  for (const [k, v] of Object.entries(m.hyperparameters as Record<string, unknown>)) checkParam(file, k, v);
  if (typeof m.dataFingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(m.dataFingerprint)) fail(file, `field "dataFingerprint" must be 64 hex digits (found ${shown(m.dataFingerprint)})`);
  const users = checkIds(file, 'users', m.users);
  const items = checkIds(file, 'items', m.items);
  if (!Array.isArray(m.arrays)) fail(file, `field "arrays" missing or not a list (found ${kind(m.arrays)})`);
  const arrays = m.arrays.map((r: unknown, i: number) => checkRecord(file, r, i));
  const names = new Set<string>();
  const files = new Set<string>();
  for (const r of arrays) {
    if (names.has(r.name)) fail(file, `array "${r.name}" is listed twice`);
    if (files.has(r.file)) fail(file, `file "${r.file}" is listed for two arrays`);
    names.add(r.name);
    files.add(r.file);
  }
  const rec = (name: string): ArrayRecord | undefined => arrays.find((r) => r.name === name);
  const rowPtr = rec('train_rowPtr');
  if (rowPtr) {
    const colIdx = rec('train_colIdx');
    const values = rec('train_values');
    if (!colIdx || !values) fail(file, `the training matrix is incomplete: train_rowPtr is listed but ${!colIdx ? 'train_colIdx' : 'train_values'} is not`);
    const vec = (r: ArrayRecord, dtype: DType): void => {
      if (r.dtype !== dtype || r.shape.length !== 1) fail(file, `array "${r.name}" must be ${dtype} [n], found ${r.dtype} [${r.shape.join(', ')}]`);
    };
    vec(rowPtr, 'int32');
    vec(colIdx, 'int32');
    vec(values, 'float32');
    if (rowPtr.shape[0] !== users.length + 1) {
      fail(file, `array "train_rowPtr" has ${rowPtr.shape[0]} entries but there are ${users.length} users (it needs users + 1 = ${users.length + 1}); the user list and the training matrix disagree`);
    }
    if (colIdx.shape[0] !== values.shape[0]) fail(file, `arrays "train_colIdx" (${colIdx.shape[0]}) and "train_values" (${values.shape[0]}) must have the same length`);
  }
  return { modelType: m.modelType, hyperparameters: m.hyperparameters as Record<string, unknown>, users, items, arrays };
}

/** The stored arrays' contents, by name. */
type Contents = Map<string, Int32Array | Float32Array | Float64Array | Uint8Array>;

/** Reads one array file, checking presence, size and sha256. */
async function readArray(root: string, r: ArrayRecord): Promise<Int32Array | Float32Array | Float64Array | Uint8Array> {
  const path = join(root, r.file);
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) fail(path, `array file of "${r.name}" is not a regular file`);
    size = s.size;
  } catch (e) {
    if (e instanceof ModelDirError) throw e;
    fail(path, `array file of "${r.name}" is missing (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (size !== r.byteLength) fail(path, `${size < r.byteLength ? 'truncated' : 'too long'}: expected ${r.byteLength} bytes for "${r.name}" (${r.dtype} [${r.shape.join(', ')}]), found ${size}`);
  const buf = await readFile(path);
  const digest = createHash('sha256').update(buf).digest('hex');
  if (digest !== r.sha256) fail(path, `sha256 mismatch for "${r.name}" (file corrupted or modified): expected ${r.sha256}, found ${digest}`);
  const ab = new ArrayBuffer(buf.byteLength);
  new Uint8Array(ab).set(buf);
  switch (r.dtype) {
    case 'float32': return new Float32Array(ab);
    case 'float64': return new Float64Array(ab);
    case 'int32': return new Int32Array(ab);
    case 'uint8': return new Uint8Array(ab);
  }
}

/**
 * Checks one stored sparse matrix: `ptr` runs from 0 to nnz without decreasing, and each row's column indices
 * lie in [0, nCols) (and, when `sorted`, increase strictly, as the training matrix's must). Every sparse matrix
 * models store here has item columns.
 */
function checkCsr(root: string, ptrRec: ArrayRecord, idxRec: ArrayRecord, ptr: Int32Array, idx: Int32Array, nCols: number, sorted: boolean): void {
  const ptrFile = join(root, ptrRec.file);
  const idxFile = join(root, idxRec.file);
  if (ptr.length === 0) fail(ptrFile, `"${ptrRec.name}" is empty; row pointers need at least one entry`);
  if (ptr[0] !== 0) fail(ptrFile, `"${ptrRec.name}"[0] is ${ptr[0]}, row pointers start at 0`);
  if (ptr[ptr.length - 1] !== idx.length) fail(ptrFile, `"${ptrRec.name}" ends at ${ptr[ptr.length - 1]} but "${idxRec.name}" holds ${idx.length} entries`);
  for (let r = 0; r + 1 < ptr.length; r++) {
    if (ptr[r + 1] < ptr[r]) fail(ptrFile, `"${ptrRec.name}" decreases at row ${r} (${ptr[r]} then ${ptr[r + 1]})`);
  }
  for (let r = 0; r + 1 < ptr.length; r++) {
    for (let p = ptr[r]; p < ptr[r + 1]; p++) {
      const c = idx[p];
      if (!(c >= 0 && c < nCols)) fail(idxFile, `"${idxRec.name}"[${p}] (row ${r}) is ${c}, outside the ${nCols} items`);
      if (sorted && p > ptr[r] && c <= idx[p - 1]) fail(idxFile, `"${idxRec.name}" row ${r} is not strictly increasing at entry ${p} (${idx[p - 1]} then ${c})`);
    }
  }
}

/** The sparse matrices among the arrays: `X_rowPtr`/`X_colIdx` and `X.ptr`/`X.idx` pairs. */
function csrPairs(arrays: ArrayRecord[]): [ArrayRecord, ArrayRecord][] {
  const out: [ArrayRecord, ArrayRecord][] = [];
  for (const r of arrays) {
    const idxName = r.name.endsWith('_rowPtr') ? `${r.name.slice(0, -'_rowPtr'.length)}_colIdx` : r.name.endsWith('.ptr') ? `${r.name.slice(0, -'.ptr'.length)}.idx` : null;
    const idx = idxName === null ? undefined : arrays.find((x) => x.name === idxName);
    if (idx && r.dtype === 'int32' && idx.dtype === 'int32') out.push([r, idx]);
  }
  return out;
}

/** Reads and checks `dir/model.json` alone (not the array files); see {@link checkManifest}. */
export async function checkManifestFile(dir: string, expectedType?: string): Promise<CheckedManifest> {
  const file = join(resolve(dir), 'model.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') fail(file, `cannot read model manifest (not found): ${dir} is not a model directory written by \`recsys train\``);
    fail(file, `cannot read model manifest (${code ?? String(e)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(file, `not valid JSON (${(e as Error).message}); the file is truncated or corrupted`);
  }
  return checkManifest(file, parsed, expectedType);
}

/**
 * Validates the model directory `dir` (see the module comment); `expectedType`, when given, must be its model
 * type. Throws a {@link ModelDirError} naming the first file found inconsistent.
 */
export async function checkModelDir(dir: string, expectedType?: string): Promise<CheckedManifest> {
  const root = resolve(dir);
  const m = await checkManifestFile(root, expectedType);
  const contents: Contents = new Map();
  for (const r of m.arrays) contents.set(r.name, await readArray(root, r));
  for (const r of m.arrays) {
    const a = contents.get(r.name);
    if (!(a instanceof Float32Array || a instanceof Float64Array)) continue;
    for (let j = 0; j < a.length; j++) {
      if (!Number.isFinite(a[j])) fail(join(root, r.file), `"${r.name}"[${j}] is ${a[j]}; stored values must be finite (the model diverged when trained, or the file was altered)`);
    }
  }
  for (const [ptrRec, idxRec] of csrPairs(m.arrays)) {
    const ptr = contents.get(ptrRec.name);
    const idx = contents.get(idxRec.name);
    if (ptr instanceof Int32Array && idx instanceof Int32Array) checkCsr(root, ptrRec, idxRec, ptr, idx, m.items.length, ptrRec.name === 'train_rowPtr');
  }
  return m;
}

/**
 * The registry entry of a saved model (`lookup` is the registry's `modelEntry`), checking that the type is
 * known and that the saved hyperparameters construct such a model; either failure names `file`.
 */
export function entryFor<T extends { create: (params: Record<string, unknown>) => unknown; upgradeSaved?: (saved: Record<string, unknown>) => Record<string, unknown> }>(file: string, type: string, hyperparameters: Record<string, unknown>, lookup: (type: string) => T): T {
  let entry: T;
  try {
    entry = lookup(type);
  } catch (e) {
    fail(file, `field "modelType": ${(e as Error).message}`);
  }
  try {
    entry.create(entry.upgradeSaved ? entry.upgradeSaved(hyperparameters) : hyperparameters);
  } catch (e) {
    fail(file, `field "hyperparameters": ${(e as Error).message} (the saved hyperparameters do not make a "${type}" model)`);
  }
  return entry;
}
