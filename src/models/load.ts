/** Restoring any saved model by its type: reads `model.json` once and dispatches through the registry. */
import { join, resolve } from 'node:path';
import type { Recommender } from './contract.js';
import { MANIFEST_FILE, readManifest, type ModelManifest } from './persistence.js';
import { modelEntry } from './registry.js';

/** A restored model with the manifest it was restored from (ids, provenance). */
export interface OpenedModel {
  model: Recommender;
  manifest: ModelManifest;
}

/**
 * Loads the model saved in `dir`, whatever its type, with its manifest (import `src/models/index.js` first so
 * that every built-in model is registered).
 */
export async function openModel(dir: string): Promise<OpenedModel> {
  const manifest = await readManifest(dir);
  let entry;
  try {
    entry = modelEntry(manifest.modelType);
  } catch (e) {
    throw new Error(`${join(resolve(dir), MANIFEST_FILE)}: field "modelType": ${e instanceof Error ? e.message : String(e)}`);
  }
  return { model: await entry.restore(dir, manifest), manifest };
}

/** Loads the model saved in `dir`, whatever its type (see {@link openModel}). */
export async function loadModel(dir: string): Promise<Recommender> {
  return (await openModel(dir)).model;
}
