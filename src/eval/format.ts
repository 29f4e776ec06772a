/**
 * Renders experiment results as a comparison table: aligned terminal text, Markdown, CSV, JSON, or a
 * self-contained HTML fragment (escaped, inline styles only) for the report.
 */
import type { ExperimentResults } from './experiment.js';
import type { MetricSummary } from './stats.js';

/** Output formats of {@link formatResults}. */
export type TableFormat = 'text' | 'markdown' | 'csv' | 'json' | 'html';

function fmt(x: number): string {
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '—' : String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(3);
  return x.toFixed(4);
}


function cell(s: MetricSummary | undefined): string {
  if (!s) return '—';
  return Number.isFinite(s.stderr) ? `${fmt(s.mean)} ± ${fmt(s.stderr)}` : fmt(s.mean);
}

/** Index of the best model per metric (by the metric's direction), or -1. */
function bestRows(results: ExperimentResults): Record<string, number> {
  const best: Record<string, number> = {};
  for (const label of results.metrics) {
    const dir = results.directions[label];
    let bi = -1;
    results.models.forEach((m, j) => {
      const v = m.metrics[label]?.mean;
      if (v === undefined || !Number.isFinite(v) || dir === 'none') return;
      const bv = bi >= 0 ? results.models[bi].metrics[label].mean : NaN;
      if (bi < 0 || (dir === 'higher' ? v > bv : v < bv)) bi = j;
    });
    best[label] = bi;
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

/** Lines under the table: split, protocol, users, comparisons and notes. */
function footer(results: ExperimentResults): string[] {
  const lines = [`data set: ${results.dataset}; split: ${results.split}; protocol: ${results.protocol}`];
  const m0 = results.models.find((m) => !m.error);
  if (m0) lines.push(`users evaluated: ${m0.usersEvaluated}; users without relevant test items (excluded): ${m0.usersWithoutRelevant}; ± is the standard error over users`);
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
 * the comparison; the best value per metric is bold. Every string from the results is escaped.
 */
export function resultsToHtml(results: ExperimentResults): string {
  const { header, body } = rows(results, true);
  const best = bestRows(results);
  const th = header.map((h, j) => `<th style="text-align:${j === 0 ? 'left' : 'right'};padding:4px 8px;border-bottom:2px solid #444">${escapeHtml(h)}</th>`).join('');
  const trs = body.map((r, i) => {
    const tds = r.map((c, j) => {
      const metric = j >= 1 && j <= results.metrics.length ? results.metrics[j - 1] : null;
      const bold = metric !== null && best[metric] === i;
      const text = bold ? `<strong>${escapeHtml(c)}</strong>` : escapeHtml(c);
      return `<td style="text-align:${j === 0 ? 'left' : 'right'};padding:4px 8px;border-bottom:1px solid #ddd">${text}</td>`;
    }).join('');
    return `<tr>${tds}</tr>`;
  }).join('\n');
  const notes = footer(results).map((l) => `<li>${escapeHtml(l)}</li>`).join('');
  const cmp = comparisonTable(results);
  const cell = (c: string, j: number, tag: 'th' | 'td'): string =>
    `<${tag} style="text-align:${j === 0 ? 'left' : 'right'};padding:2px 8px;border-bottom:1px solid #ddd">${escapeHtml(c)}</${tag}>`;
  const cmpHtml = cmp
    ? [
      `<p style="font-size:12px;color:#555;margin:8px 0 2px">${escapeHtml(cmp.title)}</p>`,
      `<table style="border-collapse:collapse;font-size:12px">`,
      `<thead><tr>${cmp.header.map((h, j) => cell(h, j, 'th')).join('')}</tr></thead>`,
      `<tbody>${cmp.body.map((r) => `<tr>${r.map((c, j) => cell(c, j, 'td')).join('')}</tr>`).join('\n')}</tbody>`,
      `</table>`,
    ].join('\n')
    : '';
  return [
    `<figure class="recsys-results" style="margin:1em 0;font-family:system-ui,sans-serif;font-size:14px">`,
    `<figcaption style="font-weight:600;margin-bottom:4px">${escapeHtml(results.name)}</figcaption>`,
    `<table style="border-collapse:collapse">`,
    `<thead><tr>${th}</tr></thead>`,
    `<tbody>\n${trs}\n</tbody>`,
    `</table>`,
    cmpHtml,
    `<ul style="font-size:12px;color:#555">${notes}</ul>`,
    `</figure>`,
  ].join('\n');
}
