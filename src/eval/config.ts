/**
 * Experiment configuration: the typed shape of a config file (JSON or YAML) and its validation, with errors that
 * name the file and the offending key (e.g. `configs/x.yaml: split.testRatio: must be a number in (0, 1)`).
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { parseMetric, type MetricSpec } from './metrics.js';

/** Filters applied to the interactions before splitting, in the data layer's order: timeWindow, minValue, kCore, binarize. */
export interface FilterConfig {
  /** Keep entries with value >= minValue. */
  minValue?: number;
  /** Keep entries in [from, to) (seconds since the epoch). */
  timeWindow?: { from: number; to: number };
  /** Iterative k-core. */
  kCore?: { user: number; item: number };
  /** Set every value to 1. */
  binarize?: boolean;
}

/** Which split to make; the options of each method mirror the functions in splits.ts. */
export type SplitConfig =
  | { method: 'random'; testRatio: number; validationRatio?: number; seed?: number }
  | { method: 'ratio'; ratios: number[]; order?: 'random' | 'time'; seed?: number }
  | { method: 'leave-one-out'; validation?: boolean; seed?: number }
  | { method: 'leave-last-out'; validation?: boolean; seed?: number }
  | { method: 'temporal'; cutoff?: number; testRatio?: number; validationRatio?: number }
  | { method: 'kfold'; k: number; by?: 'interaction' | 'user' | 'heldout-user'; seed?: number }
  | { method: 'stratified'; ratio?: number; minRating?: number; filterBy?: 'user' | 'item'; seed?: number }
  | { method: 'strong-generalization'; testUsers: number; validationUsers?: number; foldInRatio?: number; minEntries?: number; seed?: number }
  | { method: 'kuairec'; threshold?: number };

/** One model of the comparison. */
export interface ModelConfig {
  /** Row label in the table (default: the model name). */
  label: string;
  /** Registry name, e.g. "popularity". */
  model: string;
  /** Hyperparameters passed to the model factory. */
  params: Record<string, unknown>;
}

/** A value range for random search: uniform (or log-uniform) in [min, max], optionally integer. */
export interface RangeSpec {
  min: number;
  max: number;
  log?: boolean;
  integer?: boolean;
}

/** Hyperparameter search settings. */
export interface SearchConfig {
  /** Registry name of the model to tune. */
  model: string;
  /** `grid` tries every combination of the listed values; `random` draws `trials` combinations. */
  strategy: 'grid' | 'random';
  /** Random search: number of trials. */
  trials?: number;
  /** Values per hyperparameter (grid, or choices for random) or ranges (random only). */
  space: Record<string, unknown[] | RangeSpec>;
  /** Hyperparameters common to all trials. */
  fixed: Record<string, unknown>;
  /** Folds of cross-validation on the training part (>= 2). */
  folds: number;
  /** How the folds are made (default interaction). */
  foldBy: 'interaction' | 'user';
  /** Metric to select on (direction known per metric, e.g. roem: lower is better). */
  metric: MetricSpec;
  /** JSON-lines file each finished trial is appended to; an interrupted search resumes from it. */
  results?: string;
  /** Seed of the folds and random draws. */
  seed: number;
}

/** A validated experiment configuration. */
export interface ExperimentConfig {
  /** Name shown in reports. */
  name: string;
  /** Data set name for `loadDataset`, or `synthetic` (generated). */
  dataset: string;
  /** Options of the data set (e.g. the synthetic generator's size). */
  datasetOptions: Record<string, unknown>;
  filters: FilterConfig;
  split: SplitConfig;
  protocol: { type: 'full' | 'sampled'; negatives: number; excludeSeen?: boolean; batchSize: number; keepUsersWithoutRelevant: boolean };
  /** Test entries with value >= threshold are relevant (the split may set its own, e.g. KuaiRec 2.0). */
  relevanceThreshold?: number;
  metrics: MetricSpec[];
  models: ModelConfig[];
  /** Multi-hot item feature used by diversity@k. */
  diversityFeature?: string;
  diversitySimilarity: 'jaccard' | 'cosine';
  /** Bootstrap resamples per metric. */
  bootstrap: number;
  /** Which held-out part the models are scored on (default test; validation for model selection). */
  evaluateOn: 'test' | 'validation';
  seed: number;
  search?: SearchConfig;
}

/** Thrown for an invalid config; the message names the file and key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads and validates a config file (.json, .yaml or .yml). */
export function loadConfig(path: string): ExperimentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  return validateConfig(raw, path);
}

/** Validates a parsed config object; `source` prefixes error messages. */
export function validateConfig(raw: unknown, source = 'config'): ExperimentConfig {
  const fail = (key: string, msg: string): never => {
    throw new ConfigError(`${source}: ${key}: ${msg}`);
  };
  if (!isObj(raw)) fail('(top level)', 'must be a mapping of keys to values');
  const top = raw as Obj;
  const known = ['name', 'dataset', 'filters', 'split', 'protocol', 'relevance', 'metrics', 'models', 'diversityFeature', 'diversitySimilarity', 'bootstrap', 'evaluateOn', 'seed', 'search'];
  unknownKeys(top, known, '', fail);
  const num = (obj: Obj, key: string, path: string, check: (x: number) => boolean = () => true, what = 'a number'): number | undefined => {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) fail(`${path}${key}`, `must be ${what}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const seed = num(top, 'seed', '', Number.isInteger, 'an integer') ?? 42;

  // dataset: "name" or { name, ...options }
  let dataset = '';
  let datasetOptions: Obj = {};
  if (typeof top.dataset === 'string') dataset = top.dataset;
  else if (isObj(top.dataset) && typeof top.dataset.name === 'string') {
    dataset = top.dataset.name;
    datasetOptions = { ...top.dataset };
    delete datasetOptions.name;
  } else fail('dataset', 'required: a data set name (e.g. kuairec-sample) or { name: ..., options }');

  // filters
  const filters: FilterConfig = {};
  if (top.filters !== undefined) {
    if (!isObj(top.filters)) fail('filters', 'must be a mapping');
    const f = top.filters as Obj;
    unknownKeys(f, ['minValue', 'timeWindow', 'kCore', 'binarize'], 'filters.', fail);
    filters.minValue = num(f, 'minValue', 'filters.');
    if (f.binarize !== undefined) {
      if (typeof f.binarize !== 'boolean') fail('filters.binarize', 'must be true or false');
      filters.binarize = f.binarize as boolean;
    }
    if (f.kCore !== undefined) {
      if (!isObj(f.kCore)) fail('filters.kCore', 'must be { user: n, item: n }');
      const k = f.kCore as Obj;
      unknownKeys(k, ['user', 'item'], 'filters.kCore.', fail);
      const isCount = (x: number): boolean => Number.isInteger(x) && x >= 1;
      filters.kCore = { user: num(k, 'user', 'filters.kCore.', isCount, 'an integer >= 1') ?? 1, item: num(k, 'item', 'filters.kCore.', isCount, 'an integer >= 1') ?? 1 };
    }
    if (f.timeWindow !== undefined) {
      if (!isObj(f.timeWindow)) fail('filters.timeWindow', 'must be { from: seconds, to: seconds }');
      const w = f.timeWindow as Obj;
      unknownKeys(w, ['from', 'to'], 'filters.timeWindow.', fail);
      filters.timeWindow = { from: num(w, 'from', 'filters.timeWindow.') ?? -Infinity, to: num(w, 'to', 'filters.timeWindow.') ?? Infinity };
    }
  }

  const split = validateSplit(top.split, seed, fail, num);

  // protocol
  const protocol: ExperimentConfig['protocol'] = { type: 'full', negatives: 100, batchSize: 1024, keepUsersWithoutRelevant: false };
  if (top.protocol !== undefined) {
    if (!isObj(top.protocol)) fail('protocol', 'must be a mapping');
    const p = top.protocol as Obj;
    unknownKeys(p, ['type', 'negatives', 'excludeSeen', 'batchSize', 'keepUsersWithoutRelevant'], 'protocol.', fail);
    if (p.type !== undefined) {
      if (p.type !== 'full' && p.type !== 'sampled') fail('protocol.type', `must be "full" or "sampled", got ${JSON.stringify(p.type)}`);
      protocol.type = p.type as 'full' | 'sampled';
    }
    const isPos = (x: number): boolean => Number.isInteger(x) && x >= 1;
    protocol.negatives = num(p, 'negatives', 'protocol.', isPos, 'a positive integer') ?? 100;
    protocol.batchSize = num(p, 'batchSize', 'protocol.', isPos, 'a positive integer') ?? 1024;
    if (p.keepUsersWithoutRelevant !== undefined) {
      if (typeof p.keepUsersWithoutRelevant !== 'boolean') fail('protocol.keepUsersWithoutRelevant', 'must be true or false');
      protocol.keepUsersWithoutRelevant = p.keepUsersWithoutRelevant as boolean;
    }
    if (p.excludeSeen !== undefined) {
      if (typeof p.excludeSeen !== 'boolean') fail('protocol.excludeSeen', 'must be true or false');
      protocol.excludeSeen = p.excludeSeen as boolean;
    }
  }

  let relevanceThreshold: number | undefined;
  if (top.relevance !== undefined) {
    if (!isObj(top.relevance)) fail('relevance', 'must be { threshold: number }');
    unknownKeys(top.relevance as Obj, ['threshold'], 'relevance.', fail);
    relevanceThreshold = num(top.relevance as Obj, 'threshold', 'relevance.');
  }

  // metrics
  if (!Array.isArray(top.metrics) || top.metrics.length === 0) fail('metrics', 'required: a list such as [ndcg@10, recall@20, roem]');
  const metrics = (top.metrics as unknown[]).map((m, j) => {
    if (typeof m !== 'string') return fail(`metrics[${j}]`, `must be a string such as ndcg@10, got ${JSON.stringify(m)}`);
    try {
      return parseMetric(m);
    } catch (e) {
      return fail(`metrics[${j}]`, (e as Error).message);
    }
  });

  // models
  const models: ModelConfig[] = [];
  if (top.models !== undefined) {
    if (!Array.isArray(top.models)) fail('models', 'must be a list of { model, params, label }');
    (top.models as unknown[]).forEach((m, j) => {
      const path = `models[${j}]`;
      if (typeof m === 'string') {
        models.push({ label: m, model: m, params: {} });
        return;
      }
      if (!isObj(m)) fail(path, 'must be a model name or { model, params, label }');
      const mo = m as Obj;
      unknownKeys(mo, ['model', 'params', 'label'], `${path}.`, fail);
      if (typeof mo.model !== 'string') fail(`${path}.model`, 'required: a registered model name');
      if (mo.params !== undefined && !isObj(mo.params)) fail(`${path}.params`, 'must be a mapping of hyperparameters');
      if (mo.label !== undefined && typeof mo.label !== 'string') fail(`${path}.label`, 'must be a string');
      models.push({ label: (mo.label as string | undefined) ?? (mo.model as string), model: mo.model as string, params: (mo.params as Obj | undefined) ?? {} });
    });
  }
  const labels = new Set<string>();
  for (const [j, m] of models.entries()) {
    if (labels.has(m.label)) fail(`models[${j}].label`, `"${m.label}" is used twice; give each model a distinct label`);
    labels.add(m.label);
  }

  let diversityFeature: string | undefined;
  if (top.diversityFeature !== undefined) {
    if (typeof top.diversityFeature !== 'string') fail('diversityFeature', 'must be the name of a multi-hot item feature, e.g. tags');
    diversityFeature = top.diversityFeature as string;
  }
  let diversitySimilarity: 'jaccard' | 'cosine' = 'jaccard';
  if (top.diversitySimilarity !== undefined) {
    if (top.diversitySimilarity !== 'jaccard' && top.diversitySimilarity !== 'cosine') fail('diversitySimilarity', 'must be "jaccard" or "cosine"');
    diversitySimilarity = top.diversitySimilarity as 'jaccard' | 'cosine';
  }
  const bootstrap = num(top, 'bootstrap', '', (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0') ?? 1000;

  let evaluateOn: 'test' | 'validation' = 'test';
  if (top.evaluateOn !== undefined) {
    if (top.evaluateOn !== 'test' && top.evaluateOn !== 'validation') fail('evaluateOn', `must be "test" or "validation", got ${JSON.stringify(top.evaluateOn)}`);
    evaluateOn = top.evaluateOn as 'test' | 'validation';
  }
  let search: SearchConfig | undefined;
  if (top.search !== undefined) search = validateSearch(top.search, seed, fail, num);
  if (models.length === 0 && !search) fail('models', 'required: at least one model (or a search section)');

  const name = typeof top.name === 'string' ? top.name : dataset;
  return { name, dataset, datasetOptions, filters, split, protocol, relevanceThreshold, metrics, models, diversityFeature, diversitySimilarity, bootstrap, evaluateOn, seed, search };
}

type Fail = (key: string, msg: string) => never;
type NumReader = (obj: Obj, key: string, path: string, check?: (x: number) => boolean, what?: string) => number | undefined;

function unknownKeys(obj: Obj, known: string[], path: string, fail: Fail): void {
  for (const key of Object.keys(obj)) if (!known.includes(key)) fail(`${path}${key}`, `unknown key; expected one of: ${known.join(', ')}`);
}

const SPLIT_KEYS: Record<SplitConfig['method'], string[]> = {
  random: ['testRatio', 'validationRatio', 'seed'],
  ratio: ['ratios', 'order', 'seed'],
  'leave-one-out': ['validation', 'seed'],
  'leave-last-out': ['validation', 'seed'],
  temporal: ['cutoff', 'testRatio', 'validationRatio'],
  kfold: ['k', 'by', 'seed'],
  stratified: ['ratio', 'minRating', 'filterBy', 'seed'],
  'strong-generalization': ['testUsers', 'validationUsers', 'foldInRatio', 'minEntries', 'seed'],
  kuairec: ['threshold'],
};

function validateSplit(raw: unknown, seed: number, fail: Fail, num: NumReader): SplitConfig {
  if (!isObj(raw)) return fail('split', `required: { method: ${Object.keys(SPLIT_KEYS).join(' | ')}, ... }`);
  const s = raw;
  const method = s.method as SplitConfig['method'];
  if (typeof method !== 'string' || !(method in SPLIT_KEYS)) return fail('split.method', `must be one of ${Object.keys(SPLIT_KEYS).join(', ')}, got ${JSON.stringify(s.method)}`);
  unknownKeys(s, ['method', ...SPLIT_KEYS[method]], 'split.', fail);
  const ratio = (x: number): boolean => x > 0 && x < 1;
  const ratio0 = (x: number): boolean => x >= 0 && x < 1;
  const sd = num(s, 'seed', 'split.', Number.isInteger, 'an integer') ?? seed;
  const bool = (key: string): boolean | undefined => {
    if (s[key] === undefined) return undefined;
    if (typeof s[key] !== 'boolean') fail(`split.${key}`, 'must be true or false');
    return s[key] as boolean;
  };
  switch (method) {
    case 'random': {
      const testRatio = num(s, 'testRatio', 'split.', ratio, 'a number in (0, 1)');
      if (testRatio === undefined) return fail('split.testRatio', 'required for the random split (e.g. 0.2)');
      return { method, testRatio, validationRatio: num(s, 'validationRatio', 'split.', ratio0, 'a number in [0, 1)'), seed: sd };
    }
    case 'ratio': {
      const r = s.ratios;
      if (!Array.isArray(r) || (r.length !== 2 && r.length !== 3) || r.some((x) => typeof x !== 'number' || !(x >= 0))) {
        return fail('split.ratios', `must be 2 or 3 non-negative numbers (train, [validation,] test), e.g. [8, 1, 1]; got ${JSON.stringify(r)}`);
      }
      if (s.order !== undefined && s.order !== 'random' && s.order !== 'time') fail('split.order', 'must be "random" or "time"');
      return { method, ratios: r as number[], order: s.order as 'random' | 'time' | undefined, seed: sd };
    }
    case 'leave-one-out':
    case 'leave-last-out':
      return { method, validation: bool('validation'), seed: sd };
    case 'temporal': {
      const cutoff = num(s, 'cutoff', 'split.');
      const testRatio = num(s, 'testRatio', 'split.', ratio, 'a number in (0, 1)');
      if ((cutoff === undefined) === (testRatio === undefined)) fail('split', 'the temporal split needs exactly one of cutoff (seconds since the epoch) or testRatio');
      return { method, cutoff, testRatio, validationRatio: num(s, 'validationRatio', 'split.', ratio0, 'a number in [0, 1)') };
    }
    case 'kfold': {
      const k = num(s, 'k', 'split.', (x) => Number.isInteger(x) && x >= 2, 'an integer >= 2');
      if (k === undefined) return fail('split.k', 'required for k-fold (e.g. 5)');
      if (s.by !== undefined && s.by !== 'interaction' && s.by !== 'user' && s.by !== 'heldout-user') fail('split.by', 'must be interaction, user or heldout-user');
      return { method, k, by: s.by as 'interaction' | 'user' | 'heldout-user' | undefined, seed: sd };
    }
    case 'stratified': {
      if (s.filterBy !== undefined && s.filterBy !== 'user' && s.filterBy !== 'item') fail('split.filterBy', 'must be "user" or "item"');
      return { method, ratio: num(s, 'ratio', 'split.', ratio, 'a number in (0, 1)'), minRating: num(s, 'minRating', 'split.', (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1'), filterBy: s.filterBy as 'user' | 'item' | undefined, seed: sd };
    }
    case 'strong-generalization': {
      const testUsers = num(s, 'testUsers', 'split.', (x) => x > 0, 'a positive number (count, or share when below 1)');
      if (testUsers === undefined) return fail('split.testUsers', 'required (a count of users, or a share below 1)');
      return {
        method, testUsers, validationUsers: num(s, 'validationUsers', 'split.', (x) => x >= 0, 'a non-negative number'),
        foldInRatio: num(s, 'foldInRatio', 'split.', ratio, 'a number in (0, 1)'), minEntries: num(s, 'minEntries', 'split.', (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1'), seed: sd,
      };
    }
    case 'kuairec':
      return { method, threshold: num(s, 'threshold', 'split.') };
  }
}

function validateSearch(raw: unknown, seed: number, fail: Fail, num: NumReader): SearchConfig {
  if (!isObj(raw)) return fail('search', 'must be a mapping');
  const s = raw;
  unknownKeys(s, ['model', 'strategy', 'trials', 'space', 'fixed', 'folds', 'foldBy', 'metric', 'results', 'seed'], 'search.', fail);
  if (typeof s.model !== 'string') fail('search.model', 'required: the registered model to tune');
  const strategy = s.strategy ?? 'grid';
  if (strategy !== 'grid' && strategy !== 'random') fail('search.strategy', 'must be "grid" or "random"');
  if (!isObj(s.space) || Object.keys(s.space).length === 0) fail('search.space', 'required: hyperparameter → list of values (or { min, max, log, integer } for random search)');
  const space: Record<string, unknown[] | RangeSpec> = {};
  for (const [key, v] of Object.entries(s.space as Obj)) {
    if (Array.isArray(v)) {
      if (v.length === 0) fail(`search.space.${key}`, 'must list at least one value');
      space[key] = v;
    } else if (isObj(v)) {
      if (strategy === 'grid') fail(`search.space.${key}`, 'grid search needs a list of values');
      unknownKeys(v, ['min', 'max', 'log', 'integer'], `search.space.${key}.`, fail);
      const min = num(v, 'min', `search.space.${key}.`);
      const max = num(v, 'max', `search.space.${key}.`);
      if (min === undefined || max === undefined || !(max >= min)) fail(`search.space.${key}`, 'a range needs numbers min <= max');
      if (v.log === true && !(min! > 0)) fail(`search.space.${key}.min`, 'a log range needs min > 0');
      space[key] = { min: min!, max: max!, log: v.log === true, integer: v.integer === true };
    } else {
      fail(`search.space.${key}`, 'must be a list of values or a { min, max } range');
    }
  }
  if (s.fixed !== undefined && !isObj(s.fixed)) fail('search.fixed', 'must be a mapping of hyperparameters');
  const trials = num(s, 'trials', 'search.', (x) => Number.isInteger(x) && x >= 1, 'a positive integer');
  if (strategy === 'random' && trials === undefined) fail('search.trials', 'required for random search');
  const folds = num(s, 'folds', 'search.', (x) => Number.isInteger(x) && x >= 2, 'an integer >= 2') ?? 5;
  const foldBy = s.foldBy ?? 'interaction';
  if (foldBy !== 'interaction' && foldBy !== 'user') fail('search.foldBy', 'must be "interaction" or "user"');
  if (typeof s.metric !== 'string') fail('search.metric', 'required: the metric to select on, e.g. roem or ndcg@10');
  let metric: MetricSpec;
  try {
    metric = parseMetric(s.metric as string);
  } catch (e) {
    return fail('search.metric', (e as Error).message);
  }
  if (s.results !== undefined && typeof s.results !== 'string') fail('search.results', 'must be a file path');
  return {
    model: s.model as string, strategy: strategy as 'grid' | 'random', trials, space, fixed: (s.fixed as Obj | undefined) ?? {}, folds,
    foldBy: foldBy as 'interaction' | 'user', metric, results: s.results as string | undefined, seed: num(s, 'seed', 'search.', Number.isInteger, 'an integer') ?? seed,
  };
}
