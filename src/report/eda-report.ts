/** The EDA part of the HTML report: {@link EdaStats} → report sections with tables and inline SVG charts. */
import type { CleaningReport } from '../data/dataset.js';
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
} from './charts.js';
import type { CategoricalSummary, EdaStats, FeatureStats, MatrixOverview, MultiHotSummary } from './eda.js';
import { formatNumber, formatPercent, shortenPaths, withUnit } from './format.js';
import { type HtmlCell, type ReportSection, escapeHtml, figure, htmlTable, noteBox, paragraph, row } from './html.js';
import type { Summary, ValueDistribution } from './stats.js';
import { chartSvg } from './svg.js';

/** Human label of a data set's interaction value kind. */
export function valueLabel(kind: EdaStats['dataset']['valueKind']): string {
  return { rating: 'rating', watch_ratio: 'watch ratio', play_count: 'play count', numeric: 'numeric value', implicit: 'implicit feedback' }[kind];
}

/** The value by its own column name, with its kind when the name does not say it ("qty (numeric value)"). */
export function valueTitle(d: EdaStats['dataset']): string {
  const label = valueLabel(d.valueKind);
  return d.valueName === d.valueKind || d.valueName === label ? label : `${d.valueName} (${label})`;
}

/** Header row of {@link summaryRow} tables. */
export const SUMMARY_HEADERS = ['', 'count', 'missing', 'min', 'p25', 'median', 'p75', 'p90', 'p99', 'max', 'mean'];

/** One table row of a {@link Summary}, led by `label`; values of year columns are shown without separators. */
export function summaryRow(label: string, s: Summary): HtmlCell[] {
  const row: HtmlCell[] = [label, s.count, s.missing, s.min, s.p25, s.median, s.p75, s.p90, s.p99, s.max, s.mean];
  if (!/year/i.test(label)) return row;
  return row.map((v, k) => (k >= 3 && typeof v === 'number' ? { html: formatNumber(v, 4, false), numeric: true } : v));
}

/** Whether the data set says it is synthetic (in its description or cleaning notes). */
export function isSynthetic(stats: EdaStats): boolean {
  return stats.dataset.synthetic || /synthetic|generated|stand-in/i.test([stats.dataset.description, ...stats.cleaning.notes].join(' '));
}

function overviewRows(o: MatrixOverview): HtmlCell[][] {
  return [
    ['users', o.users],
    ['items', o.items],
    ['interactions', o.interactions],
    ['density', formatPercent(o.density)],
    ['users with ≥ 1 interaction', o.activeUsers],
    ['items with ≥ 1 interaction', o.activeItems],
  ];
}

/** Overview: sizes, density, concentration, notes (synthetic data is flagged). */
export function overviewSection(stats: EdaStats): ReportSection {
  const notes = stats.cleaning.notes.map((n) => shortenPaths(n));
  if (isSynthetic(stats) && !notes.some((n) => /synthetic/i.test(n))) notes.unshift('This is synthetic data generated with the real data set’s schema: the figures describe the generator, not real users.');
  const main = htmlTable(['', ''], [
    ...overviewRows(stats.overview),
    ['interaction value', valueTitle(stats.dataset)],
    ['timestamps', stats.overview.hasTimestamps ? 'yes' : 'no'],
    ['extra per-event columns', stats.overview.eventColumns.join(', ') || 'none'],
    ['item-popularity Gini', stats.popularity.gini],
    ['interactions on top 1% / 10% of items', `${formatPercent(stats.popularity.top1Share)} / ${formatPercent(stats.popularity.top10Share)}`],
  ]);
  const extra: string[] = [];
  if (stats.test) extra.push(htmlTable(['', ''], overviewRows(stats.test), { caption: 'Second (test) matrix, same index spaces' }));
  if (stats.social) extra.push(htmlTable(['', ''], [['links', stats.social.links], ['users with links', stats.social.usersWithLinks], ['mean links per linked user', stats.social.meanDegree]], { caption: 'Social network' }));
  const html = [paragraph(stats.dataset.description), noteBox(notes, isSynthetic(stats) ? 'warning' : 'note'), row(main, ...extra)].join('\n');
  return { id: 'overview', title: 'Overview', html };
}

/** The cleaning report: rows read and kept, duplicates merged, every issue with its first line numbers. */
export function cleaningSection(report: CleaningReport): ReportSection {
  const d = report.duplicates;
  const files = report.files.length === 0 ? '–' : report.files.map((f) => escapeHtml(shortenPaths(f))).join('<br>');
  const summary = htmlTable(['', ''], [
    ['files', { html: files }],
    ['rows read', report.rowsRead],
    ['rows kept', report.rowsKept],
    ['duplicate policy', d.policy],
    ['events merged into another of the same (user, item)', d.merged],
    ['(user, item) pairs with repeats', d.pairs],
  ]);
  const issues = report.issues.length === 0
    ? paragraph('No issues found: every row was read as is.')
    : htmlTable(['file', 'issue', 'field', 'rows', 'action', 'first lines'], report.issues.map((i) => [shortenPaths(i.file), i.kind, i.field ?? '', i.count, i.action, i.lines.join(', ')]), { caption: 'Issues' });
  return { id: 'cleaning', title: 'Data cleaning', html: [summary, issues].join('\n') };
}

/** Users and items: activity quantiles, cold entities, long tail and activity histograms. */
export async function activitySection(stats: EdaStats): Promise<ReportSection> {
  const q = htmlTable(SUMMARY_HEADERS, [summaryRow('interactions per user', stats.userActivity.summary), summaryRow('interactions per item', stats.itemPopularity.summary)]);
  const { users, items } = stats.cold;
  const cold = htmlTable(['', 'total', 'zero interactions', `< ${users.threshold} interactions`, 'share cold'], [
    ['users', users.total, users.zero, users.below, formatPercent(users.total === 0 ? 0 : users.below / users.total)],
    ['items', items.total, items.zero, items.below, formatPercent(items.total === 0 ? 0 : items.below / items.total)],
  ], { caption: 'Cold users and items', numericColumns: [4] });
  const charts = await Promise.all([
    chartSvg(popularityCurveChart(stats.popularity.curve)),
    chartSvg(activityHistogramChart(stats.userActivity.histogram, 'user')),
    chartSvg(activityHistogramChart(stats.itemPopularity.histogram, 'item')),
  ]);
  const html = [
    q,
    cold,
    paragraph(`Item popularity Gini ${formatNumber(stats.popularity.gini)}; the top 1% of items hold ${formatPercent(stats.popularity.top1Share)} of interactions, the top 10% ${formatPercent(stats.popularity.top10Share)}.`),
    row(
      figure(charts[0], 'Each point is an item rank; a straight descending line on log–log axes is a power-law tail.'),
      figure(charts[1], 'Users by number of interactions, bins doubling in width.'),
      figure(charts[2], 'Items by number of interactions, bins doubling in width.'),
    ),
  ].join('\n');
  return { id: 'activity', title: 'Users, items and popularity', html };
}

/** The sparsity heatmap. */
export async function sparsitySection(stats: EdaStats): Promise<ReportSection> {
  const svg = await chartSvg(sparsityHeatmapChart(stats.sparsity));
  const cap = 'Users (rows) and items (columns) sorted by number of interactions, most active top-left; colour = share of filled cells in the block (log scale), white = empty block.';
  return { id: 'sparsity', title: 'Sparsity', html: figure(svg, cap) };
}

function distributionFigure(svg: string, d: ValueDistribution): string {
  const cap = d.kind === 'discrete'
    ? 'One bar per distinct value.'
    : d.clippedHigh > 0
      ? `Long tail: equal-width bins from the minimum to the 99th percentile (${formatNumber(d.clipAt)}); ${formatNumber(d.clippedHigh)} larger values (up to ${formatNumber(d.summary.max)}) are left out of the bars but counted in the quantiles.`
      : 'Equal-width bins from the minimum to the maximum.';
  return figure(svg, cap);
}

/** Interaction value and per-event column distributions. */
export async function valuesSection(stats: EdaStats): Promise<ReportSection> {
  const label = valueTitle(stats.dataset);
  const cols = [{ name: label, distribution: stats.values }, ...stats.eventColumns.filter((c) => c.name !== stats.dataset.valueName).map((c) => ({ ...c, name: withUnit(c.name, c.unit) }))];
  const table = htmlTable([...SUMMARY_HEADERS, 'std', 'not charted (tail)'], cols.map((c) => [...summaryRow(c.name, c.distribution.summary), c.distribution.summary.std, c.distribution.clippedHigh]));
  const figures: string[] = [];
  for (const c of cols) {
    const d = c.distribution;
    if (d.summary.count === 0 || (d.kind === 'discrete' && d.bins.length < 2)) continue;
    figures.push(distributionFigure(await chartSvg(valueDistributionChart(d, c.name)), d));
  }
  return { id: 'values', title: 'Value distributions', html: [table, row(...figures)].join('\n') };
}

/** Activity by hour, weekday, month and day; null when the data has no timestamps. */
export async function timeSection(stats: EdaStats): Promise<ReportSection | null> {
  const t = stats.time;
  if (!t || t.events === 0) return null;
  const charts = [await chartSvg(hourChart(t.byHour, t.timeZone)), await chartSvg(weekdayChart(t.byWeekday, t.timeZone))];
  if (t.byDay.length > 1) charts.push(await chartSvg(periodChart(t.byDay, 'day', t.timeZone)));
  if (t.byMonth.length > 1) charts.push(await chartSvg(periodChart(t.byMonth, 'month', t.timeZone)));
  const missing = t.missing > 0 ? ` ${formatNumber(t.missing)} events have no timestamp.` : '';
  const html = [
    paragraph(`From ${t.first} to ${t.last} (${t.timeZone}); ${formatNumber(t.events)} timestamped events.${missing} Hours, days and months are wall-clock time in ${t.timeZone} (change with --tz).`),
    row(...charts.map((c) => figure(c))),
  ].join('\n');
  return { id: 'time', title: 'Activity over time', html };
}

/** Correlation matrix of per-event fields; null when there is nothing to correlate. */
export async function correlationSection(stats: EdaStats): Promise<ReportSection | null> {
  const c = stats.correlation;
  if (!c) return null;
  const svg = await chartSvg(correlationChart(c));
  const cap = `Pearson r over ${formatNumber(c.events)} events (pairwise complete). "log user activity" / "log item popularity" are log(1 + interactions) of the event's user / item.`;
  return { id: 'correlation', title: 'Correlations', html: figure(svg, cap) };
}

/** Head vs mid vs tail items. */
export async function popularVsNicheSection(stats: EdaStats): Promise<ReportSection> {
  const g = stats.popularVsNiche;
  const table = htmlTable(['group', 'items', 'interactions', 'share of interactions', 'users reached', 'share of users', `mean ${stats.dataset.valueName === stats.dataset.valueKind ? valueLabel(stats.dataset.valueKind) : stats.dataset.valueName}`, 'mean activity of users reached'],
    g.map((x) => [x.group, x.items, x.interactions, formatPercent(x.interactionShare), x.usersReached, formatPercent(x.usersReachedShare), x.meanValue, x.meanUserActivity]), { numericColumns: [3, 5] });
  const svg = await chartSvg(popularVsNicheChart(g, stats.overview.activeItems));
  return { id: 'popular-vs-niche', title: 'Popular vs niche items', html: [table, figure(svg, 'Items with at least one interaction, ranked by interactions.')].join('\n') };
}

/** The sort key of an ordered label ("18-24" → 18, "Under 18" → 17.5, "56+" → 56, "[10,50)" → 10), or NaN. */
function orderKey(label: string): number {
  const m = /^\s*[[(]?\s*(under|below|<)?\s*(-?\d+(?:\.\d+)?)/i.exec(label);
  if (!m) return NaN;
  return Number(m[2]) - (m[1] ? 0.5 : 0);
}

/**
 * Orders values by the number they start with when every label starts with a distinct number (age buckets
 * "Under 18", "18-24", "56+"; ranges "[0,10)", "[10,50)", "500+"; codes "1", "18"), else keeps the given
 * (count) order.
 */
export function chartOrder<T extends { value: string }>(values: T[]): T[] {
  const keys = values.map((v) => orderKey(v.value));
  if (keys.some((k) => Number.isNaN(k)) || new Set(keys).size !== keys.length) return values;
  return values.map((v, k) => ({ v, key: keys[k] })).sort((a, b) => a.key - b.key).map((x) => x.v);
}

/** Features charted first: demographics, geography, activity levels, top-level categories, tags and genres. */
const CHART_FIRST = /gender|^age|occupation|state|country|region|province|city|active|category1|first_level|genre|tag/i;
/** Geographic features: charted with all their values (states), not just the top ones. */
const GEOGRAPHY = /state|country|region|province|city/i;
/** Charts per feature kind at most (KuaiRec has 23 anonymized user categoricals: tables cover the rest). */
const MAX_CATEGORICAL_CHARTS = 6;
const MAX_TAG_CHARTS = 2;
const MAX_BARS = 30;

function pickForCharts<T extends { name: string }>(features: T[], max: number): T[] {
  const first = features.filter((f) => CHART_FIRST.test(f.name));
  const rest = features.filter((f) => !CHART_FIRST.test(f.name));
  return [...first, ...rest].slice(0, max);
}

/**
 * Bars of one categorical feature: users per value (demographics, geography) for users; interactions per
 * value (what gets watched: categories) for items.
 */
async function categoricalFigure(c: CategoricalSummary, entity: 'user' | 'item'): Promise<string> {
  const limit = GEOGRAPHY.test(c.name) ? 60 : MAX_BARS;
  const byInteractions = entity === 'item';
  const ranked = byInteractions ? [...c.top].sort((a, b) => b.interactions - a.interactions) : c.top;
  const shown = chartOrder(ranked.slice(0, limit));
  const spec = byInteractions
    ? categoryBarChart(`Interactions by ${c.name}`, shown.map((v) => ({ label: v.value, count: v.interactions })), 'interactions')
    : categoryBarChart(`${entity}s by ${c.name}`, shown.map((v) => ({ label: v.value, count: v.entities })), `${entity}s`);
  const hidden = ranked.slice(limit).reduce((n, v) => n + v.entities, 0) + c.otherEntities;
  const rest = hidden > 0 ? `; ${formatNumber(hidden)} ${entity}s have values not shown` : '';
  const placeholders = c.placeholders.length > 0 ? ` (${c.placeholders.map((p) => `"${p}"`).join(', ')} counted as missing)` : '';
  return figure(await chartSvg(spec), `${formatNumber(c.distinct)} distinct values, ${formatNumber(c.missing)} missing${placeholders}${rest}.`);
}

async function multiHotFigure(m: MultiHotSummary, entity: string): Promise<string> {
  const spec = categoryBarChart(`Top ${m.name} by interactions`, m.top.slice(0, MAX_BARS).map((v) => ({ label: v.value, count: v.interactions })), 'interactions');
  return figure(await chartSvg(spec), `${formatNumber(m.vocabulary)} values; ${formatNumber(m.entitiesWithAny)} ${entity}s have at least one, ${formatNumber(m.meanPerEntity)} per ${entity} on average. Interactions = interactions of the ${entity}s carrying the value.`);
}

/** "a (41%), b (30%), c (12%)": the first `k` values with their share of `total`. */
function topList(values: Array<{ value: string; entities: number }>, total: number, k = 4): string {
  return values.slice(0, k).map((v) => `${v.value} (${formatPercent(total === 0 ? 0 : v.entities / total)})`).join(', ');
}

/** User or item side features: numeric quantiles, categorical bars (demographics, geography), tags. */
export async function featuresSection(f: FeatureStats, entity: 'user' | 'item'): Promise<ReportSection | null> {
  const parts: string[] = [];
  if (f.numeric.length > 0) parts.push(htmlTable(SUMMARY_HEADERS, f.numeric.map((n) => summaryRow(withUnit(n.name, n.unit), n.summary)), { caption: 'Numeric features' }));
  const kinds: HtmlCell[][] = [
    ...f.categorical.map((c): HtmlCell[] => [c.name, 'categorical', c.distinct, c.missing, topList(c.top, f.entities - c.missing)]),
    ...f.multiHot.map((m): HtmlCell[] => [m.name, 'multi-valued', m.vocabulary, f.entities - m.entitiesWithAny, topList([...m.top].sort((a, b) => b.entities - a.entities), f.entities)]),
  ];
  if (kinds.length > 0) parts.push(htmlTable(['feature', 'kind', 'distinct values', `${entity}s without a value`, `most frequent (share of ${entity}s)`], kinds, { caption: 'Categorical features' }));
  const placeholders = [...f.categorical, ...f.multiHot].filter((c) => c.placeholders.length > 0).map((c) => `${c.name}: ${c.placeholders.map((p) => `"${p}"`).join(', ')}`);
  if (placeholders.length > 0) parts.push(noteBox([`Placeholder values counted as missing (not as a category): ${placeholders.join('; ')}.`]));
  if (f.text.length > 0) parts.push(htmlTable(['text feature', 'non-empty', 'mean length (characters)'], f.text.map((t) => [t.name, t.nonEmpty, t.meanLength])));
  const figures: string[] = [];
  for (const c of pickForCharts(f.categorical.filter((x) => x.top.length > 1), MAX_CATEGORICAL_CHARTS)) figures.push(await categoricalFigure(c, entity));
  for (const m of pickForCharts(f.multiHot.filter((x) => x.top.length > 0), MAX_TAG_CHARTS)) figures.push(await multiHotFigure(m, entity));
  if (figures.length > 0) parts.push(row(...figures));
  if (parts.length === 0) return null;
  const title = entity === 'user' ? 'User features (demographics, geography)' : 'Item features (categories, tags)';
  return { id: `${entity}-features`, title, html: parts.join('\n') };
}

/** Every EDA section, in report order (sections without data are left out). */
export async function edaSections(stats: EdaStats): Promise<ReportSection[]> {
  const sections: Array<ReportSection | null> = [
    overviewSection(stats),
    cleaningSection(stats.cleaning),
    await activitySection(stats),
    await sparsitySection(stats),
    await valuesSection(stats),
    await timeSection(stats),
    await correlationSection(stats),
    await popularVsNicheSection(stats),
    stats.userFeatures ? await featuresSection(stats.userFeatures, 'user') : null,
    stats.itemFeatures ? await featuresSection(stats.itemFeatures, 'item') : null,
  ];
  return sections.filter((s): s is ReportSection => s !== null);
}
