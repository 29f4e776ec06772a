/**
 * Vega-Lite specs of the EDA charts, built from already aggregated statistics (never raw events: every
 * spec holds at most a few thousand rows). Render them with `chartSvg`.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CorrelationMatrix, Bin, ValueDistribution } from './stats.js';
import type { PopularityGroup, SparsityBlocks } from './eda.js';
import { WEEKDAYS } from './time.js';
import { formatCorrelation, formatNumber, formatPercent } from './format.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 520;
const HEIGHT = 240;

/**
 * Items ranked by interactions on log–log axes: the long tail. The rank axis runs from 1 to the last ranked
 * item exactly (a "nice" log axis would stretch 1,500 items to 10,000 and squash the curve to the left).
 */
export function popularityCurveChart(curve: Array<{ rank: number; count: number }>, entity = 'item'): TopLevelSpec {
  const values = curve.filter((p) => p.count > 0);
  const lastRank = Math.max(2, ...values.map((p) => p.rank));
  const counts = values.map((p) => p.count);
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  return {
    $schema: SCHEMA,
    title: `Popularity long tail (${entity}s ranked by interactions)`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: { size: 12 } },
    encoding: {
      x: { field: 'rank', type: 'quantitative', scale: { type: 'log', domain: [1, lastRank], nice: false }, title: `${entity} rank (log, 1 to ${formatNumber(lastRank)})` },
      y: { field: 'count', type: 'quantitative', scale: values.length > 0 && hi > lo ? { type: 'log', domain: [lo, hi], nice: false } : { type: 'log' }, title: 'interactions (log)' },
    },
  };
}

/** Label of a power-of-two activity bin: "0", "1", "2–3", "4–7"... */
export function binLabel(b: Bin): string {
  return b.start === b.end ? formatNumber(b.start) : `${formatNumber(b.start)}–${formatNumber(b.end)}`;
}

/**
 * Histogram of interactions per user (or item) in power-of-two bins (log-spaced: each bin twice as wide as
 * the one before, drawn side by side like a log axis) on a linear count axis, so bar heights are
 * proportional to the counts. (A symmetric-log count axis made 247 look like a quarter of 1,100.)
 */
export function activityHistogramChart(bins: Bin[], entity: string): TopLevelSpec {
  const values = bins.filter((b) => b.count > 0).map((b) => ({ bin: binLabel(b), order: b.start, count: b.count }));
  return {
    $schema: SCHEMA,
    title: `Interactions per ${entity}`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'bin', type: 'ordinal', sort: { field: 'order' }, title: `interactions per ${entity} (bins doubling in width)`, axis: { labelAngle: -40 } },
      y: { field: 'count', type: 'quantitative', scale: { type: 'linear', zero: true }, title: `${entity}s` },
      tooltip: [{ field: 'bin' }, { field: 'count', type: 'quantitative' }],
    },
  };
}

/** Block densities with users (rows) and items (columns) sorted by activity; empty blocks stay white. */
export function sparsityHeatmapChart(blocks: SparsityBlocks): TopLevelSpec {
  const values = blocks.cells.filter((c) => c.nnz > 0).map((c) => ({ row: c.row, col: c.col, density: c.density }));
  // Whole-pixel square cells: fractional cell edges leave anti-aliasing seams between the cells.
  const cell = Math.max(4, Math.floor(420 / Math.max(1, blocks.colBlocks, blocks.rowBlocks)));
  return {
    $schema: SCHEMA,
    title: `Sparsity: ${blocks.rowBlocks}×${blocks.colBlocks} blocks, most active first`,
    width: cell * Math.max(1, blocks.colBlocks),
    height: cell * Math.max(1, blocks.rowBlocks),
    data: { values },
    // 2,500 cells: no per-cell aria labels, they would triple the SVG's size.
    mark: { type: 'rect', aria: false },
    encoding: {
      x: { field: 'col', type: 'ordinal', title: 'item block (popular → rare)', axis: { labels: false, ticks: false, grid: false }, scale: { domain: range(blocks.colBlocks), paddingInner: 0 } },
      y: { field: 'row', type: 'ordinal', title: 'user block (active → inactive)', axis: { labels: false, ticks: false, grid: false }, scale: { domain: range(blocks.rowBlocks), paddingInner: 0 } },
      color: { field: 'density', type: 'quantitative', scale: { type: 'log', scheme: 'viridis' }, title: 'density (log)' },
    },
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, k) => k);
}

/** Histogram of a value column; binned distributions mention how many values were clipped. */
export function valueDistributionChart(dist: ValueDistribution, label: string): TopLevelSpec {
  const clipped = dist.clippedHigh > 0 ? ` — ${formatNumber(dist.clippedHigh)} values > ${formatNumber(dist.clipAt)} not shown` : '';
  const title = `Distribution of ${label}${clipped}`;
  if (dist.kind === 'discrete') {
    return {
      $schema: SCHEMA,
      title,
      width: WIDTH,
      height: HEIGHT,
      data: { values: dist.bins.map((b) => ({ value: formatNumber(b.start), order: b.start, count: b.count })) },
      mark: 'bar',
      encoding: {
        x: { field: 'value', type: 'ordinal', sort: { field: 'order' }, title: label, axis: { labelAngle: 0 } },
        y: { field: 'count', type: 'quantitative', title: 'interactions' },
      },
    };
  }
  return {
    $schema: SCHEMA,
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: dist.bins.map((b) => ({ start: b.start, end: b.end, count: b.count })) },
    mark: { type: 'bar', binSpacing: 1 },
    encoding: {
      x: { field: 'start', type: 'quantitative', bin: { binned: true }, title: label },
      x2: { field: 'end' },
      y: { field: 'count', type: 'quantitative', title: 'interactions' },
    },
  };
}

/** Bars of counts over ordered labels (hours, weekdays). */
function orderedBars(title: string, xTitle: string, labels: readonly string[], counts: number[], labelAngle = 0): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    width: Math.min(WIDTH, Math.max(40 * labels.length, 280)),
    height: HEIGHT - 40,
    data: { values: labels.map((label, k) => ({ label, order: k, count: counts[k] })) },
    mark: 'bar',
    encoding: {
      x: { field: 'label', type: 'ordinal', sort: { field: 'order' }, title: xTitle, axis: { labelAngle } },
      y: { field: 'count', type: 'quantitative', title: 'interactions' },
    },
  };
}

/** Interactions by local hour of day. */
export function hourChart(byHour: number[], timeZone: string): TopLevelSpec {
  return orderedBars(`Activity by hour (${timeZone})`, 'hour of day', byHour.map((_, h) => String(h)), byHour);
}

/** Interactions by weekday, Monday first. */
export function weekdayChart(byWeekday: number[], timeZone: string): TopLevelSpec {
  return orderedBars(`Activity by day of week (${timeZone})`, 'day of week', WEEKDAYS, byWeekday);
}

/** Interactions per period ("YYYY-MM" or "YYYY-MM-DD"): bars up to 36 periods, else an area over time. */
export function periodChart(periods: Array<{ period: string; count: number }>, unit: 'month' | 'day', timeZone: string): TopLevelSpec {
  if (periods.length <= 36) {
    return orderedBars(`Activity by ${unit} (${timeZone})`, unit, periods.map((p) => p.period), periods.map((p) => p.count), unit === 'day' || periods.length > 12 ? -60 : 0);
  }
  const values = periods.map((p) => ({ date: unit === 'month' ? `${p.period}-01` : p.period, count: p.count }));
  return {
    $schema: SCHEMA,
    title: `Activity by ${unit} (${timeZone})`,
    width: WIDTH,
    height: HEIGHT - 40,
    data: { values },
    mark: { type: 'area', line: true, opacity: 0.3 },
    encoding: {
      x: { field: 'date', type: 'temporal', timeUnit: unit === 'month' ? 'yearmonth' : 'yearmonthdate', title: unit, axis: { labelAngle: -40 } },
      y: { field: 'count', type: 'quantitative', title: 'interactions' },
    },
  };
}

/** Head / mid / tail items: their share of items, of interactions and of users reached, side by side. */
export function popularVsNicheChart(groups: PopularityGroup[], totalItems: number): TopLevelSpec {
  const values = groups.flatMap((g) => [
    { group: g.group, measure: 'share of items', share: totalItems === 0 ? 0 : g.items / totalItems },
    { group: g.group, measure: 'share of interactions', share: g.interactionShare },
    { group: g.group, measure: 'share of users reached', share: g.usersReachedShare },
  ]);
  return {
    $schema: SCHEMA,
    title: 'Popular vs niche items (head = top 10%, mid = next 40%, tail = bottom 50%)',
    width: WIDTH,
    height: HEIGHT,
    data: { values: values.map((v) => ({ ...v, label: formatPercent(v.share) })) },
    encoding: {
      x: { field: 'group', type: 'nominal', sort: ['head', 'mid', 'tail'], title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'measure', type: 'nominal', sort: ['share of items', 'share of interactions', 'share of users reached'] },
      y: { field: 'share', type: 'quantitative', axis: { format: '%' }, scale: { domain: [0, 1] }, title: null },
      color: { field: 'measure', type: 'nominal', sort: ['share of items', 'share of interactions', 'share of users reached'], title: null, legend: { orient: 'bottom', labelLimit: 400 } },
    },
    layer: [{ mark: 'bar' }, { mark: { type: 'text', dy: -6, fontSize: 10 }, encoding: { text: { field: 'label' } } }],
  };
}

/** Pearson correlation matrix as a diverging heatmap with the coefficients written in. */
export function correlationChart(m: CorrelationMatrix): TopLevelSpec {
  const values = m.names.flatMap((a, i) => m.names.map((b, j) => ({ a, b, r: Number.isNaN(m.r[i][j]) ? null : m.r[i][j], label: formatCorrelation(m.r[i][j]) })));
  const size = Math.max(160, Math.min(460, 70 * m.names.length));
  return {
    $schema: SCHEMA,
    title: 'Pearson correlation of per-event fields',
    width: size,
    height: size,
    data: { values },
    encoding: {
      x: { field: 'a', type: 'nominal', sort: m.names, title: null, axis: { labelAngle: -30, labelLimit: 400, grid: false } },
      y: { field: 'b', type: 'nominal', sort: m.names, title: null, axis: { labelLimit: 400, grid: false } },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'r', type: 'quantitative', scale: { scheme: 'redblue', domain: [-1, 1], reverse: true }, title: 'r' } } },
      { mark: { type: 'text', fontSize: 12 }, encoding: { text: { field: 'label' }, color: { condition: { test: 'abs(datum.r) > 0.6', value: 'white' }, value: 'black' } } },
    ],
  };
}

/** One horizontal bar per label (in the given order), e.g. users per gender or interactions per category. */
export function categoryBarChart(title: string, rows: Array<{ label: string; count: number }>, xTitle: string): TopLevelSpec {
  const values = rows.map((r, k) => ({ ...r, order: k }));
  return {
    $schema: SCHEMA,
    title,
    width: 420,
    height: Math.max(60, Math.min(900, 16 * values.length)),
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'label', type: 'nominal', sort: { field: 'order' }, title: null, axis: { labelLimit: 240 } },
      x: { field: 'count', type: 'quantitative', title: xTitle },
    },
  };
}
