import { describe, expect, it } from 'vitest';
import type { ExperimentResults } from '../../src/eval/experiment.js';
import { formatResults, resultsToHtml } from '../../src/eval/format.js';

const summary = (mean: number) => ({ mean, stderr: 0.01, ci95: [NaN, NaN] as [number, number], n: 50 });
const test = (meanDiff: number, pValue: number) => ({ meanDiff, pValue, statistic: 0, n: 50 });

/** Two models compared with a reference on two metrics, with p-values on each side of the star thresholds. */
const results: ExperimentResults = {
  name: 'fmt', dataset: 'd', split: 's', protocol: 'full ranking', metrics: ['ndcg@10', 'roem'],
  directions: { 'ndcg@10': 'higher', roem: 'lower' },
  models: ['pop', 'a', 'b'].map((label, j) => ({
    label, model: label, params: {}, fitSeconds: 0, scoringSeconds: 0, metrics: { 'ndcg@10': summary(0.1 * (j + 1)), roem: summary(0.5 - 0.1 * j) },
    usersEvaluated: 50, usersWithoutRelevant: 0, notes: [],
  })),
  comparisons: [
    { metric: 'ndcg@10', model: 'a', reference: 'pop', tTest: test(0.1, 0.2), wilcoxon: test(0.1, 0.0005) },
    { metric: 'roem', model: 'a', reference: 'pop', tTest: test(-0.1, 0.2), wilcoxon: test(-0.1, 0.03) },
    { metric: 'ndcg@10', model: 'b', reference: 'pop', tTest: test(0.2, 0.2), wilcoxon: test(0.2, 0.005) },
    { metric: 'roem', model: 'b', reference: 'pop', tTest: test(-0.2, 0.2), wilcoxon: test(-0.2, 0.5) },
  ],
  interrupted: false, startedAt: '2026-01-01T00:00:00Z', notes: [],
};

describe('comparison table', () => {
  it('shows each model × metric difference with Wilcoxon stars in text, Markdown and HTML', () => {
    const text = formatResults(results, 'text');
    expect(text).toMatch(/Difference from pop, per user \(n=50/);
    const rowA = text.split('\n').find((l) => l.startsWith('a ') && l.includes('***'));
    expect(rowA).toBeDefined();
    expect(rowA).toMatch(/\+0\.1000 \*\*\*\s+-0\.1000 \*$/);
    const rowB = text.split('\n').find((l) => l.startsWith('b ') && l.includes('**'));
    expect(rowB).toMatch(/\+0\.2000 \*\*\s+-0\.2000 ns$/);
    expect(formatResults(results, 'markdown')).toContain('| vs pop | ndcg@10 | roem |');
    const html = resultsToHtml(results);
    expect(html).toContain('<th style="text-align:left;padding:2px 8px;border-bottom:1px solid #ddd;white-space:nowrap">vs pop</th>');
    expect(html).toContain('+0.2000 **');
  });

  it('is absent without comparisons', () => {
    expect(formatResults({ ...results, comparisons: [] }, 'text')).not.toMatch(/Difference from/);
  });
});
