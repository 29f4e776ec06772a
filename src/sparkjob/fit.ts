/**
 * One ALS fit on Spark, from a training matrix to its factors: the interactions go to Parquet (DuckDB) in a work
 * directory, the job (spark/als_job.py, mode `fit`) fits pyspark.ml ALS on them and writes the factor tables
 * there, and the tables are read back into row-major matrices in the training matrix's index space. The work
 * directory is the caller's (an existing empty directory); on a cluster master it must be on a file system the
 * executors share. Both `recsys spark als` and the `spark-als` model type fit through here.
 */
import { join } from 'node:path';
import type { Progress } from '../core/progress.js';
import type { Interactions } from '../data/interactions.js';
import { runJob, type JobOutcome, type RunJobOptions } from './job.js';
import { readFactorsParquet, writeInteractionsParquet } from './parquet.js';
import type { SparkAlsParams } from './params.js';

/** What {@link fitAlsFactors} needs. */
export interface AlsJobOptions extends Omit<RunJobOptions, 'onProgress'> {
  train: Interactions;
  params: SparkAlsParams;
  master: string;
  conf: Record<string, string>;
  /** An existing empty directory for the Parquet files, the job spec and the job's output. */
  workDir: string;
  /** Spark's application name (shown in its UI and logs). */
  appName?: string;
  onProgress?: (p: Progress) => void;
}

/** The factors of a fit (users × rank and items × rank, row-major; rows without interactions 0) and the job's report. */
export interface AlsFactors {
  user: Float32Array;
  item: Float32Array;
  outcome: JobOutcome;
  /** The job's output directory (userFactors/, itemFactors/, result.json). */
  jobOutput: string;
}

/** Reads the factor tables a fit or search job wrote to `jobOutput`, for the users and items of `train`. */
export async function readAlsFactors(jobOutput: string, train: Interactions, rank: number): Promise<{ user: Float32Array; item: Float32Array }> {
  const user = await readFactorsParquet(join(jobOutput, 'userFactors'), 'userFactors', train.nUsers, rank);
  const item = await readFactorsParquet(join(jobOutput, 'itemFactors'), 'itemFactors', train.nItems, rank);
  return { user, item };
}

/** Fits Spark ALS on `train`; see the module comment. Aborting `signal` cancels the Spark job (AbortError). */
export async function fitAlsFactors(o: AlsJobOptions): Promise<AlsFactors> {
  const input = join(o.workDir, 'interactions.parquet');
  o.onProgress?.({ phase: 'writing Parquet', done: 0, total: 1 });
  await writeInteractionsParquet(o.train, input);
  o.onProgress?.({ phase: 'writing Parquet', done: 1, total: 1 });
  const jobOutput = join(o.workDir, 'job-output');
  const outcome = await runJob(
    { mode: 'fit', master: o.master, appName: o.appName ?? 'recsys spark als', conf: o.conf, input, output: jobOutput, als: { ...o.params } },
    join(o.workDir, 'spec.json'),
    o,
  );
  return { ...(await readAlsFactors(jobOutput, o.train, o.params.rank)), outcome, jobOutput };
}
