/** The EDA as compact aligned terminal tables (the same {@link EdaStats} the HTML report uses). */
import type { CleaningReport } from '../data/dataset.js';
import type { EdaStats } from './eda.js';
import { formatCorrelation, formatNumber, formatPercent, formatTable, shortenPaths, withUnit, type TextCell } from './format.js';
import type { Summary } from './stats.js';
import { WEEKDAYS } from './time.js';

const Q_HEADERS = ['', 'min', 'p25', 'median', 'p75', 'p90', 'p99', 'max', 'mean'];

function qRow(label: string, s: Summary): TextCell[] {
  return [label, s.min, s.p25, s.median, s.p75, s.p90, s.p99, s.max, s.mean];
}

/** The cleaning report as text: rows read/kept, duplicates, one line per issue. */
export function cleaningText(report: CleaningReport): string {
  const d = report.duplicates;
  const lines = [
    `Cleaning: ${formatNumber(report.rowsRead)} rows read, ${formatNumber(report.rowsKept)} kept; ${formatNumber(d.merged)} duplicate events merged (${formatNumber(d.pairs)} pairs, policy ${d.policy})`,
  ];
  if (report.issues.length > 0) {
    lines.push(formatTable(['file', 'issue', 'field', 'rows', 'action', 'first lines'], report.issues.map((i) => [shortenPaths(i.file), i.kind, i.field ?? '', i.count, i.action, i.lines.slice(0, 5).join(', ')])));
  }
  for (const n of report.notes) lines.push(`  note: ${shortenPaths(n)}`);
  return lines.join('\n');
}

/** The main EDA figures as terminal tables. */
export function edaSummaryText(stats: EdaStats): string {
  const o = stats.overview;
  const out: string[] = [];
  out.push(`${stats.dataset.name}: ${stats.dataset.description}`);
  out.push(formatTable(['users', 'items', 'interactions', 'density', 'gini', 'top 1% items', 'top 10% items'], [
    [o.users, o.items, o.interactions, formatPercent(o.density), formatNumber(stats.popularity.gini, 3), formatPercent(stats.popularity.top1Share), formatPercent(stats.popularity.top10Share)],
  ]));
  out.push('');
  const valueRows: TextCell[][] = [qRow('per user', stats.userActivity.summary), qRow('per item', stats.itemPopularity.summary), qRow(`value (${stats.dataset.valueName})`, stats.values.summary)];
  for (const c of stats.eventColumns) if (c.name !== stats.dataset.valueName) valueRows.push(qRow(withUnit(c.name, c.unit), c.distribution.summary));
  out.push(formatTable(Q_HEADERS, valueRows));
  out.push('');
  const { users, items } = stats.cold;
  out.push(formatTable(['cold', 'total', 'zero', `< ${users.threshold}`, 'share'], [
    ['users', users.total, users.zero, users.below, formatPercent(users.total === 0 ? 0 : users.below / users.total)],
    ['items', items.total, items.zero, items.below, formatPercent(items.total === 0 ? 0 : items.below / items.total)],
  ]));
  out.push('');
  out.push(formatTable(['items', 'count', 'share of interactions', 'share of users reached', `mean ${stats.dataset.valueName}`, 'mean user activity'],
    stats.popularVsNiche.map((g) => [g.group, g.items, formatPercent(g.interactionShare), formatPercent(g.usersReachedShare), formatNumber(g.meanValue), formatNumber(g.meanUserActivity)])));
  const t = stats.time;
  if (t && t.events > 0) {
    const peakHour = t.byHour.indexOf(Math.max(...t.byHour));
    const peakDay = t.byWeekday.indexOf(Math.max(...t.byWeekday));
    out.push('');
    out.push(`  time: ${t.first} → ${t.last} (${t.timeZone}), busiest hour ${peakHour}:00, busiest day ${WEEKDAYS[peakDay]}${t.missing > 0 ? `, ${formatNumber(t.missing)} events without time` : ''}`);
  }
  if (stats.correlation) {
    const c = stats.correlation;
    out.push('');
    out.push(formatTable(['pearson r', ...c.names.map((_, j) => `(${j + 1})`)], c.names.map((name, i) => [`(${i + 1}) ${name}`, ...c.r[i].map((r) => formatCorrelation(r))])));
  }
  return out.join('\n');
}
