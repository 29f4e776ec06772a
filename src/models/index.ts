/**
 * The model layer: the contract, the registry, loading, and every built-in model registered on import (one
 * line per model type below; a skeleton model's module exports its `defineModel(...)` record).
 */
import { registerModel } from './registry.js';
import { popularityModel } from './baselines/popularity.js';
import { randomModel } from './baselines/random.js';
import { ratingBaselineModels } from './baselines/rating-baselines.js';
import { alsModel } from './factorization/als.js';
import { biasedMfModel } from './factorization/biased-mf.js';
import { bprModel } from './factorization/bpr.js';
import { ialsModel } from './factorization/ials.js';
import { pureSvdModel } from './factorization/pure-svd.js';
import { sparkAlsModel } from './factorization/spark-als.js';
import { svdppModel } from './factorization/svdpp.js';
import { easeModel } from './neighbors/ease.js';
import { itemKnnModel } from './neighbors/item-knn.js';
import { knnBaselineModel } from './neighbors/knn-baseline.js';
import { deepAutoEncoderModel, multDaeModel, multVaeModel } from './neural/autoencoder.js';
import { rankingModel } from './neural/ranking.js';
import { twoTowerModel } from './neural/two-tower.js';
import { contentModel } from './hybrid/content.js';
import { itemPriorModel } from './hybrid/item-prior.js';
import { hybridModel } from './hybrid/hybrid.js';
import { socialModel } from './hybrid/social.js';
import { lightFmModel } from './hybrid/lightfm.js';
import { ratingBlendModel } from './hybrid/rating-blend.js';

export * from './contract.js';
export { createModel, defineModel, modelEntries, modelEntry, registerModel, type ModelDefinition, type RegisteredModel } from './registry.js';
export { loadModel, openModel, type OpenedModel } from './load.js';
export { SkeletonModel, StateReader, type RowBatch, type StoredState } from './skeleton.js';
export { modelCatalog, type ModelInfo, type ParamInfo } from './catalog.js';

for (const m of [
  popularityModel, randomModel, ...ratingBaselineModels, alsModel, biasedMfModel, bprModel, ialsModel, pureSvdModel, easeModel, itemKnnModel,
  deepAutoEncoderModel, multDaeModel, multVaeModel, twoTowerModel, rankingModel,
]) registerModel(m);
for (const m of [svdppModel, knnBaselineModel, ratingBlendModel]) registerModel(m);
for (const m of [contentModel, itemPriorModel, hybridModel, socialModel, lightFmModel]) registerModel(m);
registerModel(sparkAlsModel); // fitted by Spark (sparkjob/, floor 1); loads without it
