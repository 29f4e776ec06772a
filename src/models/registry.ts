/**
 * The model registry: every model type under its name, with its description and hyperparameter schema (the
 * source of `recsys models`, docs/models.md's tables and the CLI's `--param` coercion). A skeleton model is
 * registered with {@link defineModel}; creating and restoring it from a model directory are derived from the
 * definition, so no model writes its own loader.
 */
import { ParamError, type ParamSchema, type ParamShape, type ParamsOf } from '../core/params.js';
import type { Recommender } from './contract.js';
import { join, resolve } from 'node:path';
import { MANIFEST_FILE, readManifest, readSnapshot, type LoadedSnapshot, type ModelManifest } from './persistence.js';

/** A registered model type. */
export interface RegisteredModel {
  /** Registry name, e.g. "popularity", "ials". */
  readonly name: string;
  /** One line for `recsys models` and reports. */
  readonly description: string;
  /** The hyperparameter schema. */
  readonly params: ParamSchema<ParamShape>;
  /** The default hyperparameters (from the schema). */
  readonly defaults: Record<string, unknown>;
  /**
   * Builds an untrained model from hyperparameters: unknown keys, wrong types and values out of range are
   * {@link ParamError}s; command-line strings are coerced to the declared kinds.
   */
  create(params?: Readonly<Record<string, unknown>>): Recommender;
  /** Restores a saved model of this type from `dir` whose manifest `manifest` has been read. */
  restore(dir: string, manifest: ModelManifest): Promise<Recommender>;
  /** Restores a saved model of this type from `dir` (an error when `dir` holds another type). */
  load(dir: string): Promise<Recommender>;
  /** Maps hyperparameters saved by an earlier version onto the current schema (saved models only). */
  readonly upgradeSaved?: (saved: Record<string, unknown>) => Record<string, unknown>;
}

/** What the registry needs of a skeleton model to restore it (see `SkeletonModel.restore`). */
export interface RestorableModel extends Recommender {
  restore(saved: LoadedSnapshot): Promise<Recommender>;
}

/** A model type on the skeleton: name, description, hyperparameter schema and a constructor of typed params. */
export interface ModelDefinition<S extends ParamShape, M extends RestorableModel = RestorableModel> {
  name: string;
  description: string;
  params: ParamSchema<S>;
  /** Builds an untrained model from validated, typed hyperparameters. */
  create(params: ParamsOf<ParamSchema<S>>): M;
  /**
   * Loads what a saved model keeps in sub-directories of its model directory (a hybrid's components, a social
   * model's base model) before its own state is restored.
   */
  restoreParts?(model: M, dir: string): Promise<void>;
  /**
   * Maps hyperparameters saved by an earlier version of the model onto the schema (e.g. drops keys that no
   * longer apply to it); applied only when a saved model is restored, never to user input.
   */
  upgradeSaved?(saved: Record<string, unknown>): Record<string, unknown>;
}

/** A registry record for a skeleton model type; pass it to {@link registerModel}. */
export function defineModel<S extends ParamShape, M extends RestorableModel>(def: ModelDefinition<S, M>): RegisteredModel {
  const create = (raw: Readonly<Record<string, unknown>> = {}): M => def.create(def.params.parse(def.name, raw));
  const restore = async (dir: string, manifest: ModelManifest): Promise<Recommender> => {
    const saved = await readSnapshot(dir, manifest);
    let model: M;
    try {
      model = create(def.upgradeSaved ? def.upgradeSaved(manifest.hyperparameters) : manifest.hyperparameters);
    } catch (e) {
      if (e instanceof ParamError) throw new Error(`${saved.file}: field "hyperparameters": ${e.message}`);
      throw e;
    }
    if (def.restoreParts) await def.restoreParts(model, dir);
    return model.restore(saved);
  };
  return {
    name: def.name,
    description: def.description,
    params: def.params,
    defaults: def.params.defaults(),
    create,
    restore,
    ...(def.upgradeSaved ? { upgradeSaved: def.upgradeSaved } : {}),
    load: async (dir) => {
      const manifest = await readManifest(dir);
      if (manifest.modelType !== def.name) throw new Error(`${join(resolve(dir), MANIFEST_FILE)}: holds a "${manifest.modelType}" model, not "${def.name}"`);
      return restore(dir, manifest);
    },
  };
}

const entries = new Map<string, RegisteredModel>();

/** Adds a model type; throws if the name is taken. */
export function registerModel(model: RegisteredModel): void {
  if (entries.has(model.name)) throw new Error(`model "${model.name}" is registered twice`);
  entries.set(model.name, model);
}

/** The registered model `name`; throws listing the known names when unknown. */
export function modelEntry(name: string): RegisteredModel {
  const e = entries.get(name);
  if (!e) throw new Error(`unknown model "${name}"; known: ${[...entries.keys()].sort().join(', ')}`);
  return e;
}

/** All registered model types, sorted by name. */
export function modelEntries(): RegisteredModel[] {
  return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Builds an untrained model of type `name` (hyperparameters checked and coerced by its schema). */
export function createModel(name: string, params: Readonly<Record<string, unknown>> = {}): Recommender {
  return modelEntry(name).create(params);
}
