import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { CleaningLog } from './cleaning.js';
import { DuckSession, sqlIdent, sqlString, type FetchKind } from './duck.js';
import { IdMap } from './id-map.js';

/** Which columns of a file hold the user, item, value, time and extra per-event numbers. */
export interface ColumnMapping {
  user: string;
  item: string;
  /** Numeric value column (rating, watch ratio, count); all ones when omitted. */
  value?: string;
  /** Event time column; see {@link StageOptions.timeUnit}. */
  time?: string;
  /** Further numeric per-event columns kept as event columns (e.g. play_duration). */
  extra?: string[];
}

/** How a delimited text file is laid out (ignored for Parquet). */
export interface FileFormat {
  /** Field separator; by extension when omitted: .tsv/.txt/.data tab, .dat "::", otherwise ",". */
  delimiter?: string;
  /** Whether line 1 is a header (default true, false for .dat/.txt/.data). */
  header?: boolean;
  /** Column names for a file without header, in file order. */
  columnNames?: string[];
  /** Text encoding (MovieLens 100k item file is latin-1). */
  encoding?: 'utf-8' | 'latin-1';
  /** Quote character; '' turns quoting off (MovieLens .dat titles may start with a quote). Sniffed when omitted. */
  quote?: string;
}

/** The unit of the time column: epoch seconds, epoch milliseconds, or an ISO date-time string. */
export type TimeUnit = 'seconds' | 'milliseconds' | 'iso';

/** Options of {@link stageInteractions}. */
export interface StageOptions {
  format?: FileFormat;
  /**
   * Id column type, for both id columns: integers (malformed ids are dropped and reported) or strings;
   * sniffed per column on the first 10,000 rows when 'auto' (default).
   */
  idType?: 'auto' | 'int' | 'string';
  timeUnit?: TimeUnit;
  /** Rows without a usable time: kept with time NaN (default) or dropped. Either way they are reported. */
  missingTime?: 'keep' | 'drop';
  /** Throw on the first bad row (naming file, line and field) instead of skipping and reporting it. */
  strict?: boolean;
}

/** A file loaded into a DuckDB temp table, cleaned and ready to be factorized. */
export interface StagedTable {
  table: string;
  file: string;
  /** Data rows in the file (excluding header; including rows rejected as malformed). */
  rowsRead: number;
  /** Rows that passed validation. */
  rowsValid: number;
  /** SQL condition selecting the valid rows of `table`. */
  validWhere: string;
  /** Type of the user and item id columns (string when any table of a shared id space has strings). */
  userIdType: 'int' | 'string';
  itemIdType: 'int' | 'string';
  hasValue: boolean;
  hasTime: boolean;
  extra: string[];
  /** Number of header lines (0 or 1). */
  headerLines: number;
  /** Sorted 1-based line numbers of rows the CSV reader rejected (used to map row numbers to lines). */
  rejectedLines: number[];
}

/** Events of one staged table in dense index space, in file order. */
export interface StagedEvents {
  userIdx: Int32Array;
  itemIdx: Int32Array;
  values: Float32Array | null;
  timestamps: Float64Array | null;
  extra: Record<string, Float32Array>;
  /** 1-based file line of each event. */
  lines: Int32Array;
}

/** The data format of a path judged by its extension (a trailing .gz is ignored). */
export function fileKind(path: string): { kind: 'parquet' | 'text'; ext: string; gzip: boolean } {
  const lower = path.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const base = gzip ? lower.slice(0, -3) : lower;
  const dot = base.lastIndexOf('.');
  const ext = dot >= 0 ? base.slice(dot + 1) : '';
  return { kind: ext === 'parquet' ? 'parquet' : 'text', ext, gzip };
}

/** The delimiter and header defaults for a text file's extension. */
export function defaultFormat(path: string): { delimiter: string; header: boolean } {
  const { ext } = fileKind(path);
  if (ext === 'dat') return { delimiter: '::', header: false };
  if (ext === 'tsv') return { delimiter: '\t', header: true };
  if (ext === 'txt' || ext === 'data') return { delimiter: '\t', header: false };
  return { delimiter: ',', header: true };
}

/** SQL for a table function reading `path` with every column as VARCHAR. */
export function sourceSql(path: string, format: FileFormat = {}, rejects?: { table: string; scan: string }, lenient = false): string {
  const fk = fileKind(path);
  if (fk.kind === 'parquet') return `read_parquet(${sqlString(path)})`;
  const d = defaultFormat(path);
  const opts = [
    `delim=${sqlString(format.delimiter ?? d.delimiter)}`,
    `header=${(format.header ?? d.header) ? 'true' : 'false'}`,
    'all_varchar=true',
    `encoding=${sqlString(format.encoding ?? 'utf-8')}`,
  ];
  if (fk.gzip) opts.push("compression='gzip'");
  if (format.quote !== undefined) opts.push(`quote=${sqlString(format.quote)}`, `escape=${sqlString(format.quote)}`);
  if (format.columnNames) opts.push(`names=[${format.columnNames.map(sqlString).join(', ')}]`);
  if (lenient) opts.push('ignore_errors=true');
  if (rejects) opts.push('store_rejects=true', `rejects_table=${sqlString(rejects.table)}`, `rejects_scan=${sqlString(rejects.scan)}`);
  return `read_csv(${sqlString(path)}, ${opts.join(', ')})`;
}

/** Throws unless `path` is an existing, non-empty file. */
export function requireFile(path: string): void {
  if (!existsSync(path)) throw new Error(`${path}: file not found`);
  const st = statSync(path);
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
  if (st.size === 0) throw new Error(`${path}: empty file (0 bytes)`);
}

/** The column names of a file as DuckDB reads them, with a clear error when the file cannot be read. */
export async function fileColumns(db: DuckSession, path: string, format: FileFormat = {}): Promise<string[]> {
  requireFile(path);
  try {
    const rows = await db.rows(`DESCRIBE SELECT * FROM ${sourceSql(path, format, undefined, true)}`);
    return rows.map((r) => String(r.column_name));
  } catch (err) {
    throw new Error(`${path}: cannot be read as ${fileKind(path).kind === 'parquet' ? 'Parquet' : 'delimited text'}: ${firstLine(err)}`);
  }
}

const SEPARATORS: [string, string][] = [
  ['\t', 'tab'],
  ['::', '"::"'],
  [';', '";"'],
  ['|', '"|"'],
  [',', '","'],
];

/**
 * Checks that every wanted column exists; the error names the file, line 1, the missing field and the
 * columns found, and suggests the separator when the header was read as a single column.
 */
export function checkColumns(path: string, found: string[], wanted: { field: string; column: string }[], format: FileFormat = {}): void {
  for (const w of wanted) {
    if (found.includes(w.column)) continue;
    let hint = '';
    if (found.length === 1) {
      const used = format.delimiter ?? defaultFormat(path).delimiter;
      const other = SEPARATORS.find(([sep]) => sep !== used && found[0].includes(sep));
      hint = other ? ` — wrong separator? The header was read as one column and looks ${other[1]}-separated (set the delimiter)` : ' — wrong separator? The header was read as one column';
    }
    const header = (format.header ?? defaultFormat(path).header) ? '' : ' (file read without header: columns are column0, column1, ... unless names are given)';
    throw new Error(`${path} line 1: ${w.field} column "${w.column}" not found; columns are: ${found.map((c) => JSON.stringify(c)).join(', ')}${header}${hint}`);
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** SQL testing that a VARCHAR expression is missing (NULL or blank). */
function blank(x: string): string {
  return `(${x} IS NULL OR trim(${x}) = '')`;
}

/** SQL casting a VARCHAR expression to DOUBLE (NULL when not numeric). */
function num(x: string): string {
  return `TRY_CAST(trim(${x}) AS DOUBLE)`;
}

function timeSql(x: string, unit: TimeUnit): string {
  if (unit === 'milliseconds') return `(${num(x)} / 1000.0)`;
  if (unit === 'iso') return `epoch(TRY_CAST(trim(${x}) AS TIMESTAMP))`;
  return num(x);
}

/** Maps a 0-based data-row number to its 1-based file line, skipping header and rejected lines. */
export function rowToLine(row: number, headerLines: number, rejectedLines: readonly number[]): number {
  let line = row + 1 + headerLines;
  for (const r of rejectedLines) {
    if (r <= line) line++;
    else break;
  }
  return line;
}

/**
 * Loads an interaction file into the temp table `table` (columns u, i, v, t, x0.., ok) with DuckDB, checking
 * the columns and counting every bad row in `log`: malformed rows, missing or malformed ids and values are
 * dropped; missing or malformed times are kept with NaN (or dropped with `missingTime: 'drop'`).
 */
export async function stageInteractions(db: DuckSession, table: string, path: string, mapping: ColumnMapping, options: StageOptions, log: CleaningLog): Promise<StagedTable> {
  const format = options.format ?? {};
  const found = await fileColumns(db, path, format);
  const extra = mapping.extra ?? [];
  const wanted = [
    { field: 'user', column: mapping.user },
    { field: 'item', column: mapping.item },
    ...(mapping.value ? [{ field: 'value', column: mapping.value }] : []),
    ...(mapping.time ? [{ field: 'time', column: mapping.time }] : []),
    ...extra.map((c) => ({ field: 'extra', column: c })),
  ];
  checkColumns(path, found, wanted, format);
  log.file(path);
  const isParquet = fileKind(path).kind === 'parquet';
  const col = (c: string): string => (isParquet ? `CAST(${sqlIdent(c)} AS VARCHAR)` : sqlIdent(c));

  let userIdType: 'int' | 'string' = options.idType === 'string' ? 'string' : 'int';
  let itemIdType = userIdType;
  if (!options.idType || options.idType === 'auto') {
    const probe = await db.rows(
      `SELECT count(*) FILTER (WHERE NOT ${blank(col(mapping.user))} AND TRY_CAST(trim(${col(mapping.user)}) AS BIGINT) IS NULL) AS bu,
              count(*) FILTER (WHERE NOT ${blank(col(mapping.item))} AND TRY_CAST(trim(${col(mapping.item)}) AS BIGINT) IS NULL) AS bi
       FROM (SELECT * FROM ${sourceSql(path, format, undefined, true)} LIMIT 10000)`,
    );
    userIdType = Number(probe[0].bu) === 0 ? 'int' : 'string';
    itemIdType = Number(probe[0].bi) === 0 ? 'int' : 'string';
  }
  const idExpr = (c: string, type: 'int' | 'string'): string => (type === 'int' ? `TRY_CAST(trim(${col(c)}) AS BIGINT)` : `NULLIF(trim(${col(c)}), '')`);
  const unit = options.timeUnit ?? 'seconds';
  const rej = { table: `${table}_rej`, scan: `${table}_rejscan` };
  const select = [
    `${idExpr(mapping.user, userIdType)} AS u`,
    `${idExpr(mapping.item, itemIdType)} AS i`,
    `${blank(col(mapping.user))} AS u_blank`,
    `${blank(col(mapping.item))} AS i_blank`,
    mapping.value ? `${num(col(mapping.value))} AS v` : 'CAST(1 AS DOUBLE) AS v',
    mapping.value ? `${blank(col(mapping.value))} AS v_blank` : 'false AS v_blank',
    mapping.time ? `${timeSql(col(mapping.time), unit)} AS t` : 'CAST(NULL AS DOUBLE) AS t',
    mapping.time ? `${blank(col(mapping.time))} AS t_blank` : 'false AS t_blank',
    ...extra.map((c, k) => `CAST(${num(col(c))} AS FLOAT) AS x${k}`),
    ...extra.map((c, k) => `${blank(col(c))} AS x${k}_blank`),
  ];
  try {
    await db.exec(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT ${select.join(', ')} FROM ${sourceSql(path, format, isParquet ? undefined : rej)}`);
  } catch (err) {
    throw new Error(`${path}: read failed: ${firstLine(err)}`);
  }
  const headerLines = !isParquet && (format.header ?? defaultFormat(path).header) ? 1 : 0;
  let rejectedLines: number[] = [];
  if (!isParquet) {
    const rejRows = await db.rows(`SELECT CAST(line AS BIGINT) AS line, error_type, column_name FROM ${rej.table} ORDER BY line`);
    rejectedLines = [...new Set(rejRows.map((r) => Number(r.line)))];
    if (rejectedLines.length > 0) {
      const what = String(rejRows[0].error_type ?? 'malformed').toLowerCase();
      if (options.strict) throw new Error(`${path} line ${rejectedLines[0]}: malformed row (${what})`);
      log.add({ file: path, kind: `malformed row (wrong number of fields or bad quoting; first: ${what})`, count: rejectedLines.length, action: 'dropped', lines: rejectedLines.slice(0, 5) });
    }
  }
  const rowsGood = await db.scalar(`SELECT count(*) FROM ${table}`);
  const rowsRead = rowsGood + rejectedLines.length;
  if (rowsRead === 0) throw new Error(`${path}: no data rows${headerLines ? ' (only a header line)' : ''}`);

  // All checks in one scan: count each condition, then fetch example lines only for those that occur.
  interface Check {
    cond: string;
    kind: string;
    column: string;
    action: 'dropped' | 'kept';
  }
  const dropTime = options.missingTime === 'drop';
  const checks: Check[] = [
    { cond: 'u_blank', kind: 'missing id', column: mapping.user, action: 'dropped' },
    { cond: 'NOT u_blank AND u IS NULL', kind: 'malformed id (not an integer)', column: mapping.user, action: 'dropped' },
    { cond: 'i_blank', kind: 'missing id', column: mapping.item, action: 'dropped' },
    { cond: 'NOT i_blank AND i IS NULL', kind: 'malformed id (not an integer)', column: mapping.item, action: 'dropped' },
  ];
  if (mapping.value) {
    checks.push({ cond: 'v_blank', kind: 'missing value', column: mapping.value, action: 'dropped' });
    checks.push({ cond: 'NOT v_blank AND (v IS NULL OR isnan(v) OR isinf(v))', kind: 'non-numeric value', column: mapping.value, action: 'dropped' });
  }
  if (mapping.time) {
    checks.push({ cond: 't_blank', kind: 'missing time', column: mapping.time, action: dropTime ? 'dropped' : 'kept' });
    checks.push({ cond: 'NOT t_blank AND t IS NULL', kind: unit === 'iso' ? 'unparseable date-time' : 'non-numeric time', column: mapping.time, action: dropTime ? 'dropped' : 'kept' });
  }
  extra.forEach((c, k) => {
    checks.push({ cond: `NOT x${k}_blank AND x${k} IS NULL`, kind: 'non-numeric value', column: c, action: 'kept' });
    checks.push({ cond: `x${k}_blank`, kind: 'missing value', column: c, action: 'kept' });
  });
  const counts = await db.rows(`SELECT ${checks.map((c, k) => `count(*) FILTER (WHERE ${c.cond}) AS c${k}`).join(', ')} FROM ${table}`);
  for (let k = 0; k < checks.length; k++) {
    const count = Number(counts[0][`c${k}`]);
    if (count === 0) continue;
    const c = checks[k];
    const rows = await db.rows(`SELECT CAST(rowid AS BIGINT) AS r FROM ${table} WHERE ${c.cond} ORDER BY rowid LIMIT 5`);
    const lines = rows.map((r) => rowToLine(Number(r.r), headerLines, rejectedLines));
    if (options.strict) throw new Error(`${path} line ${lines[0]}: ${c.kind} in field "${c.column}"`);
    if (c.action === 'dropped' && count === rowsGood) {
      throw new Error(`${path} line ${lines[0]}: ${c.kind} in field "${c.column}" on every row — wrong column mapping or separator?`);
    }
    log.add({ file: path, kind: c.kind, field: c.column, count, action: c.action, lines });
  }
  const ok = ['u IS NOT NULL', 'i IS NOT NULL', 'v IS NOT NULL', 'NOT isnan(v)', 'NOT isinf(v)', ...(dropTime && mapping.time ? ['t IS NOT NULL'] : [])].join(' AND ');
  const rowsValid = await db.scalar(`SELECT count(*) FROM ${table} WHERE ${ok}`);
  return { table, file: path, validWhere: ok, rowsRead, rowsValid, userIdType, itemIdType, hasValue: !!mapping.value, hasTime: !!mapping.time, extra, headerLines, rejectedLines };
}

/**
 * Builds the user and item id maps over the valid rows of several staged tables (ids sorted ascending,
 * numerically for integer ids) as DuckDB tables `${prefix}users` / `${prefix}items` with an `idx` column.
 */
export async function buildIdMaps(db: DuckSession, tables: StagedTable[], prefix = '_'): Promise<{ users: IdMap; items: IdMap }> {
  if (tables.length === 0) throw new Error('buildIdMaps: no tables');
  const make = async (name: string, c: 'u' | 'i', idType: 'int' | 'string'): Promise<IdMap> => {
    const cast = idType === 'string' ? `CAST(${c} AS VARCHAR)` : c;
    const union = tables.map((t) => `SELECT ${cast} AS id FROM ${t.table} WHERE ${t.validWhere}`).join(' UNION ');
    await db.exec(`CREATE OR REPLACE TEMP TABLE ${prefix}${name} AS SELECT id, CAST(row_number() OVER (ORDER BY id) - 1 AS INTEGER) AS idx FROM (SELECT DISTINCT id FROM (${union}))`);
    if (idType === 'string') return IdMap.fromIds(await db.strings(`SELECT id FROM ${prefix}${name} ORDER BY idx`));
    const n = await db.scalar(`SELECT count(*) FROM ${prefix}${name}`);
    const { columns } = await db.columns(`SELECT CAST(id AS DOUBLE) FROM ${prefix}${name} ORDER BY idx`, ['float64'], n);
    return IdMap.fromIds(Array.from(columns[0] as Float64Array));
  };
  const userType = tables.some((t) => t.userIdType === 'string') ? 'string' : 'int';
  const itemType = tables.some((t) => t.itemIdType === 'string') ? 'string' : 'int';
  const users = await make('users', 'u', userType);
  const items = await make('items', 'i', itemType);
  for (const t of tables) {
    t.userIdType = userType;
    t.itemIdType = itemType;
  }
  return { users, items };
}

/** Fetches the valid events of a staged table in file order, in the dense index space of {@link buildIdMaps}. */
export async function fetchEvents(db: DuckSession, staged: StagedTable, prefix = '_'): Promise<StagedEvents> {
  const cast = (c: string, type: 'int' | 'string'): string => (type === 'string' ? `CAST(${c} AS VARCHAR)` : c);
  const xs = staged.extra.map((_c, k) => `x${k}`);
  const sql = `SELECT CAST(s.r AS INTEGER), us.idx, it.idx, CAST(s.v AS FLOAT), s.t${xs.map((x) => `, s.${x}`).join('')}
    FROM (SELECT rowid AS r, * FROM ${staged.table} WHERE ${staged.validWhere}) s
    JOIN ${prefix}users us ON ${cast('s.u', staged.userIdType)} = us.id JOIN ${prefix}items it ON ${cast('s.i', staged.itemIdType)} = it.id`;
  const kinds: FetchKind[] = ['int32', 'int32', 'int32', 'float32', 'float64', ...xs.map((): FetchKind => 'float32')];
  const { rows, columns } = await db.columns(sql, kinds, staged.rowsValid);
  // The join may reorder rows: put them back in file order by row id (an O(n) scatter, no sort).
  const rowid = columns[0] as Int32Array;
  const nRows = staged.rowsRead;
  const slot = new Int32Array(nRows).fill(-1);
  for (let r = 0; r < rows; r++) slot[rowid[r]] = r;
  const order = new Int32Array(rows);
  let o = 0;
  for (let k = 0; k < nRows; k++) if (slot[k] >= 0) order[o++] = slot[k];
  const permute = <T extends Int32Array | Float32Array | Float64Array>(src: T, make: (n: number) => T): T => {
    const out = make(rows);
    for (let r = 0; r < rows; r++) out[r] = src[order[r]];
    return out;
  };
  // Rows are now ascending by row id, so one merge pass over the rejected lines maps rows to file lines.
  const lines = new Int32Array(rows);
  const rej = staged.rejectedLines;
  let skipped = 0;
  for (let r = 0; r < rows; r++) {
    let line = rowid[order[r]] + 1 + staged.headerLines + skipped;
    while (skipped < rej.length && rej[skipped] <= line) {
      skipped++;
      line++;
    }
    lines[r] = line;
  }
  const extra: Record<string, Float32Array> = {};
  staged.extra.forEach((c, k) => {
    extra[c] = permute(columns[5 + k] as Float32Array, (n) => new Float32Array(n));
  });
  return {
    userIdx: permute(columns[1] as Int32Array, (n) => new Int32Array(n)),
    itemIdx: permute(columns[2] as Int32Array, (n) => new Int32Array(n)),
    values: staged.hasValue ? permute(columns[3] as Float32Array, (n) => new Float32Array(n)) : null,
    timestamps: staged.hasTime ? permute(columns[4] as Float64Array, (n) => new Float64Array(n)) : null,
    extra,
    lines,
  };
}

/** The file name of a path, for short messages. */
export function shortName(path: string): string {
  return basename(path);
}
