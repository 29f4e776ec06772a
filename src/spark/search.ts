/**
 * An experiment config's search section run on Spark: the trials recsys plans (planTrials: the grid in
 * ParamGridBuilder's order, or the seeded random draws) become Spark ALS parameter maps, and Spark's
 * CrossValidator cross-validates them on the training part of the config's split with a ROEM evaluator (each
 * held-out item's percentile rank among the items the user has not trained on, weighted by its value). The
 * results are recsys {@link Trial}s, appended to the same JSON-lines file in the same format, so `experiment`'s
 * table and report show them; trials already in the file are not rerun. The best parameters' model (refitted
 * by CrossValidator on the whole training part) is imported and scored on the test part with the config's metrics.
 *
 * A trial whose fit fails on Spark (a fold's fit throws: Spark rejects the parameters, runs out of memory) does
 * not end the job: it is recorded as failed (its error, the folds that did finish) as the local search records
 * one, the other trials finish, and the run's outcome is a failure (exit 1), as the local search's is.
 *
 * Differences from the local search, by design: Spark's folds are its own random split of the training
 * interactions (`foldBy: interaction` only), `reg` is Spark's regParam (scaled by each row's count), and
 * hyperparameters the config leaves out take Spark's defaults (rank 10, maxIter 10, regParam 0.1, alpha 1).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { appendFileSafe, checkOutputFile } from '../core/safe-write.js';
import type { Interactions } from '../data/interactions.js';
import type { ExperimentConfig, SearchConfig } from '../eval/config.js';
import { evaluateModel } from '../eval/evaluate.js';
import { defaultLoadDataset, filtered, makeSplits } from '../eval/experiment.js';
import { planTrials, readTrials, trialKey, type SearchResults, type Trial } from '../eval/search.js';
import type { Split } from '../eval/splits.js';
import { summarize } from '../eval/stats.js';
import type { OpenedModel } from '../models/index.js';
import { fitOnSpark } from './fit.js';
import { stageSparkModel } from './import.js';
import { runJob, type RunJobOptions } from '../sparkjob/job.js';
import { writeInteractionsParquet } from '../sparkjob/parquet.js';
import { sparkParamsForTrial, SEARCHABLE, type SparkAlsParams } from '../sparkjob/params.js';

/** A search section checked for Spark, with its planned trials in recsys and Spark terms. */
export interface SparkSearchPlan {
  search: SearchConfig;
  /** recsys hyperparameters of each planned trial. */
  trials: Record<string, unknown>[];
  /** The same trials as Spark ALS parameters. */
  spark: SparkAlsParams[];
}

/** Checks that the config's search can run on Spark and plans its trials; problems are UsageErrors. */
export function planSparkSearch(config: ExperimentConfig): SparkSearchPlan {
  const search = config.search;
  if (!search) throw new UsageError('the config has no search section; `spark search` runs a search (see configs/ials-grid.yaml)');
  if (search.model !== 'ials' && search.model !== 'als') throw new UsageError(`search.model: "${search.model}" has no Spark counterpart; a Spark search tunes ials (implicitPrefs) or als (explicit ratings)`);
  if (search.metric.name !== 'roem') throw new UsageError(`search.metric: the Spark search selects on roem (its ROEM evaluator), got ${search.metric.label}`);
  if (search.foldBy !== 'interaction') throw new UsageError('search.foldBy: Spark\'s CrossValidator folds interactions; use foldBy: interaction');
  const trials = planTrials(search);
  const spark = trials.map((p, t) => {
    try {
      return sparkParamsForTrial(search.model, p);
    } catch (e) {
      throw new UsageError(`search: trial ${t + 1} of ${trials.length} (${trialKey(p)}): ${(e as Error).message}`, { cause: e });
    }
  });
  return { search, trials, spark };
}

/** Options of {@link runSparkSearch}. */
export interface SparkSearchOptions extends Omit<RunJobOptions, 'onProgress'> {
  master: string;
  conf: Record<string, string>;
  /** An existing empty staging directory. */
  workDir: string;
  onProgress?: (p: Progress) => void;
  log?: (line: string) => void;
  /** Files the run reads (the results file may not be one); the data set's files are added. */
  inputs?: (string | undefined)[];
}

/** One evaluation the job's ROEM evaluator recorded. */
export interface Evaluation {
  params: Record<string, number>;
  value: number | null;
  /** Set when this fold's fit failed. */
  error?: string;
  fitSeconds: number;
  scoringSeconds: number;
}

const TRIAL_KEYS = ['rank', 'maxIter', 'regParam', 'alpha', 'seed'] as const;

function sameTrial(a: Record<string, unknown>, b: SparkAlsParams): boolean {
  return TRIAL_KEYS.every((k) => Number(a[k]) === b[k]);
}

/**
 * The fold values of each trial from the evaluator's records (fold-major: every trial of fold 1, then of fold
 * 2...). Duplicate trials (a random search may draw one twice) share a parameter map: the j-th of m copies
 * takes records j, j+m, j+2m...
 */
export function assignFolds(trials: SparkAlsParams[], records: Evaluation[], folds: number): Evaluation[][] {
  return trials.map((t, i) => {
    const copies = trials.filter((o) => TRIAL_KEYS.every((k) => o[k] === t[k]));
    const j = trials.slice(0, i).filter((o) => TRIAL_KEYS.every((k) => o[k] === t[k])).length;
    const mine = records.filter((r) => sameTrial(r.params, t)).filter((_r, n) => n % copies.length === j);
    if (mine.length !== folds) throw new Error(`Spark's evaluator reported ${mine.length} of ${folds} folds for ${JSON.stringify(t)}`);
    return mine;
  });
}

/**
 * A recsys trial from its fold evaluations. A trial with a failed fold is failed, as in the local search: its
 * error (`fold N: ...`), the values of the folds that finished, mean and stderr NaN.
 */
export function toTrial(params: Record<string, unknown>, evals: Evaluation[]): Trial {
  const seconds = { fitSeconds: evals.reduce((a, e) => a + e.fitSeconds, 0), scoringSeconds: evals.reduce((a, e) => a + e.scoringSeconds, 0) };
  const failed = evals.findIndex((e) => e.error !== undefined);
  if (failed >= 0) {
    const foldValues = evals.filter((e) => e.error === undefined && e.value !== null).map((e) => e.value as number);
    return { key: trialKey(params), params, foldValues, mean: NaN, stderr: NaN, ...seconds, error: `fold ${failed + 1}: ${evals[failed].error}` };
  }
  const foldValues = evals.map((e) => (e.value === null ? NaN : e.value));
  const s = summarize(foldValues, undefined, { resamples: 0 });
  return { key: trialKey(params), params, foldValues, mean: s.mean, stderr: s.stderr, ...seconds };
}

/** The Spark names of the searched axes with their values, for ParamGridBuilder (grid searches only). */
function gridSpace(search: SearchConfig): Record<string, unknown[]> {
  return Object.fromEntries(Object.entries(search.space).map(([k, v]) => [SEARCHABLE[k], v as unknown[]]));
}

/** Scores an imported model on the test part with the config's metrics (the local search's refit step). */
async function scoreOnTest(opened: OpenedModel, split: Split, config: ExperimentConfig, signal?: AbortSignal): Promise<SearchResults['test']> {
  const evaluation = await evaluateModel(opened.model, split.train, split.test, {
    metrics: config.metrics,
    protocol: config.protocol.type,
    negatives: config.protocol.negatives,
    excludeSeen: config.protocol.excludeSeen ?? split.excludeSeen ?? true,
    candidates: split.candidates,
    relevanceThreshold: config.relevanceThreshold ?? split.relevanceThreshold,
    batchSize: config.protocol.batchSize,
    keepUsersWithoutRelevant: config.protocol.keepUsersWithoutRelevant,
    seed: config.seed,
    bootstrap: config.bootstrap,
    signal,
  });
  return evaluation.metrics;
}

/** Runs the planned search on Spark; see the module comment. */
export async function runSparkSearch(config: ExperimentConfig, plan: SparkSearchPlan, o: SparkSearchOptions): Promise<SearchResults> {
  const { search } = plan;
  const log = o.log ?? (() => {});
  const dataset = await defaultLoadDataset(config.dataset, config.datasetOptions);
  const inputs = [...(o.inputs ?? []), ...dataset.report.files];
  const data = filtered(dataset.interactions, config.filters);
  const outer = makeSplits(dataset, data, config.split, config.seed)[0];
  const resultsOptions = { what: 'search results file', inputs };
  const done = new Map<string, Trial>();
  if (search.results) {
    checkOutputFile(search.results, resultsOptions);
    if (existsSync(search.results)) for (const t of readTrials(search.results)) if (!t.error) done.set(t.key, t);
  }
  const todo = plan.trials.map((p, i) => ({ i, params: p, spark: plan.spark[i] })).filter((t) => !done.has(trialKey(t.params)));
  log(`spark search: ${plan.trials.length} trials of ${search.model} × ${search.folds} folds on ${o.master}, selecting on roem (lower is better)${done.size ? `; ${plan.trials.length - todo.length} finished trials in ${search.results}` : ''}`);
  const trials = new Map<number, Trial>();
  let bestRun: Record<string, unknown> | null = null;
  let bestError: string | undefined;
  const jobOutput = join(o.workDir, 'job-output');
  if (todo.length > 0) {
    const input = join(o.workDir, 'train.parquet');
    await writeInteractionsParquet(outer.train, input);
    const space = search.strategy === 'grid' && todo.length === plan.trials.length ? gridSpace(search) : undefined;
    const outcome = await runJob({
      mode: 'search', master: o.master, appName: 'recsys spark search', conf: o.conf, input, output: jobOutput,
      als: { ...todo[0].spark },
      search: { trials: todo.map((t) => Object.fromEntries(TRIAL_KEYS.map((k) => [k, t.spark[k]]))), ...(space ? { space } : {}), folds: search.folds, seed: search.seed, metric: 'roem' },
    }, join(o.workDir, 'spec.json'), o);
    const records = outcome.result.evaluations as Evaluation[];
    const perTrial = assignFolds(todo.map((t) => t.spark), records, search.folds);
    todo.forEach((t, j) => {
      const trial = toTrial(t.params, perTrial[j]);
      if (trial.error) log(`trial ${t.i + 1} ${trial.key}: failed: ${trial.error}`);
      trials.set(t.i, trial);
    });
    bestRun = (outcome.result.best ?? null) as Record<string, unknown> | null;
    if (typeof outcome.result.bestError === 'string') bestError = outcome.result.bestError;
  }
  const results: SearchResults = { model: search.model, metric: search.metric.label, direction: 'lower', trials: [], resumed: 0, best: null, interrupted: false, planned: plan.trials.length };
  plan.trials.forEach((p, i) => {
    const resumed = done.get(trialKey(p));
    const trial = resumed ?? trials.get(i)!;
    if (resumed) results.resumed++;
    else if (search.results) appendFileSafe(search.results, JSON.stringify(trial, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n', resultsOptions);
    results.trials.push(trial);
    if (!trial.error && Number.isFinite(trial.mean) && (!results.best || trial.mean < results.best.mean)) results.best = trial;
  });
  if (!results.best) return results;
  if (bestError !== undefined && !done.has(results.best.key)) {
    // CrossValidator's refit of the best parameters (the best trial, run by this job) on the whole training part failed.
    results.testError = bestError;
    return results;
  }
  const bestIndex = results.trials.indexOf(results.best);
  const bestSpark = plan.spark[bestIndex];
  try {
    let opened: OpenedModel;
    if (bestRun && sameTrial(bestRun, bestSpark)) {
      opened = await stageSparkModel(join(o.workDir, 'best-model'), { jobOutput, train: outer.train, params: bestSpark, provenance: {} });
    } else {
      // The best trial was read from the results file: refit it on the training part.
      const refitDir = join(o.workDir, 'refit');
      mkdirSync(refitDir);
      opened = (await fitOnSpark({ ...o, train: outer.train, params: bestSpark, workDir: refitDir })).opened;
    }
    log(`best ${results.best.key}: refitted on the training part (${describe(outer.train)}), scoring the test part`);
    results.test = await scoreOnTest(opened, outer, config, o.signal);
  } catch (e) {
    if (e instanceof Error && e.name === 'AbortError') throw e;
    results.testError = e instanceof Error ? e.message : String(e);
  }
  return results;
}

function describe(x: Interactions): string {
  return `${x.nUsers} users, ${x.nItems} items, ${x.nnz} interactions`;
}
