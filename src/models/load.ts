/** Restoring any saved model by its type: reads `model.json` once and dispatches through the registry. */
import { join, resolve } from 'node:path';
import type { Recommender } from './contract.js';
import { checkModelDir, entryFor } from './model-dir-check.js';
import { MANIFEST_FILE, readManifest, type ModelManifest } from './persistence.js';
import { modelEntry } from './registry.js';

/** A restored model with the manifest it was restored from (ids, provenance). */
export interface OpenedModel {
  model: Recommender;
  manifest: ModelManifest;
}

/**
 * Loads the model saved in `dir`, whatever its type, with its manifest (import `src/models/index.js` first so
 * that every built-in model is registered). The directory is checked first (model-dir-check.ts: every field,
 * id list, array file and stored matrix), so a damaged model is refused with the file at fault named.
 */
export async function openModel(dir: string): Promise<OpenedModel> {
  const root = resolve(dir);
  const checked = await checkModelDir(root);
  const entry = entryFor(join(root, MANIFEST_FILE), checked.modelType, checked.hyperparameters, modelEntry);
  const manifest = await readManifest(root);
  return { model: await entry.restore(root, manifest), manifest };
}

/** Loads the model saved in `dir`, whatever its type (see {@link openModel}). */
export async function loadModel(dir: string): Promise<Recommender> {
  return (await openModel(dir)).model;
}
