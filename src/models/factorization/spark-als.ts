/**
 * `spark-als`: ALS fitted by Apache Spark (pyspark.ml.recommendation.ALS), usable wherever a model type is —
 * `recsys train`, an experiment's models (fitted on each split's training part, so it is evaluated like any
 * other), a search. `fit` writes the training interactions as Parquet, runs the PySpark job (spark/als_job.py)
 * on `master` and imports the factors; from then on the model is the recsys model Spark's parameters map to
 * (sparkjob/params.ts): `ials` for `implicitPrefs`, `als` (ALS-WR, cold pairs NaN) otherwise, and it scores,
 * recommends, folds in and saves exactly as that model does. A saved `spark-als` holds the same arrays as the
 * ials/als directory `recsys spark als` writes, under its own type and Spark's hyperparameters; loading it
 * needs neither Python nor Java. Without them, `fit` fails with a SparkUnavailableError saying what to install.
 * `RECSYS_PYTHON` picks the Python; `RECSYS_SPARK_SUBMIT` (a spark-submit path) runs the job through it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defineParams, int, ParamError, str, type ParamsOf } from '../../core/params.js';
import { throwIfAborted, type FitOptions } from '../../core/progress.js';
import type { Interactions } from '../../data/interactions.js';
import { checkSparkEnvironment } from '../../sparkjob/environment.js';
import { sparkConf } from '../../sparkjob/job.js';
import { recsysModelFor, SPARK_ALS_PARAMS, type SparkAlsParams } from '../../sparkjob/params.js';
import { fitBiases } from '../baselines/biases.js';
import type { History, HistoryOptions, RecommendOptions, Recommender, TopK } from '../contract.js';
import { loadSnapshot, saveTrainedModel, type LoadedSnapshot, type ShapedArray } from '../persistence.js';
import { defineModel } from '../registry.js';
import { AlsRecommender } from './als.js';
import { IalsRecommender } from './ials.js';

/** Hyperparameters of `spark-als`: Spark's ALS parameters (its names and defaults) and where the job runs. */
export const SPARK_ALS_MODEL_PARAMS = defineParams({
  ...SPARK_ALS_PARAMS.shape,
  master: str('', { doc: 'Spark master URL (local[2], spark://host:7077, yarn); empty: $RECSYS_SPARK_MASTER, else local[2]' }),
  driverMemory: str('1g', { doc: 'spark.driver.memory (512m, 2g...)' }),
  shufflePartitions: int(4, { min: 1, doc: 'spark.sql.shuffle.partitions (small data: a few)' }),
  workDir: str('', { doc: 'parent of the staging directory (Parquet in and out; a shared file system for a cluster master); empty: $RECSYS_SPARK_WORK_DIR, else the system temp directory' }),
});

/** Typed hyperparameters of {@link SparkAlsRecommender}. */
export type SparkAlsModelParams = ParamsOf<typeof SPARK_ALS_MODEL_PARAMS>;

/** The arrays and state of the recsys model a Spark fit's factors become (the format ials/als save). */
export interface SparkAlsSnapshot {
  modelType: 'ials' | 'als';
  hyperparameters: Record<string, unknown>;
  state: Record<string, unknown>;
  arrays: Record<string, ShapedArray>;
}

/**
 * The ials/als model state of Spark factors fitted on `train` (users × rank and items × rank, row-major): the
 * factors, and for explicit ALS the bias fallback of cold pairs, fitted here as `als` fits it.
 */
export function sparkAlsSnapshot(train: Interactions, params: SparkAlsParams, user: Float32Array, item: Float32Array): SparkAlsSnapshot {
  const f = params.rank;
  const { modelType, hyperparameters } = recsysModelFor(params);
  const arrays: Record<string, ShapedArray> = { userFactors: { data: user, shape: [train.nUsers, f] }, itemFactors: { data: item, shape: [train.nItems, f] } };
  const state: Record<string, unknown> = { factors: f };
  if (modelType === 'als') {
    const b = fitBiases(train, params.regParam, params.regParam, 5);
    state.globalMean = b.globalMean;
    arrays.userBias = { data: b.userBias, shape: [b.userBias.length] };
    arrays.biasItem = { data: b.itemBias, shape: [b.itemBias.length] };
  }
  return { modelType, hyperparameters, state, arrays };
}

/** The Spark ALS parameters among the model's hyperparameters. */
export function sparkParamsOf(p: SparkAlsModelParams): SparkAlsParams {
  const { master: _master, driverMemory: _memory, shufflePartitions: _partitions, workDir: _workDir, ...spark } = p;
  return spark;
}

/** The master a fit runs on: the `master` hyperparameter, else `$RECSYS_SPARK_MASTER`, else local[2]. */
export function sparkMaster(p: SparkAlsModelParams, env: NodeJS.ProcessEnv = process.env): string {
  return p.master.trim() || env.RECSYS_SPARK_MASTER?.trim() || 'local[2]';
}

type Inner = IalsRecommender | AlsRecommender;

/** What the training matrix arrays are called in a saved model (they are written by `saveTrainedModel`). */
const TRAIN_ARRAY = /^train_/;

/** Spark ALS as a recsys model; see the module comment. */
export class SparkAlsRecommender implements Recommender {
  readonly name = 'spark-als';
  readonly params: SparkAlsModelParams;
  /** Where the training data came from (set by `recsys train`, saved with the model). */
  provenance: Record<string, unknown> = {};
  private current: { inner: Inner; state: Record<string, unknown>; arrays: Record<string, ShapedArray> } | null = null;

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    this.params = SPARK_ALS_MODEL_PARAMS.parse('spark-als', params);
    if (!/^\d+[kmgt]?$/i.test(this.params.driverMemory)) throw new ParamError('spark-als', 'driverMemory', `driverMemory must be a size such as 512m or 2g (got ${JSON.stringify(this.params.driverMemory)})`);
  }

  /** Whether the model has been fitted or loaded. */
  get fitted(): boolean {
    return this.current !== null;
  }

  /** The training matrix; throws when the model is neither fitted nor loaded. */
  get trainData(): Interactions {
    return this.require().inner.trainData;
  }

  /** The recsys model the factors live in (ials or als), null before fit. */
  get recsysModel(): Inner | null {
    return this.current?.inner ?? null;
  }

  /**
   * Fits ALS on Spark (see the module comment). Progress: `writing Parquet`, then Spark's `stages`. An abort
   * cancels the Spark job; a failed or aborted fit leaves the model as it was.
   */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    const env = await checkSparkEnvironment();
    throwIfAborted(options.signal);
    const spark = sparkParamsOf(this.params);
    const master = sparkMaster(this.params);
    const parent = resolve(this.params.workDir.trim() || process.env.RECSYS_SPARK_WORK_DIR?.trim() || tmpdir());
    let workDir: string;
    try {
      workDir = mkdtempSync(join(parent, 'recsys-spark-als-'));
    } catch (e) {
      throw new Error(`spark-als: cannot create a staging directory in ${parent} (${(e as NodeJS.ErrnoException).code ?? String(e)}); set workDir or RECSYS_SPARK_WORK_DIR`, { cause: e });
    }
    try {
      const conf = sparkConf({ shufflePartitions: this.params.shufflePartitions, driverMemory: this.params.driverMemory });
      // Imported here: it brings DuckDB (Parquet), which a process that only loads models does not need.
      const { fitAlsFactors } = await import('../../sparkjob/fit.js');
      const sparkSubmit = process.env.RECSYS_SPARK_SUBMIT?.trim() || undefined;
      const fit = await fitAlsFactors({
        train, params: spark, master, conf, workDir, python: env.python, ...(sparkSubmit ? { sparkSubmit } : {}),
        signal: options.signal, onProgress: options.onProgress, appName: 'recsys spark-als',
      });
      const snap = sparkAlsSnapshot(train, spark, fit.user, fit.item);
      const state = { ...snap.state, spark: { version: fit.outcome.sparkVersion, master, seconds: fit.outcome.seconds, fitSeconds: fit.outcome.result.fitSeconds } };
      // Staged and loaded as the ials/als directory it is: the state passes every check a saved model passes.
      const staged = join(workDir, 'model');
      await saveTrainedModel(staged, { modelType: snap.modelType, hyperparameters: snap.hyperparameters, train, state, arrays: snap.arrays });
      const next = await this.innerFrom(await loadSnapshot(staged, snap.modelType));
      if (options.signal?.aborted) {
        next.inner.dispose();
        throwIfAborted(options.signal);
      }
      this.install(next);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }

  /** What the last fit (or the loaded model's fit) ran on. */
  fitNotes(): string[] {
    const spark = this.current?.state.spark as { version?: unknown; master?: unknown } | undefined;
    return spark ? [`fitted by Spark ${String(spark.version)} on ${String(spark.master)}, as ${this.require().inner.name}`] : [];
  }

  async recommend(users: ArrayLike<number>, k: number, options?: RecommendOptions): Promise<TopK> {
    return this.require().inner.recommend(users, k, options);
  }

  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    return this.require().inner.score(users, items);
  }

  async similarItems(item: number, k: number): Promise<TopK> {
    return this.require().inner.similarItems(item, k);
  }

  async foldIn(history: History): Promise<Float32Array> {
    return this.require().inner.foldIn(history);
  }

  async recommendForHistory(history: History, k: number, options?: HistoryOptions): Promise<TopK> {
    return this.require().inner.recommendForHistory(history, k, options);
  }

  /** Writes the model to `dir` atomically: type spark-als, Spark's hyperparameters, the ials/als arrays. */
  async save(dir: string): Promise<void> {
    const { inner, state, arrays } = this.require();
    await saveTrainedModel(dir, { modelType: this.name, hyperparameters: { ...this.params }, train: inner.trainData, state, arrays, provenance: this.provenance });
  }

  /** Installs a saved spark-als model (the registry calls this on a freshly created model); no Spark needed. */
  async restore(saved: LoadedSnapshot): Promise<this> {
    if (saved.modelType !== this.name) throw new Error(`${saved.file}: holds a "${saved.modelType}" model, not "${this.name}"`);
    this.install(await this.innerFrom(saved));
    this.provenance = { ...saved.provenance };
    return this;
  }

  /** Releases the fitted state. */
  dispose(): void {
    this.current?.inner.dispose();
    this.current = null;
  }

  /** The ials/als model of a saved state (a staged ials/als directory, or a saved spark-als). */
  private async innerFrom(saved: LoadedSnapshot): Promise<{ inner: Inner; state: Record<string, unknown>; arrays: Record<string, ShapedArray> }> {
    const { modelType, hyperparameters } = recsysModelFor(sparkParamsOf(this.params));
    const inner: Inner = modelType === 'ials' ? new IalsRecommender(hyperparameters) : new AlsRecommender(hyperparameters);
    await inner.restore({ ...saved, modelType });
    const arrays = Object.fromEntries(Object.entries(saved.arrays).filter(([name]) => !TRAIN_ARRAY.test(name)));
    return { inner, state: saved.state, arrays };
  }

  private install(next: { inner: Inner; state: Record<string, unknown>; arrays: Record<string, ShapedArray> }): void {
    if (this.current && this.current.inner !== next.inner) this.current.inner.dispose();
    this.current = next;
  }

  private require(): { inner: Inner; state: Record<string, unknown>; arrays: Record<string, ShapedArray> } {
    if (!this.current) throw new Error(`${this.name}: used before fit or load`);
    return this.current;
  }
}

/** Registry entry of Spark ALS. */
export const sparkAlsModel = defineModel({
  name: 'spark-als',
  description: 'ALS fitted by Apache Spark (pyspark.ml, local or a cluster), then served as ials (implicitPrefs) or als; needs Python with pyspark and Java to fit, neither to load',
  params: SPARK_ALS_MODEL_PARAMS,
  create: (p) => new SparkAlsRecommender(p),
});
