import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfig } from '../../src/eval/config.js';
import { runExperiment } from '../../src/eval/experiment.js';
import { formatResults, resultsToHtml } from '../../src/eval/format.js';

const base = {
  name: 'test',
  dataset: { name: 'synthetic', users: 400, items: 200, perUser: 20, seed: 11 },
  split: { method: 'ratio', ratios: [8, 2], seed: 1 },
  metrics: ['ndcg@10', 'recall@10', 'roem', 'coverage@10', 'diversity@5'],
  diversityFeature: 'tags',
  bootstrap: 200,
  models: ['random', 'popularity'],
};

describe('experiment runner', () => {
  it('on data with a popularity structure, popularity beats random significantly', async () => {
    const r = await runExperiment(validateConfig(base));
    expect(r.models.map((m) => m.label)).toEqual(['random', 'popularity']);
    const [rnd, pop] = r.models;
    expect(pop.metrics['ndcg@10'].mean).toBeGreaterThan(rnd.metrics['ndcg@10'].mean + 0.1);
    expect(pop.metrics.roem.mean).toBeLessThan(0.3);
    expect(rnd.metrics.roem.mean).toBeGreaterThan(0.4);
    expect(rnd.metrics.roem.mean).toBeLessThan(0.6);
    expect(rnd.metrics['coverage@10'].mean).toBeGreaterThan(pop.metrics['coverage@10'].mean);
    const c = r.comparisons.find((x) => x.metric === 'ndcg@10')!;
    expect(c.model).toBe('popularity');
    expect(c.tTest.pValue).toBeLessThan(0.01);
    expect(c.wilcoxon.pValue).toBeLessThan(0.01);
    expect(pop.usersEvaluated).toBeGreaterThan(300);
    const ci = pop.metrics['ndcg@10'].ci95;
    expect(ci[0]).toBeLessThan(pop.metrics['ndcg@10'].mean);
    expect(ci[1]).toBeGreaterThan(pop.metrics['ndcg@10'].mean);
    for (const f of ['text', 'markdown', 'csv', 'json'] as const) expect(formatResults(r, f)).toContain('popularity');
    expect(formatResults(r, 'csv').split('\n')).toHaveLength(1 + 2 * 5);
    expect(JSON.parse(formatResults(r, 'json')).models).toHaveLength(2);
  });

  it('can score the validation part instead of test', async () => {
    const cfg = { ...base, split: { method: 'leave-last-out', validation: true }, metrics: ['hitrate@10', 'ndcg@10'], evaluateOn: 'validation' };
    const onVal = await runExperiment(validateConfig(cfg));
    const onTest = await runExperiment(validateConfig({ ...cfg, evaluateOn: 'test' }));
    expect(onVal.protocol).toMatch(/validation/);
    expect(onVal.models[1].metrics['ndcg@10'].mean).not.toBe(onTest.models[1].metrics['ndcg@10'].mean);
    await expect(runExperiment(validateConfig({ ...cfg, split: { method: 'leave-last-out' } }))).rejects.toThrow(/makes no validation part/);
  });

  it('averages k folds', async () => {
    const r = await runExperiment(validateConfig({ ...base, split: { method: 'kfold', k: 3, by: 'user' }, metrics: ['recall@10'] }));
    expect(r.split).toMatch(/3 folds/);
    expect(Number.isFinite(r.models[1].metrics['recall@10'].stderr)).toBe(true);
  });

  it('an unknown model is a clear error, before any data is loaded', async () => {
    let loaded = false;
    const loadDataset = async () => { loaded = true; throw new Error('should not load'); };
    await expect(runExperiment(validateConfig({ ...base, models: ['popularity', 'nope'] }), { loadDataset })).rejects.toThrow(/models: "nope": unknown model "nope"; known: .*popularity/);
    expect(loaded).toBe(false);
  });

  it('stops cleanly when aborted and keeps what finished', async () => {
    const ac = new AbortController();
    const r = await runExperiment(validateConfig({ ...base, models: ['popularity', 'random'] }), {
      signal: ac.signal,
      onProgress: (p) => { if (p.phase.startsWith('popularity: scoring') && p.done === p.total) ac.abort(); },
    });
    expect(r.interrupted).toBe(true);
    expect(r.models.map((m) => m.label)).toEqual(['popularity']);
    expect(formatResults(r, 'text')).toMatch(/interrupted: 1 of 2 models finished/);
  });

  it('the HTML fragment escapes every string and needs no external asset', async () => {
    const r = await runExperiment(validateConfig({ ...base, name: '<b>x</b>', metrics: ['recall@5'], models: [{ label: '<script>alert(1)</script>', model: 'popularity' }, 'random'] }));
    const html = resultsToHtml(r);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toMatch(/src=|href=|<link|<style/);
    expect(html).toMatch(/<strong>/); // the best value is bold
  });
});

describe('config validation', () => {
  const bad = (patch: Record<string, unknown>, pattern: RegExp): void => {
    expect(() => validateConfig({ ...base, ...patch }, 'my.yaml')).toThrow(pattern);
  };
  it('names the file and the bad key', () => {
    bad({ split: { method: 'random', testRatio: 1.5 } }, /^my\.yaml: split\.testRatio: must be a number in \(0, 1\)/);
    bad({ split: { method: 'shuffle' } }, /my\.yaml: split\.method: must be one of/);
    bad({ split: { method: 'random', testRatio: 0.2, ratio: 3 } }, /split\.ratio: unknown key/);
    bad({ metrics: ['ndcg@10', 'ndgc@10'] }, /metrics\[1\]: .*unknown metric "ndgc"/);
    bad({ models: [{ model: 'popularity', parms: {} }] }, /models\[0\]\.parms: unknown key/);
    bad({ models: ['popularity', 'popularity'] }, /models\[1\]\.label: "popularity" is used twice/);
    bad({ protocol: { type: 'sampled', negatives: 0 } }, /protocol\.negatives: must be a positive integer/);
    bad({ dataset: 3 }, /dataset: required/);
    bad({ colour: 'blue' }, /colour: unknown key/);
    bad({ search: { model: 'ials', space: { rank: 3 }, metric: 'roem' } }, /search\.space\.rank: must be a list/);
    bad({ search: { model: 'ials', strategy: 'random', space: { rank: [1] }, metric: 'roem' } }, /search\.trials: required for random search/);
  });
  it('reports every problem, one line each, and the problems of the form a value has', () => {
    let err: unknown;
    try {
      validateConfig({ ...base, seed: 1.5, models: [{ model: 'ials', params: [3] }, 7], search: { model: 'ials', strategy: 'random', trials: 2, space: { reg: { min: 0, max: 1, log: true }, f: [] }, metric: 'roem' } }, 'my.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message.split('\n').sort()).toEqual([
      'my.yaml: models[0].params: must be a mapping of hyperparameters, got [3]',
      'my.yaml: models[1]: must be a model name or { model, params, label }, got 7',
      'my.yaml: search.space.f: must list at least one value',
      'my.yaml: search.space.reg.min: a log range needs min > 0',
      'my.yaml: seed: must be an integer, got 1.5',
    ]);
    expect(e.issues.map((i) => i.key).sort()).toEqual(['models[0].params', 'models[1]', 'search.space.f', 'search.space.reg.min', 'seed']);
    bad({ split: { method: 'shuffle' } }, /split\.method: must be one of random, .*, got "shuffle"$/);
    bad({ split: { method: 'ratio', ratios: [0, 2] } }, /split\.ratios: must be 2 or 3 non-negative numbers .* positive train and test weights/);
    bad({ split: { method: 'temporal' } }, /my\.yaml: split: the temporal split needs exactly one of cutoff/);
    bad({ split: undefined }, /my\.yaml: split: required: \{ method: random \| ratio/);
    bad({ dataset: { users: 3 } }, /my\.yaml: dataset\.name: required/);
    bad({ filters: { kCore: { user: 0 } } }, /filters\.kCore\.user: must be an integer >= 1, got 0/);
    bad({ split: { method: 'kfold' } }, /split\.k: required for k-fold/);
    expect(() => validateConfig(['a'], 'x.yaml')).toThrow(/^x\.yaml: \(top level\): must be a mapping/);
  });
  it('fills defaults: names, seeds of the split and search, protocol, data set options', () => {
    const c = validateConfig({ dataset: { name: 'synthetic', users: 50 }, split: { method: 'random', testRatio: 0.2 }, metrics: ['ndcg@10'], models: ['popularity'], seed: 9, search: { model: 'ials', space: { factors: [8] }, metric: 'roem' } });
    expect(c.name).toBe('synthetic');
    expect(c.datasetOptions).toEqual({ users: 50 });
    expect(c.split).toEqual({ method: 'random', testRatio: 0.2, seed: 9 });
    expect(c.protocol).toEqual({ type: 'full', negatives: 100, batchSize: 1024, keepUsersWithoutRelevant: false, excludeValidation: true, refit: 'train', users: 'all' });
    expect(c.search).toMatchObject({ strategy: 'grid', folds: 5, foldBy: 'interaction', fixed: {}, seed: 9 });
    expect(c.models).toEqual([{ label: 'popularity', model: 'popularity', params: {} }]);
    expect([c.bootstrap, c.evaluateOn, c.diversitySimilarity, c.relevanceThreshold]).toEqual([1000, 'test', 'jaccard', undefined]);
  });
  it('reads YAML and JSON files, with a clear error for broken syntax', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify(base));
    expect(loadConfig(join(dir, 'a.json')).models).toHaveLength(2);
    writeFileSync(join(dir, 'b.yaml'), 'dataset: [unclosed\n');
    expect(() => loadConfig(join(dir, 'b.yaml'))).toThrow(/b\.yaml: not valid YAML/);
  });
  it('every shipped config validates', () => {
    for (const f of ['kuairec-baselines', 'kuairec-models', 'ml1m-ratings', 'ials-grid', 'synthetic-baselines', 'synthetic-popularity-search', 'synthetic-scale']) {
      expect(() => loadConfig(join('configs', `${f}.yaml`))).not.toThrow();
    }
    expect(readFileSync('configs/ials-grid.yaml', 'utf8')).toContain('metric: roem');
  });
});

describe('filters', () => {
  it('run before the split (minValue, k-core, binarize)', async () => {
    const { applyFilters } = await import('../../src/eval/experiment.js');
    const { syntheticDataset } = await import('../../src/eval/synthetic.js');
    const d = syntheticDataset({ users: 100, items: 60, seed: 3 }).interactions;
    const f = applyFilters(d, { minValue: 4, kCore: { user: 3, item: 3 }, binarize: true });
    expect(f.nUsers).toBe(d.nUsers);
    expect(f.nnz).toBeLessThan(d.nnz);
    expect([...new Set(f.values)]).toEqual([1]);
    for (const c of f.userCounts()) expect(c === 0 || c >= 3).toBe(true);
    for (const c of f.itemCounts()) expect(c === 0 || c >= 3).toBe(true);
    for (let u = 0; u < f.nUsers; u++) for (const i of f.userItems(u)) expect(d.get(u, i)).toBeGreaterThanOrEqual(4);
  });
});
