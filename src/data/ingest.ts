import { existsSync, statSync } from 'node:fs';
import type { CleaningLog } from './cleaning.js';
import { resolveColumns, type WantedColumn } from './columns.js';
import type { DuckDBValue } from '@duckdb/node-api';
import { DuckSession, sqlIdent, sqlString, type FetchKind } from './duck.js';
import { DataFileError } from './errors.js';
import { diagnoseLayout, headerFields, readHead, requireTextHead } from './file-head.js';
import { IdMap } from './id-map.js';
import { LineMap, ROW_NUMBERS, type LineResolver } from './line-map.js';
import { epochDate, epochUnitOf, PER_SECOND, type EpochUnit, type TimeUnit } from './time-unit.js';

export type { TimeUnit } from './time-unit.js';

/**
 * Which columns of a file hold the user, item, value, time and extra per-event numbers: header names, or
 * 0-based column indexes written as numbers ("0", "2") for files without header (or any column index that is
 * not also a header name).
 */
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

/** Options of {@link stageInteractions}. */
export interface StageOptions {
  format?: FileFormat;
  /**
   * Id column type, for both id columns: integers (malformed ids are dropped and reported) or strings;
   * sniffed per column on the first 10,000 rows when 'auto' (default).
   */
  idType?: 'auto' | 'int' | 'string';
  /**
   * Unit of the time column (default 'auto': epoch seconds, milliseconds, microseconds or nanoseconds by the
   * magnitude of the first rows, or ISO-8601 date-times when they are text; a conversion is noted in the report).
   */
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
  /** The file's names of the mapped columns (a mapping by index resolved to the header name or "column2"). */
  columns: { user: string; item: string; value: string | null; time: string | null };
  /** Number of header lines (0 or 1). */
  headerLines: number;
  /** Sorted reader line numbers of rows the CSV reader rejected. */
  rejectedLines: number[];
  /** Turns rows of `table` (row ids) into file lines. */
  lines: LineResolver;
  /**
   * For string id columns: the table (code INTEGER, id VARCHAR) whose codes column u / i of `table` holds
   * (string ids are stored as dense int32 codes, not as strings).
   */
  userDict?: string;
  itemDict?: string;
}

/** Events of one staged table in dense index space, in file order. */
export interface StagedEvents {
  userIdx: Int32Array;
  itemIdx: Int32Array;
  values: Float32Array | null;
  timestamps: Float64Array | null;
  extra: Record<string, Float32Array>;
  /** Row of each event in the staged table (ascending: file order); {@link StagedEvents.lines} turns rows into file lines. */
  rows: Int32Array;
  lines: LineResolver;
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

/**
 * SQL for a table function reading `path`: every column VARCHAR except those given SQL types in `types`
 * (values that do not parse make the row rejected into `rejects`, with its line number and column).
 */
export function sourceSql(path: string, format: FileFormat = {}, rejects?: { table: string; scan: string }, lenient = false, types: Record<string, string> = {}): string {
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
  const typed = Object.entries(types);
  if (typed.length) opts.push(`types={${typed.map(([c, t]) => `${sqlString(c)}: ${sqlString(t)}`).join(', ')}}`);
  if (lenient) opts.push('ignore_errors=true');
  if (rejects) opts.push('store_rejects=true', `rejects_table=${sqlString(rejects.table)}`, `rejects_scan=${sqlString(rejects.scan)}`);
  return `read_csv(${sqlString(path)}, ${opts.join(', ')})`;
}

/** Throws unless `path` is an existing, non-empty file. */
export function requireFile(path: string): void {
  if (!existsSync(path)) throw new DataFileError(path, `${path}: file not found`);
  const st = statSync(path);
  if (!st.isFile()) throw new DataFileError(path, `${path}: not a regular file`);
  if (st.size === 0) throw new DataFileError(path, `${path}: empty file (0 bytes)`);
}

/** The column names of a file as DuckDB reads them, with a clear error when the file cannot be read. */
export async function fileColumns(db: DuckSession, path: string, format: FileFormat = {}): Promise<string[]> {
  requireFile(path);
  try {
    const rows = await db.rows(`DESCRIBE SELECT * FROM ${sourceSql(path, format, undefined, true)}`);
    return rows.map((r) => String(r.column_name));
  } catch (err) {
    throw new DataFileError(path, `${path}: cannot be read as ${fileKind(path).kind === 'parquet' ? 'Parquet' : 'delimited text'}: ${firstLine(err)}`);
  }
}

/**
 * Checks that every wanted column exists; the error names the file, line 1, the missing field and the
 * columns found, and suggests the separator when the header was read as a single column.
 */
export function checkColumns(path: string, found: string[], wanted: WantedColumn[], format: FileFormat = {}): void {
  const hasHeader = format.header ?? defaultFormat(path).header;
  resolveColumns(path, { found, header: null, delimiter: format.delimiter ?? defaultFormat(path).delimiter, hasHeader: hasHeader && !format.columnNames }, wanted.map((w) => ({ ...w, column: w.column })));
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** SQL testing that a VARCHAR expression is missing (NULL or blank). */
function blank(x: string): string {
  return `(${x} IS NULL OR trim(${x}) = '')`;
}

/** Maps a 0-based data-row number to its 1-based file line, skipping header and rejected lines (no blank lines assumed). */
export function rowToLine(row: number, headerLines: number, rejectedLines: readonly number[]): number {
  let line = row + 1 + headerLines;
  for (const r of rejectedLines) {
    if (r <= line) line++;
    else break;
  }
  return line;
}

/** The hint for a problem on every row that usually means the columns were mapped wrongly. */
const MAPPING_HINT = 'wrong column mapping or separator?';

/** Integers below this in magnitude are exact as JS numbers (2^53). */
const EXACT_INT = 9007199254740992;
/** Staged id of a row whose id is a number but not an exact integer below 2^53 (outside that range: no id is). */
const NOT_INT = '-4611686018427387904';

/** How the time column is read: epoch numbers of a unit, ISO text, or a Parquet date/time type. */
type TimeRead = { kind: 'epoch'; unit: EpochUnit } | { kind: 'iso' } | { kind: 'native' };

/** SQL aggregates over the first rows that {@link timeReading} decides from (`c`: the column as trimmed text). */
function timeProbeSql(c: string): string {
  const num = `TRY_CAST(${c} AS DOUBLE)`;
  return `count(*) FILTER (WHERE ${c} IS NOT NULL AND ${c} <> '') AS t_present,
          count(*) FILTER (WHERE ${num} IS NOT NULL) AS t_numeric,
          count(*) FILTER (WHERE ${num} IS NULL AND TRY_CAST(${c} AS TIMESTAMPTZ) IS NOT NULL) AS t_iso,
          CAST(median(abs(${num})) FILTER (WHERE isfinite(${num})) AS DOUBLE) AS t_typical,
          first(${c}) FILTER (WHERE ${c} <> '' AND ${num} IS NULL) AS t_text,
          first(${c}) FILTER (WHERE ${num} IS NOT NULL) AS t_num`;
}

/**
 * Decides how to read the time column from the probe of its first 10,000 rows ({@link timeProbeSql}): numbers
 * by magnitude, text by whether it parses as a date-time; an explicit unit that contradicts the data is an
 * error (ISO text read as numbers or the reverse) or a note (an epoch unit of the wrong magnitude).
 */
function timeReading(path: string, column: string, probe: Record<string, DuckDBValue>, requested: TimeUnit, log: CleaningLog, line?: number): TimeRead {
  const at = line === undefined ? `${path}:` : `${path} line ${line}:`;
  const present = Number(probe.t_present);
  const numeric = Number(probe.t_numeric);
  const iso = Number(probe.t_iso);
  const typical = probe.t_typical === null ? NaN : Number(probe.t_typical);
  const detected: EpochUnit | 'iso' | null = present === 0 ? null : numeric >= iso && numeric > 0 ? epochUnitOf(typical) : iso > 0 ? 'iso' : null;
  const flag = '(--time-unit; timeUnit in the API)';
  if (requested === 'auto') {
    if (detected === 'iso') {
      log.note(`${path}: time column "${column}" read as ISO-8601 date-times (e.g. ${JSON.stringify(String(probe.t_text))}); date-times without a UTC offset are taken as UTC`);
      return { kind: 'iso' };
    }
    const unit = detected ?? 'seconds';
    if (unit !== 'seconds') log.note(`${path}: time column "${column}" holds epoch ${unit} (typical value ${typical.toPrecision(4)} = ${epochDate(typical, unit)}); converted to seconds ${flag} to override`);
    return { kind: 'epoch', unit };
  }
  if (requested === 'iso') {
    if (detected !== null && detected !== 'iso') {
      throw new DataFileError(path, `${at} time column "${column}" holds numbers (e.g. ${String(probe.t_num)}), not ISO date-times: give the epoch unit (s, ms, us) ${flag} or leave it to be detected`, { line, field: column });
    }
    return { kind: 'iso' };
  }
  if (detected === 'iso') {
    throw new DataFileError(path, `${at} time column "${column}" holds date-times (e.g. ${JSON.stringify(String(probe.t_text))}), not epoch ${requested}: read it as ISO (--time-unit iso; timeUnit 'iso' in the API) or leave the unit to be detected`, { line, field: column });
  }
  return { kind: 'epoch', unit: requested };
}

/** One condition checked on every staged row, with what is done to the rows where it holds. */
interface Check {
  cond: string;
  kind: string;
  column: string;
  action: 'dropped' | 'kept';
  /** Said after "on every row" when every row fails this check. */
  hint: string;
}

/**
 * Loads an interaction file into the temp table `table` (columns u, i, v, t, x0.., f) with DuckDB's typed CSV
 * reader, checking the columns and counting every bad row in `log` once, under its first problem: rows that do
 * not parse (wrong number of fields, non-numeric number or id) are rejected by the reader with their line and
 * column; ids that are not exact integers (1.5), values beyond float32, missing ids and values and
 * unparseable date-times are dropped; missing times are kept with NaN (or dropped with `missingTime: 'drop'`).
 */
export async function stageInteractions(db: DuckSession, table: string, path: string, mapping: ColumnMapping, options: StageOptions, log: CleaningLog): Promise<StagedTable> {
  const fk = fileKind(path);
  const isParquet = fk.kind === 'parquet';
  requireFile(path);
  const defaults = defaultFormat(path);
  let format = options.format ?? {};
  const delimiter = format.delimiter ?? defaults.delimiter;
  const hasHeader = !isParquet && (format.header ?? defaults.header);
  let header: string[] | null = null;
  let found: string[];
  if (isParquet) found = await fileColumns(db, path, format);
  else {
    const head = await readHead(path, fk.gzip);
    requireTextHead(path, head);
    // The quote is made explicit ('"', RFC 4180) so that the reader and the line scan split records alike; when
    // the quotes do not pair up the reader cannot sniff the file, and it is read with quotes as plain characters.
    if (format.quote === undefined) {
      try {
        found = await fileColumns(db, path, { ...format, quote: '"' });
        format = { ...format, quote: '"' };
      } catch {
        try {
          found = await fileColumns(db, path, { ...format, quote: '' });
        } catch {
          // Neither way does DuckDB's sniffer find a layout: name the first line that breaks one.
          const d = diagnoseLayout(head, delimiter, '"');
          const sep = delimiter === '\t' ? 'tab' : JSON.stringify(delimiter);
          throw new DataFileError(path, `${path} line ${d.line}: cannot be read as delimited text with separator ${sep}: ${d.reason} (fix the file, or give the right separator)`, { line: d.line });
        }
        format = { ...format, quote: '' };
        log.note(`${path}: its double quotes do not pair up, so they are read as plain characters (rows they break are reported)`);
      }
    } else found = await fileColumns(db, path, format);
    if (hasHeader) header = headerFields(head, delimiter, format.quote ?? '"', format.encoding ?? 'utf-8');
  }
  const extraIn = mapping.extra ?? [];
  const wanted: WantedColumn[] = [
    { field: 'user', column: mapping.user },
    { field: 'item', column: mapping.item },
    ...(mapping.value ? [{ field: 'value', column: mapping.value }] : []),
    ...(mapping.time ? [{ field: 'time', column: mapping.time }] : []),
    ...extraIn.map((c) => ({ field: 'extra', column: c })),
  ];
  const resolved = resolveColumns(path, { found, header, delimiter, hasHeader: hasHeader && !format.columnNames }, wanted);
  for (const n of resolved.notes) log.note(n);
  const names = [...resolved.names];
  const userCol = names.shift()!;
  const itemCol = names.shift()!;
  const valueCol = mapping.value ? names.shift()! : undefined;
  const timeCol = mapping.time ? names.shift()! : undefined;
  const extra = names;
  log.file(path);

  // One probe of the first 10,000 rows decides the id types and the time unit.
  let userIdType: 'int' | 'string' = options.idType === 'string' ? 'string' : 'int';
  let itemIdType = userIdType;
  const sniffIds = !options.idType || options.idType === 'auto';
  const text = (x: string): string => (isParquet ? `CAST(${sqlIdent(x)} AS VARCHAR)` : sqlIdent(x));
  let nativeTime = false;
  if (timeCol && isParquet) {
    const types = await db.rows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${sourceSql(path)})`);
    nativeTime = /^(TIMESTAMP|DATE)/i.test(String(types.find((r) => String(r.column_name) === timeCol)?.column_type ?? ''));
  }
  const aggregates: string[] = [];
  if (sniffIds) {
    // A column is integer when every probed id is an integer below 2^53 in magnitude (larger ones are not exact
    // as JS numbers and stay strings); "1.5" passes the probe as a number and its row is rejected below.
    const notInt = (x: string): string => `NOT ${blank(text(x))} AND (TRY_CAST(trim(${text(x)}) AS BIGINT) IS NULL OR abs(TRY_CAST(trim(${text(x)}) AS HUGEINT)) >= ${EXACT_INT})`;
    aggregates.push(`count(*) FILTER (WHERE ${notInt(userCol)}) AS bu`, `count(*) FILTER (WHERE ${notInt(itemCol)}) AS bi`);
  }
  // An explicit unit is checked after the read instead (cheaply, on the staged times; a contradiction shows as rows
  // that do not parse, and only then is the column probed to say what it holds).
  const requested = options.timeUnit ?? 'auto';
  const probeSql = (aggs: string[]): string => `SELECT ${aggs.join(', ')} FROM (SELECT * FROM ${sourceSql(path, format, undefined, true)} LIMIT 10000)`;
  if (timeCol && !nativeTime && requested === 'auto') aggregates.push(timeProbeSql(`trim(${text(timeCol)})`));
  const probe = aggregates.length ? (await db.rows(probeSql(aggregates)))[0] : {};
  if (sniffIds) {
    userIdType = Number(probe.bu) === 0 ? 'int' : 'string';
    itemIdType = Number(probe.bi) === 0 ? 'int' : 'string';
  }
  const time: TimeRead | null = !timeCol ? null : nativeTime ? { kind: 'native' } : requested === 'auto' ? timeReading(path, timeCol, probe, 'auto', log) : requested === 'iso' ? { kind: 'iso' } : { kind: 'epoch', unit: requested };

  // SQL types the reader parses each mapped column as; a value that does not parse rejects its row. Integer ids
  // are parsed as DOUBLE (BIGINT would round "1.5" to 2) and checked to be exact integers below.
  const types: Record<string, string> = {};
  if (userIdType === 'int') types[userCol] = 'DOUBLE';
  if (itemIdType === 'int') types[itemCol] = 'DOUBLE';
  if (valueCol) types[valueCol] = 'DOUBLE';
  if (timeCol && time?.kind === 'epoch') types[timeCol] = 'DOUBLE';
  for (const c of extra) types[c] = 'DOUBLE';
  // Parquet columns arrive typed: cast leniently (what does not convert becomes NULL and is reported as missing).
  const col = (c: string): string => {
    if (!isParquet) return sqlIdent(c);
    const t = types[c] ?? 'VARCHAR';
    return t === 'VARCHAR' ? `CAST(${sqlIdent(c)} AS VARCHAR)` : `TRY_CAST(${sqlIdent(c)} AS ${t})`;
  };
  // String ids are trimmed (blank → NULL). trim() copies every string, which was most of the read time on
  // string-id files. DuckDB's trim() removes Unicode space separators, whose only ASCII member is ' ': a
  // non-empty all-ASCII id (byte length = character length) that neither starts nor ends with ' ' is already
  // trimmed, so only the others go through trim().
  const trimmedId = (x: string): string => {
    return `CASE WHEN strlen(${x}) = length(${x}) AND ${x} <> '' AND NOT starts_with(${x}, ' ') AND NOT ends_with(${x}, ' ') THEN ${x} ELSE NULLIF(trim(${x}), '') END`;
  };
  // Integer ids parse as DOUBLE and must be exact integers below 2^53; others (1.5, 1e300, nan) become the
  // sentinel NOT_INT, so they are told apart from missing ids (NULL) without a second evaluation.
  const intId = (d: string): string => `CASE WHEN ${d} IS NULL THEN NULL WHEN isfinite(${d}) AND ${d} = trunc(${d}) AND abs(${d}) < ${EXACT_INT} THEN CAST(${d} AS BIGINT) ELSE ${NOT_INT} END`;
  const idSql = (c: string, type: 'int' | 'string'): string => (type === 'int' ? intId(col(c)) : trimmedId(col(c)));
  // TRY_CAST to FLOAT is NULL exactly for finite values beyond float32 (NaN and ±inf convert); flag bits tell
  // those from missing values: 1 the value, 2 << k extra column k.
  const float = (d: string): string => `TRY_CAST(${d} AS FLOAT)`;
  const tooBig = (d: string): string => `(${d} IS NOT NULL AND TRY_CAST(${d} AS FLOAT) IS NULL)`;
  const timeSql = (c: string): string => {
    if (!time || time.kind === 'native') return `epoch(${sqlIdent(c)})`;
    // A date-time that does not parse becomes -inf (told from a missing time, NULL).
    if (time.kind === 'iso') return `CASE WHEN ${blank(col(c))} THEN NULL ELSE coalesce(epoch(TRY_CAST(trim(${col(c)}) AS TIMESTAMPTZ)), CAST('-inf' AS DOUBLE)) END`;
    const per = PER_SECOND[time.unit];
    return `CASE WHEN isfinite(${col(c)}) THEN ${col(c)}${per === 1 ? '' : ` / ${per}.0`} END`;
  };
  const flagTerms: string[] = [];
  if (valueCol) flagTerms.push(`CASE WHEN ${tooBig(col(valueCol))} THEN 1 ELSE 0 END`);
  extra.forEach((c, k) => flagTerms.push(`CASE WHEN ${tooBig(col(c))} THEN ${2 * 2 ** k} ELSE 0 END`));
  if (extra.length > 62) throw new Error(`${path}: at most 62 extra columns can be staged (got ${extra.length})`);
  const flagType = extra.length <= 7 ? 'UTINYINT' : extra.length <= 15 ? 'USMALLINT' : extra.length <= 31 ? 'UINTEGER' : 'UBIGINT';
  const select = [
    `${idSql(userCol, userIdType)} AS u`,
    `${idSql(itemCol, itemIdType)} AS i`,
    valueCol ? `${float(col(valueCol))} AS v` : 'CAST(1 AS FLOAT) AS v',
    timeCol ? `CAST(${timeSql(timeCol)} AS DOUBLE) AS t` : 'CAST(NULL AS DOUBLE) AS t',
    ...extra.map((c, k) => `${float(col(c))} AS x${k}`),
    `CAST(${flagTerms.length ? flagTerms.join(' + ') : '0'} AS ${flagType}) AS f`,
  ];
  // String ids: one lenient pass over the file collects the distinct raw strings of each string column into an
  // ENUM type (leaving out those that are blank once trimmed), so the staged table stores each id as its int32
  // code (memory proportional to the rows, not to the id lengths), and trimming runs once per distinct string.
  // `${table}_udict` / `_idict` map codes to trimmed ids (several raw strings may trim to one id). The lenient
  // pass keeps every row the typed read below can accept, so a string missing from the ENUM is a blank id.
  const dicts: { u?: string; i?: string } = {};
  const stringCols = ([['u', userCol, userIdType], ['i', itemCol, itemIdType]] as const).filter(([, , t]) => t === 'string');
  if (stringCols.length) {
    const ids = `${table}_ids`;
    const idSel = stringCols.map(([k, c]) => `${col(c)} AS ${k}`).join(', ');
    const sets = stringCols.map(([k]) => `(${k})`).join(', ');
    try {
      await db.exec(`CREATE OR REPLACE TEMP TABLE ${ids} AS SELECT ${stringCols.map(([k]) => k).join(', ')} FROM (SELECT ${idSel} FROM ${sourceSql(path, format, undefined, true)}) GROUP BY GROUPING SETS (${sets})`);
      for (const [k] of stringCols) {
        const type = `${table}_${k}_enum`;
        await db.exec(`DROP TYPE IF EXISTS ${type}`);
        const present = `${k} IS NOT NULL AND ${trimmedId(k)} IS NOT NULL`;
        await db.exec(`CREATE TYPE ${type} AS ENUM (SELECT ${k} FROM ${ids} WHERE ${present})`);
        await db.exec(`CREATE OR REPLACE TEMP TABLE ${table}_${k}dict AS SELECT CAST(enum_code(CAST(${k} AS ${type})) AS INTEGER) AS code, ${trimmedId(k)} AS id FROM ${ids} WHERE ${present}`);
        dicts[k] = `${table}_${k}dict`;
      }
      await db.exec(`DROP TABLE ${ids}`);
    } catch (err) {
      throw new DataFileError(path, `${path}: read failed: ${firstLine(err)}`);
    }
    select[0] = dicts.u ? `CAST(enum_code(TRY_CAST(${col(userCol)} AS ${table}_u_enum)) AS INTEGER) AS u` : select[0];
    select[1] = dicts.i ? `CAST(enum_code(TRY_CAST(${col(itemCol)} AS ${table}_i_enum)) AS INTEGER) AS i` : select[1];
  }
  const rej = { table: `${table}_rej`, scan: `${table}_rejscan` };
  if (!isParquet) {
    await db.exec(`DROP TABLE IF EXISTS ${rej.table}`);
    await db.exec(`DROP TABLE IF EXISTS ${rej.scan}`);
  }
  try {
    await db.exec(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT ${select.join(', ')} FROM ${sourceSql(path, format, isParquet ? undefined : rej, false, isParquet ? {} : types)}`);
  } catch (err) {
    throw new DataFileError(path, `${path}: read failed: ${firstLine(err)}`);
  }
  const headerLines = hasHeader ? 1 : 0;
  const rowsGood = await db.scalar(`SELECT count(*) FROM ${table}`);

  // Rows the reader rejected: each line once, under its first error (by column); grouped by (error, column).
  let rejectedLines: number[] = [];
  const idCols = new Set([userCol, itemCol]);
  const pending: Array<{ kind: string; field?: string; count: number; rows?: number[]; readerLines?: number[]; hint: string; dropped: boolean; cast?: boolean }> = [];
  if (!isParquet) {
    rejectedLines = (await db.rows(`SELECT DISTINCT CAST(line AS BIGINT) AS line FROM ${rej.table} ORDER BY line`)).map((r) => Number(r.line));
    const groups = await db.rows(
      `SELECT error_type, col, count(*) AS n, list(line ORDER BY line)[1:5] AS lines FROM (
         SELECT CAST(line AS BIGINT) AS line, first(error_type ORDER BY coalesce(column_idx, -1)) AS error_type,
                first(CASE WHEN error_type = 'CAST' THEN column_name END ORDER BY coalesce(column_idx, -1)) AS col
         FROM ${rej.table} GROUP BY ALL) GROUP BY ALL ORDER BY min(line)`,
    );
    for (const g of groups) {
      const column = g.col === null ? undefined : String(g.col);
      const type = String(g.error_type);
      const isId = column !== undefined && idCols.has(column);
      const kind = type === 'CAST' ? (isId ? 'malformed id (not an integer)' : 'non-numeric value') : `malformed row (${type.toLowerCase()})`;
      const hint = isId ? 'string ids? read them as strings (--id-type string; idType in the API)' : 'wrong column mapping or separator?';
      const lines = (g.lines as unknown as { items: unknown[] }).items.map(Number);
      pending.push({ kind, field: column, count: Number(g.n), readerLines: lines, hint, dropped: true, cast: type === 'CAST' });
    }
  }
  const rowsRead = rowsGood + rejectedLines.length;
  if (rowsRead === 0) throw new DataFileError(path, `${path}: no data rows${headerLines ? ' (only a header line)' : ''}`);
  const lines: LineResolver = isParquet ? ROW_NUMBERS : new LineMap(path, { gzip: fk.gzip, quote: format.quote ?? '"', delimiter, headerLines }, rejectedLines);

  // Problems in parsed rows, each row counted under its first dropping problem only (so counts add up).
  const dropTime = options.missingTime === 'drop';
  const drops: Array<Check & { ok: string }> = [];
  if (userIdType === 'int') drops.push({ cond: `u = ${NOT_INT}`, ok: `u <> ${NOT_INT}`, kind: 'id not an exact integer (e.g. 1.5; not rounded to another id)', column: userCol, action: 'dropped', hint: 'ids are not integers: read them as strings (--id-type string; idType in the API)' });
  if (itemIdType === 'int') drops.push({ cond: `i = ${NOT_INT}`, ok: `i <> ${NOT_INT}`, kind: 'id not an exact integer (e.g. 1.5; not rounded to another id)', column: itemCol, action: 'dropped', hint: 'ids are not integers: read them as strings (--id-type string; idType in the API)' });
  drops.push({ cond: 'u IS NULL', ok: 'u IS NOT NULL', kind: 'missing id', column: userCol, action: 'dropped', hint: MAPPING_HINT });
  drops.push({ cond: 'i IS NULL', ok: 'i IS NOT NULL', kind: 'missing id', column: itemCol, action: 'dropped', hint: MAPPING_HINT });
  if (valueCol) {
    drops.push({ cond: '(f & 1) <> 0', ok: '(f & 1) = 0', kind: 'value beyond float32 range (|x| > 3.4e38)', column: valueCol, action: 'dropped', hint: 'is this the value column?' });
    drops.push({ cond: 'v IS NULL', ok: 'v IS NOT NULL', kind: 'missing value', column: valueCol, action: 'dropped', hint: MAPPING_HINT });
    drops.push({ cond: 'isnan(v) OR isinf(v)', ok: 'isfinite(v)', kind: 'non-finite value', column: valueCol, action: 'dropped', hint: MAPPING_HINT });
  }
  if (timeCol && time?.kind === 'iso') drops.push({ cond: "t = CAST('-inf' AS DOUBLE)", ok: "(t IS NULL OR t <> CAST('-inf' AS DOUBLE))", kind: 'unparseable date-time', column: timeCol, action: 'dropped', hint: 'give the time unit (--time-unit s|ms|us|iso)' });
  if (timeCol && dropTime) drops.push({ cond: 't IS NULL OR isnan(t)', ok: 't IS NOT NULL AND NOT isnan(t)', kind: 'missing time', column: timeCol, action: 'dropped', hint: MAPPING_HINT });
  // Conditions are made two-valued (a NULL column makes a comparison NULL, which NOT would keep NULL).
  const is = (cond: string): string => `coalesce(${cond}, false)`;
  const exclusive = drops.map((c, k) => (k === 0 ? is(c.cond) : `${is(c.cond)} AND NOT (${drops.slice(0, k).map((p) => is(p.cond)).join(' OR ')})`));
  // The rows kept: every drop's negation, written out so it is cheap where it is evaluated again (ids, fetch).
  const validWhere = drops.map((c) => c.ok).join(' AND ');
  const kept: Check[] = [];
  if (timeCol && !dropTime) kept.push({ cond: 't IS NULL OR isnan(t)', kind: 'missing time', column: timeCol, action: 'kept', hint: '' });
  extra.forEach((c, k) => {
    kept.push({ cond: `(f & ${2 * 2 ** k}) <> 0`, kind: 'value beyond float32 range (kept as NaN)', column: c, action: 'kept', hint: '' });
    kept.push({ cond: `x${k} IS NULL AND (f & ${2 * 2 ** k}) = 0`, kind: 'missing value', column: c, action: 'kept', hint: '' });
  });
  const conds = [...exclusive, ...kept.map((c) => `${is(c.cond)} AND ${validWhere}`)];
  const checks = [...drops, ...kept];
  const typicalTime = timeCol && time?.kind === 'epoch' && requested !== 'auto' ? `, CAST(median(abs(t)) FILTER (WHERE isfinite(t)) AS DOUBLE) AS typical` : '';
  const counts = await db.rows(`SELECT ${conds.map((c, k) => `count(*) FILTER (WHERE ${c}) AS c${k}`).join(', ')}${typicalTime} FROM ${table}`);
  if (typicalTime && time?.kind === 'epoch' && counts[0].typical !== null) {
    const typical = Number(counts[0].typical) * PER_SECOND[time.unit];
    const looks = epochUnitOf(typical);
    if (looks !== time.unit) log.note(`${path}: time column "${timeCol}" read as epoch ${time.unit} as asked, but its values look like epoch ${looks} (typical value ${typical.toPrecision(4)} = ${epochDate(typical, time.unit)} in ${time.unit})`);
  }
  for (let k = 0; k < checks.length; k++) {
    const count = Number(counts[0][`c${k}`]);
    if (count === 0) continue;
    const c = checks[k];
    const rows = (await db.rows(`SELECT CAST(rowid AS BIGINT) AS r FROM ${table} WHERE ${conds[k]} ORDER BY rowid LIMIT 5`)).map((r) => Number(r.r));
    pending.push({ kind: c.kind, field: c.column, count, rows, hint: c.hint, dropped: c.action === 'dropped' });
  }
  // Strict mode stops at the first problem; a problem on every row is a mapping error, not a report.
  for (const p of pending) {
    const everyRow = p.dropped && (p.readerLines ? rowsGood === 0 && p.cast === true && p.count === rejectedLines.length : p.count === rowsGood);
    if (!options.strict && !everyRow) continue;
    const got = await lines.lines(p.rows ?? [], p.readerLines ?? []);
    const line = [...got.rows, ...got.readerLines][0];
    if (everyRow && timeCol && p.field === timeCol && requested !== 'auto') {
      // Times that never parse in the unit asked for: say what the column holds (this throws when it is the other kind).
      timeReading(path, timeCol, (await db.rows(probeSql([timeProbeSql(`trim(${text(timeCol)})`)])))[0], requested, log, line);
    }
    const where = p.field ? ` in field "${p.field}"` : '';
    throw new DataFileError(path, `${path} line ${line}: ${p.kind}${where}${everyRow ? ` on every row — ${p.hint}` : ''}`, { line, field: p.field });
  }
  for (const p of pending) log.addAt({ file: path, kind: p.kind, field: p.field, count: p.count, action: p.dropped ? 'dropped' : 'kept' }, { rows: p.rows, readerLines: p.readerLines }, lines);
  const rowsValid = await db.scalar(`SELECT count(*) FROM ${table} WHERE ${validWhere}`);
  if (rowsValid === 0) {
    const firstDrop = pending.find((p) => p.dropped)!;
    const got = await lines.lines(firstDrop.rows ?? [], firstDrop.readerLines ?? []);
    const line = [...got.rows, ...got.readerLines][0];
    throw new DataFileError(path, `${path} line ${line}: no usable row (${rowsRead} read, every one dropped; the first: ${firstDrop.kind}${firstDrop.field ? ` in field "${firstDrop.field}"` : ''})`, { line, field: firstDrop.field });
  }
  return {
    table,
    file: path,
    validWhere,
    rowsRead,
    rowsValid,
    userIdType,
    itemIdType,
    hasValue: !!valueCol,
    hasTime: !!timeCol,
    extra,
    columns: { user: userCol, item: itemCol, value: valueCol ?? null, time: timeCol ?? null },
    headerLines,
    rejectedLines,
    lines,
    userDict: dicts.u,
    itemDict: dicts.i,
  };
}

/** Drops the temp tables and types {@link stageInteractions} made for `staged` (for a session that is reused). */
export async function dropStaged(db: DuckSession, staged: Pick<StagedTable, 'table'>): Promise<void> {
  const t = staged.table;
  for (const x of [t, `${t}_rej`, `${t}_rejscan`, `${t}_udict`, `${t}_idict`, `${t}_ids`]) await db.exec(`DROP TABLE IF EXISTS ${x}`);
  for (const x of [`${t}_u_enum`, `${t}_i_enum`]) await db.exec(`DROP TYPE IF EXISTS ${x}`);
}

/**
 * Builds the user and item id maps over the valid rows of several staged tables (ids sorted ascending,
 * numerically for integer ids) as DuckDB tables `${prefix}users` / `${prefix}items` with an `idx` column.
 */
export async function buildIdMaps(db: DuckSession, tables: StagedTable[], prefix = '_'): Promise<{ users: IdMap; items: IdMap }> {
  if (tables.length === 0) throw new Error('buildIdMaps: no tables');
  const make = async (name: string, c: 'u' | 'i', idType: 'int' | 'string'): Promise<IdMap> => {
    const cast = idType === 'string' ? `CAST(${c} AS VARCHAR)` : c;
    const union = tables
      .map((t) => {
        const dict = c === 'u' ? t.userDict : t.itemDict;
        // Coded string ids: the distinct codes of the valid rows, looked up in the table's dictionary.
        if (dict) return `SELECT d.id FROM (SELECT DISTINCT ${c} AS code FROM ${t.table} WHERE ${t.validWhere}) x JOIN ${dict} d ON x.code = d.code`;
        return `SELECT ${cast} AS id FROM ${t.table} WHERE ${t.validWhere}`;
      })
      .join(' UNION ');
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

/** A dense lookup from integer id − min to index, when the id range is small enough to be worth it. */
function denseLookup(ids: IdMap, rows: number): { min: number; lut: Int32Array } | null {
  if (ids.size === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < ids.size; k++) {
    const id = ids.idOf(k);
    if (typeof id !== 'number') return null;
    if (id < min) min = id;
    if (id > max) max = id;
  }
  const span = max - min + 1;
  if (span > 2 ** 30 || span > 4 * rows + (1 << 20)) return null;
  const lut = new Int32Array(span).fill(-1);
  for (let k = 0; k < ids.size; k++) lut[(ids.idOf(k) as number) - min] = k;
  return { min, lut };
}

/** A lookup from the int32 codes of a coded string column (its dictionary table) to dense indices. */
async function codeLookup(db: DuckSession, dict: string, idTable: string): Promise<{ min: number; lut: Int32Array }> {
  const size = await db.scalar(`SELECT count(*) FROM ${dict}`);
  const { rows, columns } = await db.columns(`SELECT d.code, m.idx FROM ${dict} d JOIN ${idTable} m ON d.id = m.id`, ['int32', 'int32'], size);
  const code = columns[0] as Int32Array;
  const idx = columns[1] as Int32Array;
  const lut = new Int32Array(size).fill(-1);
  for (let r = 0; r < rows; r++) lut[code[r]] = idx[r];
  return { min: 0, lut };
}

/**
 * Fetches the valid events of a staged table in file order, in the dense index space of {@link buildIdMaps}.
 * Integer ids with a compact range and coded string ids are mapped in JS through a lookup table (a plain
 * ordered scan of int32 columns); other ids through a join with the id tables, ordered by row id.
 */
export async function fetchEvents(db: DuckSession, staged: StagedTable, ids: { users: IdMap; items: IdMap }, prefix = '_'): Promise<StagedEvents> {
  const xs = staged.extra.map((_c, k) => `s.x${k}`);
  const ul = staged.userDict ? await codeLookup(db, staged.userDict, `${prefix}users`) : staged.userIdType === 'int' ? denseLookup(ids.users, staged.rowsValid) : null;
  const il = staged.itemDict ? await codeLookup(db, staged.itemDict, `${prefix}items`) : staged.itemIdType === 'int' ? denseLookup(ids.items, staged.rowsValid) : null;
  const direct = ul !== null && il !== null;
  const cast = (c: string, type: 'int' | 'string'): string => (type === 'string' ? `CAST(${c} AS VARCHAR)` : c);
  // The time column is fetched only when the file has one; the join path returns rows in file order
  // (ORDER BY row id in DuckDB, cheaper than the join's unordered output plus a scatter in JS).
  const tail = `, s.v${staged.hasTime ? ', s.t' : ''}${xs.map((x) => `, ${x}`).join('')}`;
  const sql = direct
    ? `SELECT CAST(s.rowid AS INTEGER), CAST(s.u - ${ul.min} AS INTEGER), CAST(s.i - ${il.min} AS INTEGER)${tail}
       FROM ${staged.table} s WHERE ${staged.validWhere}`
    : `SELECT CAST(s.r AS INTEGER), us.idx, it.idx${tail}
       FROM (SELECT rowid AS r, * FROM ${staged.table} WHERE ${staged.validWhere}) s
       JOIN ${prefix}users us ON ${cast('s.u', staged.userIdType)} = us.id JOIN ${prefix}items it ON ${cast('s.i', staged.itemIdType)} = it.id
       ORDER BY s.r`;
  const kinds: FetchKind[] = ['int32', 'int32', 'int32', 'float32', ...(staged.hasTime ? ['float64' as const] : []), ...xs.map((): FetchKind => 'float32')];
  const { rows, columns } = await db.columns(sql, kinds, staged.rowsValid);
  const rowid = columns[0] as Int32Array;
  let userIdx = columns[1] as Int32Array;
  let itemIdx = columns[2] as Int32Array;
  if (direct) {
    for (let r = 0; r < rows; r++) {
      userIdx[r] = ul.lut[userIdx[r]];
      itemIdx[r] = il.lut[itemIdx[r]];
    }
  }
  let values = columns[3] as Float32Array;
  const firstExtra = staged.hasTime ? 5 : 4;
  let timestamps = (staged.hasTime ? columns[4] : new Float64Array(0)) as Float64Array;
  let extraCols = columns.slice(firstExtra) as Float32Array[];
  let sorted = true;
  for (let r = 1; r < rows && sorted; r++) if (rowid[r] <= rowid[r - 1]) sorted = false;
  if (!sorted) {
    // Put rows back in file order by row id (an O(n) scatter, no sort).
    const slot = new Int32Array(staged.rowsRead).fill(-1);
    for (let r = 0; r < rows; r++) slot[rowid[r]] = r;
    const order = new Int32Array(rows);
    let o = 0;
    for (let k = 0; k < slot.length; k++) if (slot[k] >= 0) order[o++] = slot[k];
    const permute = <T extends Int32Array | Float32Array | Float64Array>(src: T): T => {
      const out = src.slice(0, rows) as T;
      for (let r = 0; r < rows; r++) out[r] = src[order[r]];
      return out;
    };
    userIdx = permute(userIdx);
    itemIdx = permute(itemIdx);
    values = permute(values);
    if (staged.hasTime) timestamps = permute(timestamps);
    extraCols = extraCols.map(permute);
    const sortedIds = permute(rowid);
    rowid.set(sortedIds);
  }
  const extra: Record<string, Float32Array> = {};
  staged.extra.forEach((c, k) => {
    extra[c] = extraCols[k];
  });
  return { userIdx, itemIdx, values: staged.hasValue ? values : null, timestamps: staged.hasTime ? timestamps : null, extra, rows: rowid, lines: staged.lines };
}
