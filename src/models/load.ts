/** Restoring any saved model by its type: reads model.json and dispatches to the registry entry's `load`. */
import { join } from 'node:path';
import { checkManifestFile, entryFor } from './model-dir-check.js';
import type { Recommender } from './recommender.js';
import { modelEntry } from './registry.js';

/**
 * Loads the model saved in `dir`, whatever its type (import `src/models/index.js` first so that every
 * built-in model is registered). model.json is checked first (model-dir-check.ts): errors name the file.
 */
export async function loadModel(dir: string): Promise<Recommender> {
  const file = join(dir, 'model.json');
  const m = await checkManifestFile(dir);
  const entry = entryFor(file, m.modelType, m.hyperparameters, modelEntry);
  if (!entry.load) throw new Error(`${file}: model type "${m.modelType}" cannot be loaded (its registry entry has no load)`);
  return entry.load(dir);
}
