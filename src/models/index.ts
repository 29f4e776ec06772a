/**
 * All built-in models, registered in the model registry on import. Each model module exports its class and a
 * `ModelEntry` named `<something>Entry`; add one `registerModel(...)` line per model below.
 */
import { registerModel } from './registry.js';

export { registerModel, modelEntry, modelEntries, createModel } from './registry.js';
export type { ModelEntry } from './registry.js';
export * from './recommender.js';

// Registrations (one line each, keep sorted by file):
void registerModel;
import { popularityEntry } from './popularity.js';
registerModel(popularityEntry);
import { randomEntry } from './random.js';
registerModel(randomEntry);
import { deepAutoEncoderEntry, multDaeEntry, multVaeEntry } from './neural/autoencoder.js';
registerModel(deepAutoEncoderEntry); registerModel(multDaeEntry); registerModel(multVaeEntry);
import { twoTowerEntry } from './neural/two-tower.js';
registerModel(twoTowerEntry);
import { rankingEntry } from './neural/ranking.js';
registerModel(rankingEntry);
import { alsEntry } from './als.js'; import { biasedMfEntry } from './biased-mf.js'; import { bprEntry } from './bpr.js'; import { easeEntry } from './ease.js'; import { ialsEntry } from './ials.js'; import { itemKnnEntry } from './item-knn.js'; import { pureSvdEntry } from './pure-svd.js'; import { ratingBaselineEntries } from './rating-baselines.js';
for (const e of [alsEntry, biasedMfEntry, bprEntry, easeEntry, ialsEntry, itemKnnEntry, pureSvdEntry, ...ratingBaselineEntries]) registerModel(e);
export { loadModel } from './load.js';
