/** The models of this folder with small, fast hyperparameters, for the shared contract tests. */
import { AlsRecommender } from '../../src/models/als.js';
import { BiasedMfRecommender } from '../../src/models/biased-mf.js';
import { BprRecommender } from '../../src/models/bpr.js';
import { EaseRecommender } from '../../src/models/ease.js';
import { IalsRecommender } from '../../src/models/ials.js';
import { ItemKnnRecommender } from '../../src/models/item-knn.js';
import { PureSvdRecommender } from '../../src/models/pure-svd.js';
import { RatingBaselineRecommender, type RatingBaselineKind } from '../../src/models/rating-baselines.js';
import type { TrainedRecommender } from '../../src/models/base.js';

/** Name → factory of a freshly constructed small model. */
export const SMALL_MODELS: Record<string, () => TrainedRecommender> = {
  ials: () => new IalsRecommender({ factors: 4, iterations: 3 }),
  'ials-cholesky-log': () => new IalsRecommender({ factors: 4, iterations: 3, solver: 'cholesky', confidence: 'log', regExponent: 0.5, unobservedWeight: 0.5 }),
  als: () => new AlsRecommender({ factors: 4, iterations: 3 }),
  bpr: () => new BprRecommender({ factors: 4, epochs: 3, threads: 1 }),
  'biased-mf': () => new BiasedMfRecommender({ factors: 4, epochs: 3 }),
  ease: () => new EaseRecommender({ reg: 5 }),
  'item-knn': () => new ItemKnnRecommender({ neighbors: 5, shrink: 1 }),
  'item-knn-bm25': () => new ItemKnnRecommender({ neighbors: 5, weighting: 'bm25', binary: false }),
  'item-knn-tfidf': () => new ItemKnnRecommender({ neighbors: 5, weighting: 'tfidf' }),
  'pure-svd': () => new PureSvdRecommender({ factors: 3, oversample: 2 }),
  ...Object.fromEntries((['uniform', 'sampled', 'majority', 'mean', 'biases'] as RatingBaselineKind[]).map((k) => [`rating-${k}`, () => new RatingBaselineRecommender(k)])),
};

/** Models whose `score` is exactly the ranking score used by `recommend`. */
export const SCORE_IS_RANKING = ['ials', 'ials-cholesky-log', 'bpr', 'ease', 'item-knn', 'item-knn-bm25', 'item-knn-tfidf', 'pure-svd'];
