/** Report details a reader sees: axes, bar heights, units, missing values, best marks, footers, layout, labels. */
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/index.js';
import type { EntityFeatures } from '../../src/data/dataset.js';
import type { ExperimentResults, ModelResult } from '../../src/eval/experiment.js';
import { formatResults, resultsToHtml } from '../../src/eval/format.js';
import { activityHistogramChart, popularityCurveChart } from '../../src/report/charts.js';
import { computeEda, featureStats } from '../../src/report/eda.js';
import { featuresSection, valuesSection } from '../../src/report/eda-report.js';
import { edaSummaryText } from '../../src/report/eda-text.js';
import { htmlTable, renderReport } from '../../src/report/html.js';
import { log2Histogram, rankCurve } from '../../src/report/stats.js';
import { chartSvg } from '../../src/report/svg.js';

const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('charts', () => {
  it('the long tail\'s rank axis ends at the catalogue size, not at the next power of ten', async () => {
    const counts = Array.from({ length: 1500 }, (_, i) => Math.round(1000 / (i + 1)) + 1);
    const svg = await chartSvg(popularityCurveChart(rankCurve(counts)));
    const labels = texts(svg);
    expect(labels).not.toContain('10,000');
    const numeric = labels.map((l) => Number(l.replace(/,/g, ''))).filter((v) => Number.isFinite(v) && v > 0);
    expect(Math.max(...numeric)).toBeLessThanOrEqual(1500);
    expect(labels.join(' ')).toMatch(/rank \(log, 1 to 1,500\)/);
  });

  it('activity histogram bars are as tall as their counts (linear count axis)', async () => {
    const counts = [...Array(1100).fill(2), ...Array(247).fill(5), ...Array(85).fill(9), ...Array(30).fill(40)];
    const bins = log2Histogram(counts);
    const svg = await chartSvg(activityHistogramChart(bins, 'item'));
    const bars = [...svg.matchAll(/aria-label="[^"]*count: ([\d,]+)"[^>]*d="M[-\d.]+,[-\d.]+h[-\d.]+v([-\d.]+)h/g)].map((m) => ({ count: Number(m[1].replace(/,/g, '')), height: Number(m[2]) }));
    expect(bars.map((b) => b.count)).toEqual([1100, 247, 85, 30]);
    const [ref] = bars;
    for (const b of bars) expect(b.height / ref.height).toBeCloseTo(b.count / ref.count, 3);
  });
});

describe('EDA details', () => {
  it('shows the unit of KuaiRec\'s duration columns (ms)', async () => {
    const ds = await loadDataset('kuairec-sample');
    const stats = computeEda(ds);
    const values = await valuesSection(stats);
    expect(values.html).toContain('play_duration (ms)');
    expect(values.html).toContain('video_duration (ms)');
    expect(edaSummaryText(stats)).toMatch(/play_duration \(ms\)/);
    expect(stats.overview.eventColumns).toEqual(['play_duration (ms)', 'video_duration (ms)']);
  });

  it('counts placeholder values such as "UNKNOWN" as missing, not as a category', async () => {
    const f: EntityFeatures = {
      numeric: {},
      categorical: { degree: { names: ['full_active', 'UNKNOWN', 'low_active', 'N/A'], codes: Int32Array.from([0, 1, 1, 2, -1, 3, 0]) } },
      multiHot: { tags: { names: ['cat', 'unknown', 'dog'], ptr: Int32Array.from([0, 1, 2, 4, 4, 4, 4, 5]), idx: Int32Array.from([0, 1, 1, 2, 2]) } },
      text: {},
    };
    const s = featureStats(f, Int32Array.from([1, 1, 1, 1, 1, 1, 1]), 10, 10);
    const degree = s.categorical[0];
    expect(degree.missing).toBe(4); // two UNKNOWN, one N/A, one without a code
    expect(degree.distinct).toBe(2);
    expect(degree.top.map((v) => v.value)).toEqual(['full_active', 'low_active']);
    expect(degree.placeholders).toEqual(['N/A', 'UNKNOWN']);
    const tags = s.multiHot[0];
    expect(tags.entitiesWithAny).toBe(3); // entity 1 has only "unknown"
    expect(tags.top.map((v) => v.value).sort()).toEqual(['cat', 'dog']);
    const section = await featuresSection(s, 'user');
    expect(section!.html).toMatch(/Placeholder values counted as missing/);
  });
});

const summary = (mean: number, stderr = NaN) => ({ mean, stderr, ci95: [NaN, NaN] as [number, number], n: 500 });
function model(label: string, metrics: Record<string, ReturnType<typeof summary>>): ModelResult {
  return { label, model: label, params: label === 'mf' ? { factors: 8, epochs: 3 } : {}, fitSeconds: 0.1, scoringSeconds: 0.01, metrics, usersEvaluated: 90, usersWithoutRelevant: 10, notes: [] };
}
const base: Omit<ExperimentResults, 'metrics' | 'directions' | 'models'> = {
  name: 'details', dataset: 'd', split: 'random by interaction', protocol: 'full ranking', comparisons: [], interrupted: false, startedAt: '', notes: [],
};

/** The cells of the HTML results table, row by row (first table only). */
function cells(html: string): string[][] {
  const table = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
  return table.split('<tr>').slice(1).map((r) => [...r.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]));
}

describe('results tables', () => {
  const ranking: ExperimentResults = {
    ...base,
    metrics: ['ndcg@10', 'coverage@10', 'novelty@10', 'rmse'],
    directions: { 'ndcg@10': 'higher', 'coverage@10': 'higher', 'novelty@10': 'higher', rmse: 'lower' },
    models: [
      model('popularity', { 'ndcg@10': summary(0.05, 0.003), 'coverage@10': summary(0.03), 'novelty@10': summary(1.4, 0.004), rmse: summary(1.2) }),
      model('random', { 'ndcg@10': summary(0.009, 0.0009836), 'coverage@10': summary(0.99), 'novelty@10': summary(4.0, 0.008), rmse: summary(2.1) }),
      model('mf', { 'ndcg@10': summary(0.25001, 0.007), 'coverage@10': summary(0.7), 'novelty@10': summary(2.6, 0.01), rmse: summary(0.91) }),
      model('ease', { 'ndcg@10': summary(0.25003, 0.007), 'coverage@10': summary(0.2), 'novelty@10': summary(1.9, 0.00003), rmse: summary(0.91) }),
    ],
  };

  it('bolds the best only for metrics that rank models, and every model on a tie', () => {
    const rows = cells(resultsToHtml(ranking));
    const bold = (r: number, c: number): boolean => rows[r][c].includes('<strong>');
    // ndcg: mf and ease tie at the shown precision (0.2500): both bold.
    expect([0, 1, 2, 3].map((r) => bold(r, 1))).toEqual([false, false, true, true]);
    // coverage and novelty describe the lists: nobody is bold (random was, being the most "diverse").
    for (const c of [2, 3]) expect([0, 1, 2, 3].map((r) => bold(r, c))).toEqual([false, false, false, false]);
    // rmse: lower is better, tie again.
    expect([0, 1, 2, 3].map((r) => bold(r, 4))).toEqual([false, false, true, true]);
  });

  it('never uses scientific notation in ± cells', () => {
    const text = formatResults(ranking, 'text');
    const html = resultsToHtml(ranking);
    for (const out of [text, html, formatResults(ranking, 'markdown')]) expect(out).not.toMatch(/\d(?:\.\d+)?e[-+]?\d/i);
    expect(text).toMatch(/0\.0090 ± 0\.0010/);
    expect(text).toMatch(/1\.9000 ± 0\.000030/);
  });

  it('describes a rating table\'s protocol and has no "±" note when no cell has one', () => {
    const rating: ExperimentResults = {
      ...base,
      metrics: ['rmse', 'mae', 'r2'],
      directions: { rmse: 'lower', mae: 'lower', r2: 'higher' },
      models: [model('global mean', { rmse: summary(1.4), mae: summary(1.1), r2: summary(-0.0000711) }), model('mf', { rmse: summary(0.9), mae: summary(0.7), r2: summary(0.5) })],
    };
    const text = formatResults(rating, 'text');
    expect(text).not.toMatch(/full ranking/);
    expect(text).not.toMatch(/±/);
    expect(text).toMatch(/protocol: rating prediction \(rmse, mae, r2: each test interaction's value predicted/);
    expect(text).toMatch(/test interactions scored: 500/);
    expect(text).not.toMatch(/users without relevant/);
    expect(text).toMatch(/-0\.000071/);
  });

  it('lists the settings each model ran with', () => {
    expect(formatResults(ranking, 'text')).toMatch(/settings \(the rest at each model's defaults\): popularity defaults; .*mf factors=8, epochs=3/);
  });
});

describe('report layout', () => {
  it('wraps every table in a box that scrolls sideways, so the page fits 800 px', () => {
    const results: ExperimentResults = { ...base, metrics: ['ndcg@10'], directions: { 'ndcg@10': 'higher' }, models: [model('a', { 'ndcg@10': summary(0.1, 0.01) })] };
    const html = renderReport({ title: 't', sections: [{ id: 's', title: 'S', html: htmlTable(['a', 'b'], [[1, 2]]) + resultsToHtml(results) }] });
    const tables = html.match(/<table/g)?.length ?? 0;
    expect(tables).toBe(2);
    expect(html.match(/<div class="scroll"[^>]*>\s*<table/g)?.length).toBe(tables);
    expect(html).toMatch(/\.scroll \{[^}]*overflow-x:auto/);
    expect(html).toMatch(/@media \(max-width: 900px\)/);
  });

  it('repeats the data label in every section heading and in the footer', () => {
    const html = renderReport({ title: 't', dataLabel: 'SYNTHETIC', sections: [{ id: 'a', title: 'Overview', html: '' }, { id: 'b', title: 'Model comparison', html: '' }] });
    const headings = [...html.matchAll(/<h2>([\s\S]*?)<\/h2>/g)].map((m) => m[1]);
    expect(headings).toHaveLength(2);
    for (const h of headings) expect(h).toMatch(/<span class="data-label">SYNTHETIC<\/span>$/);
    expect(html).toMatch(/<footer>Data: <span class="data-label">SYNTHETIC<\/span>/);
  });
});
