/**
 * TRANSITIONAL — the registry shape of the models not yet on the skeleton (the neural models in `neural/`),
 * adapted to {@link RegisteredModel}. Such a model parses its own hyperparameters and loads itself; its
 * schema here is derived from its defaults (kinds only: no ranges, choices or meanings) so that `recsys
 * models` can list it. Delete this module when the last model has moved onto the skeleton
 * (docs/model-substrate.md).
 */
import { bool, defineParams, num, numList, str, type ParamShape, type ParamSpec } from '../core/params.js';
import type { Recommender } from './contract.js';
import type { RegisteredModel } from './registry.js';

/** How a not-yet-migrated model is built and restored. */
export interface ModelEntry {
  /** Registry name. */
  name: string;
  /** One line for `recsys models` and reports. */
  description: string;
  /** Builds an untrained model from hyperparameters (the model checks and coerces them itself). */
  create: (params: Record<string, unknown>) => Recommender;
  /** Restores a saved model from `dir` (reads the directory itself). */
  load: (dir: string) => Promise<Recommender>;
  /** Default hyperparameters. */
  defaults: Record<string, unknown>;
}

/** The registry record of a not-yet-migrated model. */
export function legacyModel(e: ModelEntry): RegisteredModel {
  const shape: Record<string, ParamSpec<unknown>> = {};
  for (const [key, d] of Object.entries(e.defaults)) shape[key] = specOf(e.name, key, d);
  const params = defineParams<ParamShape>(shape);
  return {
    name: e.name,
    description: e.description,
    params,
    defaults: params.defaults(),
    create: (raw = {}) => e.create({ ...raw }),
    restore: (dir) => e.load(dir),
    load: (dir) => e.load(dir),
  };
}

function specOf(model: string, key: string, d: unknown): ParamSpec<unknown> {
  if (typeof d === 'number') return num(d);
  if (typeof d === 'boolean') return bool(d);
  if (typeof d === 'string') return str(d);
  if (Array.isArray(d) && d.every((x) => typeof x === 'number')) return numList(d);
  throw new Error(`${model}: default of "${key}" has no parameter kind (${JSON.stringify(d)})`);
}
