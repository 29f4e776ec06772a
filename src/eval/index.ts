/** The evaluation layer: splits, metrics, statistics, protocols, the experiment runner and hyperparameter search. */
export * from './splits.js';
export * from './metrics.js';
export * from './factorized-topk.js';
export * from './stats.js';
export * from './evaluate.js';
export * from './config.js';
export * from './experiment.js';
export * from './format.js';
export * from './search.js';
export * from './synthetic.js';
// The seeded generator is core's Rng (re-exported at the package root).
