/**
 * How the experiment runner and the search handle bad models and failing ones: every model (trial) is
 * constructed before any data is loaded; a failure at fit time is a row (trial) with a readable error, and
 * with `stopOnError` the last one; engine allocation failures read as sentences.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { validateConfig } from '../../src/eval/config.js';
import { defaultLoadDataset, runExperiment } from '../../src/eval/experiment.js';
import { describeParams, explainRunError, formatSize, isMemoryError } from '../../src/eval/fit-errors.js';
import { formatSearch, readTrials, runSearch, trialKey } from '../../src/eval/search.js';

const dataset = { name: 'synthetic', users: 150, items: 80, perUser: 12, seed: 1 };
const base = { dataset, split: { method: 'leave-last-out' }, metrics: ['hitrate@10'], bootstrap: 0 };

/** A loader that records whether it was called. */
function spyLoader(): { loaded: () => boolean; loadDataset: typeof defaultLoadDataset } {
  let loaded = false;
  return { loaded: () => loaded, loadDataset: async (name, options) => { loaded = true; return defaultLoadDataset(name, options); } };
}

describe('runExperiment', () => {
  it('constructs every model first: a bad hyperparameter in the last model is a UsageError before loading', async () => {
    const spy = spyLoader();
    const cfg = validateConfig({ ...base, models: ['random', 'popularity', { label: 'my ials', model: 'ials', params: { factors: 0 } }] });
    const err = await runExperiment(cfg, { loadDataset: spy.loadDataset }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^models: "my ials": ials: factors must be an integer >= 1 \(got 0\)/);
    expect(spy.loaded()).toBe(false);
  });

  it('a model failing at fit is a row with its error; stopOnError ends the run there and names what was not run', async () => {
    const models = ['popularity', { label: 'svd', model: 'pure-svd', params: { factors: 1000 } }, 'random'];
    const all = await runExperiment(validateConfig({ ...base, models }));
    expect(all.models.map((m) => [m.label, m.error === undefined])).toEqual([['popularity', true], ['svd', false], ['random', true]]);
    expect(all.models[1].error).toMatch(/pure-svd: factors 1000 exceeds min\(users, items\)/);
    expect(all.notRun).toBeUndefined();
    const stopped = await runExperiment(validateConfig({ ...base, models }), { stopOnError: true });
    expect(stopped.models.map((m) => m.label)).toEqual(['popularity', 'svd']);
    expect(stopped.notRun).toEqual(['random']);
    expect(stopped.notes).toContain('stopped after "svd" failed; not run: random');
  });

  it('an out-of-memory failure reads as a sentence naming the model, its hyperparameters, the data and the size', async () => {
    const r = await runExperiment(validateConfig({ ...base, models: [{ label: 'huge', model: 'ials', params: { factors: 1e9 } }] }));
    expect(r.models[0].error).toMatch(/^huge \(ials\) \(factors=1000000000\) on \d+ users × 80 items: out of memory: it needs an array of [\d,]+ values \([\d.]+ (GB|TB) as float32\)/);
  });

  it('a filter that leaves nothing and a missing diversity feature are UsageErrors naming the config key', async () => {
    let err = await runExperiment(validateConfig({ ...base, filters: { minValue: 100 }, models: ['random'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^filters: filter value >= 100 removes all \d+ interactions; nothing is left/);
    err = await runExperiment(validateConfig({ ...base, diversityFeature: 'colour', models: ['random'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/diversityFeature "colour": data set "synthetic" has no such multi-hot item feature/);
  });
});

describe('runSearch', () => {
  const search = (space: Record<string, unknown>, results?: string): ReturnType<typeof validateConfig> =>
    validateConfig({ ...base, search: { model: 'pure-svd', metric: 'hitrate@10', folds: 2, space, ...(results ? { results } : {}) } });

  it('constructs every planned trial first: a value the model rejects is a UsageError before loading', async () => {
    const spy = spyLoader();
    const err = await runSearch(search({ factors: [2, 3, 0] }), { loadDataset: spy.loadDataset }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^search: trial 3 of 3 \(\{"factors":0\}\): pure-svd: factors must be/);
    expect(spy.loaded()).toBe(false);
  });

  it('a failing trial is kept with its error; stopOnError stops there (no refit on test)', async () => {
    const all = await runSearch(search({ factors: [2, 500, 3] }));
    expect(all.trials.map((t) => t.error === undefined)).toEqual([true, false, true]);
    expect(all.test).toBeDefined();
    const stopped = await runSearch(search({ factors: [2, 500, 3] }), { stopOnError: true });
    expect(stopped.trials).toHaveLength(2);
    expect(stopped.notRun).toBe(1);
    expect(stopped.test).toBeUndefined();
    expect(formatSearch(stopped)).toMatch(/2 of 3 trials \(0 resumed from file\), 1 failed, stopped after a failure \(1 not run\)/);
  });

  it('a restarted search runs the failed trials again and keeps the finished ones', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'search-fail-')), 'trials.jsonl');
    const failed = { key: trialKey({ factors: 2 }), params: { factors: 2 }, foldValues: [], mean: null, stderr: null, fitSeconds: 0, scoringSeconds: 0, error: 'out of memory (transient)' };
    writeFileSync(file, `${JSON.stringify(failed)}\n`);
    const first = await runSearch(search({ factors: [2, 3] }, file));
    expect(first.resumed).toBe(0);
    expect(first.trials.every((t) => !t.error)).toBe(true);
    const again = await runSearch(search({ factors: [2, 3] }, file));
    expect(again.resumed).toBe(2);
    expect(readTrials(file).filter((t) => !t.error)).toHaveLength(2);
  });
});

describe('explainRunError', () => {
  it('rewrites allocation failures and passes everything else through', () => {
    const ctx = { model: 'ials', params: { factors: 100000 }, nUsers: 1000, nItems: 100000 };
    const e = explainRunError(new RangeError('Invalid typed array length: 10000000000'), ctx) as Error;
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('ials (factors=100000) on 1,000 users × 100,000 items: out of memory: it needs an array of 10,000,000,000 values (40.0 GB as float32), more than one array can hold; the model\'s arrays grow with its size hyperparameters (factors × items, factors × users, factors², neighbours × items, layer widths); use smaller values or fewer items');
    expect((e.cause as Error).message).toBe('Invalid typed array length: 10000000000');
    const kernel = explainRunError(new RangeError("linalg: cannot allocate 5.59 GiB: shared memory would grow to 5.59 GiB, beyond wasm32's 4 GiB limit"), { model: 'als', params: {} }) as Error;
    expect(kernel.message).toMatch(/^als \(default hyperparameters\): out of memory: an allocation failed \(linalg: cannot allocate 5\.59 GiB/);
    for (const other of [new Error('pure-svd: factors 9 exceeds min(users, items) = 5'), new RangeError('k must be a positive integer'), 'text']) {
      expect(explainRunError(other, ctx)).toBe(other);
    }
    expect(isMemoryError(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(formatSize(3.2e12)).toBe('3.2 TB');
    expect(formatSize(512e6)).toBe('512 MB');
    expect(describeParams({ factors: 8, solver: 'cg', hidden: [600, 200] })).toBe('factors=8, solver=cg, hidden=[600, 200]');
  });
});
