import { describe, expect, it } from 'vitest';
import { computeEda } from '../../src/report/eda.js';
import { chartOrder, edaSections } from '../../src/report/eda-report.js';
import { cleaningText, edaSummaryText } from '../../src/report/eda-text.js';
import { renderReport } from '../../src/report/html.js';
import { generateDataset, networkRefs } from './generate.js';

describe('the whole EDA report on a generated data set', async () => {
  const ds = generateDataset({ users: 400, items: 300, events: 8000 });
  const stats = computeEda(ds, { timeZone: '+08:00' });
  const sections = await edaSections(stats);
  const html = renderReport({ title: 'EDA: generated <test>', sections });

  it('has every section, each with its charts', () => {
    expect(sections.map((s) => s.id)).toEqual(['overview', 'cleaning', 'activity', 'sparsity', 'values', 'time', 'correlation', 'popular-vs-niche', 'user-features', 'item-features']);
    const svgs = (id: string): number => (sections.find((s) => s.id === id)!.html.match(/<svg /g) ?? []).length;
    expect(svgs('activity')).toBe(3);
    expect(svgs('sparsity')).toBe(1);
    expect(svgs('values')).toBe(3); // watch ratio, play_duration, video_duration
    expect(svgs('time')).toBe(4); // hour, weekday, day, month
    expect(svgs('user-features')).toBe(3); // gender, age, state
    expect(svgs('item-features')).toBe(2); // category, tags
  });

  it('is self-contained and escapes data-set text', () => {
    expect(html).not.toMatch(/<script/i);
    expect(networkRefs(html)).toEqual([]);
    expect(html).toContain('EDA: generated &lt;test&gt;');
    expect(html).toContain('Life &lt;&amp;&gt; &quot;Style&quot;'); // a category name with markup
    expect(html).toContain('missing watch_ratio &lt;b&gt;'); // a cleaning issue kind
    expect(html).not.toContain('<b>');
  });

  it('shows the cleaning report and flags synthetic data', () => {
    const cleaning = sections.find((s) => s.id === 'cleaning')!.html;
    expect(cleaning).toContain('17, 240, 999');
    expect(cleaning).toContain('<td class="num">8,003</td>'); // rows read
    expect(sections[0].html).toContain('class="box warning"');
  });

  it('reports the clipped watch-ratio tail', () => {
    const values = sections.find((s) => s.id === 'values')!.html;
    expect(stats.values.clippedHigh).toBeGreaterThan(0);
    expect(values).toContain(`${stats.values.clippedHigh} values &gt;`);
  });

  it('prints the same figures as terminal tables', () => {
    const text = edaSummaryText(stats);
    expect(text).toContain(stats.overview.interactions.toLocaleString('en-US'));
    expect(text).toContain('UTC+08:00');
    expect(text).toMatch(/per user\s+\d/);
    expect(cleaningText(stats.cleaning)).toContain('8,003 rows read, 8,000 kept');
  });

  it('works for ratings without side data or event columns', async () => {
    const r = generateDataset({ users: 50, items: 40, events: 600, valueKind: 'rating' });
    delete r.userFeatures;
    delete r.itemFeatures;
    const s = computeEda(r);
    expect(s.values.kind).toBe('discrete');
    const ids = (await edaSections(s)).map((x) => x.id);
    expect(ids).not.toContain('user-features');
    expect(ids).toContain('values');
  });
});

describe('chartOrder', () => {
  it('orders age buckets by their leading number and leaves other labels in count order', () => {
    const ages = ['25-34', 'Under 18', '56+', '18-24'].map((value) => ({ value }));
    expect(chartOrder(ages).map((v) => v.value)).toEqual(['Under 18', '18-24', '25-34', '56+']);
    const ranges = ['[10,50)', '500+', '[0,10)', '[50,150)'].map((value) => ({ value }));
    expect(chartOrder(ranges).map((v) => v.value)).toEqual(['[0,10)', '[10,50)', '[50,150)', '500+']);
    const cats = ['cat1_3', 'cat1_1', 'cat1_10'].map((value) => ({ value }));
    expect(chartOrder(cats).map((v) => v.value)).toEqual(['cat1_3', 'cat1_1', 'cat1_10']);
    const mixed = ['5', 'F', '1'].map((value) => ({ value }));
    expect(chartOrder(mixed).map((v) => v.value)).toEqual(['5', 'F', '1']);
  });
});

describe('summaryRow', () => {
  it('shows years without thousands separators, right-aligned', async () => {
    const { summaryRow } = await import('../../src/report/eda-report.js');
    const { htmlTable } = await import('../../src/report/html.js');
    const { summarize } = await import('../../src/report/stats.js');
    const t = htmlTable(['', 'count', 'missing', 'min'], [summaryRow('year', summarize([1930, 1999])), summaryRow('plays', summarize([1930, 1999]))]);
    expect(t).toContain('<td class="num">1930</td>');
    expect(t).toContain('<td class="num">1,930</td>');
  });
});
