import { describe, expect, it } from 'vitest';
import {
  activityHistogramChart,
  categoryBarChart,
  correlationChart,
  hourChart,
  periodChart,
  popularVsNicheChart,
  popularityCurveChart,
  sparsityHeatmapChart,
  valueDistributionChart,
  weekdayChart,
} from '../../src/report/charts.js';
import { log2Histogram, valueDistribution } from '../../src/report/stats.js';
import { chartSvg } from '../../src/report/svg.js';

/** The `d` attributes of the bars (rect marks) of a rendered chart. */
function barPaths(svg: string): string[] {
  return [...svg.matchAll(/aria-roledescription="bar" d="([^"]+)"/g)].map((m) => m[1]);
}

function expectSvg(svg: string, markClass: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(svg).toContain(`class="mark-${markClass} role-mark`);
  expect(svg).not.toMatch(/(?:src|href)="https?:/);
}

describe('chartSvg', () => {
  it('renders bars with lengths proportional to the data', async () => {
    const svg = await chartSvg(categoryBarChart('t', [{ label: 'a', count: 3 }, { label: 'b', count: 5 }, { label: 'c', count: 1 }], 'n'));
    expectSvg(svg, 'rect');
    const widths = barPaths(svg).map((d) => Number(/h([\d.]+)v/.exec(d)![1]));
    expect(widths).toHaveLength(3);
    expect(widths[0] / widths[1]).toBeCloseTo(3 / 5, 2);
    expect(widths[2] / widths[1]).toBeCloseTo(1 / 5, 2);
  });

  it('escapes text from the data in the SVG', async () => {
    const svg = await chartSvg(categoryBarChart('<title>', [{ label: '<script>x</script>', count: 1 }, { label: 'b&c', count: 2 }], 'n'));
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
  });

  it('refuses to load data from a URL', async () => {
    await expect(chartSvg({ title: 'remote', data: { url: 'https://example.com/data.csv' }, mark: 'bar', encoding: { x: { field: 'a', type: 'nominal' } } })).rejects.toThrow(/remote.*refusing to load/);
  });

  it('renders every EDA chart', async () => {
    const dist = valueDistribution(Array.from({ length: 300 }, (_, k) => (k % 50) / 10).concat([900]));
    const ratings = valueDistribution([1, 2, 2, 3, 4, 5, 5, 5]);
    const cases: Array<[Promise<string>, string]> = [
      [chartSvg(popularityCurveChart([{ rank: 1, count: 100 }, { rank: 2, count: 40 }, { rank: 10, count: 3 }])), 'line'],
      [chartSvg(activityHistogramChart(log2Histogram([0, 1, 2, 5, 9, 40]), 'user')), 'rect'],
      [chartSvg(sparsityHeatmapChart({ rowBlocks: 2, colBlocks: 2, cells: [{ row: 0, col: 0, nnz: 3, density: 0.5 }, { row: 1, col: 1, nnz: 1, density: 0.01 }, { row: 0, col: 1, nnz: 0, density: 0 }] })), 'rect'],
      [chartSvg(valueDistributionChart(dist, 'watch ratio')), 'rect'],
      [chartSvg(valueDistributionChart(ratings, 'rating')), 'rect'],
      [chartSvg(hourChart(Array.from({ length: 24 }, (_, h) => h), 'UTC')), 'rect'],
      [chartSvg(weekdayChart([1, 2, 3, 4, 5, 6, 7], 'UTC+08:00')), 'rect'],
      [chartSvg(periodChart([{ period: '2020-07', count: 5 }, { period: '2020-08', count: 9 }], 'month', 'UTC')), 'rect'],
      [chartSvg(periodChart(Array.from({ length: 60 }, (_, d) => ({ period: `2020-07-${String((d % 28) + 1).padStart(2, '0')}`, count: d })), 'day', 'UTC')), 'area'],
      [chartSvg(popularVsNicheChart([
        { group: 'head', items: 1, interactions: 60, interactionShare: 0.6, usersReached: 10, usersReachedShare: 1, meanValue: 1, meanUserActivity: 5 },
        { group: 'mid', items: 4, interactions: 30, interactionShare: 0.3, usersReached: 8, usersReachedShare: 0.8, meanValue: 1, meanUserActivity: 6 },
        { group: 'tail', items: 5, interactions: 10, interactionShare: 0.1, usersReached: 3, usersReachedShare: 0.3, meanValue: 1, meanUserActivity: 9 },
      ], 10)), 'rect'],
      [chartSvg(correlationChart({ names: ['a', 'b'], r: [[1, -0.5], [-0.5, NaN]] })), 'rect'],
    ];
    for (const [p, mark] of cases) expectSvg(await p, mark);
  });

  it('draws one bar per non-empty activity bin and the clipped tail in the title', async () => {
    const svg = await chartSvg(activityHistogramChart(log2Histogram([1, 2, 3, 9, 9]), 'user'));
    expect(barPaths(svg)).toHaveLength(3); // [1], [2,3], [8,15]; the empty [0] and [4,7] bins are dropped
    const dist = valueDistribution(Array.from({ length: 1000 }, (_, k) => k / 1000).concat([500, 800]), { bins: 10 });
    const svg2 = await chartSvg(valueDistributionChart(dist, 'watch ratio'));
    expect(barPaths(svg2)).toHaveLength(10);
    expect(svg2).toContain(`${dist.clippedHigh} values &gt;`);
  });
});
