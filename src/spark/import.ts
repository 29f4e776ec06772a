/**
 * Imports the factors a Spark ALS job wrote as a recsys model directory of type `ials` (implicit) or `als`
 * (explicit), in the format those models save (docs/model-format.md): the training matrix recsys handed to
 * Spark, its external ids, the factors, and for `als` the bias fallback of cold pairs (see `sparkAlsSnapshot`,
 * which the `spark-als` model type builds its state with too). The directory is first written to a staging path
 * and opened with `openModel`, so it passes every check a saved model passes; only then is it copied into place
 * atomically (nothing half-written).
 */
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomic, type OutputDirOptions } from '../core/safe-write.js';
import type { Interactions } from '../data/interactions.js';
import { sparkAlsSnapshot } from '../models/factorization/spark-als.js';
import { openModel, type OpenedModel } from '../models/index.js';
import { saveTrainedModel } from '../models/persistence.js';
import { readAlsFactors } from '../sparkjob/fit.js';
import type { SparkAlsParams } from '../sparkjob/params.js';

/** What {@link stageSparkModel} needs. */
export interface SparkModelParts {
  /** The job's output directory (holding userFactors/ and itemFactors/). */
  jobOutput: string;
  /** The training matrix that was written for Spark (its indices are the factor tables' ids). */
  train: Interactions;
  params: SparkAlsParams;
  provenance: Record<string, unknown>;
}

/** Writes factors already read to `staging` (a new path) as an ials/als model and opens it. */
export async function stageFactors(staging: string, parts: Omit<SparkModelParts, 'jobOutput'> & { factors: { user: Float32Array; item: Float32Array } }): Promise<OpenedModel> {
  const { modelType, hyperparameters, state, arrays } = sparkAlsSnapshot(parts.train, parts.params, parts.factors.user, parts.factors.item);
  await saveTrainedModel(staging, { modelType, hyperparameters, train: parts.train, state, arrays, provenance: parts.provenance });
  return openModel(staging);
}

/** Reads the job's factor tables, writes the imported model to `staging` (a new path) and opens it; throws naming the file at fault. */
export async function stageSparkModel(staging: string, parts: SparkModelParts): Promise<OpenedModel> {
  const factors = await readAlsFactors(parts.jobOutput, parts.train, parts.params.rank);
  return stageFactors(staging, { ...parts, factors });
}

/** Copies a staged model directory to `out` atomically, under the output rules `guard` states. */
export async function publishModelDir(staging: string, out: string, guard: OutputDirOptions): Promise<string> {
  return writeDirAtomic(out, async (tmp) => {
    for (const name of readdirSync(staging)) copyFileSync(join(staging, name), join(tmp, name));
  }, guard);
}
