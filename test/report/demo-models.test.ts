import { describe, expect, it } from 'vitest';
import { silentTracker, type DemoContext } from '../../src/cli/commands/demo-context.js';
import { kuairecProtocolBuilder, rankingBuilder, ratingBuilder } from '../../src/cli/commands/demo-models.js';
import { loadDataset } from '../../src/data/index.js';
import { computeEda } from '../../src/report/eda.js';

/** Pulls "label → ndcg@10 mean" out of the results table of a section's HTML. */
function firstMetricColumn(html: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of html.split('<tr').slice(1)) {
    const cells = [...row.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((m) => m[1].replace(/<[^>]+>/g, '').trim());
    const v = Number.parseFloat(cells[1] ?? '');
    if (cells[0] && Number.isFinite(v)) out.set(cells[0], v);
  }
  return out;
}

describe('demo model sections on the embedded KuaiRec sample', () => {
  it('train, compare and report ranking and rating models', async () => {
    const dataset = await loadDataset('kuairec-sample');
    const lines: string[] = [];
    const ctx: DemoContext = { dataset, eda: computeEda(dataset), profile: 'full', log: (l) => lines.push(l), print: (t) => lines.push(t), tracker: silentTracker, signal: new AbortController().signal, synthetic: true };
    const ranking = [
      { label: 'popularity', model: 'popularity', params: {} },
      { label: 'EASE', model: 'ease', params: { reg: 500 } },
    ];
    const [holdout] = await rankingBuilder(ranking.map((m) => ({ ...m, cost: 1 }))).build(ctx);
    expect(holdout.id).toBe('models-holdout');
    const precision = firstMetricColumn(holdout.html);
    expect([...precision.keys()]).toEqual(['popularity', 'EASE']);
    expect(precision.get('EASE')!).toBeGreaterThan(precision.get('popularity')!);

    const [kuairec] = await kuairecProtocolBuilder(ranking.map((m) => ({ ...m, cost: 1 }))).build(ctx);
    expect(kuairec.id).toBe('models-kuairec');
    expect(kuairec.html).toContain('small_matrix');

    const [rating] = await ratingBuilder([
      { label: 'global mean', model: 'global-mean', params: {}, cost: 1 },
      { label: 'biases', model: 'biases', params: {}, cost: 1 },
    ]).build(ctx);
    const rmse = firstMetricColumn(rating.html);
    expect(rmse.get('biases')!).toBeLessThan(rmse.get('global mean')!);
    // The terminal gets the tables, with the paired comparison against popularity.
    expect(lines.join('\n')).toMatch(/Difference from popularity, per user/);
  });

  it('skips the KuaiRec protocol when the data set has no test matrix', async () => {
    const dataset = await loadDataset('kuairec-sample');
    const ctx: DemoContext = { dataset: { ...dataset, test: undefined }, eda: computeEda(dataset), profile: 'full', log: () => {}, print: () => {}, tracker: silentTracker, signal: new AbortController().signal, synthetic: true };
    expect(await kuairecProtocolBuilder([]).build(ctx)).toEqual([]);
  });
});
