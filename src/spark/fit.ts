/**
 * One Spark ALS fit: the interactions go to Parquet (DuckDB) in a work directory, the job fits ALS on them and
 * writes the factors there, and the factors become a staged recsys model (see import.ts). The work directory
 * is the caller's (a fresh temporary directory, removed afterwards); on a cluster master it must be on a file
 * system the executors share.
 */
import { join } from 'node:path';
import type { Progress } from '../core/progress.js';
import type { Interactions } from '../data/interactions.js';
import type { OpenedModel } from '../models/index.js';
import { stageSparkModel } from './import.js';
import { runJob, type JobOutcome, type RunJobOptions } from './job.js';
import { writeInteractionsParquet } from './parquet.js';
import type { SparkAlsParams } from './params.js';

/** What {@link fitOnSpark} needs. */
export interface SparkFitOptions extends Omit<RunJobOptions, 'onProgress'> {
  train: Interactions;
  params: SparkAlsParams;
  master: string;
  conf: Record<string, string>;
  /** An existing empty directory for the Parquet files, the job spec and the staged model. */
  workDir: string;
  provenance?: Record<string, unknown>;
  onProgress?: (p: Progress) => void;
}

/** What {@link fitOnSpark} produced: the staged, opened model (at `staged`) and the job's report. */
export interface SparkFit {
  opened: OpenedModel;
  staged: string;
  outcome: JobOutcome;
}

/** Fits Spark ALS on `train` and stages the imported model in the work directory; see the module comment. */
export async function fitOnSpark(o: SparkFitOptions): Promise<SparkFit> {
  const input = join(o.workDir, 'interactions.parquet');
  o.onProgress?.({ phase: 'writing Parquet', done: 0, total: 1 });
  await writeInteractionsParquet(o.train, input);
  o.onProgress?.({ phase: 'writing Parquet', done: 1, total: 1 });
  const output = join(o.workDir, 'job-output');
  const outcome = await runJob(
    { mode: 'fit', master: o.master, appName: 'recsys spark als', conf: o.conf, input, output, als: { ...o.params } },
    join(o.workDir, 'spec.json'),
    o,
  );
  const staged = join(o.workDir, 'model');
  const provenance = { ...o.provenance, spark: { master: o.master, sparkVersion: outcome.sparkVersion, params: { ...o.params }, seconds: outcome.seconds, fitSeconds: outcome.result.fitSeconds } };
  const opened = await stageSparkModel(staged, { jobOutput: output, train: o.train, params: o.params, provenance });
  return { opened, staged, outcome };
}
