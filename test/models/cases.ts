/**
 * Every registered model with small, fast hyperparameters (some with extra configurations), for the contract
 * suite and the persistence tests. The contract suite fails when a registered model has no case here.
 */
import { createModel } from '../../src/models/index.js';
import type { ModelFeatures, Recommender } from '../../src/models/contract.js';
import { itemFeatureFixture, socialFixture } from './hybrid/feature-fixture.js';

/** One configuration of a registered model. */
export interface ModelCase {
  /** Test label (the model name, or name + variant). */
  label: string;
  /** Registry name. */
  model: string;
  params: Record<string, unknown>;
  /** Item features the model is given before fit (feature-only models need them). */
  features?: ModelFeatures;
}

const ae = { hidden: [8, 4], epochs: 2, batchSize: 8 };

/** The cases, one or more per registered model. */
export const CASES: ModelCase[] = [
  { label: 'popularity', model: 'popularity', params: {} },
  { label: 'random', model: 'random', params: { seed: 3 } },
  { label: 'rating-uniform', model: 'rating-uniform', params: {} },
  { label: 'rating-sampled', model: 'rating-sampled', params: {} },
  { label: 'rating-majority', model: 'rating-majority', params: {} },
  { label: 'global-mean', model: 'global-mean', params: {} },
  { label: 'biases', model: 'biases', params: {} },
  { label: 'ials', model: 'ials', params: { factors: 4, iterations: 3 } },
  { label: 'ials-cholesky-log', model: 'ials', params: { factors: 4, iterations: 3, solver: 'cholesky', confidence: 'log', regExponent: 0.5, unobservedWeight: 0.5 } },
  { label: 'als', model: 'als', params: { factors: 4, iterations: 3 } },
  { label: 'spark-als', model: 'spark-als', params: { implicitPrefs: true, rank: 4, maxIter: 3 } },
  { label: 'bpr', model: 'bpr', params: { factors: 4, epochs: 3, threads: 1 } },
  { label: 'biased-mf', model: 'biased-mf', params: { factors: 4, epochs: 3 } },
  { label: 'svdpp', model: 'svdpp', params: { factors: 4, epochs: 3 } },
  { label: 'knn-baseline', model: 'knn-baseline', params: { neighbors: 5 } },
  { label: 'knn-baseline-user', model: 'knn-baseline', params: { neighbors: 5, userBased: true, shrinkage: 10 } },
  { label: 'rating-blend', model: 'rating-blend', params: { components: [{ model: 'biased-mf', params: { factors: 4, epochs: 3 } }, { model: 'knn-baseline', params: { neighbors: 5 } }] } },
  { label: 'rating-blend-plain', model: 'rating-blend', params: { components: [{ model: 'svdpp', params: { factors: 4, epochs: 3 } }, { model: 'biases' }], supportFeatures: false, refit: false, clip: false } },
  { label: 'pure-svd', model: 'pure-svd', params: { factors: 3, oversample: 2 } },
  { label: 'ease', model: 'ease', params: { reg: 5 } },
  { label: 'item-knn', model: 'item-knn', params: { neighbors: 5, shrink: 1 } },
  { label: 'item-knn-bm25', model: 'item-knn', params: { neighbors: 5, weighting: 'bm25', binary: false } },
  { label: 'item-knn-tfidf', model: 'item-knn', params: { neighbors: 5, weighting: 'tfidf' } },
  { label: 'deep-autoencoder', model: 'deep-autoencoder', params: ae },
  { label: 'mult-dae', model: 'mult-dae', params: ae },
  { label: 'mult-vae', model: 'mult-vae', params: ae },
  { label: 'mult-vae-early-stopping', model: 'mult-vae', params: { ...ae, epochs: 3, holdout: 0.5, patience: 1, evalK: 3, totalAnnealSteps: 4 } },
  { label: 'two-tower', model: 'two-tower', params: { hidden: [8], dim: 4, idDim: 4, epochs: 2, batchSize: 16 } },
  { label: 'two-tower-dot-no-history', model: 'two-tower', params: { hidden: [], dim: 4, idDim: 4, epochs: 2, batchSize: 16, score: 'dot', historyLength: 0, logQ: false, holdout: 0.5, patience: 1 } },
  { label: 'content', model: 'content', params: {}, features: itemFeatureFixture(15) },
  { label: 'content-neighbors-jaccard', model: 'content', params: { scoring: 'neighbors', similarity: 'jaccard', neighbors: 4, weighting: 'binary' }, features: itemFeatureFixture(15) },
  { label: 'item-prior', model: 'item-prior', params: { pseudoCount: 2 } },
  { label: 'item-prior-daily', model: 'item-prior', params: { source: 'daily', pseudoCount: 5 }, features: itemFeatureFixture(15) },
  { label: 'hybrid', model: 'hybrid', params: { components: [{ model: 'ials', params: { factors: 4, iterations: 3 } }, { model: 'popularity' }], grid: [0, 1, 2], rounds: 1 } },
  {
    label: 'hybrid-switch', model: 'hybrid', features: itemFeatureFixture(15),
    params: { components: [{ model: 'ease', params: { reg: 5 }, label: 'cf' }, { model: 'content' }], normalize: 'rank', weights: [1, 0.5], switch: 'cold-items', coldThreshold: 6 },
  },
  { label: 'social', model: 'social', params: {}, features: { social: socialFixture(20) } },
  { label: 'social-similarity', model: 'social', params: { base: 'ials', baseParams: '{"factors":4,"iterations":3}', friendWeight: 'similarity', values: 'value', symmetric: false }, features: { social: socialFixture(20) } },
  { label: 'lightfm', model: 'lightfm', params: { factors: 4, epochs: 3 } },
  { label: 'lightfm-bpr-features', model: 'lightfm', params: { factors: 4, epochs: 3, loss: 'bpr', textTokens: true }, features: itemFeatureFixture(15) },
  { label: 'mlp-ranker', model: 'mlp-ranker', params: { hidden: [8, 4], epochs: 2, batchSize: 32 } },
  { label: 'mlp-ranker-dropout-no-context', model: 'mlp-ranker', params: { hidden: [8], epochs: 2, batchSize: 32, dropout: 0.3, context: false } },
];

/** A fresh, unfitted model of the case. */
export function make(c: ModelCase): Recommender {
  const m = createModel(c.model, c.params);
  if (c.features) m.setFeatures?.(c.features);
  return m;
}

/** The case of `label`. */
export function caseOf(label: string): ModelCase {
  const c = CASES.find((x) => x.label === label);
  if (!c) throw new Error(`no model case "${label}"`);
  return c;
}

/** Models whose `score` is exactly the ranking score `recommend` returns. */
export const SCORE_IS_RANKING = ['popularity', 'random', 'ials', 'ials-cholesky-log', 'bpr', 'ease', 'item-knn', 'item-knn-bm25', 'item-knn-tfidf', 'pure-svd', 'content', 'content-neighbors-jaccard', 'item-prior', 'item-prior-daily', 'hybrid', 'hybrid-switch', 'social', 'social-similarity', 'lightfm', 'lightfm-bpr-features'];

/**
 * Models whose `score` is not meant to order `recommend`'s list: it draws a random rating (the ranking is by the
 * item term, all equal).
 */
export const SCORE_NOT_ORDERING = ['rating-uniform', 'rating-sampled'];
