/**
 * What every registered model offers, from the registry and the hyperparameter schemas: the data behind
 * `recsys models` and the parameter tables of docs/models.md.
 */
import type { Bounds, ParamDoc } from '../core/params.js';
import { capabilitiesOf, type Capability } from './contract.js';
import { modelEntries } from './registry.js';

/** One hyperparameter: its documentation row and numeric bounds. */
export interface ParamInfo extends ParamDoc, Bounds {}

/** One registered model type. */
export interface ModelInfo {
  name: string;
  description: string;
  /** What it can do beyond fit and recommend. */
  capabilities: Capability[];
  params: ParamInfo[];
}

/** Every registered model, sorted by name, with its capabilities and hyperparameters in declaration order. */
export function modelCatalog(): ModelInfo[] {
  return modelEntries().map((e) => ({
    name: e.name,
    description: e.description,
    capabilities: capabilitiesOf(e.create({})),
    params: e.params.describe().map((d) => ({ ...d, ...e.params.shape[d.name].range })),
  }));
}
