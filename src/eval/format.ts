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

/** A p-value; underflow to 0 is shown as < 1e-300. */
function fmtP(p: number): string {
  return p === 0 ? '< 1e-300' : fmt(p);
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
  for (const c of results.comparisons) {
    lines.push(`${c.model} vs ${c.reference} on ${c.metric}: Δ=${fmt(c.tTest.meanDiff)}, paired t p=${fmtP(c.tTest.pValue)}, Wilcoxon p=${fmtP(c.wilcoxon.pValue)} (n=${c.tTest.n})`);
  }
  for (const m of results.models) {
    if (m.error) lines.push(`${m.label}: failed: ${m.error}`);
    for (const n of m.notes) lines.push(`${m.label}: ${n}`);
  }
  lines.push(...results.notes);
  return lines;
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
      return [...out, '', ...footer(results).map((l) => `- ${l}`)].join('\n');
    }
    case 'text': {
      const { header, body } = rows(results, true);
      const widths = header.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
      const line = (r: string[]): string => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
      return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), '', ...footer(results)].join('\n');
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
  return [
    `<figure class="recsys-results" style="margin:1em 0;font-family:system-ui,sans-serif;font-size:14px">`,
    `<figcaption style="font-weight:600;margin-bottom:4px">${escapeHtml(results.name)}</figcaption>`,
    `<table style="border-collapse:collapse">`,
    `<thead><tr>${th}</tr></thead>`,
    `<tbody>\n${trs}\n</tbody>`,
    `</table>`,
    `<ul style="font-size:12px;color:#555">${notes}</ul>`,
    `</figure>`,
  ].join('\n');
}
