/**
 * Imports the factors a Spark ALS job wrote as a recsys model directory of type `ials` (implicit) or `als`
 * (explicit), in the format those models save (docs/model-format.md): the training matrix recsys handed to
 * Spark, its external ids, the factors, and for `als` the bias fallback of cold pairs (fitted here, as `als`
 * fits it). The directory is first written to a staging path and opened with `openModel`, so it passes every
 * check a saved model passes; only then is it copied into place atomically (nothing half-written).
 */
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomic, type OutputDirOptions } from '../core/safe-write.js';
import type { Interactions } from '../data/interactions.js';
import { fitBiases } from '../models/baselines/biases.js';
import { openModel, type OpenedModel } from '../models/index.js';
import { saveTrainedModel, type ShapedArray } from '../models/persistence.js';
import { readFactorsParquet } from './parquet.js';
import { recsysModelFor, type SparkAlsParams } from './params.js';

/** What {@link stageSparkModel} needs. */
export interface SparkModelParts {
  /** The job's output directory (holding userFactors/ and itemFactors/). */
  jobOutput: string;
  /** The training matrix that was written for Spark (its indices are the factor tables' ids). */
  train: Interactions;
  params: SparkAlsParams;
  provenance: Record<string, unknown>;
}

/** Writes the imported model to `staging` (a new path) and opens it; throws naming the file at fault. */
export async function stageSparkModel(staging: string, parts: SparkModelParts): Promise<OpenedModel> {
  const { train, params } = parts;
  const f = params.rank;
  const user = await readFactorsParquet(join(parts.jobOutput, 'userFactors'), 'userFactors', train.nUsers, f);
  const item = await readFactorsParquet(join(parts.jobOutput, 'itemFactors'), 'itemFactors', train.nItems, f);
  const { modelType, hyperparameters } = recsysModelFor(params);
  const arrays: Record<string, ShapedArray> = { userFactors: { data: user, shape: [train.nUsers, f] }, itemFactors: { data: item, shape: [train.nItems, f] } };
  const state: Record<string, unknown> = { factors: f };
  if (modelType === 'als') {
    const b = fitBiases(train, params.regParam, params.regParam, 5);
    state.globalMean = b.globalMean;
    arrays.userBias = { data: b.userBias, shape: [b.userBias.length] };
    arrays.biasItem = { data: b.itemBias, shape: [b.itemBias.length] };
  }
  await saveTrainedModel(staging, { modelType, hyperparameters, train, state, arrays, provenance: parts.provenance });
  return openModel(staging);
}

/** Copies a staged model directory to `out` atomically, under the output rules `guard` states. */
export async function publishModelDir(staging: string, out: string, guard: OutputDirOptions): Promise<string> {
  return writeDirAtomic(out, async (tmp) => {
    for (const name of readdirSync(staging)) copyFileSync(join(staging, name), join(tmp, name));
  }, guard);
}
