/**
 * Experiment configuration: one schema for a config file (JSON or YAML), from which the config types are
 * derived, and its validation, with errors that name the file and the offending key
 * (e.g. `configs/x.yaml: split.testRatio: must be a number in (0, 1), got 1.5`). Model hyperparameters stay
 * `Record<string, unknown>` here: each model validates its own with its parameter schema.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { EARLY_STOPPING_METRICS } from './early-stopping.js';
import { parseMetric } from './metrics.js';

// ---------------------------------------------------------------------------------------------------------
// Building blocks, each with the message a user sees.

/** A value as quoted in messages. */
function show(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (typeof x === 'number') return String(x); // NaN and Infinity, which JSON would print as null
  return JSON.stringify(x) ?? String(x);
}

/** The message of a schema: "must be <what>, got <value>", or `required` when the key is missing. */
function expecting(what: string, required = `required: ${what}`): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? required : `must be ${what}, got ${show(issue.input)}`);
}

/** A finite number passing `check`. */
function number(what = 'a number', check: (x: number) => boolean = () => true, required?: string): z.ZodNumber {
  const error = expecting(what, required);
  return z.number({ error }).refine(check, { error });
}

const integer = (min: number, what = `an integer >= ${min}`, required?: string): z.ZodNumber => number(what, (x) => Number.isInteger(x) && x >= min, required);
const positiveInteger = integer(1, 'a positive integer');
const ratio = (required?: string): z.ZodNumber => number('a number in (0, 1)', (x) => x > 0 && x < 1, required);
const ratioOrZero = number('a number in [0, 1)', (x) => x >= 0 && x < 1);
const seed = number('an integer', Number.isInteger);
const flag = z.boolean({ error: expecting('true or false') });

/** One of a few strings: `must be "a" or "b"` / `must be one of a, b, c`. */
function oneOf<const V extends readonly [string, ...string[]]>(values: V): z.ZodEnum<{ [K in V[number]]: K }> {
  const what = values.length === 2 ? `"${values[0]}" or "${values[1]}"` : `one of ${values.join(', ')}`;
  return z.enum(values, { error: expecting(what) });
}

/** A mapping with exactly the keys of `shape` (others are "unknown key" errors listing the known ones). */
function mapping<S extends z.ZodRawShape>(shape: S, what = 'a mapping', required?: string): z.ZodObject<S, z.core.$strict> {
  const known = Object.keys(shape).join(', ');
  const other = expecting(what, required);
  return z.strictObject(shape, { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key; expected one of: ${known}` : other(issue)) });
}

/** Hyperparameters of a model, checked by the model itself. */
const hyperparameters = z.record(z.string(), z.unknown(), { error: expecting('a mapping of hyperparameters') });

/** A metric name such as ndcg@10, parsed. */
function metric(required: string) {
  return z.string({ error: expecting('a string such as ndcg@10', required) }).transform((name, ctx) => {
    try {
      return parseMetric(name);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e), input: name });
      return z.NEVER;
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// The sections of a config.

/** Filters applied to the interactions before splitting, in the data layer's order: timeWindow, minValue, kCore, binarize. */
const filtersSchema = mapping({
  /** Keep entries with value >= minValue. */
  minValue: number().optional(),
  /** Keep entries in [from, to) (seconds since the epoch). */
  timeWindow: mapping({ from: number().default(-Infinity), to: number().default(Infinity) }, '{ from: seconds, to: seconds }').optional(),
  /** Iterative k-core. */
  kCore: mapping({ user: integer(1).default(1), item: integer(1).default(1) }, '{ user: n, item: n }').optional(),
  /** Set every value to 1. */
  binarize: flag.optional(),
});

const SPLIT_METHODS = ['random', 'ratio', 'leave-one-out', 'leave-last-out', 'temporal', 'kfold', 'stratified', 'strong-generalization', 'kuairec', 'cold-items', 'cold-users'] as const;
const RATIOS = '2 or 3 non-negative numbers (train, [validation,] test) with positive train and test weights, e.g. [8, 1, 1]';

/** Which split to make; the options of each method mirror the functions in splits.ts (`seed` defaults to the config's). */
const splitSchema = z.discriminatedUnion(
  'method',
  [
    mapping({ method: z.literal('random'), testRatio: ratio('required for the random split (e.g. 0.2)'), validationRatio: ratioOrZero.optional(), seed: seed.optional() }),
    mapping({
      method: z.literal('ratio'),
      ratios: z.custom<number[]>((r) => Array.isArray(r) && (r.length === 2 || r.length === 3) && r.every((x) => typeof x === 'number' && x >= 0) && r[0] > 0 && r[r.length - 1] > 0, { error: expecting(RATIOS) }),
      order: oneOf(['random', 'time']).optional(),
      seed: seed.optional(),
    }),
    mapping({ method: z.literal('leave-one-out'), validation: flag.optional(), seed: seed.optional() }),
    mapping({ method: z.literal('leave-last-out'), validation: flag.optional(), seed: seed.optional() }),
    mapping({ method: z.literal('temporal'), cutoff: number('a number (seconds since the epoch)').optional(), testRatio: ratio().optional(), validationRatio: ratioOrZero.optional() })
      .refine((s) => (s.cutoff === undefined) !== (s.testRatio === undefined), { error: 'the temporal split needs exactly one of cutoff (seconds since the epoch) or testRatio' }),
    mapping({ method: z.literal('kfold'), k: integer(2, undefined, 'required for k-fold (e.g. 5)'), by: oneOf(['interaction', 'user', 'heldout-user']).optional(), seed: seed.optional() }),
    mapping({ method: z.literal('stratified'), ratio: ratio().optional(), minRating: integer(1).optional(), filterBy: oneOf(['user', 'item']).optional(), seed: seed.optional() }),
    mapping({
      method: z.literal('strong-generalization'),
      testUsers: number('a positive number (count, or share when below 1)', (x) => x > 0, 'required (a count of users, or a share below 1)'),
      validationUsers: number('a non-negative number', (x) => x >= 0).optional(),
      foldInRatio: ratio().optional(),
      minEntries: integer(1).optional(),
      seed: seed.optional(),
    }),
    mapping({ method: z.literal('kuairec'), threshold: number().optional() }),
    mapping({
      method: z.literal('cold-items'),
      testItems: number('a positive number (count, or share when below 1)', (x) => x > 0, 'required (a count of items, or a share below 1)'),
      validationItems: number('a non-negative number', (x) => x >= 0).optional(),
      seed: seed.optional(),
    }),
    mapping({
      method: z.literal('cold-users'),
      testUsers: number('a positive number (count, or share when below 1)', (x) => x > 0, 'required (a count of users, or a share below 1)'),
      foldInEvents: integer(0).optional(),
      order: oneOf(['random', 'time']).optional(),
      seed: seed.optional(),
    }),
  ],
  {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return `required: { method: ${SPLIT_METHODS.join(' | ')}, ... }`;
      const method = typeof issue.input === 'object' && issue.input !== null && 'method' in issue.input ? issue.input.method : undefined;
      return `must be one of ${SPLIT_METHODS.join(', ')}, got ${show(method)}`;
    },
  },
);

/** How models are scored. */
const protocolSchema = mapping({
  /** `full` ranks every candidate item; `sampled` ranks each relevant item against `negatives` sampled items. */
  type: oneOf(['full', 'sampled']).default('full'),
  negatives: positiveInteger.default(100),
  /** Overrides the split's default of excluding each user's training items. */
  excludeSeen: flag.optional(),
  batchSize: positiveInteger.default(1024),
  keepUsersWithoutRelevant: flag.default(false),
  /**
   * On test, also exclude each user's validation items (train ∪ validation masked, as RecBole and most papers
   * do): otherwise known validation items take top-k slots and count as misses. Only for splits with a validation part.
   */
  excludeValidation: flag.default(true),
  /** `train+validation` refits every model on both parts before testing; `train` (default) fits on train only. */
  refit: oneOf(['train', 'train+validation']).default('train'),
  /**
   * Which users are scored: `all`, or `with-friends` — users with at least one friend (social links taken as
   * mutual) who has training interactions, the users a social model can reach; needs a data set with social links.
   */
  users: oneOf(['all', 'with-friends']).default('all'),
});

/** Early stopping of iterative models on the validation part (RecBole's `stopping_step`). */
const earlyStoppingSchema = mapping({
  /** The monitored top-k metric (higher is better), e.g. ndcg@10. */
  metric: metric('required: the metric to monitor, e.g. ndcg@10').default(parseMetric('ndcg@10')),
  /** Epochs (or iterations) without improvement before training stops. */
  patience: positiveInteger.default(10),
}, '{ metric: ndcg@10, patience: 10 }');

/** One model of the comparison: a registry name, or `{ model, params, label }`. */
const modelSchema = z.union(
  [
    z.string().transform((name) => modelEntry(name, name, {})),
    mapping({ model: z.string({ error: 'required: a registered model name' }), params: hyperparameters.default({}), label: z.string({ error: expecting('a string') }).optional() }, 'a model name or { model, params, label }')
      .transform((m) => modelEntry(m.label ?? m.model, m.model, m.params)),
  ],
  { error: expecting('a model name or { model, params, label }') },
);

function modelEntry(label: string, model: string, params: Record<string, unknown>) {
  return {
    /** Row label in the table (default: the model name). */
    label,
    /** Registry name, e.g. "popularity". */
    model,
    /** Hyperparameters passed to the model factory. */
    params,
  };
}

/** A value range for random search: uniform (or log-uniform) in [min, max], optionally integer. */
const rangeSchema = mapping({ min: number(), max: number(), log: flag.default(false), integer: flag.default(false) }, 'a { min, max } range')
  .refine((r) => r.max >= r.min, { error: 'a range needs numbers min <= max' })
  .refine((r) => !r.log || r.min > 0, { error: 'a log range needs min > 0', path: ['min'] });

/** Hyperparameter search settings. */
const searchSchema = mapping({
  /** Registry name of the model to tune. */
  model: z.string({ error: 'required: the registered model to tune' }),
  /** `grid` tries every combination of the listed values; `random` draws `trials` combinations. */
  strategy: oneOf(['grid', 'random']).default('grid'),
  /** Random search: number of trials. */
  trials: positiveInteger.optional(),
  /** Values per hyperparameter (grid, or choices for random) or ranges (random only). */
  space: z
    .record(
      z.string(),
      z.union([z.array(z.unknown()).min(1, { error: 'must list at least one value' }), rangeSchema], { error: expecting('a list of values or a { min, max } range') }),
      { error: expecting('a mapping', 'required: hyperparameter → list of values (or { min, max, log, integer } for random search)') },
    )
    .refine((s) => Object.keys(s).length > 0, { error: 'required: hyperparameter → list of values (or { min, max, log, integer } for random search)' }),
  /** Hyperparameters common to all trials. */
  fixed: hyperparameters.default({}),
  /** Folds of cross-validation on the training part (>= 2). */
  folds: integer(2).default(5),
  /** How the folds are made. */
  foldBy: oneOf(['interaction', 'user']).default('interaction'),
  /** Metric to select on (direction known per metric, e.g. roem: lower is better). */
  metric: metric('required: the metric to select on, e.g. roem or ndcg@10'),
  /** JSON-lines file each finished trial is appended to; an interrupted search resumes from it. */
  results: z.string({ error: expecting('a file path') }).optional(),
  /** Seed of the folds and random draws (default: the config's seed). */
  seed: seed.optional(),
}).superRefine((s, ctx) => {
  if (s.strategy === 'random' && s.trials === undefined) ctx.addIssue({ code: 'custom', path: ['trials'], message: 'required for random search' });
  if (s.strategy === 'grid') {
    for (const [key, v] of Object.entries(s.space)) if (!Array.isArray(v)) ctx.addIssue({ code: 'custom', path: ['space', key], message: 'grid search needs a list of values' });
  }
});

/** A config file as written (the input of {@link validateConfig}). */
const configFileSchema = mapping(
  {
    /** Name shown in reports (default: the data set name). */
    name: z.string({ error: expecting('a string') }).optional(),
    /** Data set name for `loadDataset` (or `synthetic`, generated), or `{ name, ...options }`. */
    dataset: z.union([z.string(), z.looseObject({ name: z.string({ error: 'required: the data set name' }) })], {
      error: 'required: a data set name (e.g. kuairec-sample) or { name: ..., options }',
    }),
    filters: filtersSchema.prefault({}),
    split: splitSchema,
    protocol: protocolSchema.prefault({}),
    /** Test entries with value >= threshold are relevant (the split may set its own, e.g. KuaiRec 2.0). */
    relevance: mapping({ threshold: number().optional() }, '{ threshold: number }').optional(),
    metrics: z.array(metric('required: a metric such as ndcg@10'), { error: 'required: a list such as [ndcg@10, recall@20, roem]' }).min(1, { error: 'required: a list such as [ndcg@10, recall@20, roem]' }),
    models: z.array(modelSchema, { error: expecting('a list of { model, params, label }') }).default([]),
    /** Multi-hot item feature used by diversity@k. */
    diversityFeature: z.string({ error: expecting('the name of a multi-hot item feature, e.g. tags') }).optional(),
    diversitySimilarity: oneOf(['jaccard', 'cosine']).default('jaccard'),
    /** Bootstrap resamples per metric (0: no interval). */
    bootstrap: integer(0).default(1000),
    /** Which held-out part the models are scored on (validation for model selection). */
    evaluateOn: oneOf(['test', 'validation']).default('test'),
    /** Seed of the split, the search, negative sampling and the bootstrap (each forks its own stream). */
    seed: seed.default(42),
    search: searchSchema.optional(),
    /** Early stopping on validation for iterative models (iALS, ALS, BPR, biased MF); the best epoch is reported. */
    earlyStopping: earlyStoppingSchema.optional(),
  },
  'a mapping of keys to values',
)
  .superRefine((c, ctx) => {
    const labels = new Set<string>();
    c.models.forEach((m, j) => {
      if (labels.has(m.label)) ctx.addIssue({ code: 'custom', path: ['models', j, 'label'], message: `"${m.label}" is used twice; give each model a distinct label` });
      labels.add(m.label);
    });
    const es = c.earlyStopping?.metric;
    if (es && (!(EARLY_STOPPING_METRICS as readonly string[]).includes(es.name) || !Number.isFinite(es.k))) {
      ctx.addIssue({ code: 'custom', path: ['earlyStopping', 'metric'], message: `must be a top-k metric with a cut-off (${EARLY_STOPPING_METRICS.map((m) => `${m}@k`).join(', ')}), got ${es.label}` });
    }
    if (c.models.length === 0 && !c.search) ctx.addIssue({ code: 'custom', path: ['models'], message: 'required: at least one model (or a search section)' });
  })
  .transform(({ dataset, relevance, split, search, ...rest }) => {
    const { name: datasetName, ...datasetOptions } = typeof dataset === 'string' ? { name: dataset } : dataset;
    return {
      ...rest,
      name: rest.name ?? datasetName,
      dataset: datasetName,
      /** Options of the data set (e.g. the synthetic generator's size). */
      datasetOptions,
      split: split.method === 'temporal' || split.method === 'kuairec' ? split : { ...split, seed: split.seed ?? rest.seed },
      /** Test entries with value >= threshold are relevant (the split may set its own, e.g. KuaiRec 2.0). */
      relevanceThreshold: relevance?.threshold,
      search: search && { ...search, seed: search.seed ?? rest.seed },
    };
  });

/** A config as written in a file, before defaults (what {@link validateConfig} accepts). */
export type ExperimentConfigInput = z.input<typeof configFileSchema>;
/** A validated experiment configuration, defaults filled in. */
export type ExperimentConfig = z.output<typeof configFileSchema>;
export type FilterConfig = ExperimentConfig['filters'];
export type SplitConfig = ExperimentConfig['split'];
export type ModelConfig = ExperimentConfig['models'][number];
export type SearchConfig = NonNullable<ExperimentConfig['search']>;
export type RangeSpec = z.output<typeof rangeSchema>;

// ---------------------------------------------------------------------------------------------------------
// Validation and messages.

/** One problem of a config: the key path (`split.testRatio`, `models[1].label`) and what is wrong. */
export interface ConfigIssue {
  key: string;
  message: string;
}

/** Thrown for an invalid config; the message names the file and key of every problem, one per line. */
export class ConfigError extends Error {
  constructor(
    message: string,
    /** The problems, when the config was read (empty for unreadable files). */
    readonly issues: readonly ConfigIssue[] = [],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `split.ratios`, `models[1].label`; `(top level)` for the config itself. */
function keyPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : `${s ? '.' : ''}${String(p)}`;
  return s || '(top level)';
}

/**
 * The issues as (key, message), unknown keys one by one. A failed union of differently typed forms (a name or
 * a mapping; a list or a range) reports the problems of the form the value has, when exactly one matches.
 */
function flatten(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ key: keyPath([...path, key]), message: issue.message });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const sameForm = issue.errors.filter((branch) => !branch.some((b) => b.code === 'invalid_type' && b.path.length === 0));
      if (sameForm.length === 1) out.push(...flatten(sameForm[0], path));
      else out.push({ key: keyPath(path), message: issue.message });
    } else {
      out.push({ key: keyPath(path), message: issue.message });
    }
  }
  return out.filter((x, j) => out.findIndex((y) => y.key === x.key && y.message === x.message) === j);
}

/** Reads and validates a config file (.json, .yaml or .yml). */
export function loadConfig(path: string): ExperimentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return validateConfig(raw, path);
}

/** Validates a parsed config object; `source` (the file) prefixes every message. */
export function validateConfig(raw: unknown, source = 'config'): ExperimentConfig {
  const result = configFileSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues = flatten(result.error.issues);
  throw new ConfigError(issues.map((i) => `${source}: ${i.key}: ${i.message}`).join('\n'), issues);
}
