/**
 * Spark ALS hyperparameters (pyspark.ml.recommendation.ALS names and defaults) and their mapping onto the
 * recsys model an imported result becomes:
 *
 * - `implicitPrefs=true` → `ials` with confidence 1 + α·r (linear), exact Cholesky half steps and λ scaled by each
 *   row's interaction count (`regExponent` 1): Spark's implicit ALS solves each user's (item's) least squares
 *   with `regParam · n_u` where n_u counts the positive ratings, and the full YᵀY Gram (unobserved weight 1).
 * - `implicitPrefs=false` → `als` with `scaleByCount` (ALS-WR, λ·n_u, as Spark's explicit ALS) and cold pairs
 *   predicted as NaN (Spark's coldStartStrategy; recsys's `coldStart: drop`).
 *
 * The initial factors differ (Spark: unit-norm Gaussian rows per block; recsys: N(0, (initScale/√f)²)), so two fits
 * with the same parameters reach nearby, not identical, solutions.
 */
import { bool, defineParams, int, num, oneOf, type ParamsOf } from '../core/params.js';

/** Hyperparameters of a Spark ALS fit (Spark's names; defaults as in Spark except `seed`). */
export const SPARK_ALS_PARAMS = defineParams({
  rank: int(10, { min: 1, doc: 'latent dimensions' }),
  maxIter: int(10, { min: 0, doc: 'alternating rounds' }),
  regParam: num(0.1, { min: 0, doc: 'λ, scaled by each row\'s rating count (ALS-WR)' }),
  implicitPrefs: bool(false, { doc: 'implicit feedback (confidence 1 + α·r) instead of explicit ratings' }),
  alpha: num(1, { min: 0, doc: 'confidence scale α of implicit feedback' }),
  nonnegative: bool(false, { doc: 'non-negative least squares (no recsys counterpart: the imported factors are used as they are)' }),
  coldStartStrategy: oneOf(['nan', 'drop'], 'nan', { doc: 'Spark\'s prediction for users/items unseen in training: NaN or dropped rows' }),
  numBlocks: int(2, { min: 1, doc: 'user and item blocks (partitions) of the ALS data' }),
  checkpointInterval: int(10, { min: -1, doc: 'iterations between checkpoints (-1: never; needs a checkpoint directory)' }),
  seed: int(42, { doc: 'seed of Spark\'s random initial factors' }),
});

/** Typed Spark ALS hyperparameters. */
export type SparkAlsParams = ParamsOf<typeof SPARK_ALS_PARAMS>;

/** The recsys model type and hyperparameters that hold the factors of a Spark ALS fit. */
export function recsysModelFor(p: SparkAlsParams): { modelType: 'ials' | 'als'; hyperparameters: Record<string, unknown> } {
  if (p.implicitPrefs) {
    return {
      modelType: 'ials',
      hyperparameters: { factors: p.rank, iterations: p.maxIter, reg: p.regParam, alpha: p.alpha, confidence: 'linear', solver: 'cholesky', regExponent: 1, unobservedWeight: 1, seed: p.seed },
    };
  }
  return { modelType: 'als', hyperparameters: { factors: p.rank, iterations: p.maxIter, reg: p.regParam, scaleByCount: true, coldStart: 'drop', seed: p.seed } };
}

/** recsys hyperparameter names of `ials`/`als` that a Spark search can set, with their Spark name. */
export const SEARCHABLE: Readonly<Record<string, keyof SparkAlsParams>> = { factors: 'rank', iterations: 'maxIter', reg: 'regParam', alpha: 'alpha', seed: 'seed' };

/** The values each recsys model's hyperparameters must keep on Spark (what Spark's ALS always does). */
const FIXED_ON_SPARK: Record<'ials' | 'als', Record<string, unknown>> = {
  ials: { confidence: 'linear', solver: 'cholesky', regExponent: 1, unobservedWeight: 1 },
  als: { scaleByCount: true },
};

/**
 * Spark ALS parameters for a trial of a recsys search over `model` (ials or als): searchable names are
 * renamed; keys Spark's ALS has no counterpart for throw, naming the key (the caller adds where it came from).
 */
export function sparkParamsForTrial(model: string, params: Record<string, unknown>): SparkAlsParams {
  if (model !== 'ials' && model !== 'als') throw new Error(`model "${model}" has no Spark counterpart; a Spark search tunes ials (implicitPrefs) or als (explicit ratings)`);
  const raw: Record<string, unknown> = { implicitPrefs: model === 'ials' };
  for (const [key, value] of Object.entries(params)) {
    const spark = SEARCHABLE[key];
    if (spark) {
      raw[spark] = value;
      continue;
    }
    const fixed = FIXED_ON_SPARK[model][key];
    if (fixed !== undefined && value === fixed) continue;
    const allowed = [...Object.keys(SEARCHABLE), ...Object.entries(FIXED_ON_SPARK[model]).map(([k, v]) => `${k}=${String(v)}`)].join(', ');
    throw new Error(`"${key}: ${JSON.stringify(value)}" cannot be run on Spark's ALS (it takes ${allowed})`);
  }
  return SPARK_ALS_PARAMS.parse('spark', raw);
}
