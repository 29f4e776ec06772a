import { existsSync, statSync } from 'node:fs';
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
 * Loads an interaction file into the temp table `table` (columns u, i, v, t, x0..) with DuckDB's typed CSV
 * reader, checking the columns and counting every bad row in `log`: rows that do not parse (wrong number of
 * fields, non-numeric number or id) are rejected by the reader with their line and column and dropped;
 * missing ids and values are dropped; missing times are kept with NaN (or dropped with `missingTime: 'drop'`).
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

  let userIdType: 'int' | 'string' = options.idType === 'string' ? 'string' : 'int';
  let itemIdType = userIdType;
  if (!options.idType || options.idType === 'auto') {
    const c = (x: string): string => (isParquet ? `CAST(${sqlIdent(x)} AS VARCHAR)` : sqlIdent(x));
    const probe = await db.rows(
      `SELECT count(*) FILTER (WHERE NOT ${blank(c(mapping.user))} AND TRY_CAST(trim(${c(mapping.user)}) AS BIGINT) IS NULL) AS bu,
              count(*) FILTER (WHERE NOT ${blank(c(mapping.item))} AND TRY_CAST(trim(${c(mapping.item)}) AS BIGINT) IS NULL) AS bi
       FROM (SELECT * FROM ${sourceSql(path, format, undefined, true)} LIMIT 10000)`,
    );
    userIdType = Number(probe[0].bu) === 0 ? 'int' : 'string';
    itemIdType = Number(probe[0].bi) === 0 ? 'int' : 'string';
  }
  const unit = options.timeUnit ?? 'seconds';
  // SQL types the reader parses each mapped column as; a value that does not parse rejects its row.
  const types: Record<string, string> = {};
  if (userIdType === 'int') types[mapping.user] = 'BIGINT';
  if (itemIdType === 'int') types[mapping.item] = 'BIGINT';
  if (mapping.value) types[mapping.value] = 'DOUBLE';
  if (mapping.time) types[mapping.time] = unit === 'iso' ? 'TIMESTAMP' : 'DOUBLE';
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
  const idSql = (c: string, type: 'int' | 'string'): string => (type === 'int' ? col(c) : trimmedId(col(c)));
  const trimmedId = (x: string): string => {
    return `CASE WHEN strlen(${x}) = length(${x}) AND ${x} <> '' AND NOT starts_with(${x}, ' ') AND NOT ends_with(${x}, ' ') THEN ${x} ELSE NULLIF(trim(${x}), '') END`;
  };
  const timeSql = (c: string): string => (unit === 'iso' ? `epoch(${col(c)})` : unit === 'milliseconds' ? `(${col(c)} / 1000.0)` : col(c));
  const select = [
    `${idSql(mapping.user, userIdType)} AS u`,
    `${idSql(mapping.item, itemIdType)} AS i`,
    mapping.value ? `CAST(${col(mapping.value)} AS FLOAT) AS v` : 'CAST(1 AS FLOAT) AS v',
    mapping.time ? `CAST(${timeSql(mapping.time)} AS DOUBLE) AS t` : 'CAST(NULL AS DOUBLE) AS t',
    ...extra.map((c, k) => `CAST(${col(c)} AS FLOAT) AS x${k}`),
  ];
  // String ids: one lenient pass over the file collects the distinct raw strings of each string column into an
  // ENUM type (leaving out those that are blank once trimmed), so the staged table stores each id as its int32
  // code (memory proportional to the rows, not to the id lengths), and trimming runs once per distinct string.
  // `${table}_udict` / `_idict` map codes to trimmed ids (several raw strings may trim to one id). The lenient
  // pass keeps every row the typed read below can accept, so a string missing from the ENUM is a blank id.
  const dicts: { u?: string; i?: string } = {};
  const stringCols = ([['u', mapping.user, userIdType], ['i', mapping.item, itemIdType]] as const).filter(([, , t]) => t === 'string');
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
      throw new Error(`${path}: read failed: ${firstLine(err)}`);
    }
    select[0] = dicts.u ? `CAST(enum_code(TRY_CAST(${col(mapping.user)} AS ${table}_u_enum)) AS INTEGER) AS u` : select[0];
    select[1] = dicts.i ? `CAST(enum_code(TRY_CAST(${col(mapping.item)} AS ${table}_i_enum)) AS INTEGER) AS i` : select[1];
  }
  const rej = { table: `${table}_rej`, scan: `${table}_rejscan` };
  try {
    await db.exec(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT ${select.join(', ')} FROM ${sourceSql(path, format, isParquet ? undefined : rej, false, isParquet ? {} : types)}`);
  } catch (err) {
    throw new Error(`${path}: read failed: ${firstLine(err)}`);
  }
  const headerLines = !isParquet && (format.header ?? defaultFormat(path).header) ? 1 : 0;
  const rowsGood = await db.scalar(`SELECT count(*) FROM ${table}`);

  // Rows the reader rejected: group by (error type, column), one issue each, with example lines.
  let rejectedLines: number[] = [];
  if (!isParquet) {
    rejectedLines = (await db.rows(`SELECT DISTINCT CAST(line AS BIGINT) AS line FROM ${rej.table} ORDER BY line`)).map((r) => Number(r.line));
    const groups = await db.rows(
      `SELECT error_type, CASE WHEN error_type = 'CAST' THEN column_name END AS col, count(DISTINCT line) AS n, list(DISTINCT CAST(line AS BIGINT) ORDER BY CAST(line AS BIGINT))[1:5] AS lines
       FROM ${rej.table} GROUP BY ALL ORDER BY min(line)`,
    );
    const idCols = new Set([mapping.user, mapping.item]);
    for (const g of groups) {
      const column = g.col === null ? undefined : String(g.col);
      const type = String(g.error_type);
      const kind = type === 'CAST' ? (column && idCols.has(column) ? 'malformed id (not an integer)' : unit === 'iso' && column === mapping.time ? 'unparseable date-time' : 'non-numeric value') : `malformed row (${type.toLowerCase()})`;
      const lines = (g.lines as unknown as { items: unknown[] }).items.map(Number);
      const count = Number(g.n);
      if (options.strict) throw new Error(`${path} line ${lines[0]}: ${kind}${column ? ` in field "${column}"` : ''}`);
      if (rowsGood === 0 && type === 'CAST' && count === rejectedLines.length) {
        throw new Error(`${path} line ${lines[0]}: ${kind} in field "${column}" on every row — wrong column mapping or separator?`);
      }
      log.add({ file: path, kind, field: column, count, action: 'dropped', lines });
    }
  }
  const rowsRead = rowsGood + rejectedLines.length;
  if (rowsRead === 0) throw new Error(`${path}: no data rows${headerLines ? ' (only a header line)' : ''}`);

  // Missing fields in parsed rows: one scan counts every condition; example lines only for those that occur.
  interface Check {
    cond: string;
    kind: string;
    column: string;
    action: 'dropped' | 'kept';
  }
  const dropTime = options.missingTime === 'drop';
  const checks: Check[] = [
    { cond: 'u IS NULL', kind: 'missing id', column: mapping.user, action: 'dropped' },
    { cond: 'i IS NULL', kind: 'missing id', column: mapping.item, action: 'dropped' },
  ];
  if (mapping.value) {
    checks.push({ cond: 'v IS NULL', kind: 'missing value', column: mapping.value, action: 'dropped' });
    checks.push({ cond: 'isnan(v) OR isinf(v)', kind: 'non-finite value', column: mapping.value, action: 'dropped' });
  }
  if (mapping.time) checks.push({ cond: 't IS NULL OR isnan(t)', kind: 'missing time', column: mapping.time, action: dropTime ? 'dropped' : 'kept' });
  extra.forEach((c, k) => checks.push({ cond: `x${k} IS NULL`, kind: 'missing value', column: c, action: 'kept' }));
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
  const ok = ['u IS NOT NULL', 'i IS NOT NULL', 'v IS NOT NULL', 'NOT isnan(v)', 'NOT isinf(v)', ...(dropTime && mapping.time ? ['t IS NOT NULL', 'NOT isnan(t)'] : [])].join(' AND ');
  const rowsValid = await db.scalar(`SELECT count(*) FROM ${table} WHERE ${ok}`);
  return { table, file: path, validWhere: ok, rowsRead, rowsValid, userIdType, itemIdType, hasValue: !!mapping.value, hasTime: !!mapping.time, extra, headerLines, rejectedLines, userDict: dicts.u, itemDict: dicts.i };
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
  // Rows are now ascending by row id, so one merge pass over the rejected lines maps rows to file lines.
  const lines = rowid;
  const rej = staged.rejectedLines;
  let skipped = 0;
  for (let r = 0; r < rows; r++) {
    let line = rowid[r] + 1 + staged.headerLines + skipped;
    while (skipped < rej.length && rej[skipped] <= line) {
      skipped++;
      line++;
    }
    lines[r] = line;
  }
  const extra: Record<string, Float32Array> = {};
  staged.extra.forEach((c, k) => {
    extra[c] = extraCols[k];
  });
  return { userIdx, itemIdx, values: staged.hasValue ? values : null, timestamps: staged.hasTime ? timestamps : null, extra, lines };
}
