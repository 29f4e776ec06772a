import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../src/eval/config.js';
import { formatSearch, planTrials, readTrials, runSearch, searchToHtml, trialKey } from '../../src/eval/search.js';

function searchConfig(results: string, extra: Record<string, unknown> = {}) {
  return validateConfig({
    dataset: { name: 'synthetic', users: 300, items: 150, perUser: 15, seed: 2 },
    split: { method: 'random', testRatio: 0.2, seed: 1 },
    metrics: ['ndcg@10', 'roem'],
    bootstrap: 0,
    search: {
      model: 'popularity', strategy: 'grid', folds: 2, metric: 'roem', results,
      space: { weighting: ['count', 'recency'], halfLifeDays: [1, 30, 365] },
      ...extra,
    },
  });
}

describe('trial planning', () => {
  it('the seed ALS grid is 4×4×3×4 = 192 trials in one config, selected by ROEM (lower is better)', () => {
    const cfg = loadConfig('configs/ials-grid.yaml');
    const plan = planTrials(cfg.search!);
    expect(plan).toHaveLength(192);
    expect(new Set(plan.map(trialKey)).size).toBe(192);
    expect([...new Set(plan.map((p) => p.factors))]).toEqual([10, 50, 100, 150]);
    expect(cfg.search!.metric.name).toBe('roem');
    expect(cfg.search!.folds).toBe(5);
  });
  it('random search draws reproducibly inside the ranges', () => {
    const cfg = loadConfig('configs/synthetic-popularity-search.yaml').search!;
    const a = planTrials(cfg);
    expect(a).toHaveLength(8);
    expect(planTrials(cfg)).toEqual(a);
    for (const p of a) {
      expect(p.weighting).toBe('recency');
      expect(p.halfLifeDays as number).toBeGreaterThanOrEqual(1);
      expect(p.halfLifeDays as number).toBeLessThanOrEqual(365);
    }
    expect(planTrials({ ...cfg, seed: 4 })).not.toEqual(a);
  });
});

describe('search with cross-validation', () => {
  it('reports all trials, selects by the metric direction, and evaluates the best on test', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'search-'));
    const file = join(dir, 'trials.jsonl');
    const r = await runSearch(searchConfig(file));
    expect(r.trials).toHaveLength(6);
    expect(r.direction).toBe('lower');
    const finite = r.trials.filter((t) => Number.isFinite(t.mean));
    expect(r.best!.mean).toBe(Math.min(...finite.map((t) => t.mean)));
    for (const t of r.trials) expect(t.foldValues).toHaveLength(2);
    expect(r.test!['ndcg@10'].mean).toBeGreaterThan(0);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(6);
    expect(formatSearch(r)).toMatch(/6 of 6 trials \(0 resumed/);
    const html = searchToHtml(r);
    expect(html.match(/<tr>/g)).toHaveLength(7);
    expect(html).toContain('roem (lower is better)');
  });

  it('resumes from a partial results file: finished trials are skipped, a torn last line ignored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'search-'));
    const file = join(dir, 'trials.jsonl');
    const full = await runSearch(searchConfig(file));
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    // Simulate a kill after two trials, mid-way through writing the third; mark the two as unbeatable so
    // reuse (rather than recomputation) is visible.
    const first = JSON.parse(lines[0]) as { mean: number; foldValues: number[] };
    first.mean = -1;
    first.foldValues = [-1, -1];
    writeFileSync(file, `${JSON.stringify(first)}\n${lines[1]}\n${lines[2].slice(0, 25)}`);
    expect(readTrials(file)).toHaveLength(2);
    const resumed = await runSearch(searchConfig(file));
    expect(resumed.resumed).toBe(2);
    expect(resumed.trials).toHaveLength(6);
    expect(resumed.best!.mean).toBe(-1);
    expect(resumed.best!.key).toBe(full.trials[0].key);
    for (let t = 2; t < 6; t++) expect(resumed.trials[t].mean).toBeCloseTo(full.trials[t].mean, 12);
  });

  it('an interrupted search stops between trials and records what finished', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'search-'));
    const file = join(dir, 'trials.jsonl');
    const ac = new AbortController();
    const r = await runSearch(searchConfig(file), { signal: ac.signal, onProgress: (p) => { if (p.phase === 'trials' && p.done === 3) ac.abort(); } });
    expect(r.interrupted).toBe(true);
    expect(r.trials).toHaveLength(3);
    expect(r.test).toBeUndefined();
    expect(readTrials(file)).toHaveLength(3);
  });

  it('an unknown model is a clear error', async () => {
    await expect(runSearch(searchConfig(join(tmpdir(), 'y.jsonl'), { model: 'ials-nope' }))).rejects.toThrow(/search\.model: unknown model "ials-nope"/);
  });

  it('refuses a metric without a direction', async () => {
    await expect(runSearch(searchConfig(join(tmpdir(), 'x.jsonl'), { metric: 'arp@10' }))).rejects.toThrow(/no better direction/);
  });
});
