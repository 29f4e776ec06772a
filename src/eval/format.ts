/**
 * Renders experiment results as a comparison table: aligned terminal text, Markdown, CSV, JSON, or a
 * self-contained HTML fragment (escaped, inline styles only) for the report.
 */
import type { ExperimentResults } from './experiment.js';
import type { MetricSummary } from './stats.js';
import { settingsText } from './params-text.js';

export { settingsText } from './params-text.js';

/** Output formats of {@link formatResults}. */
export type TableFormat = 'text' | 'markdown' | 'csv' | 'json' | 'html';

/**
 * A metric value in fixed notation, never scientific: 4 decimals; below 0.0001 (in absolute value) two
 * significant digits ("0.000031"); grouped integers from 100,000 up; "—" for NaN.
 */
export function formatMetricValue(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '—' : x > 0 ? '∞' : '−∞';
  const a = Math.abs(x);
  if (a >= 1e5) return Math.round(x).toLocaleString('en-US');
  if (a < 1e-4) return x.toFixed(Math.min(20, 1 - Math.floor(Math.log10(a))));
  return x.toFixed(4);
}

const fmt = formatMetricValue;

function cell(s: MetricSummary | undefined): string {
  if (!s) return '—';
  return Number.isFinite(s.stderr) ? `${fmt(s.mean)} ± ${fmt(s.stderr)}` : fmt(s.mean);
}

/**
 * Metrics that describe a recommender rather than rank it: more catalogue coverage, novelty or diversity, or a
 * higher average popularity, is not better in itself, so no value is marked best.
 */
const DESCRIPTIVE_METRICS = new Set(['coverage', 'novelty', 'diversity', 'arp']);

/** Rating-error metrics: one value over all test interactions (no per-user ±). */
const RATING_METRICS = new Set(['rmse', 'mae', 'r2']);

/** The metric name of a label: "ndcg@10" → "ndcg". */
function metricName(label: string): string {
  return label.split('@')[0];
}

/** Whether the metric ranks models: it has a direction and is not {@link DESCRIPTIVE_METRICS descriptive}. */
export function ranksModels(results: ExperimentResults, label: string): boolean {
  const dir = results.directions[label];
  return (dir === 'higher' || dir === 'lower') && !DESCRIPTIVE_METRICS.has(metricName(label));
}

/**
 * The rows holding the best value of each metric that {@link ranksModels ranks models}: every model whose
 * mean, as shown, equals the best one (ties are all best). Empty for the other metrics.
 */
export function bestRows(results: ExperimentResults): Record<string, Set<number>> {
  const best: Record<string, Set<number>> = {};
  for (const label of results.metrics) {
    best[label] = new Set();
    if (!ranksModels(results, label)) continue;
    const higher = results.directions[label] === 'higher';
    let bv = NaN;
    results.models.forEach((m) => {
      const v = m.error ? NaN : (m.metrics[label]?.mean ?? NaN);
      if (Number.isFinite(v) && (Number.isNaN(bv) || (higher ? v > bv : v < bv))) bv = v;
    });
    if (Number.isNaN(bv)) continue;
    const shown = fmt(bv);
    results.models.forEach((m, j) => {
      const v = m.error ? NaN : (m.metrics[label]?.mean ?? NaN);
      if (Number.isFinite(v) && fmt(v) === shown) best[label].add(j);
    });
  }
  return best;
}

/** Header and body rows (strings) shared by text, Markdown and HTML. */
function rows(results: ExperimentResults, withStderr: boolean): { header: string[]; body: string[][] } {
  const header = ['model', ...results.metrics.map((m) => `${m}${results.directions[m] === 'lower' ? ' ↓' : ''}`), 'fit s', 'score s'];
  const body = results.models.map((m) => [
    m.label,
    ...results.metrics.map((l) => (m.error ? 'failed' : withStderr ? cell(m.metrics[l]) : fmt(m.metrics[l]?.mean ?? NaN))),
    m.fitSeconds.toFixed(2),
    m.scoringSeconds.toFixed(2),
  ]);
  return { header, body };
}

/** The protocol as it applies to the table's metrics (rating metrics are not a ranking protocol). */
function protocolText(results: ExperimentResults): string {
  const rating = results.metrics.filter((l) => RATING_METRICS.has(metricName(l)));
  const ratingText = `rating prediction (${rating.join(', ')}: each test interaction's value predicted by the model's score, errors over all test interactions)`;
  if (rating.length === 0) return results.protocol;
  if (rating.length === results.metrics.length) return ratingText;
  return `${results.protocol} for ${results.metrics.filter((l) => !RATING_METRICS.has(metricName(l))).join(', ')}; ${ratingText}`;
}


/** Lines under the table: split, protocol, what was evaluated, what ± means, settings, failures and notes. */
function footer(results: ExperimentResults): string[] {
  const lines = [`data set: ${results.dataset}; split: ${results.split}; protocol: ${protocolText(results)}`];
  const m0 = results.models.find((m) => !m.error);
  const ranking = results.metrics.filter((l) => !RATING_METRICS.has(metricName(l)));
  const rating = results.metrics.filter((l) => RATING_METRICS.has(metricName(l)));
  if (m0 && ranking.length > 0) lines.push(`users evaluated: ${m0.usersEvaluated}; users without relevant test items (excluded): ${m0.usersWithoutRelevant}`);
  if (m0 && rating.length > 0) {
    const n = m0.metrics[rating[0]]?.n;
    if (n !== undefined && n > 0) lines.push(`test interactions scored: ${n}`);
  }
  const withStderr = results.models.some((m) => results.metrics.some((l) => Number.isFinite(m.metrics[l]?.stderr)));
  if (withStderr) {
    const over = /\(\d+ folds\)/.test(results.split) ? 'folds (of the fold means)' : 'users';
    lines.push(`± is the standard error over ${over}${rating.length > 0 && ranking.length > 0 ? '; rating metrics have none' : ''}`);
  }
  const marked = results.metrics.filter((l) => ranksModels(results, l));
  const unmarked = results.metrics.filter((l) => !ranksModels(results, l));
  if (marked.length > 0 && unmarked.length > 0) lines.push(`best values (bold in HTML) only for ${marked.join(', ')}; ${unmarked.join(', ')} describe the lists and have no better direction`);
  lines.push(`settings (the rest at each model's defaults): ${results.models.map((m) => `${m.label} ${settingsText(m.params)}`).join('; ')}`);
  for (const m of results.models) {
    if (m.error) lines.push(`${m.label}: failed: ${m.error}`);
    for (const n of m.notes) lines.push(`${m.label}: ${n}`);
  }
  lines.push(...results.notes);
  return lines;
}

/** Significance stars of a p-value: *** < 0.001, ** < 0.01, * < 0.05, else "ns". */
function stars(p: number): string {
  return p < 0.001 ? '***' : p < 0.01 ? '**' : p < 0.05 ? '*' : 'ns';
}

/**
 * The paired per-user comparisons as one compact table: a row per model, a column per metric, each cell the
 * mean difference against the reference model with Wilcoxon signed-rank significance stars (exact p-values,
 * and the paired t-test's, are in the JSON and CSV outputs and the `comparisons` field).
 */
function comparisonTable(results: ExperimentResults): { title: string; header: string[]; body: string[][] } | null {
  if (results.comparisons.length === 0) return null;
  const reference = results.comparisons[0].reference;
  const metrics = results.metrics.filter((m) => results.comparisons.some((c) => c.metric === m));
  const models = [...new Set(results.comparisons.map((c) => c.model))];
  const cellOf = new Map(results.comparisons.map((c) => [`${c.model}\u0000${c.metric}`, c]));
  const body = models.map((model) => [
    model,
    ...metrics.map((metric) => {
      const c = cellOf.get(`${model}\u0000${metric}`);
      if (!c) return '—';
      const d = c.tTest.meanDiff;
      return `${d > 0 ? '+' : ''}${fmt(d)} ${stars(c.wilcoxon.pValue)}`;
    }),
  ]);
  const n = results.comparisons[0].tTest.n;
  return {
    title: `Difference from ${reference}, per user (n=${n}; Wilcoxon signed-rank: *** p<0.001, ** p<0.01, * p<0.05, ns not significant)`,
    header: [`vs ${reference}`, ...metrics],
    body,
  };
}

/** Aligned plain-text table. */
function textTable(header: string[], body: string[][]): string[] {
  const widths = header.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  const line = (r: string[]): string => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}

/** The results in one of the table formats. */
export function formatResults(results: ExperimentResults, format: TableFormat): string {
  switch (format) {
    case 'json': return JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
    case 'html': return resultsToHtml(results);
    case 'csv': return resultsToCsv(results);
    case 'markdown': {
      const { header, body } = rows(results, true);
      const esc = (s: string): string => s.replace(/\|/g, '\\|');
      const out = [`| ${header.map(esc).join(' | ')} |`, `|${header.map((_, j) => (j === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
      for (const r of body) out.push(`| ${r.map(esc).join(' | ')} |`);
      const cmp = comparisonTable(results);
      if (cmp) {
        out.push('', cmp.title, '', `| ${cmp.header.map(esc).join(' | ')} |`, `|${cmp.header.map((_, j) => (j === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
        for (const r of cmp.body) out.push(`| ${r.map(esc).join(' | ')} |`);
      }
      return [...out, '', ...footer(results).map((l) => `- ${l}`)].join('\n');
    }
    case 'text': {
      const { header, body } = rows(results, true);
      const cmp = comparisonTable(results);
      const cmpLines = cmp ? ['', cmp.title, ...textTable(cmp.header, cmp.body)] : [];
      return [...textTable(header, body), ...cmpLines, '', ...footer(results)].join('\n');
    }
  }
}

/** CSV: one row per model and metric (model, metric, mean, stderr, ci_low, ci_high, n, fit_s, score_s). */
export function resultsToCsv(results: ExperimentResults): string {
  const q = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const num = (x: number): string => (Number.isFinite(x) ? String(x) : '');
  const out = ['model,metric,mean,stderr,ci_low,ci_high,n,fit_seconds,scoring_seconds'];
  for (const m of results.models) {
    for (const label of results.metrics) {
      const s = m.metrics[label];
      out.push([q(m.label), q(label), num(s?.mean ?? NaN), num(s?.stderr ?? NaN), num(s?.ci95[0] ?? NaN), num(s?.ci95[1] ?? NaN), String(s?.n ?? 0), num(m.fitSeconds), num(m.scoringSeconds)].join(','));
    }
  }
  return out.join('\n');
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * An HTML fragment (a `<figure>` with a table and notes; inline styles, no scripts or external assets) showing
 * the comparison; the best value of each metric that ranks models is bold (all of them on a tie), tables scroll
 * sideways inside themselves on narrow screens. Every string from the results is escaped.
 */
export function resultsToHtml(results: ExperimentResults): string {
  const { header, body } = rows(results, true);
  const best = bestRows(results);
  const th = header.map((h, j) => `<th style="text-align:${j === 0 ? 'left' : 'right'};padding:4px 8px;border-bottom:2px solid #444">${escapeHtml(h)}</th>`).join('');
  const trs = body.map((r, i) => {
    const tds = r.map((c, j) => {
      const metric = j >= 1 && j <= results.metrics.length ? results.metrics[j - 1] : null;
      const bold = metric !== null && best[metric].has(i);
      const text = bold ? `<strong>${escapeHtml(c)}</strong>` : escapeHtml(c);
      return `<td style="text-align:${j === 0 ? 'left' : 'right'};padding:4px 8px;border-bottom:1px solid #ddd;white-space:nowrap">${text}</td>`;
    }).join('');
    return `<tr>${tds}</tr>`;
  }).join('\n');
  const notes = footer(results).map((l) => `<li>${escapeHtml(l)}</li>`).join('');
  const cmp = comparisonTable(results);
  const cell = (c: string, j: number, tag: 'th' | 'td'): string =>
    `<${tag} style="text-align:${j === 0 ? 'left' : 'right'};padding:2px 8px;border-bottom:1px solid #ddd;white-space:nowrap">${escapeHtml(c)}</${tag}>`;
  const cmpHtml = cmp
    ? [
      `<p style="font-size:12px;color:#555;margin:8px 0 2px">${escapeHtml(cmp.title)}</p>`,
      `<div class="scroll" style="max-width:100%;overflow-x:auto">`,
      `<table style="border-collapse:collapse;font-size:12px">`,
      `<thead><tr>${cmp.header.map((h, j) => cell(h, j, 'th')).join('')}</tr></thead>`,
      `<tbody>${cmp.body.map((r) => `<tr>${r.map((c, j) => cell(c, j, 'td')).join('')}</tr>`).join('\n')}</tbody>`,
      `</table>`,
      `</div>`,
    ].join('\n')
    : '';
  return [
    `<figure class="recsys-results" style="margin:1em 0;font-family:system-ui,sans-serif;font-size:14px">`,
    `<figcaption style="font-weight:600;margin-bottom:4px">${escapeHtml(results.name)}</figcaption>`,
    `<div class="scroll" style="max-width:100%;overflow-x:auto">`,
    `<table style="border-collapse:collapse">`,
    `<thead><tr>${th}</tr></thead>`,
    `<tbody>\n${trs}\n</tbody>`,
    `</table>`,
    `</div>`,
    cmpHtml,
    `<ul style="font-size:12px;color:#555">${notes}</ul>`,
    `</figure>`,
  ].join('\n');
}
