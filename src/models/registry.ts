import type { Recommender } from './recommender.js';

/** How to build and restore one model type. */
export interface ModelEntry {
  /** Registry name, e.g. "popularity", "ials". */
  name: string;
  /** One line for `--help` and reports. */
  description: string;
  /** Builds an untrained model from hyperparameters (unknown keys are an error). */
  create: (params: Record<string, unknown>) => Recommender;
  /** Restores a saved model from `dir`, when the model supports persistence. */
  load?: (dir: string) => Promise<Recommender>;
  /** Default hyperparameters, shown by `recsys models`. */
  defaults: Record<string, unknown>;
}

const entries = new Map<string, ModelEntry>();

/** Adds a model type; throws if the name is taken. */
export function registerModel(entry: ModelEntry): void {
  if (entries.has(entry.name)) throw new Error(`model "${entry.name}" is registered twice`);
  entries.set(entry.name, entry);
}

/** The entry for `name`; throws listing the known names when unknown. */
export function modelEntry(name: string): ModelEntry {
  const e = entries.get(name);
  if (!e) throw new Error(`unknown model "${name}"; known: ${[...entries.keys()].sort().join(', ')}`);
  return e;
}

/** All registered model types. */
export function modelEntries(): ModelEntry[] {
  return [...entries.values()];
}

/** Builds an untrained model of type `name`. */
export function createModel(name: string, params: Record<string, unknown> = {}): Recommender {
  return modelEntry(name).create(params);
}
