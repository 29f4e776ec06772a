/**
 * Hyperparameter search: grid or random search with k-fold cross-validation on the training part of the
 * configured split, selecting on one metric (its direction known: ROEM lower is better). Every finished trial is
 * appended to a JSON-lines results file; a restarted search skips the trials already finished there (failed
 * ones are run again). Every trial's model is constructed before any data is loaded, so a parameter value a
 * model rejects is reported at once.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../core/errors.js';
import { isAbortError, type Progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { appendFileSafe, checkOutputFile } from '../core/safe-write.js';
import { createModel, modelEntry } from '../models/index.js';
import type { ExperimentConfig, RangeSpec, SearchConfig } from './config.js';
import { yieldToEventLoop } from './evaluate.js';
import { defaultLoadDataset, filtered, fitAndEvaluate, makeSplits, type RunOptions } from './experiment.js';
import { escapeHtml } from './format.js';
import { metricDirection } from './metrics.js';
import { kFold } from './splits.js';
import { summarize, type MetricSummary } from './stats.js';

/** One evaluated hyperparameter combination. */
export interface Trial {
  /** Canonical key of the parameters (sorted-key JSON); identifies the trial across restarts. */
  key: string;
  params: Record<string, unknown>;
  /** The selection metric on each fold. */
  foldValues: number[];
  /** Mean over folds. */
  mean: number;
  /** Standard error over folds. */
  stderr: number;
  fitSeconds: number;
  scoringSeconds: number;
  /** Set when the model failed on these parameters. */
  error?: string;
}

/** What a search produced. */
export interface SearchResults {
  model: string;
  metric: string;
  direction: 'higher' | 'lower';
  /** All trials in order (those read back from the results file included). */
  trials: Trial[];
  /** Trials taken from the results file instead of being rerun. */
  resumed: number;
  /** The best finished trial, or null. */
  best: Trial | null;
  /** The best parameters refitted on the whole training part and evaluated on the test part (config metrics). */
  test?: Record<string, MetricSummary>;
  /** Why that refit failed, when it did. */
  testError?: string;
  interrupted: boolean;
  /** Trials not run because an earlier one failed (with `stopOnError`). */
  notRun?: number;
  /** Total trials planned. */
  planned: number;
}

/** Canonical key of a parameter set: JSON with sorted keys. */
export function trialKey(params: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** The parameter sets to try: the full grid (first key varies slowest), or `trials` seeded random draws. */
export function planTrials(search: SearchConfig): Record<string, unknown>[] {
  const keys = Object.keys(search.space);
  if (search.strategy === 'grid') {
    let combos: Record<string, unknown>[] = [{}];
    for (const key of keys) {
      const values = search.space[key] as unknown[];
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
    }
    return combos.map((c) => ({ ...search.fixed, ...c }));
  }
  // Its own fork: search.seed also seeds the cross-validation folds.
  const rng = new Rng(search.seed).fork('search:trials');
  const out: Record<string, unknown>[] = [];
  for (let t = 0; t < (search.trials ?? 0); t++) {
    const p: Record<string, unknown> = { ...search.fixed };
    for (const key of keys) {
      const s = search.space[key];
      if (Array.isArray(s)) p[key] = s[rng.int(s.length)];
      else p[key] = drawRange(s, rng);
    }
    out.push(p);
  }
  return out;
}

/** A draw from a range; 53-bit uniforms, so a real-valued parameter can take any double in the range. */
function drawRange(r: RangeSpec, rng: Rng): number {
  const u = rng.uniform53();
  if (r.integer) {
    if (r.log) return Math.min(Math.ceil(r.max), Math.floor(Math.exp(Math.log(r.min) + u * (Math.log(r.max + 1) - Math.log(r.min)))));
    return Math.floor(r.min + u * (Math.floor(r.max) - Math.ceil(r.min) + 1));
  }
  return r.log ? Math.exp(Math.log(r.min) + u * (Math.log(r.max) - Math.log(r.min))) : r.min + u * (r.max - r.min);
}

/** Reads finished trials from a JSON-lines file; a torn last line (crash mid-write) is ignored. */
export function readTrials(path: string): Trial[] {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return [];
  if (!st.isFile()) throw new UsageError(`search results file ${path} is not a regular file (${st.isDirectory() ? 'a directory' : 'a FIFO, device or socket'}); give the path of a JSON-lines file`);
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: Trial[] = [];
  lines.forEach((line, j) => {
    if (line.trim() === '') return;
    try {
      const t = JSON.parse(line) as Trial;
      if (typeof t.key === 'string' && Array.isArray(t.foldValues)) out.push({ ...t, mean: t.mean ?? NaN, stderr: t.stderr ?? NaN });
    } catch {
      if (j < lines.length - 1 && lines.slice(j + 1).some((l) => l.trim() !== '')) throw new Error(`${path}: line ${j + 1} is not JSON; fix or remove it to resume`);
    }
  });
  return out;
}

/** Runs the search section of `config`; see the module comment. */
export async function runSearch(config: ExperimentConfig, options: RunOptions = {}): Promise<SearchResults> {
  const search = config.search;
  if (!search) throw new Error('config has no search section');
  const direction = metricDirection(search.metric.name);
  if (direction === 'none') throw new Error(`search.metric: ${search.metric.label} has no better direction and cannot select models`);
  const plan = planTrials(search);
  checkTrials(search, plan);
  const log = options.log ?? (() => {});
  const dataset = await (options.loadDataset ?? defaultLoadDataset)(config.dataset, config.datasetOptions);
  const data = filtered(dataset.interactions, config.filters);
  const outer = makeSplits(dataset, data, config.split, config.seed)[0];
  const folds = kFold(outer.train, { k: search.folds, by: search.foldBy, seed: search.seed });
  const done = new Map<string, Trial>();
  const resultsOptions = { what: 'search results file', inputs: dataset.report.files };
  if (search.results) checkOutputFile(search.results, resultsOptions); // before reading it: a FIFO would block
  if (search.results) for (const t of readTrials(search.results)) if (!t.error) done.set(t.key, t);
  const results: SearchResults = { model: search.model, metric: search.metric.label, direction, trials: [], resumed: 0, best: null, interrupted: false, planned: plan.length };
  log(`search: ${plan.length} trials of ${search.model} × ${search.folds} folds, selecting on ${search.metric.label} (${direction} is better)${done.size ? `; ${done.size} finished trials in ${search.results}` : ''}`);
  const better = (a: number, b: number): boolean => (direction === 'higher' ? a > b : a < b);
  const progress = (n: number): void => {
    const p: Progress = { phase: 'trials', done: n, total: plan.length };
    if (results.best) p.metrics = { [`best ${search.metric.label}`]: results.best.mean };
    options.onProgress?.(p);
  };
  for (let t = 0; t < plan.length; t++) {
    const params = plan[t];
    const key = trialKey(params);
    let trial = done.get(key);
    if (trial) {
      results.resumed++;
    } else {
      await yieldToEventLoop();
      if (options.signal?.aborted) {
        results.interrupted = true;
        break;
      }
      trial = { key, params, foldValues: [], mean: NaN, stderr: NaN, fitSeconds: 0, scoringSeconds: 0 };
      try {
        for (let f = 0; f < folds.length; f++) {
          const { evaluation, fitSeconds } = await fitAndEvaluate(search.model, params, folds[f], config, [search.metric], dataset, { signal: options.signal, label: `trial ${t + 1} fold ${f + 1}`, earlyStoppingOnTarget: true });
          trial.fitSeconds += fitSeconds;
          trial.scoringSeconds += evaluation.scoringSeconds;
          trial.foldValues.push(evaluation.metrics[search.metric.label].mean);
        }
        const s = summarize(trial.foldValues, undefined, { resamples: 0 });
        trial.mean = s.mean;
        trial.stderr = s.stderr;
      } catch (e) {
        if (isAbortError(e)) {
          results.interrupted = true;
          break;
        }
        trial.error = e instanceof Error ? e.message : String(e);
        log(`trial ${t + 1} ${key}: failed: ${trial.error}`);
      }
      if (search.results) appendFileSafe(search.results, JSON.stringify(trial, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n', resultsOptions);
    }
    results.trials.push(trial);
    if (!trial.error && Number.isFinite(trial.mean) && (!results.best || better(trial.mean, results.best.mean))) results.best = trial;
    progress(t + 1);
    if (trial.error && options.stopOnError) {
      results.notRun = plan.length - t - 1;
      break;
    }
  }
  if (!results.interrupted && results.notRun === undefined && results.best) {
    try {
      const { evaluation } = await fitAndEvaluate(search.model, results.best.params, outer, config, config.metrics, dataset, { signal: options.signal, onProgress: options.onProgress, label: 'best on test' });
      results.test = evaluation.metrics;
    } catch (e) {
      if (!isAbortError(e)) results.testError = e instanceof Error ? e.message : String(e);
      else results.interrupted = true;
    }
  }
  return results;
}

/** Fails fast with a {@link UsageError} when the model is unknown or rejects one planned trial's parameters. */
export function checkTrials(search: SearchConfig, plan: Record<string, unknown>[]): void {
  try {
    modelEntry(search.model);
  } catch (e) {
    throw new UsageError(`search.model: ${(e as Error).message}`, { cause: e });
  }
  plan.forEach((params, t) => {
    try {
      createModel(search.model, params);
    } catch (e) {
      throw new UsageError(`search: trial ${t + 1} of ${plan.length} (${trialKey(params)}): ${(e as Error).message}`, { cause: e });
    }
  });
}

/** Trials best first (failed or undefined scores last) and the parameter names over all trials. */
function rankedTrials(results: SearchResults): { keys: string[]; sorted: Trial[] } {
  const keys = [...new Set(results.trials.flatMap((t) => Object.keys(t.params)))];
  const worst = results.direction === 'higher' ? -Infinity : Infinity;
  const sorted = [...results.trials].sort((a, b) => {
    const x = Number.isFinite(a.mean) ? a.mean : worst;
    const y = Number.isFinite(b.mean) ? b.mean : worst;
    return results.direction === 'higher' ? y - x : x - y;
  });
  return { keys, sorted };
}

/** The trials as an HTML fragment (escaped `<figure>` with a table, best first, the best row bold). */
export function searchToHtml(results: SearchResults): string {
  const { keys, sorted } = rankedTrials(results);
  const td = (text: string, bold: boolean): string => `<td style="text-align:right;padding:2px 8px;border-bottom:1px solid #ddd">${bold ? `<strong>${escapeHtml(text)}</strong>` : escapeHtml(text)}</td>`;
  const head = [...keys, `${results.metric} (${results.direction} is better)`, '± se', 'fit s'].map((h) => `<th style="text-align:right;padding:2px 8px;border-bottom:2px solid #444">${escapeHtml(h)}</th>`).join('');
  const rows = sorted.map((t) => {
    const best = t === results.best;
    const cells = [...keys.map((k) => String(t.params[k] ?? '')), t.error ? `failed: ${t.error}` : t.mean.toFixed(5), Number.isFinite(t.stderr) ? t.stderr.toFixed(5) : '—', t.fitSeconds.toFixed(2)];
    return `<tr>${cells.map((c) => td(c, best)).join('')}</tr>`;
  }).join('\n');
  const caption = `${results.model}: ${results.trials.length} of ${results.planned} trials${results.interrupted ? ' (interrupted)' : ''}, selected on ${results.metric}`;
  return `<figure class="recsys-search" style="margin:1em 0;font-family:system-ui,sans-serif;font-size:13px">\n<figcaption style="font-weight:600">${escapeHtml(caption)}</figcaption>\n<table style="border-collapse:collapse">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table>\n</figure>`;
}

/** The trials as a text table, best first. */
export function formatSearch(results: SearchResults): string {
  const { keys, sorted } = rankedTrials(results);
  const header = [...keys, results.metric, '± se', 'fit s', 'score s'];
  const body = sorted.map((t) => [
    ...keys.map((k) => String(t.params[k] ?? '')),
    t.error ? `failed: ${t.error}` : t.mean.toFixed(5),
    Number.isFinite(t.stderr) ? t.stderr.toFixed(5) : '—',
    t.fitSeconds.toFixed(2),
    t.scoringSeconds.toFixed(2),
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  const line = (r: string[]): string => r.map((c, j) => c.padStart(widths[j])).join('  ');
  const out = [line(header), ...body.map(line)];
  const failed = results.trials.filter((t) => t.error).length;
  out.push('', `${results.trials.length} of ${results.planned} trials (${results.resumed} resumed from file)${failed ? `, ${failed} failed` : ''}${results.notRun ? `, stopped after a failure (${results.notRun} not run)` : ''}${results.interrupted ? ', interrupted' : ''}; ${results.metric}: ${results.direction} is better`);
  if (results.best) out.push(`best: ${results.best.key} → ${results.metric} ${results.best.mean.toFixed(5)}`);
  if (results.testError) out.push(`best refitted on train failed: ${results.testError}`);
  if (results.test) out.push(`best refitted on train, on test: ${Object.entries(results.test).map(([k, s]) => `${k}=${s.mean.toFixed(5)}`).join(', ')}`);
  return out.join('\n');
}
