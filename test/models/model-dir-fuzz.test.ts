/**
 * Corrupted model directories: for a saved model of four kinds (a factor model, EASE, item-KNN, a neural
 * autoencoder) every array file is truncated, lengthened, bit-flipped, deleted, or edited consistently (size and
 * sha256 updated, content impossible), and model.json is edited in many ways. Each load must be rejected with an
 * error whose message starts with the path of the file at fault — never an engine error from deep inside, and
 * never a silent load.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { createModel, loadModel } from '../../src/models/index.js';
import { MODEL_FORMAT_VERSION } from '../../src/models/persistence.js';
import { ModelDirError } from '../../src/models/model-dir-check.js';
import type { Recommender } from '../../src/models/contract.js';
import { Rng } from '../../src/core/rng.js';

const root = mkdtempSync(join(tmpdir(), 'recsys-model-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** 40 users × 30 items with string ids, ~25% dense, values 1..5. */
function data(): Interactions {
  const rng = new Rng(7);
  const u: number[] = [];
  const i: number[] = [];
  const v: number[] = [];
  for (let a = 0; a < 40; a++) for (let b = 0; b < 30; b++) if (rng.uniform() < 0.25) { u.push(a); i.push(b); v.push(1 + Math.floor(rng.uniform() * 5)); }
  return Interactions.fromCoo({
    users: IdMap.fromIds(Array.from({ length: 40 }, (_, a) => `u${a}`)),
    items: IdMap.fromIds(Array.from({ length: 30 }, (_, b) => (b % 2 ? `i${b}` : b))),
    userIdx: Int32Array.from(u), itemIdx: Int32Array.from(i), values: Float32Array.from(v),
  }).interactions;
}

const MODELS: Record<string, Record<string, unknown>> = {
  ials: { factors: 4, iterations: 2 },
  ease: { reg: 5 },
  'item-knn': { neighbors: 5 },
  'mult-vae': { hidden: [16, 8], epochs: 1, batchSize: 20 },
};

interface Manifest {
  modelType: string;
  users: unknown[];
  items: unknown[];
  hyperparameters: Record<string, unknown>;
  state: Record<string, unknown>;
  arrays: { name: string; file: string; dtype: string; shape: number[]; byteLength: number; sha256: string }[];
  [key: string]: unknown;
}

const saved: Record<string, string> = {};
let copies = 0;

beforeAll(async () => {
  const train = data();
  for (const [type, params] of Object.entries(MODELS)) {
    const m: Recommender = createModel(type, params);
    await m.fit(train);
    saved[type] = join(root, `saved-${type}`);
    await m.save!(saved[type]);
  }
}, 60_000);

/** A fresh copy of the saved model of `type` to break. */
function copyOf(type: string): string {
  const dir = join(root, `case-${copies++}`);
  cpSync(saved[type], dir, { recursive: true });
  return dir;
}

const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Manifest;
const writeManifest = (dir: string, m: unknown): void => writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Loads `dir` and expects a rejection whose message starts with `file` (and is not a raw engine error). */
async function expectRejected(dir: string, file: string, pattern?: RegExp): Promise<void> {
  let error: unknown = null;
  try {
    await loadModel(dir);
  } catch (e) {
    error = e;
  }
  expect(error, `${file}: loaded without complaint`).toBeInstanceOf(Error);
  const message = (error as Error).message;
  expect(message.startsWith(`${file}:`), `message should start with ${file}: got ${message}`).toBe(true);
  expect(message).not.toMatch(/IdMap\.fromIds|^rowPtr length|Invalid typed array length|Cannot read propert|is not a function|undefined/);
  if (pattern) expect(message).toMatch(pattern);
}

/** Rewrites an array file with `bytes`, updating its manifest record so that only the content is wrong. */
function replaceConsistently(dir: string, name: string, edit: (bytes: Uint8Array) => Uint8Array): string {
  const m = manifestOf(dir);
  const r = m.arrays.find((a) => a.name === name)!;
  const path = join(dir, r.file);
  const bytes = edit(new Uint8Array(readFileSync(path)));
  writeFileSync(path, bytes);
  r.sha256 = sha(bytes);
  r.byteLength = bytes.byteLength;
  writeManifest(dir, m);
  return path;
}

describe.each(Object.keys(MODELS))('a corrupted %s model directory', (type) => {
  it('loads when untouched, with identical recommendations (control)', async () => {
    const dir = copyOf(type);
    const a = await (await loadModel(dir)).recommend([0, 1, 2], 5);
    const b = await (await loadModel(saved[type])).recommend([0, 1, 2], 5);
    expect(Array.from(a.items)).toEqual(Array.from(b.items));
  });

  it('each array file truncated, lengthened, bit-flipped or missing is rejected naming that file', async () => {
    const records = manifestOf(saved[type]).arrays;
    expect(records.length).toBeGreaterThanOrEqual(4);
    for (const r of records) {
      const file = (dir: string): string => join(dir, r.file);
      if (r.byteLength > 0) {
        let dir = copyOf(type);
        truncateSync(file(dir), r.byteLength - 1);
        await expectRejected(dir, file(dir), /truncated/);
        dir = copyOf(type);
        truncateSync(file(dir), Math.floor(r.byteLength / 2));
        await expectRejected(dir, file(dir), /truncated/);
        dir = copyOf(type);
        const bytes = readFileSync(file(dir));
        bytes[Math.floor(bytes.length / 2)] ^= 0x10;
        writeFileSync(file(dir), bytes);
        await expectRejected(dir, file(dir), /sha256 mismatch/);
      }
      let dir = copyOf(type);
      appendFileSync(file(dir), Buffer.from([0, 0, 0, 0]));
      await expectRejected(dir, file(dir), /too long/);
      dir = copyOf(type);
      unlinkSync(file(dir));
      await expectRejected(dir, file(dir), /missing/);
      dir = copyOf(type);
      unlinkSync(file(dir));
      mkdirSync(file(dir));
      await expectRejected(dir, file(dir), /not a regular file/);
    }
  });

  it('array contents that are impossible (size and sha256 made consistent) are rejected naming the file', async () => {
    const records = manifestOf(saved[type]).arrays;
    const int32 = (bytes: Uint8Array): Int32Array => new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    // The training matrix: a row pointer that decreases, one past nnz, a column outside the items, unsorted columns.
    let dir = copyOf(type);
    let path = replaceConsistently(dir, 'train_rowPtr', (b) => { const a = int32(b.slice()); a[5] = a[6] + 1; return new Uint8Array(a.buffer); });
    await expectRejected(dir, path, /decreases at row 5/);
    dir = copyOf(type);
    path = replaceConsistently(dir, 'train_rowPtr', (b) => { const a = int32(b.slice()); a[a.length - 1] += 1; return new Uint8Array(a.buffer); });
    await expectRejected(dir, path, /ends at \d+ but "train_colIdx" holds/);
    dir = copyOf(type);
    path = replaceConsistently(dir, 'train_colIdx', (b) => { const a = int32(b.slice()); a[3] = 30; return new Uint8Array(a.buffer); });
    await expectRejected(dir, path, /is 30, outside the 30 items/);
    dir = copyOf(type);
    path = replaceConsistently(dir, 'train_colIdx', (b) => { const a = int32(b.slice()); a[3] = -1; return new Uint8Array(a.buffer); });
    await expectRejected(dir, path, /is -1, outside/);
    dir = copyOf(type);
    path = replaceConsistently(dir, 'train_colIdx', (b) => { const a = int32(b.slice()); [a[0], a[1]] = [a[1], a[0]]; return new Uint8Array(a.buffer); });
    await expectRejected(dir, path, /not strictly increasing/);
    // A NaN in every float array (the values, factors, weights...).
    for (const r of records.filter((x) => x.dtype === 'float32' && x.byteLength > 0)) {
      dir = copyOf(type);
      path = replaceConsistently(dir, r.name, (b) => { const a = new Float32Array(b.slice().buffer); a[a.length >> 1] = NaN; return new Uint8Array(a.buffer); });
      await expectRejected(dir, path, /is NaN; stored values must be finite/);
    }
    // The model's own sparse matrix, when it has one (item-knn's similarities).
    if (records.some((r) => r.name === 'sim_colIdx')) {
      dir = copyOf(type);
      path = replaceConsistently(dir, 'sim_colIdx', (b) => { const a = int32(b.slice()); a[0] = 1000; return new Uint8Array(a.buffer); });
      await expectRejected(dir, path, /"sim_colIdx"\[0\] .* is 1000, outside the 30 items/);
    }
  });

  it('model.json edited in each of many ways is rejected naming model.json', async () => {
    const json = (dir: string): string => join(dir, 'model.json');
    /** What to change, what the message must say, and the file it must name (default model.json). */
    type Edit = [label: string, edit: (m: Manifest) => unknown, pattern: RegExp, file?: string];
    const base = manifestOf(saved[type]);
    const other = type === 'ials' ? 'ease' : 'ials';
    const edits: Edit[] = [
      // 1. wrong model type
      ['unknown modelType', (m) => ({ ...m, modelType: 'nope' }), /modelType.*unknown model "nope"/],
      ['another modelType', (m) => ({ ...m, modelType: other }), /./],
      ['empty modelType', (m) => ({ ...m, modelType: '' }), /modelType/],
      // 2. a field missing
      ...(['formatVersion', 'modelType', 'users', 'items', 'arrays', 'hyperparameters', 'state', 'provenance', 'dataFingerprint'] as const).map(
        (f): Edit => [`missing ${f}`, (m) => { const c: Record<string, unknown> = { ...m }; delete c[f]; return c; }, new RegExp(f)],
      ),
      ['a record without sha256', (m) => ({ ...m, arrays: m.arrays.map((r, j) => (j === 1 ? { ...r, sha256: undefined } : r)) }), /sha256/],
      ['a record without file', (m) => ({ ...m, arrays: m.arrays.map((r, j) => (j === 0 ? { ...r, file: undefined } : r)) }), /\.file/],
      ['a training array unlisted', (m) => ({ ...m, arrays: m.arrays.filter((r) => r.name !== 'train_values') }), /train_values/],
      // 3. wrong version
      ['version 2', (m) => ({ ...m, formatVersion: MODEL_FORMAT_VERSION + 1 }), /format version 2 is not supported/],
      ['version as a string', (m) => ({ ...m, formatVersion: '1' }), /formatVersion/],
      // 4. shapes that disagree with the byte length or the file
      ['shape ≠ byteLength', (m) => ({ ...m, arrays: m.arrays.map((r) => (r.name === 'train_colIdx' ? { ...r, shape: [r.shape[0] + 1] } : r)) }), /shape \[\d+\] of int32 is \d+ bytes, but byteLength says/],
      ['shape and byteLength ≠ file', (m) => ({ ...m, arrays: m.arrays.map((r) => (r.name === 'train_values' ? { ...r, shape: [r.shape[0] + 2], byteLength: r.byteLength + 8 } : r)) }), /./],
      ['wrong dtype', (m) => ({ ...m, arrays: m.arrays.map((r) => (r.name === 'train_values' ? { ...r, dtype: 'float16' } : r)) }), /dtype/],
      ['rowPtr as float32', (m) => ({ ...m, arrays: m.arrays.map((r) => (r.name === 'train_rowPtr' ? { ...r, dtype: 'float32' } : r)) }), /train_rowPtr" must be int32/],
      // 5. ids duplicated
      ['a user id twice', (m) => ({ ...m, users: [m.users[0], m.users[0], ...m.users.slice(2)] }), /users id "u0" appears twice \(positions 0 and 1\)/],
      ['an item id twice', (m) => ({ ...m, items: [...m.items.slice(0, -1), m.items[0]] }), /items id 0 appears twice/],
      ['an id that is an object', (m) => ({ ...m, items: [{ id: 1 }, ...m.items.slice(1)] }), /items\[0\] is an object/],
      // 6. rowPtr of the wrong length for the users (a user dropped or added), items dropped
      ['a user dropped', (m) => ({ ...m, users: m.users.slice(0, -1) }), /train_rowPtr" has 41 entries but there are 39 users/],
      ['a user added', (m) => ({ ...m, users: [...m.users, 'extra'] }), /there are 41 users/],
      // 7. negative dimensions
      ['negative dimension', (m) => ({ ...m, arrays: m.arrays.map((r, j) => (j === m.arrays.length - 1 ? { ...r, shape: [-r.shape[0], ...r.shape.slice(1)] } : r)) }), /non-negative integers/],
      ['fractional dimension', (m) => ({ ...m, arrays: m.arrays.map((r, j) => (j === 0 ? { ...r, shape: [r.shape[0] + 0.5] } : r)) }), /non-negative integers/],
      // 8. NaN (JSON writes it as null) in a hyperparameter or an id
      ['NaN hyperparameter', (m) => ({ ...m, hyperparameters: { ...m.hyperparameters, [Object.keys(m.hyperparameters)[0]]: null } }), /hyperparameters\.\w+ is null/],
      ['wrong-typed hyperparameter', (m) => ({ ...m, hyperparameters: { ...m.hyperparameters, [Object.keys(m.hyperparameters).find((k) => typeof m.hyperparameters[k] === 'number')!]: 'fast' } }), /field "hyperparameters": .*hyperparameters do not make a/],
      ['unknown hyperparameter', (m) => ({ ...m, hyperparameters: { ...m.hyperparameters, factorz: 3 } }), /field "hyperparameters": .*unknown hyperparameter "factorz".*do not make a/],
      ['NaN id', (m) => ({ ...m, items: [null, ...m.items.slice(1)] }), /items\[0\] is null/],
      // 9. wrong sha256
      // (the manifest and the file disagree: the file is named, as either may be the damaged one)
      ['another sha256', (m) => ({ ...m, arrays: m.arrays.map((r, j) => (j === 2 ? { ...r, sha256: sha(new Uint8Array([1])) } : r)) }), /sha256 mismatch/, base.arrays[2].file],
      ['malformed sha256', (m) => ({ ...m, arrays: m.arrays.map((r, j) => (j === 2 ? { ...r, sha256: 'xyz' } : r)) }), /sha256 .* must be 64 hex digits/],
      ['wrong dataFingerprint', (m) => ({ ...m, dataFingerprint: sha(new Uint8Array([2])) }), /dataFingerprint/],
      // 10. an escaping or duplicated file name
      ['file outside the directory', (m) => ({ ...m, arrays: m.arrays.map((r, j) => (j === 0 ? { ...r, file: '../x.bin' } : r)) }), /plain file name/],
      ['one file for two arrays', (m) => ({ ...m, arrays: m.arrays.map((r, j) => (j === 1 ? { ...r, file: m.arrays[0].file } : r)) }), /listed for two arrays/],
      ['an array listed twice', (m) => ({ ...m, arrays: [...m.arrays, m.arrays[0]] }), /listed twice/],
      ['not an object', () => [1, 2, 3], /JSON object/],
    ];
    expect(edits.length).toBeGreaterThanOrEqual(30);
    for (const [label, edit, pattern, file] of edits) {
      const dir = copyOf(type);
      writeManifest(dir, edit(structuredClone(base)));
      await expectRejected(dir, file ? join(dir, file) : json(dir), pattern).catch((e: Error) => { throw new Error(`${label}: ${e.message}`); });
    }
    // Textual damage: truncated JSON, a NaN literal, an empty file, no model.json at all.
    const text = readFileSync(json(saved[type]), 'utf8');
    const damages: [string, (dir: string) => void, RegExp][] = [
      ['truncated JSON', (dir) => writeFileSync(json(dir), text.slice(0, text.length >> 1)), /not valid JSON/],
      ['NaN literal', (dir) => writeFileSync(json(dir), text.replace(/"formatVersion":1/, '"formatVersion":NaN')), /not valid JSON/],
      ['empty file', (dir) => writeFileSync(json(dir), ''), /not valid JSON/],
      ['no model.json', (dir) => unlinkSync(json(dir)), /not found|cannot read/],
    ];
    for (const [label, damage, pattern] of damages) {
      const dir = copyOf(type);
      damage(dir);
      await expectRejected(dir, json(dir), pattern).catch((e: Error) => { throw new Error(`${label}: ${e.message}`); });
    }
  });
});

describe('model directory errors', () => {
  it('are usage errors (exit status 2 at the CLI) and the format versions agree', async () => {
    const dir = copyOf('ease');
    writeFileSync(join(dir, 'model.json'), '{');
    await expect(loadModel(dir)).rejects.toBeInstanceOf(ModelDirError);
    expect(MODEL_FORMAT_VERSION).toBe(1);
  });
});
