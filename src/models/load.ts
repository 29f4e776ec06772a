/** Restoring any saved model by its type: reads model.json and dispatches to the registry entry's `load`. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Recommender } from './recommender.js';
import { modelEntry } from './registry.js';

/**
 * Loads the model saved in `dir`, whatever its type (import `src/models/index.js` first so that every
 * built-in model is registered). Reads `modelType` (this folder's format) or `model` (the neural models').
 */
export async function loadModel(dir: string): Promise<Recommender> {
  const file = join(dir, 'model.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read model manifest (${(e as Error).message})`);
  }
  const o = (raw ?? {}) as Record<string, unknown>;
  const type = typeof o.modelType === 'string' ? o.modelType : typeof o.model === 'string' ? o.model : null;
  if (type === null) throw new Error(`${file}: field "modelType" is missing`);
  const entry = modelEntry(type);
  if (!entry.load) throw new Error(`${file}: model type "${type}" cannot be loaded (its registry entry has no load)`);
  return entry.load(dir);
}
