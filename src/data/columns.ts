/**
 * Mapping the columns a load asks for (by name, or by 0-based index as "0", "1", ...) onto the columns DuckDB
 * reads, with errors that name the file, line 1 and the field: a missing column (with separator and header
 * hints), a repeated header name (DuckDB would silently rename the second to "name_1"), an index out of range.
 */
import { DataFileError } from './errors.js';

/** One column a load needs: what it is for ("user", "value"...) and how the caller named it. */
export interface WantedColumn {
  field: string;
  column: string;
}

/** The columns of a file as DuckDB names them and, when the file has a header, line 1 as written. */
export interface FileColumns {
  /** DuckDB's column names (repeated header names renamed "x_1", headerless columns "column0"...). */
  found: string[];
  /** The header fields as written (trimmed), or null without a header or when line 1 could not be split. */
  header: string[] | null;
  /** Field separator used (for the hints). */
  delimiter: string;
  /** Whether line 1 was read as a header. */
  hasHeader: boolean;
}

const SEPARATORS: [string, string][] = [
  ['\t', 'tab'],
  ['::', '"::"'],
  [';', '";"'],
  ['|', '"|"'],
  [',', '","'],
];

const lower = (s: string): string => s.toLowerCase();

/** Whether every field of a header line looks like a data value (a number or a date), i.e. line 1 is probably data. */
export function looksLikeData(fields: readonly string[]): boolean {
  return fields.length > 0 && fields.every((f) => f !== '' && (Number.isFinite(Number(f)) || /^\d{4}-\d{2}-\d{2}/.test(f)));
}

function quoteList(names: readonly string[]): string {
  return names.map((c) => JSON.stringify(c)).join(', ');
}

/** The positions (0-based) of the header names equal to `name` ignoring case, as DuckDB compares identifiers. */
function sameName(names: readonly string[], name: string): number[] {
  const out: number[] = [];
  names.forEach((n, k) => {
    if (lower(n) === lower(name)) out.push(k);
  });
  return out;
}

function notFound(path: string, w: WantedColumn, cols: FileColumns): DataFileError {
  const { found, header, hasHeader } = cols;
  let hint = '';
  if (found.length === 1) {
    const other = SEPARATORS.find(([sep]) => sep !== cols.delimiter && found[0].includes(sep));
    hint = other ? ` — wrong separator? The header was read as one column and looks ${other[1]}-separated (set the delimiter)` : ' — wrong separator? The header was read as one column';
  } else if (hasHeader && looksLikeData(header ?? found)) {
    hint = ' — line 1 looks like data, not a header: read the file without header (--no-header, format.header false) and give columns by index (--user-col 0)';
  } else if (!hasHeader) {
    hint = ` (file read without header: give columns by 0-based index, 0 to ${found.length - 1}, or pass names in file order)`;
  }
  return new DataFileError(path, `${path} line 1: ${w.field} column "${w.column}" not found; columns are: ${quoteList(header ?? found)}${hint}`, { line: 1, field: w.column });
}

/**
 * Resolves each wanted column to DuckDB's name for it. A name is matched exactly, else ignoring case; a name
 * that is no column but a number is a 0-based index. A wanted name that occurs twice in the header is an
 * error naming both positions; repeated names among the columns not used are returned as notes.
 */
export function resolveColumns(path: string, cols: FileColumns, wanted: readonly WantedColumn[]): { names: string[]; notes: string[] } {
  const { found } = cols;
  const raw = cols.hasHeader && cols.header && cols.header.length === found.length ? cols.header : null;
  const names = raw ?? found;
  const out = wanted.map((w): string => {
    let at = names.indexOf(w.column);
    if (at < 0) {
      const ci = sameName(names, w.column);
      if (ci.length === 1) at = ci[0];
    }
    const dupes = sameName(names, at >= 0 ? names[at] : w.column);
    if (dupes.length > 1) {
      throw new DataFileError(
        path,
        `${path} line 1: columns ${dupes.map((k) => k + 1).join(' and ')} are both named ${JSON.stringify(names[dupes[0]])}, so the ${w.field} column "${w.column}" is ambiguous; rename one of them in the header (columns: ${quoteList(names)})`,
        { line: 1, field: w.column },
      );
    }
    const invented = found.findIndex((f) => lower(f) === lower(w.column));
    if (at < 0 && invented >= 0) {
      // A name DuckDB made up: "x_1" for a repeated header name, "column3" for an empty one or a headerless file.
      at = invented;
      if (raw && raw[at] !== '') {
        const twins = sameName(raw, raw[at]);
        const why = twins.length > 1 ? `columns ${twins.map((k) => k + 1).join(' and ')} are both named ${JSON.stringify(raw[twins[0]])}; rename one of them in the header` : `column ${at + 1} is named ${JSON.stringify(raw[at])}`;
        throw new DataFileError(path, `${path} line 1: ${w.field} column "${w.column}" not found (${why}); columns are: ${quoteList(raw)}`, { line: 1, field: w.column });
      }
    }
    if (at < 0 && /^\d+$/.test(w.column)) {
      const k = Number(w.column);
      if (k >= found.length) throw new DataFileError(path, `${path} line 1: ${w.field} column index ${k} is out of range: the file has ${found.length} columns (0 to ${found.length - 1})`, { line: 1, field: w.column });
      at = k;
    }
    if (at < 0) throw notFound(path, w, cols);
    return found[at];
  });
  const notes: string[] = [];
  if (raw) {
    const seen = new Set<string>();
    raw.forEach((n) => {
      if (n === '' || seen.has(lower(n))) return;
      seen.add(lower(n));
      const twins = sameName(raw, n);
      if (twins.length > 1) notes.push(`${path} line 1: columns ${twins.map((j) => j + 1).join(' and ')} are both named ${JSON.stringify(n)} (not used by this load)`);
    });
  }
  if (cols.hasHeader && looksLikeData(names)) {
    notes.push(`${path}: line 1 was read as the header but looks like data (${quoteList(names)}); if it is data, read the file without header (--no-header) so that row is not lost`);
  }
  return { names: out, notes };
}
