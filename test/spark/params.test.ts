import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/eval/config.js';
import { IALS_PARAMS } from '../../src/models/factorization/ials.js';
import { ALS_PARAMS } from '../../src/models/factorization/als.js';
import { sparkConf } from '../../src/sparkjob/job.js';
import { recsysModelFor, SPARK_ALS_PARAMS, sparkParamsForTrial } from '../../src/sparkjob/params.js';
import { assignFolds, planSparkSearch, toTrial } from '../../src/spark/search.js';

describe('Spark ALS parameters', () => {
  it('defaults are Spark\'s (rank 10, maxIter 10, regParam 0.1, explicit, alpha 1, coldStartStrategy nan)', () => {
    expect(SPARK_ALS_PARAMS.defaults()).toMatchObject({ rank: 10, maxIter: 10, regParam: 0.1, implicitPrefs: false, alpha: 1, coldStartStrategy: 'nan', nonnegative: false });
  });

  it('coerces --param strings and rejects bad values naming the key', () => {
    expect(SPARK_ALS_PARAMS.parse('spark als', { rank: '32', implicitPrefs: 'true', alpha: '40' })).toMatchObject({ rank: 32, implicitPrefs: true, alpha: 40 });
    expect(() => SPARK_ALS_PARAMS.parse('spark als', { rank: '0' })).toThrow(/spark als: rank must be an integer >= 1/);
    expect(() => SPARK_ALS_PARAMS.parse('spark als', { factors: '8' })).toThrow(/unknown hyperparameter "factors"/);
    expect(() => SPARK_ALS_PARAMS.parse('spark als', { coldStartStrategy: 'mean' })).toThrow(/coldStartStrategy must be one of nan, drop/);
  });

  it('implicit ALS becomes an ials model with Spark\'s regularisation (λ·n_u: regExponent 1, exact solves)', () => {
    const { modelType, hyperparameters } = recsysModelFor(SPARK_ALS_PARAMS.parse('t', { implicitPrefs: true, rank: 16, maxIter: 7, regParam: 0.05, alpha: 40, seed: 3 }));
    expect(modelType).toBe('ials');
    expect(hyperparameters).toEqual({ factors: 16, iterations: 7, reg: 0.05, alpha: 40, confidence: 'linear', solver: 'cholesky', regExponent: 1, unobservedWeight: 1, seed: 3 });
    expect(() => IALS_PARAMS.parse('ials', hyperparameters)).not.toThrow(); // every key is one ials knows
  });

  it('explicit ALS becomes an als model with ALS-WR scaling and NaN for cold pairs', () => {
    const { modelType, hyperparameters } = recsysModelFor(SPARK_ALS_PARAMS.parse('t', { rank: 5, regParam: 0.2 }));
    expect(modelType).toBe('als');
    expect(hyperparameters).toEqual({ factors: 5, iterations: 10, reg: 0.2, scaleByCount: true, coldStart: 'drop', seed: 42 });
    expect(() => ALS_PARAMS.parse('als', hyperparameters)).not.toThrow();
  });

  it('maps a recsys search trial onto Spark names and refuses what Spark\'s ALS cannot do', () => {
    expect(sparkParamsForTrial('ials', { factors: 50, iterations: 20, reg: 0.1, alpha: 40 })).toMatchObject({ rank: 50, maxIter: 20, regParam: 0.1, alpha: 40, implicitPrefs: true });
    expect(sparkParamsForTrial('als', { factors: 4 })).toMatchObject({ rank: 4, implicitPrefs: false });
    expect(sparkParamsForTrial('ials', { factors: 4, solver: 'cholesky', regExponent: 1 })).toMatchObject({ rank: 4 }); // what Spark does anyway
    expect(() => sparkParamsForTrial('ials', { solver: 'cg' })).toThrow(/"solver: "cg"" cannot be run on Spark's ALS \(it takes factors, iterations, reg, alpha, seed, confidence=linear, solver=cholesky/);
    expect(() => sparkParamsForTrial('ials', { regExponent: 0 })).toThrow(/regExponent: 0/);
    expect(() => sparkParamsForTrial('bpr', { factors: 4 })).toThrow(/"bpr" has no Spark counterpart/);
    expect(() => sparkParamsForTrial('ials', { factors: 0 })).toThrow(/rank must be an integer >= 1/);
  });

  it('session settings: shuffle partitions, driver memory, UI off, extra --conf wins', () => {
    expect(sparkConf({ shufflePartitions: 3, driverMemory: '700m', extra: { 'spark.ui.enabled': 'true', 'spark.executor.memory': '2g' } })).toEqual({
      'spark.sql.shuffle.partitions': '3', 'spark.driver.memory': '700m', 'spark.ui.enabled': 'true', 'spark.ui.showConsoleProgress': 'false', 'spark.executor.memory': '2g',
    });
  });
});

const base = { dataset: 'synthetic', split: { method: 'random', testRatio: 0.2 }, metrics: ['roem', 'ndcg@10'] };

describe('spark search plan', () => {
  it('plans the grid in ParamGridBuilder order with Spark names', () => {
    const plan = planSparkSearch(validateConfig({ ...base, search: { model: 'ials', space: { factors: [4, 8], alpha: [1, 10] }, fixed: { iterations: 5 }, folds: 2, metric: 'roem' } }));
    expect(plan.trials).toEqual([{ iterations: 5, factors: 4, alpha: 1 }, { iterations: 5, factors: 4, alpha: 10 }, { iterations: 5, factors: 8, alpha: 1 }, { iterations: 5, factors: 8, alpha: 10 }]);
    expect(plan.spark.map((p) => [p.rank, p.alpha, p.maxIter, p.implicitPrefs])).toEqual([[4, 1, 5, true], [4, 10, 5, true], [8, 1, 5, true], [8, 10, 5, true]]);
  });

  it('refuses what the Spark search cannot run, before Spark starts', () => {
    const bad = (search: Record<string, unknown>): (() => unknown) => () => planSparkSearch(validateConfig({ ...base, search: { model: 'ials', space: { factors: [4] }, folds: 2, metric: 'roem', ...search } }));
    expect(() => planSparkSearch(validateConfig({ ...base, models: [{ model: 'popularity' }] }))).toThrow(/no search section/);
    expect(bad({ model: 'bpr' })).toThrow(/search.model: "bpr" has no Spark counterpart/);
    expect(bad({ metric: 'ndcg@10' })).toThrow(/selects on roem.*got ndcg@10/);
    expect(bad({ foldBy: 'user' })).toThrow(/foldBy: interaction/);
    expect(bad({ space: { factors: [4], solver: ['cg'] } })).toThrow(/search: trial 1 of 1 .*"solver: "cg"" cannot be run on Spark's ALS/);
  });

  it('gives each trial its folds from the evaluator\'s fold-major records, duplicates included', () => {
    const t = (rank: number): ReturnType<typeof sparkParamsForTrial> => sparkParamsForTrial('ials', { factors: rank });
    const trials = [t(4), t(8), t(4)];
    const rec = (rank: number, value: number): { params: Record<string, number>; value: number; fitSeconds: number; scoringSeconds: number } => ({ params: { rank, maxIter: 10, regParam: 0.1, alpha: 1, seed: 42 }, value, fitSeconds: 1, scoringSeconds: 0.5 });
    const records = [rec(4, 0.1), rec(8, 0.2), rec(4, 0.3), rec(4, 0.4), rec(8, 0.5), rec(4, 0.6)];
    expect(assignFolds(trials, records, 2).map((r) => r.map((e) => e.value))).toEqual([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]]);
    expect(() => assignFolds(trials, records.slice(0, 5), 2)).toThrow(/reported 1 of 2 folds/);
  });

  it('a trial with a failed fold is a failed trial, as the local search records one', () => {
    const params = { factors: 4, alpha: 2 };
    const ok = toTrial(params, [{ params: {}, value: 0.2, fitSeconds: 1, scoringSeconds: 0.25 }, { params: {}, value: 0.4, fitSeconds: 2, scoringSeconds: 0.25 }]);
    expect(ok).toMatchObject({ key: '{"alpha":2,"factors":4}', foldValues: [0.2, 0.4], fitSeconds: 3, scoringSeconds: 0.5 });
    expect(ok.mean).toBeCloseTo(0.3, 12);
    expect(ok.error).toBeUndefined();
    const failed = toTrial(params, [
      { params: {}, value: 0.2, fitSeconds: 1, scoringSeconds: 0.25 },
      { params: {}, value: null, error: 'java.lang.NegativeArraySizeException: -5', fitSeconds: 0.5, scoringSeconds: 0 },
    ]);
    expect(failed.error).toBe('fold 2: java.lang.NegativeArraySizeException: -5');
    expect(failed.foldValues).toEqual([0.2]);
    expect(Number.isNaN(failed.mean) && Number.isNaN(failed.stderr)).toBe(true);
    expect(failed.fitSeconds).toBe(1.5);
  });
});
