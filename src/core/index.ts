/** The ground floor: progress and abort, the seeded generator, the hyperparameter schema. Imports nothing. */
export * from './params.js';
export * from './progress.js';
export * from './rng.js';
