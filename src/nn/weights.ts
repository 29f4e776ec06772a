/**
 * Saving and loading a model directory: `model.json` (type, hyperparameters, extra state, and the shape and file of
 * every parameter) plus one raw little-endian float32 file per parameter (`<param name>.f32`) or extra array.
 * Written through core's `writeDirAtomic` (a temporary directory renamed into place, so a reader never sees a
 * half-written model); it replaces only a directory this module wrote.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDirAtomic } from '../core/safe-write.js';
import type { Param } from './tensor.js';

/** A typed array stored beside the parameters (e.g. a model's training matrix). */
export type StoredArray = Float32Array | Int32Array | Float64Array;

/** What `model.json` holds. */
export interface ModelManifest {
  /** Registry name of the model. */
  model: string;
  /** Format version of this layout. */
  format: 1;
  /** Hyperparameters the model was created with. */
  params: Record<string, unknown>;
  /** Anything else the model needs (JSON). */
  state: Record<string, unknown>;
  /** Parameter files. */
  weights: { name: string; rows: number; cols: number; file: string }[];
  /** Extra array files. */
  arrays: { name: string; type: 'f32' | 'i32' | 'f64'; length: number; file: string }[];
}

/** Writes a model directory atomically. */
export async function saveModelDir(
  dir: string,
  manifest: Omit<ModelManifest, 'weights' | 'arrays' | 'format'>,
  params: Param[],
  arrays: Record<string, StoredArray> = {},
): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    const weights: ModelManifest['weights'] = [];
    for (const p of params) {
      const file = `${safeName(p.name)}.f32`;
      await writeFile(join(tmp, file), bytesOf(p.value));
      weights.push({ name: p.name, rows: p.rows, cols: p.cols, file });
    }
    const arrayEntries: ModelManifest['arrays'] = [];
    for (const [name, a] of Object.entries(arrays)) {
      const type = a instanceof Float32Array ? 'f32' : a instanceof Int32Array ? 'i32' : 'f64';
      const file = `${safeName(name)}.${type}`;
      await writeFile(join(tmp, file), bytesOf(a));
      arrayEntries.push({ name, type, length: a.length, file });
    }
    const full: ModelManifest = { ...manifest, format: 1, weights, arrays: arrayEntries };
    await writeFile(join(tmp, 'model.json'), JSON.stringify(full, null, 2));
  }, { what: 'model directory', recognize: ownEntries, marker: 'no model.json of a saved model', force: true });
}

/** The entries of a directory {@link saveModelDir} wrote (model.json and the files it lists), else null. */
function ownEntries(dir: string): string[] | null {
  try {
    if (!lstatSync(join(dir, 'model.json')).isFile()) return null; // never read a FIFO: it would block
    const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Partial<ModelManifest>;
    if (m.format !== 1 || !Array.isArray(m.weights) || !Array.isArray(m.arrays)) return null;
    return ['model.json', ...m.weights.map((w) => w.file), ...m.arrays.map((a) => a.file)];
  } catch {
    return null;
  }
}

/** Reads `model.json` of a model directory, checking the model type. */
export async function readManifest(dir: string, expectedModel: string): Promise<ModelManifest> {
  const path = join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read model manifest (${(e as Error).message})`);
  }
  const m = JSON.parse(text) as ModelManifest;
  if (m.model !== expectedModel) throw new Error(`${path}: field "model" is "${m.model}", expected "${expectedModel}"`);
  if (m.format !== 1) throw new Error(`${path}: field "format" is ${String(m.format)}, expected 1`);
  return m;
}

/** Fills `params` (matched by name and shape) from the directory's weight files. */
export async function loadParams(dir: string, manifest: ModelManifest, params: Param[]): Promise<void> {
  const byName = new Map(manifest.weights.map((w) => [w.name, w]));
  for (const p of params) {
    const w = byName.get(p.name);
    if (!w) throw new Error(`${join(dir, 'model.json')}: field "weights" has no entry "${p.name}"`);
    if (w.rows !== p.rows || w.cols !== p.cols) {
      throw new Error(`${join(dir, 'model.json')}: weight "${p.name}" is ${w.rows}×${w.cols}, model expects ${p.rows}×${p.cols}`);
    }
    const buf = await readFile(join(dir, w.file));
    if (buf.byteLength !== p.size * 4) throw new Error(`${join(dir, w.file)}: ${buf.byteLength} bytes, expected ${p.size * 4}`);
    p.value.set(new Float32Array(buf.buffer, buf.byteOffset, p.size));
  }
}

/** Reads an extra array saved with {@link saveModelDir}. */
export async function loadArray(dir: string, manifest: ModelManifest, name: string): Promise<StoredArray> {
  const a = manifest.arrays.find((x) => x.name === name);
  if (!a) throw new Error(`${join(dir, 'model.json')}: field "arrays" has no entry "${name}"`);
  const buf = await readFile(join(dir, a.file));
  const copy = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const out = a.type === 'f32' ? new Float32Array(copy) : a.type === 'i32' ? new Int32Array(copy) : new Float64Array(copy);
  if (out.length !== a.length) throw new Error(`${join(dir, a.file)}: ${out.length} values, expected ${a.length}`);
  return out;
}

function bytesOf(a: StoredArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
