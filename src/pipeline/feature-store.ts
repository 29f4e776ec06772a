/**
 * The feature store: user and item features — the data set's side tables (`userFeatures` / `itemFeatures`:
 * numeric, categorical, multi-hot, text) and aggregates of the training event log (training entries —
 * one per distinct user–item pair —, mean value, first and last seen) — materialised into SQL tables keyed by external id, with
 * point and batch lookups. Versioned with the model: the store records the model's data fingerprint and
 * {@link openFeatureStore} refuses a store built for other data. Two backends behind one interface: an embedded
 * DuckDB file (default) and PostgreSQL (`pg`, a `postgres://` connection string).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import { UsageError } from '../core/errors.js';
import type { EntityFeatures } from '../data/dataset.js';
import type { ExternalId } from '../data/id-map.js';
import type { Interactions } from '../data/interactions.js';

/** One feature value: a number, a label or text, a list of labels, or null when missing. */
export type FeatureValue = number | string | string[] | null;

/** One entity's features by column name (besides `id`, the external id). */
export type FeatureRow = { id: ExternalId } & Record<string, FeatureValue | ExternalId>;

/** The kinds of column a store holds. */
export type ColumnKind = 'numeric' | 'label' | 'labels' | 'text';

/** What version of the data a store holds. */
export interface StoreVersion {
  /** The training matrix fingerprint of the model the store was built with (model.json `dataFingerprint`). */
  dataFingerprint: string;
  /** The model type, when built from a model. */
  modelType: string;
  /** When it was built (ISO time). */
  createdAt: string;
  /** Column names and kinds per entity table. */
  columns: { users: Record<string, ColumnKind>; items: Record<string, ColumnKind> };
}

/** Point and batch lookups of features by external id. */
export interface FeatureStore {
  readonly backend: 'duckdb' | 'postgres';
  readonly version: StoreVersion;
  /** One user's features, null when the store does not know the user. */
  user(id: ExternalId): Promise<FeatureRow | null>;
  /** Many users' features, aligned with `ids` (null where unknown). */
  users(ids: readonly ExternalId[]): Promise<(FeatureRow | null)[]>;
  item(id: ExternalId): Promise<FeatureRow | null>;
  items(ids: readonly ExternalId[]): Promise<(FeatureRow | null)[]>;
  close(): Promise<void>;
}

/** What to materialise. */
export interface MaterializeInput {
  /** The model's training matrix: its ids are the store's keys, its events the aggregates' source. */
  train: Interactions;
  /** The model's data fingerprint (model.json). */
  dataFingerprint: string;
  modelType: string;
  /** Side tables aligned with the data set's own interactions (mapped to the training ids by external id). */
  features?: { userFeatures?: EntityFeatures; itemFeatures?: EntityFeatures; users: { ids(): ExternalId[] }; items: { ids(): ExternalId[] } };
}

/** Names of the aggregate columns (a data set feature of the same name is an error). */
export const AGGREGATE_COLUMNS = ['events', 'value_mean', 'first_seen', 'last_seen'] as const;

/** Where the feature store of the model in `modelDir` lives by default: a sibling file `DIR.features.duckdb`. */
export function featureStorePathFor(modelDir: string): string {
  return `${resolve(modelDir).replace(/\/+$/, '')}.features.duckdb`;
}

/** A DuckDB file path, or a `postgres://` / `postgresql://` connection string. */
export type StoreLocation = string;

/**
 * Builds the store at `location` from `input`, replacing the tables of an existing store there (a DuckDB file
 * that is not a feature store is refused).
 */
export async function materializeFeatures(location: StoreLocation, input: MaterializeInput): Promise<StoreVersion> {
  const db = await connect(location, true);
  try {
    const tables = buildTables(input);
    const version: StoreVersion = {
      dataFingerprint: input.dataFingerprint,
      modelType: input.modelType,
      createdAt: new Date().toISOString(),
      columns: { users: tables.users.kinds, items: tables.items.kinds },
    };
    if (db.dialect === 'duckdb') {
      const existing = await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'");
      const names = new Set(existing.map((r) => String(r.table_name)));
      if (names.size > 0 && !names.has('recsys_meta')) throw new UsageError(`${location}: a DuckDB file that is not a recsys feature store; refusing to replace its tables`);
    }
    await db.exec('BEGIN');
    try {
      for (const t of ['recsys_meta', 'recsys_users', 'recsys_items']) await db.exec(`DROP TABLE IF EXISTS ${t}`);
      await db.exec('CREATE TABLE recsys_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      for (const [name, table] of [['recsys_users', tables.users], ['recsys_items', tables.items]] as const) {
        const cols = Object.entries(table.kinds).map(([c, k]) => `${ident(c)} ${sqlType(db.dialect, k)}`);
        await db.exec(`CREATE TABLE ${name} (key TEXT PRIMARY KEY, idx INTEGER NOT NULL, ${cols.join(', ')})`);
        await insertRows(db, name, table);
      }
      await db.exec(`INSERT INTO recsys_meta VALUES ('version', ${literal(db.dialect, JSON.stringify(version))})`);
      await db.exec('COMMIT');
    } catch (e) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw e;
    }
    return version;
  } finally {
    await db.close();
  }
}

/**
 * Opens a store for lookups. With `expectFingerprint`, a store built for other training data is refused
 * (a UsageError naming both fingerprints): the store is versioned with the model.
 */
export async function openFeatureStore(location: StoreLocation, options: { expectFingerprint?: string } = {}): Promise<FeatureStore> {
  if (!isPostgres(location) && !existsSync(location)) throw new UsageError(`${location}: no feature store here (build one with materializeFeatures / recsys pipeline --build-store)`);
  const db = await connect(location, false);
  try {
    const rows = await db.query("SELECT value FROM recsys_meta WHERE key = 'version'").catch(() => {
      throw new UsageError(`${location}: not a recsys feature store (no recsys_meta table)`);
    });
    if (rows.length !== 1) throw new UsageError(`${location}: feature store has no version record`);
    const version = parseVersion(String(rows[0].value), location);
    if (options.expectFingerprint !== undefined && version.dataFingerprint !== options.expectFingerprint) {
      throw new UsageError(`${location}: feature store built for data ${version.dataFingerprint.slice(0, 12)}…, the model was trained on ${options.expectFingerprint.slice(0, 12)}…; rebuild the store`);
    }
    const lookup = async (table: string, kinds: Record<string, ColumnKind>, ids: readonly ExternalId[]): Promise<(FeatureRow | null)[]> => {
      if (ids.length === 0) return [];
      const keys = [...new Set(ids.map(keyOf))];
      const found = new Map<string, FeatureRow>();
      for (let s = 0; s < keys.length; s += 1000) {
        const part = keys.slice(s, s + 1000).map((k) => literal(db.dialect, k)).join(', ');
        for (const r of await db.query(`SELECT * FROM ${table} WHERE key IN (${part})`)) found.set(String(r.key), toRow(r, kinds));
      }
      return ids.map((id) => found.get(keyOf(id)) ?? null);
    };
    return {
      backend: db.dialect,
      version,
      user: async (id) => (await lookup('recsys_users', version.columns.users, [id]))[0],
      users: (ids) => lookup('recsys_users', version.columns.users, ids),
      item: async (id) => (await lookup('recsys_items', version.columns.items, [id]))[0],
      items: (ids) => lookup('recsys_items', version.columns.items, ids),
      close: () => db.close(),
    };
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** Whether `location` is a PostgreSQL connection string. */
export function isPostgres(location: StoreLocation): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

// ---- tables ----------------------------------------------------------------------------------------------------

interface Table {
  kinds: Record<string, ColumnKind>;
  ids: ExternalId[];
  /** Column values per column, aligned with ids. */
  values: Record<string, FeatureValue[]>;
}

function buildTables(input: MaterializeInput): { users: Table; items: Table } {
  const { train } = input;
  const userIds = train.users.ids();
  const itemIds = train.items.ids();
  const users = emptyTable(userIds);
  const items = emptyTable(itemIds);
  const f = input.features;
  if (f?.userFeatures) addFeatures(users, f.userFeatures, f.users.ids(), 'user');
  if (f?.itemFeatures) addFeatures(items, f.itemFeatures, f.items.ids(), 'item');
  addAggregates(users, items, train);
  return { users, items };
}

function emptyTable(ids: ExternalId[]): Table {
  return { kinds: {}, ids, values: {} };
}

/** Adds the side-table columns, mapping the data set's indices onto the table's ids. */
function addFeatures(t: Table, f: EntityFeatures, sourceIds: ExternalId[], what: string): void {
  const at = new Map<ExternalId, number>(sourceIds.map((id, i) => [id, i]));
  const src = t.ids.map((id) => at.get(id) ?? -1);
  const add = (name: string, kind: ColumnKind, value: (e: number) => FeatureValue): void => {
    if ((AGGREGATE_COLUMNS as readonly string[]).includes(name) || name === 'key' || name === 'idx' || name === 'id') throw new Error(`${what} feature "${name}" has the name of a column the store computes; rename it`);
    if (name in t.kinds) throw new Error(`${what} feature "${name}" appears in two feature groups`);
    t.kinds[name] = kind;
    t.values[name] = src.map((e) => (e < 0 ? null : value(e)));
  };
  for (const [name, col] of Object.entries(f.numeric)) add(name, 'numeric', (e) => (Number.isFinite(col[e]) ? col[e] : null));
  for (const [name, c] of Object.entries(f.categorical)) add(name, 'label', (e) => (c.codes[e] >= 0 ? c.names[c.codes[e]] : null));
  for (const [name, m] of Object.entries(f.multiHot)) add(name, 'labels', (e) => Array.from(m.idx.subarray(m.ptr[e], m.ptr[e + 1]), (j) => m.names[j]));
  for (const [name, col] of Object.entries(f.text)) add(name, 'text', (e) => (col[e] === '' ? null : col[e]));
}

/** events (training entries: one per distinct counterpart), mean value, first and last event time (seconds; null without times). */
function addAggregates(users: Table, items: Table, train: Interactions): void {
  const nU = train.nUsers;
  const nI = train.nItems;
  const acc = (n: number) => ({ events: new Float64Array(n), sum: new Float64Array(n), first: new Float64Array(n).fill(Infinity), last: new Float64Array(n).fill(-Infinity) });
  const u = acc(nU);
  const i = acc(nI);
  const ts = train.timestamps;
  for (let r = 0; r < nU; r++) {
    for (let p = train.rowPtr[r]; p < train.rowPtr[r + 1]; p++) {
      const c = train.colIdx[p];
      const v = train.values[p];
      u.events[r]++;
      i.events[c]++;
      u.sum[r] += v;
      i.sum[c] += v;
      const t = ts ? ts[p] : NaN;
      if (Number.isFinite(t)) {
        u.first[r] = Math.min(u.first[r], t);
        u.last[r] = Math.max(u.last[r], t);
        i.first[c] = Math.min(i.first[c], t);
        i.last[c] = Math.max(i.last[c], t);
      }
    }
  }
  for (const [t, a] of [[users, u], [items, i]] as const) {
    const n = t.ids.length;
    const time = (x: number): FeatureValue => (Number.isFinite(x) ? x : null);
    t.kinds.events = 'numeric';
    t.values.events = Array.from({ length: n }, (_, e) => a.events[e]);
    t.kinds.value_mean = 'numeric';
    t.values.value_mean = Array.from({ length: n }, (_, e) => (a.events[e] > 0 ? a.sum[e] / a.events[e] : null));
    t.kinds.first_seen = 'numeric';
    t.values.first_seen = Array.from({ length: n }, (_, e) => time(a.first[e]));
    t.kinds.last_seen = 'numeric';
    t.values.last_seen = Array.from({ length: n }, (_, e) => time(a.last[e]));
  }
}

async function insertRows(db: Sql, name: string, t: Table): Promise<void> {
  const cols = Object.keys(t.kinds);
  const header = `INSERT INTO ${name} (key, idx${cols.map((c) => `, ${ident(c)}`).join('')}) VALUES `;
  const batch = 500;
  for (let s = 0; s < t.ids.length; s += batch) {
    const rows: string[] = [];
    for (let e = s; e < Math.min(t.ids.length, s + batch); e++) {
      const vals = cols.map((c) => valueLiteral(db.dialect, t.kinds[c], t.values[c][e]));
      rows.push(`(${literal(db.dialect, keyOf(t.ids[e]))}, ${e}${vals.map((v) => `, ${v}`).join('')})`);
    }
    await db.exec(header + rows.join(', '));
  }
}

/** The stored key of an external id: its JSON text, so that 1 and "1" stay distinct. */
function keyOf(id: ExternalId): string {
  return JSON.stringify(id);
}

function toRow(r: Record<string, unknown>, kinds: Record<string, ColumnKind>): FeatureRow {
  const parsed: unknown = JSON.parse(String(r.key));
  const id: ExternalId = typeof parsed === 'number' ? parsed : String(parsed);
  const row: FeatureRow = { id };
  for (const [c, k] of Object.entries(kinds)) {
    const v = r[c];
    if (v === null || v === undefined) row[c] = null;
    else if (k === 'numeric') row[c] = Number(v);
    else if (k === 'labels') row[c] = Array.isArray(v) ? v.map(String) : [];
    else row[c] = String(v);
  }
  return row;
}

function parseVersion(text: string, location: string): StoreVersion {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${location}: feature store version record is not JSON`);
  }
  if (typeof v !== 'object' || v === null || !('dataFingerprint' in v) || typeof v.dataFingerprint !== 'string' || !('columns' in v) || typeof v.columns !== 'object' || v.columns === null) {
    throw new Error(`${location}: feature store version record lacks dataFingerprint or columns`);
  }
  const columns = v.columns;
  const kinds = (x: unknown, what: string): Record<string, ColumnKind> => {
    if (typeof x !== 'object' || x === null) throw new Error(`${location}: feature store columns.${what} missing`);
    const out: Record<string, ColumnKind> = {};
    for (const [c, k] of Object.entries(x)) {
      if (k !== 'numeric' && k !== 'label' && k !== 'labels' && k !== 'text') throw new Error(`${location}: column ${what}.${c} has unknown kind ${JSON.stringify(k)}`);
      out[c] = k;
    }
    return out;
  };
  return {
    dataFingerprint: v.dataFingerprint,
    modelType: 'modelType' in v && typeof v.modelType === 'string' ? v.modelType : '',
    createdAt: 'createdAt' in v && typeof v.createdAt === 'string' ? v.createdAt : '',
    columns: { users: kinds('users' in columns ? columns.users : null, 'users'), items: kinds('items' in columns ? columns.items : null, 'items') },
  };
}

// ---- SQL backends ------------------------------------------------------------------------------------------------

type Dialect = 'duckdb' | 'postgres';

interface Sql {
  dialect: Dialect;
  exec(sql: string): Promise<void>;
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function connect(location: StoreLocation, writable: boolean): Promise<Sql> {
  if (isPostgres(location)) {
    const client = new pg.Client({ connectionString: location });
    try {
      await client.connect();
    } catch (e) {
      throw new UsageError(`cannot connect to the PostgreSQL feature store ${redact(location)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return {
      dialect: 'postgres',
      exec: async (sql) => {
        await client.query(sql);
      },
      query: async (sql) => (await client.query<Record<string, unknown>>(sql)).rows,
      close: () => client.end(),
    };
  }
  const instance = await DuckDBInstance.create(resolve(location), writable ? {} : { access_mode: 'READ_ONLY' });
  const connection: DuckDBConnection = await instance.connect();
  return {
    dialect: 'duckdb',
    exec: async (sql) => {
      await connection.run(sql);
    },
    query: async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJS(),
    close: async () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** A connection string without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}

function sqlType(d: Dialect, k: ColumnKind): string {
  switch (k) {
    case 'numeric':
      return d === 'duckdb' ? 'DOUBLE' : 'DOUBLE PRECISION';
    case 'labels':
      return d === 'duckdb' ? 'VARCHAR[]' : 'TEXT[]';
    default:
      return 'TEXT';
  }
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(_d: Dialect, s: string): string {
  return `'${s.replace(/\0/g, '').replace(/'/g, "''")}'`;
}

function valueLiteral(d: Dialect, k: ColumnKind, v: FeatureValue): string {
  if (v === null) return 'NULL';
  if (k === 'numeric') return typeof v === 'number' && Number.isFinite(v) ? String(v) : 'NULL';
  if (k === 'labels') {
    const list = (Array.isArray(v) ? v : [String(v)]).map((x) => literal(d, x)).join(', ');
    return d === 'duckdb' ? `CAST([${list}] AS VARCHAR[])` : `ARRAY[${list}]::TEXT[]`;
  }
  return literal(d, String(v));
}
