/**
 * Self-contained HTML reports: sections of HTML fragments in one page with inline CSS (no scripts, no
 * fonts or images from the network), plus the helpers to build fragments safely.
 */
import { writeFileSafe, type OutputFileOptions } from '../core/safe-write.js';
import { formatNumber } from './format.js';

/** One section of a report: `html` is a trusted fragment (build it with the escaping helpers here). */
export interface ReportSection {
  /** Anchor id, unique within the report (letters, digits, '-' and '_'). */
  id: string;
  /** Heading text (escaped when rendered). */
  title: string;
  html: string;
}

/** A whole report. */
export interface Report {
  title: string;
  subtitle?: string;
  sections: ReportSection[];
  /** Shown in the footer; omitted when absent (keeps renders reproducible). */
  generatedAt?: string;
  /** A label of the data repeated in every section heading and the footer, e.g. "SYNTHETIC". */
  dataLabel?: string;
  /** What the label means, after it in the footer. */
  dataNote?: string;
  /** A warning shown above everything, e.g. "INCOMPLETE: interrupted after …". */
  banner?: string;
  /** Marks the page as a partial report (see {@link PARTIAL_REPORT_MARKER}). */
  partial?: boolean;
}

/** The comment opening a partial report (within its first bytes): how a later run knows it may replace it. */
export const PARTIAL_REPORT_MARKER = '<!-- recsys partial report -->';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A raw (already safe) HTML fragment for a table cell. */
export interface RawHtml {
  html: string;
  /** Right-align the cell like a number. */
  numeric?: boolean;
}

/** Text that reads as a formatted number: "9.7%", "1,234", "5.6% / 29.0%", "–". */
const NUMERIC_TEXT = /^(?:[-−]?[\d,.]+%?|–)(?: \/ (?:[-−]?[\d,.]+%?|–))*$/;

/** A cell of {@link htmlTable}: text (escaped), a number (formatted, right-aligned) or raw HTML. */
export type HtmlCell = string | number | RawHtml;

/** Options of {@link htmlTable}. */
export interface HtmlTableOptions {
  caption?: string;
  /** Right-align these columns even when their cells are text (e.g. "12.3%"). */
  numericColumns?: number[];
}

/**
 * An HTML table; number cells are formatted with {@link formatNumber} and right-aligned (headers too when the
 * whole column is numeric), text is escaped and left-aligned unless it reads as a number ("9.7%") or its
 * column is in `numericColumns`.
 * Headers that are all empty give a table without a header row (key–value tables).
 */
export function htmlTable(headers: string[], rows: HtmlCell[][], options: HtmlTableOptions = {}): string {
  const numericCols = new Set(options.numericColumns ?? []);
  const isNumColumn = (c: number): boolean => numericCols.has(c) || (rows.length > 0 && rows.every((r) => typeof r[c] === 'number'));
  const cell = (v: HtmlCell | undefined, c: number, tag: 'td' | 'th'): string => {
    const right = tag === 'th' ? isNumColumn(c) : typeof v === 'number' || (typeof v === 'string' && NUMERIC_TEXT.test(v)) || (typeof v === 'object' && v.numeric === true) || numericCols.has(c);
    const cls = right ? ' class="num"' : '';
    const body = v === undefined ? '' : typeof v === 'number' ? escapeHtml(formatNumber(v)) : typeof v === 'string' ? escapeHtml(v) : v.html;
    return `<${tag}${cls}>${body}</${tag}>`;
  };
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : '';
  const head = headers.every((h) => h === '') ? '' : `<thead><tr>${headers.map((h, c) => cell(h, c, 'th')).join('')}</tr></thead>`;
  const body = `<tbody>${rows.map((r) => `<tr>${headers.map((_, c) => cell(r[c], c, 'td')).join('')}</tr>`).join('')}</tbody>`;
  return scrollBox(`<table>${caption}${head}${body}</table>`);
}

/** Wraps a wide fragment (a table) so that it scrolls sideways inside itself instead of widening the page. */
export function scrollBox(html: string): string {
  return `<div class="scroll">${html}</div>`;
}

/** A highlighted box of remarks (e.g. "synthetic data"); `kind` picks the colour. */
export function noteBox(lines: string[], kind: 'note' | 'warning' = 'note'): string {
  if (lines.length === 0) return '';
  const items = lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('');
  return `<div class="box ${kind}"><ul>${items}</ul></div>`;
}

/** A paragraph of escaped text. */
export function paragraph(text: string): string {
  return `<p>${escapeHtml(text)}</p>`;
}

/** An inline SVG chart with a caption. */
export function figure(svg: string, caption?: string): string {
  const cap = caption ? `<figcaption>${escapeHtml(caption)}</figcaption>` : '';
  return `<figure>${svg}${cap}</figure>`;
}

/** Fragments side by side (wrapping on narrow screens). */
export function row(...fragments: string[]): string {
  return `<div class="row">${fragments.filter((f) => f.length > 0).join('')}</div>`;
}

const CSS = `
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --soft:#f6f8fa; --accent:#0969da; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif; color:var(--fg); background:var(--bg); }
header { padding:28px 40px 18px; border-bottom:1px solid var(--line); background:var(--soft); }
header h1 { margin:0 0 4px; font-size:26px; }
header p { margin:0; color:var(--muted); }
nav { padding:10px 40px; border-bottom:1px solid var(--line); font-size:14px; display:flex; flex-wrap:wrap; gap:4px 16px; }
nav a { color:var(--accent); text-decoration:none; white-space:nowrap; }
main { padding:8px 40px 40px; max-width:1400px; }
section { margin-top:28px; }
h2 { font-size:20px; border-bottom:1px solid var(--line); padding-bottom:6px; }
h3 { font-size:16px; margin:18px 0 8px; }
table { border-collapse:collapse; margin:8px 0 16px; font-size:13.5px; }
caption { text-align:left; font-weight:600; padding:4px 0; }
th, td { padding:4px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { background:var(--soft); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.num { white-space:nowrap; }
.scroll th.num { min-width:5.5em; }
figure { margin:8px 24px 16px 0; display:inline-block; vertical-align:top; max-width:100%; }
figure svg { max-width:100%; height:auto; }
figure.recsys-results { display:block; margin-right:0; }
.scroll { max-width:100%; overflow-x:auto; }
.scroll > table { margin-bottom:8px; }
h2 .data-label, footer .data-label { display:inline-block; margin-left:10px; padding:1px 8px; border-radius:4px; background:#fff8c5; border:1px solid #d4a72c; color:#7d4e00; font-size:12px; font-weight:700; letter-spacing:0.04em; vertical-align:middle; }
.banner { margin:16px 40px 0; padding:10px 14px; border-radius:6px; background:#ffebe9; border:1px solid #cf222e; color:#82071e; }
figcaption { color:var(--muted); font-size:13px; max-width:620px; }
.row { display:flex; flex-wrap:wrap; gap:8px 24px; align-items:flex-start; }
.box { border-radius:6px; padding:8px 14px; margin:12px 0; }
.box ul { margin:4px 0; padding-left:20px; }
.box.note { background:#ddf4ff; border:1px solid #54aeff; }
.box.warning { background:#fff8c5; border:1px solid #d4a72c; }
footer { padding:16px 40px; color:var(--muted); font-size:12px; border-top:1px solid var(--line); }
@media (max-width: 900px) {
  header, nav, footer { padding-left:16px; padding-right:16px; }
  main { padding:8px 16px 32px; }
  .banner { margin:12px 16px 0; }
  figure { margin-right:0; }
}
`;

/** Renders a whole report as one self-contained HTML page (table of contents, sections, inline CSS). */
export function renderReport(report: Report): string {
  const seen = new Set<string>();
  for (const s of report.sections) {
    if (!/^[A-Za-z][\w-]*$/.test(s.id)) throw new Error(`report section id "${s.id}" must start with a letter and hold only letters, digits, '-' and '_'`);
    if (seen.has(s.id)) throw new Error(`report section id "${s.id}" is used twice`);
    seen.add(s.id);
  }
  const nav = report.sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join('');
  const label = report.dataLabel ? ` <span class="data-label">${escapeHtml(report.dataLabel)}</span>` : '';
  const sections = report.sections.map((s) => `<section id="${s.id}"><h2>${escapeHtml(s.title)}${label}</h2>\n${s.html}\n</section>`).join('\n');
  const subtitle = report.subtitle ? `<p>${escapeHtml(report.subtitle)}</p>` : '';
  const banner = report.banner ? `<div class="banner" role="alert"><strong>${escapeHtml(report.banner)}</strong></div>\n` : '';
  const dataNote = report.dataLabel ? `Data:${label}${report.dataNote ? ` ${escapeHtml(report.dataNote)}` : ''}. ` : '';
  const footer = `<footer>${dataNote}Generated by recsys${report.generatedAt ? ` on ${escapeHtml(report.generatedAt)}` : ''}. Self-contained: no scripts, no network resources.</footer>`;
  return `<!DOCTYPE html>${report.partial ? `\n${PARTIAL_REPORT_MARKER}` : ''}
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(report.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(report.title)}</h1>${subtitle}</header>
${banner}<nav>${nav}</nav>
<main>
${sections}
</main>
${footer}
</body>
</html>
`;
}

/**
 * Writes a report (a {@link Report} or already rendered HTML) to `path` with core's `writeFileSafe`: atomically
 * (a temporary file in the same directory renamed over the target), through symbolic links, creating missing
 * directories; directories, devices, FIFOs and the run's `inputs` are refused with a UsageError.
 */
export async function writeReport(path: string, report: Report | string, options: Pick<OutputFileOptions, 'inputs'> = {}): Promise<void> {
  const html = typeof report === 'string' ? report : renderReport(report);
  writeFileSafe(path, html, { what: 'report', inputs: options.inputs });
}
