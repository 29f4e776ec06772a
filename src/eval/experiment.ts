/**
 * The experiment runner: config → data set → filters → split → for each model fit + evaluate → one comparison
 * table with fit and scoring times and paired tests against the first model. Every model is constructed (names
 * and hyperparameters checked) before any data is loaded, so a typo in the last model is reported at once.
 * Stops cleanly on abort and returns what finished; a model that fails is a row with its error (and, with
 * `stopOnError`, the last row).
 */
import type { LoadedDataset } from '../data/dataset.js';
import { applyFilters as applyDataFilters } from '../data/filters.js';
import type { Interactions } from '../data/interactions.js';
import { UsageError } from '../core/errors.js';
import { createModel } from '../models/index.js';
import { isAbortError, throwIfAborted, type Progress } from '../core/progress.js';
import type { ExperimentConfig, SplitConfig } from './config.js';
import { evaluateModel, yieldToEventLoop, type EvaluationResult } from './evaluate.js';
import { metricDirection, type MetricSpec } from './metrics.js';
import * as splits from './splits.js';
import { usesFeatures } from '../models/contract.js';
import { unionParts, type Split } from './splits.js';
import { pairedTTest, summarize, wilcoxonSignedRank, type MetricSummary, type PairedTest } from './stats.js';
import { syntheticDataset, type SyntheticOptions } from './synthetic.js';
import { validationMonitor, type EarlyStoppingReport, type ValidationMonitor } from './early-stopping.js';
import { explainRunError } from './fit-errors.js';

/** Loads a data set by name (the data layer's `loadDataset`, or a stand-in in tests). */
export type DatasetLoader = (name: string, options: Record<string, unknown>) => Promise<LoadedDataset>;

/** Options of {@link runExperiment}. */
export interface RunOptions {
  /** Progress of the current step; `phase` starts with the model label. */
  onProgress?: (p: Progress) => void;
  /** Aborting stops after the current unit of work; the results then hold the finished models. */
  signal?: AbortSignal;
  /** Overrides how data sets are loaded (default: `synthetic` is generated, others go to data/index.js). */
  loadDataset?: DatasetLoader;
  /** One-line messages (data loaded, split made...). */
  log?: (line: string) => void;
  /**
   * Stop at the first model (or search trial) that fails instead of running the rest; the results then end
   * with the failed row and name what was not run. Default false: every model runs.
   */
  stopOnError?: boolean;
}

/** One model's row of the comparison. */
export interface ModelResult {
  label: string;
  model: string;
  params: Record<string, unknown>;
  /** Seconds in `fit` (summed over folds). */
  fitSeconds: number;
  /** Seconds in `recommend`/`score` during evaluation (summed over folds). */
  scoringSeconds: number;
  /** Summary per metric label (over folds: mean of fold means, stderr across folds). */
  metrics: Record<string, MetricSummary>;
  /** Users evaluated (summed over folds). */
  usersEvaluated: number;
  /** Users with test entries but no relevant item, excluded (summed over folds). */
  usersWithoutRelevant: number;
  notes: string[];
  /** With early stopping: the best epoch (iteration) of each fold's fit, whose parameters were evaluated. */
  bestEpochs?: number[];
  /** Set when the model failed; metrics are then empty. */
  error?: string;
}

/** A paired per-user comparison of one model against the reference (first) model on one metric. */
export interface Comparison {
  metric: string;
  model: string;
  reference: string;
  tTest: PairedTest;
  wilcoxon: PairedTest;
}

/** Everything an experiment produced. */
export interface ExperimentResults {
  name: string;
  dataset: string;
  /** The split's description (first fold's, with the fold count). */
  split: string;
  protocol: string;
  /** Metric labels in config order. */
  metrics: string[];
  /** Direction per metric label. */
  directions: Record<string, 'higher' | 'lower' | 'none'>;
  models: ModelResult[];
  comparisons: Comparison[];
  /** True when the run was stopped before every model finished. */
  interrupted: boolean;
  /** Labels of the models not run because an earlier one failed (with `stopOnError`). */
  notRun?: string[];
  startedAt: string;
  notes: string[];
}

/** Loads a data set: `synthetic` is generated here; any other name goes to the data layer's `loadDataset`. */
export async function defaultLoadDataset(name: string, options: Record<string, unknown>): Promise<LoadedDataset> {
  if (name === 'synthetic') return syntheticDataset(options as SyntheticOptions);
  // Imported lazily: the data layer brings DuckDB, which generated-data experiments do not need.
  const { loadDataset } = await import('../data/index.js');
  return loadDataset(name, options);
}

/** Applies the config's filters with the data layer's `applyFilters` (time window, minValue, k-core, binarize). */
export function applyFilters(data: Interactions, filters: ExperimentConfig['filters']): Interactions {
  return applyDataFilters({ interactions: data, eventColumns: {} }, filters).interactions;
}

/** Makes the configured split(s): one, or k for k-fold. */
export function makeSplits(dataset: LoadedDataset, data: Interactions, s: SplitConfig, seed: number): Split[] {
  switch (s.method) {
    case 'random': return [splits.randomSplit(data, { testRatio: s.testRatio, validationRatio: s.validationRatio, seed: s.seed ?? seed })];
    case 'ratio': return [splits.ratioSplit(data, { ratios: s.ratios, order: s.order, seed: s.seed ?? seed })];
    case 'leave-one-out': return [splits.leaveOneOut(data, { by: 'random', validation: s.validation, seed: s.seed ?? seed })];
    case 'leave-last-out': return [splits.leaveOneOut(data, { by: 'time', validation: s.validation, seed: s.seed ?? seed })];
    case 'temporal': return [splits.temporalSplit(data, { cutoff: s.cutoff, testRatio: s.testRatio, validationRatio: s.validationRatio })];
    case 'kfold': return splits.kFold(data, { k: s.k, by: s.by ?? 'interaction', seed: s.seed ?? seed });
    case 'stratified': return [splits.stratifiedSplit(data, { ratio: s.ratio, minRating: s.minRating, filterBy: s.filterBy, seed: s.seed ?? seed })];
    case 'strong-generalization': return [splits.strongGeneralization(data, { testUsers: s.testUsers, validationUsers: s.validationUsers, foldInRatio: s.foldInRatio, minEntries: s.minEntries, seed: s.seed ?? seed })];
    case 'kuairec': return [splits.kuaiRecSplit({ ...dataset, interactions: data }, { threshold: s.threshold })];
    case 'cold-items': return [splits.coldItemsSplit(data, { testItems: s.testItems, validationItems: s.validationItems, seed: s.seed ?? seed })];
    case 'cold-users': return [splits.coldUsersSplit(data, { testUsers: s.testUsers, foldInEvents: s.foldInEvents, order: s.order, seed: s.seed ?? seed })];
  }
}

/** Options of {@link fitAndEvaluate}. */
export interface FitEvaluateOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  label?: string;
  /**
   * Early stopping monitors the part that is evaluated (`split.test`) when the split has no validation part —
   * the search's inner folds, where the held-out fold is the trial's validation.
   */
  earlyStoppingOnTarget?: boolean;
}

/** What {@link fitAndEvaluate} produced. */
export interface FitEvaluation {
  evaluation: EvaluationResult;
  fitSeconds: number;
  /** What early stopping saw, when it was applied to an iterative model. */
  earlyStopping?: EarlyStoppingReport;
  /** Remarks about the protocol (early stopping not applied, and why). */
  notes: string[];
}

/** Fits a model on one split and evaluates it; returns the evaluation and the fit time. */
export async function fitAndEvaluate(
  modelName: string, params: Record<string, unknown>, split: Split, config: ExperimentConfig, metrics: MetricSpec[], dataset: LoadedDataset | null,
  options: FitEvaluateOptions = {},
): Promise<FitEvaluation> {
  const label = options.label ?? modelName;
  try {
    return await fitAndEvaluateUnexplained(modelName, params, split, config, metrics, dataset, options, label);
  } catch (e) {
    throw explainRunError(e, { model: label === modelName ? modelName : `${label} (${modelName})`, params, nUsers: split.train.nUsers, nItems: split.train.nItems });
  }
}

async function fitAndEvaluateUnexplained(
  modelName: string, params: Record<string, unknown>, split: Split, config: ExperimentConfig, metrics: MetricSpec[], dataset: LoadedDataset | null,
  options: FitEvaluateOptions, label: string,
): Promise<FitEvaluation> {
  const model = createModel(modelName, params);
  if (usesFeatures(model) && dataset) model.setFeatures(dataset);
  await yieldToEventLoop();
  throwIfAborted(options.signal);
  const notes: string[] = [];
  const onValidation = config.evaluateOn === 'validation';
  const refit = config.protocol.refit === 'train+validation' && !onValidation && split.validation !== undefined;
  const fitData = refit && split.validation ? unionParts(split.train, split.validation) : split.train;
  const threshold = config.relevanceThreshold ?? split.relevanceThreshold;
  let monitor: ValidationMonitor | undefined;
  if (config.earlyStopping) {
    const watched = refit ? undefined : split.validation ?? (options.earlyStoppingOnTarget ? split.test : undefined);
    if (watched) monitor = validationMonitor(watched, config.earlyStopping.metric, config.earlyStopping.patience, threshold);
    else notes.push(refit ? 'earlyStopping: not applied with refit: train+validation (the validation part is trained on)' : `earlyStopping: not applied, the split (${split.description}) has no validation part`);
  }
  const t0 = performance.now();
  await model.fit(fitData, { signal: options.signal, validation: monitor, onProgress: (p) => options.onProgress?.({ ...p, phase: `${label}: ${p.phase}` }) });
  const fitSeconds = (performance.now() - t0) / 1000;
  const earlyStopping = monitor && monitor.report.values.length > 0 ? monitor.report : undefined;
  if (earlyStopping) notes.push(`early stopping on ${split.validation ? 'validation' : 'the held-out fold'} ${earlyStopping.metric}: best epoch ${earlyStopping.bestUnit} of ${earlyStopping.values.length} run (${earlyStopping.bestValue.toFixed(4)})${earlyStopping.stopped ? '' : ', patience not exhausted'}`);
  let itemFeatures;
  if (config.diversityFeature) {
    itemFeatures = dataset?.itemFeatures?.multiHot[config.diversityFeature];
    if (!itemFeatures) throw new Error(`diversityFeature "${config.diversityFeature}": data set "${config.dataset}" has no such multi-hot item feature`);
  }
  if (onValidation && !split.validation) throw new Error(`evaluateOn: validation, but the split (${split.description}) makes no validation part`);
  const target = onValidation ? split.validation! : split.test;
  const excludeSeen = config.protocol.excludeSeen ?? split.excludeSeen ?? true;
  const mask = !onValidation && !refit && excludeSeen && config.protocol.excludeValidation ? split.validation : undefined;
  const onlyUsers = config.protocol.users === 'with-friends' ? usersWithFriends(dataset, fitData) : undefined;
  const evaluation = await evaluateModel(model, fitData, target, {
    metrics,
    protocol: config.protocol.type,
    negatives: config.protocol.negatives,
    excludeSeen,
    alsoExclude: mask,
    candidates: split.candidates,
    relevanceThreshold: threshold,
    foldIn: onValidation ? split.validationFoldIn : split.testFoldIn,
    batchSize: config.protocol.batchSize,
    keepUsersWithoutRelevant: config.protocol.keepUsersWithoutRelevant,
    onlyUsers,
    seed: config.seed,
    itemFeatures,
    diversitySimilarity: config.diversitySimilarity,
    bootstrap: config.bootstrap,
    signal: options.signal,
    onProgress: (p) => options.onProgress?.({ ...p, phase: `${label}: ${p.phase}` }),
  });
  evaluation.notes.push(...(model.fitNotes?.() ?? []));
  if (onlyUsers) {
    const keptAll = config.protocol.keepUsersWithoutRelevant && config.protocol.type === 'full';
    const kept = keptAll ? evaluation.users.length : evaluation.users.length + evaluation.usersWithoutRelevant;
    notes.push(`users: with-friends: ${kept} of ${kept + (evaluation.usersOutsideFilter ?? 0)} users with ${onValidation ? 'validation' : 'test'} entries have a friend with training interactions (${evaluation.users.length} evaluated)`);
  }
  return { evaluation, fitSeconds, earlyStopping, notes };
}

/**
 * Users with at least one friend (links taken as mutual, self-links ignored) who has interactions in `train`:
 * the users a social model can reach. Throws when the data set has no social links.
 */
export function usersWithFriends(dataset: LoadedDataset | null, train: Interactions): Uint8Array {
  const social = dataset?.social;
  if (!social) throw new UsageError(`protocol.users: with-friends needs a data set with social links${dataset ? `; "${dataset.name}" has none` : ''}`);
  const n = train.nUsers;
  if (social.rowPtr.length !== n + 1) throw new Error(`protocol.users: with-friends: the social links cover ${social.rowPtr.length - 1} users, the training data ${n}`);
  const counts = train.userCounts();
  const out = new Uint8Array(n);
  for (let u = 0; u < n; u++) {
    for (let p = social.rowPtr[u]; p < social.rowPtr[u + 1]; p++) {
      const f = social.colIdx[p];
      if (!(f >= 0 && f < n)) throw new Error(`protocol.users: with-friends: friend index ${f} of user ${u} outside [0, ${n})`);
      if (f === u) continue;
      if (counts[f] > 0) out[u] = 1;
      if (counts[u] > 0) out[f] = 1;
    }
  }
  return out;
}

/** Runs a validated experiment config; see the module comment. */
export async function runExperiment(config: ExperimentConfig, options: RunOptions = {}): Promise<ExperimentResults> {
  const startedAt = new Date().toISOString();
  checkModels(config);
  const log = options.log ?? (() => {});
  const load = options.loadDataset ?? defaultLoadDataset;
  const dataset = await load(config.dataset, config.datasetOptions);
  const data = filtered(dataset.interactions, config.filters);
  log(`data set ${dataset.name}: ${data.nUsers} users, ${data.nItems} items, ${data.nnz} interactions after filters`);
  const folds = makeSplits(dataset, data, config.split, config.seed);
  if (config.evaluateOn === 'validation' && !folds[0].validation) throw new UsageError(`evaluateOn: validation, but the split (${folds[0].description}) makes no validation part`);
  if (config.diversityFeature && !dataset.itemFeatures?.multiHot[config.diversityFeature]) {
    throw new UsageError(`diversityFeature "${config.diversityFeature}": data set "${config.dataset}" has no such multi-hot item feature`);
  }
  if (config.protocol.users === 'with-friends' && !dataset.social) throw new UsageError(`protocol.users: with-friends needs a data set with social links; "${dataset.name}" has none`);
  const splitText = folds.length > 1 ? `${folds[0].description.replace(/, fold 1/, '')} (${folds.length} folds)` : folds[0].description;
  log(`split: ${splitText}; train ${folds[0].train.nnz}, test ${folds[0].test.nnz}${folds[0].validation ? `, validation ${folds[0].validation.nnz}` : ''}`);
  const withValidation = folds[0].validation !== undefined && config.evaluateOn === 'test';
  const masking = !withValidation ? '' : config.protocol.refit === 'train+validation' ? ', refit on train ∪ validation' : config.protocol.excludeValidation ? ', train ∪ validation masked' : ', validation items not masked';
  const stopping = config.earlyStopping ? `, early stopping on ${config.earlyStopping.metric.label} (patience ${config.earlyStopping.patience})` : '';
  const userFilter = config.protocol.users === 'with-friends' ? ', only users with friends' : '';
  const protocol = `${config.protocol.type === 'full' ? 'full ranking' : `sampled: 1 relevant vs ${config.protocol.negatives} negatives`}${config.evaluateOn === 'validation' ? ', on the validation part' : ''}${masking}${stopping}${userFilter}`;
  const results: ExperimentResults = {
    name: config.name, dataset: dataset.name, split: splitText, protocol,
    metrics: config.metrics.map((m) => m.label),
    directions: Object.fromEntries(config.metrics.map((m) => [m.label, metricDirection(m.name)])),
    models: [], comparisons: [], interrupted: false, startedAt, notes: [],
  };
  const perUserByModel: Record<string, Float64Array>[] = [];
  for (const [m, mc] of config.models.entries()) {
    await yieldToEventLoop();
    if (options.signal?.aborted) {
      results.interrupted = true;
      break;
    }
    const row: ModelResult = { label: mc.label, model: mc.model, params: mc.params, fitSeconds: 0, scoringSeconds: 0, metrics: {}, usersEvaluated: 0, usersWithoutRelevant: 0, notes: [] };
    const foldEvals: EvaluationResult[] = [];
    try {
      for (const split of folds) {
        const { evaluation, fitSeconds, earlyStopping, notes } = await fitAndEvaluate(mc.model, mc.params, split, config, config.metrics, dataset, { onProgress: options.onProgress, signal: options.signal, label: mc.label });
        if (earlyStopping) (row.bestEpochs ??= []).push(earlyStopping.bestUnit);
        for (const n of notes) if (!row.notes.includes(n)) row.notes.push(n);
        row.fitSeconds += fitSeconds;
        row.scoringSeconds += evaluation.scoringSeconds;
        row.usersEvaluated += evaluation.users.length;
        row.usersWithoutRelevant += evaluation.usersWithoutRelevant;
        for (const n of evaluation.notes) if (!row.notes.includes(n)) row.notes.push(n);
        foldEvals.push(evaluation);
      }
    } catch (e) {
      if (isAbortError(e)) {
        results.interrupted = true;
        break;
      }
      row.error = e instanceof Error ? e.message : String(e);
      results.models.push(row);
      perUserByModel.push({});
      log(`${mc.label}: failed: ${row.error}`);
      if (options.stopOnError) {
        results.notRun = config.models.slice(m + 1).map((x) => x.label);
        if (results.notRun.length) results.notes.push(`stopped after "${mc.label}" failed; not run: ${results.notRun.join(', ')}`);
        break;
      }
      continue;
    }
    row.metrics = combineFolds(foldEvals, config.metrics.map((m) => m.label));
    const concat: Record<string, Float64Array> = {};
    for (const label of results.metrics) {
      if (!foldEvals.every((f) => f.perUser[label])) continue;
      concat[label] = Float64Array.from(foldEvals.flatMap((f) => [...f.perUser[label]]));
    }
    results.models.push(row);
    perUserByModel.push(concat);
    log(`${mc.label}: fit ${row.fitSeconds.toFixed(2)} s, scoring ${row.scoringSeconds.toFixed(2)} s`);
  }
  // Paired per-user tests of every model against the first one.
  if (results.models.length > 1 && !results.models[0].error) {
    for (let j = 1; j < results.models.length; j++) {
      if (results.models[j].error) continue;
      for (const label of results.metrics) {
        const a = perUserByModel[j][label];
        const b = perUserByModel[0][label];
        if (!a || !b || a.length !== b.length) continue;
        results.comparisons.push({ metric: label, model: results.models[j].label, reference: results.models[0].label, tTest: pairedTTest(a, b), wilcoxon: wilcoxonSignedRank(a, b) });
      }
    }
  }
  if (results.interrupted) results.notes.push(`interrupted: ${results.models.length} of ${config.models.length} models finished`);
  return results;
}

/**
 * Fails fast, before any data is loaded, when a config names an unregistered model or gives a model
 * hyperparameters it rejects: every model is constructed (cheap: no arrays before `fit`). Throws a
 * {@link UsageError} naming the model's label.
 */
export function checkModels(config: ExperimentConfig): void {
  for (const mc of config.models) {
    try {
      createModel(mc.model, mc.params);
    } catch (e) {
      throw new UsageError(`models: "${mc.label}": ${(e as Error).message}`, { cause: e });
    }
  }
}

/** The config's filters applied; a filter that leaves nothing is a {@link UsageError} under the config key. */
export function filtered(data: Interactions, filters: ExperimentConfig['filters']): Interactions {
  try {
    return applyFilters(data, filters);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`filters: ${e.message}`, { cause: e });
    throw e;
  }
}

/** One fold: its summary as is; several: the mean of fold means, the stderr across folds, the interval of fold means. */
function combineFolds(folds: EvaluationResult[], labels: string[]): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  for (const label of labels) {
    const sums = folds.map((f) => f.metrics[label]).filter((s): s is MetricSummary => s !== undefined);
    if (sums.length === 0) continue;
    if (sums.length === 1) {
      out[label] = sums[0];
      continue;
    }
    const s = summarize(sums.map((x) => x.mean), undefined, { resamples: 0 });
    out[label] = { mean: s.mean, stderr: s.stderr, ci95: [NaN, NaN], n: sums.reduce((a, x) => a + x.n, 0) };
  }
  return out;
}
