/**
 * One Spark ALS fit for `recsys spark als`: the factors (see sparkjob/fit.ts) become a staged recsys model of
 * type ials or als (see import.ts). The work directory is the caller's (a fresh temporary directory, removed
 * afterwards); on a cluster master it must be on a file system the executors share.
 */
import { join } from 'node:path';
import type { OpenedModel } from '../models/index.js';
import { fitAlsFactors, type AlsJobOptions } from '../sparkjob/fit.js';
import type { JobOutcome } from '../sparkjob/job.js';
import { stageFactors } from './import.js';

/** What {@link fitOnSpark} needs. */
export interface SparkFitOptions extends AlsJobOptions {
  provenance?: Record<string, unknown>;
}

/** What {@link fitOnSpark} produced: the staged, opened model (at `staged`) and the job's report. */
export interface SparkFit {
  opened: OpenedModel;
  staged: string;
  outcome: JobOutcome;
}

/** Fits Spark ALS on `train` and stages the imported model in the work directory; see the module comment. */
export async function fitOnSpark(o: SparkFitOptions): Promise<SparkFit> {
  const fit = await fitAlsFactors(o);
  const { outcome } = fit;
  const staged = join(o.workDir, 'model');
  const provenance = { ...o.provenance, spark: { master: o.master, sparkVersion: outcome.sparkVersion, params: { ...o.params }, seconds: outcome.seconds, fitSeconds: outcome.result.fitSeconds } };
  const opened = await stageFactors(staged, { factors: fit, train: o.train, params: o.params, provenance });
  return { opened, staged, outcome };
}
