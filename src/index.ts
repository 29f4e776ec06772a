/**
 * recsys — the library's public API. The layers (see docs/architecture.md):
 * data (loading, Interactions, features), linalg (kernels), nn (training core), models (Recommender and the
 * registry of built-in models), eval (splits, metrics, experiments, search), report (EDA and HTML).
 */
export * from './core/index.js';
export * from './data/index.js';
export * from './linalg/index.js';
export * from './models/index.js';
export * from './eval/index.js';
// Both data and eval export applyFilters; the data layer's (which keeps event columns aligned) is the public one.
export { applyFilters } from './data/index.js';
export * as nn from './nn/index.js';
export * as report from './report/index.js';
export * as pipeline from './pipeline/index.js';
