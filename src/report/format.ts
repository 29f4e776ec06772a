/** Readable number formatting and aligned plain-text tables for the terminal. */

/**
 * A number for people: integers with thousands separators ("12,530,806"; none with `group` false, for
 * years), other values with 4 significant digits ("0.003601", "2.718", "1234.6" → "1,235"), "NaN" shown
 * as "–" and infinities as "∞".
 */
export function formatNumber(v: number, significant = 4, group = true): string {
  if (Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const groupThousands = group ? groupDigits : (s: string): string => s;
  if (Number.isInteger(v)) return groupThousands(String(v));
  const abs = Math.abs(v);
  if (abs >= 10 ** significant) return groupThousands(String(Math.round(v)));
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e15)) return v.toExponential(significant - 1);
  // toPrecision then drop trailing zeros ("2.500" → "2.5").
  let s = v.toPrecision(significant);
  if (s.includes('e')) s = String(Number(s));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  const [int, frac] = s.split('.');
  return frac === undefined ? groupThousands(int) : `${groupThousands(int)}.${frac}`;
}

function groupDigits(intText: string): string {
  const neg = intText.startsWith('-');
  const digits = neg ? intText.slice(1) : intText;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return neg ? `-${grouped}` : grouped;
}

/** A column name with its unit, when known: "play_duration (ms)". */
export function withUnit(name: string, unit: string | undefined): string {
  return unit ? `${name} (${unit})` : name;
}

/** A fraction as a percentage: 1 decimal from 1% up ("12.3%"), 2 significant digits below ("0.036%"). */
export function formatPercent(fraction: number): string {
  if (Number.isNaN(fraction)) return '–';
  const p = fraction * 100;
  if (p === 0) return '0%';
  if (Math.abs(p) >= 1) return `${p.toFixed(1)}%`;
  return `${Number(p.toPrecision(2))}%`;
}

/** A correlation coefficient with two decimals, never "-0.00"; "–" when undefined (NaN). */
export function formatCorrelation(r: number): string {
  if (Number.isNaN(r)) return '–';
  const s = r.toFixed(2);
  return s === '-0.00' ? '0.00' : s;
}

/** A table cell: text is left-aligned, numbers are formatted and right-aligned. */
export type TextCell = string | number;

/**
 * Renders rows as an aligned plain-text table with a header and a rule under it. Numeric cells are
 * right-aligned (formatted by {@link formatNumber}); text cells are left-aligned.
 */
export function formatTable(headers: string[], rows: TextCell[][], options: { indent?: string } = {}): string {
  const indent = options.indent ?? '  ';
  const ncol = Math.max(headers.length, ...rows.map((r) => r.length));
  const text = rows.map((r) => Array.from({ length: ncol }, (_, c) => (typeof r[c] === 'number' ? formatNumber(r[c] as number) : (r[c] ?? '') as string)));
  const right = Array.from({ length: ncol }, (_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || r[c] === undefined || /^[-−]?[\d,.]+%?$|^–$/.test(String(r[c]))));
  const width = Array.from({ length: ncol }, (_, c) => Math.max(displayWidth(headers[c] ?? ''), ...text.map((r) => displayWidth(r[c]))));
  const pad = (s: string, c: number): string => {
    const fill = ' '.repeat(Math.max(0, width[c] - displayWidth(s)));
    return right[c] ? fill + s : s + fill;
  };
  const lines = [
    headers.map((h, c) => pad(h, c)).join('  ').trimEnd(),
    width.map((w) => '─'.repeat(w)).join('  '),
    ...text.map((r) => r.map((s, c) => pad(s, c)).join('  ').trimEnd()),
  ];
  return lines.map((l) => indent + l).join('\n');
}

/** Terminal columns taken by `s` (wide East Asian characters count two). */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    w += cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6)) ? 2 : 1;
  }
  return w;
}

/**
 * `text` with absolute paths under the working directory shown relative to it
 * ("/work/repo/data/x.csv" → "data/x.csv"), so reports do not carry machine-specific prefixes.
 */
export function shortenPaths(text: string, cwd: string = process.cwd()): string {
  if (cwd === '/' || cwd === '') return text;
  const prefix = cwd.endsWith('/') ? cwd : `${cwd}/`;
  return text.split(prefix).join('');
}
