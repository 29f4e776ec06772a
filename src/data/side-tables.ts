import type { CleaningLog } from './cleaning.js';
import { DuckSession, sqlIdent } from './duck.js';
import { checkColumns, defaultFormat, fileColumns, fileKind, sourceSql, type FileFormat } from './ingest.js';

/** A small side table (features, metadata) read as strings, row order as in the file. */
export interface SideTable {
  file: string;
  columns: string[];
  rows: Record<string, string | null>[];
  /** 1-based file line of each row. */
  lines: number[];
}

/** Options of {@link readSideTable}. */
export interface SideTableOptions {
  format?: FileFormat;
  /** DuckDB temp table to keep the rows in (default "side"). */
  table?: string;
  /** Copy the rows to JS (default true); false leaves them only in the DuckDB table. */
  fetchRows?: boolean;
}

/**
 * Reads the named columns of a side file (all as text) with DuckDB. Malformed rows are skipped and reported in
 * `log`; missing columns raise an error naming file and field. Meant for tables up to a few hundred thousand rows.
 */
export async function readSideTable(db: DuckSession, path: string, columns: string[], log: CleaningLog, options: SideTableOptions = {}): Promise<SideTable> {
  let format = options.format ?? {};
  const table = options.table ?? 'side';
  const found = await fileColumns(db, path, format);
  checkColumns(path, found, columns.map((c) => ({ field: 'required', column: c })), format);
  log.file(path);
  const isParquet = fileKind(path).kind === 'parquet';
  const rej = { table: `${table}_rej`, scan: `${table}_rejscan` };
  const cols = columns.map((c) => (isParquet ? `CAST(${sqlIdent(c)} AS VARCHAR) AS ${sqlIdent(c)}` : sqlIdent(c))).join(', ');
  await db.exec(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT ${cols} FROM ${sourceSql(path, format, isParquet ? undefined : rej)}`);
  let rejected: number[] = [];
  if (!isParquet) {
    // Text that is not UTF-8 (older MovieLens files are latin-1): read again as latin-1 when no encoding was set.
    const badEncoding = await db.scalar(`SELECT count(*) FROM ${rej.table} WHERE error_type = 'INVALID ENCODING'`);
    if (badEncoding > 0 && !format.encoding) {
      format = { ...format, encoding: 'latin-1' };
      await db.exec(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT ${cols} FROM ${sourceSql(path, format, rej)}`);
      log.note(`${path}: not valid UTF-8 (${badEncoding} rows); read as latin-1`);
    }
    const r = await db.rows(`SELECT DISTINCT CAST(line AS BIGINT) AS line FROM ${rej.table} ORDER BY line`);
    rejected = r.map((x) => Number(x.line));
    log.add({ file: path, kind: 'malformed row (wrong number of fields, bad quoting or encoding)', count: rejected.length, action: 'dropped', lines: rejected.slice(0, 5) });
  }
  if (options.fetchRows === false) return { file: path, columns, rows: [], lines: [] };
  const raw = await db.rows(`SELECT * FROM ${table} ORDER BY rowid`);
  const header = !isParquet && (format.header ?? defaultFormat(path).header) ? 1 : 0;
  const lines: number[] = [];
  let skipped = 0;
  const rows = raw.map((r, k) => {
    let line = k + 1 + header + skipped;
    while (skipped < rejected.length && rejected[skipped] <= line) {
      skipped++;
      line++;
    }
    lines.push(line);
    const o: Record<string, string | null> = {};
    for (const c of columns) o[c] = r[c] === null || r[c] === undefined ? null : String(r[c]);
    return o;
  });
  return { file: path, columns, rows, lines };
}
