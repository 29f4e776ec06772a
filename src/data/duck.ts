import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import bindings from '@duckdb/node-bindings';

/** One column fetched from a query, as a typed array (NULL → NaN for floats, -1 for ints). */
export type FetchedColumn = Int32Array | Float32Array | Float64Array;

/** How to fetch one result column: int32 (NULL → -1), float32 or float64 (NULL → NaN). */
export type FetchKind = 'int32' | 'float32' | 'float64';

/** A short-lived in-memory DuckDB connection used by the loaders. */
export class DuckSession {
  private constructor(private readonly instance: DuckDBInstance, readonly connection: DuckDBConnection) {}

  /** Opens an in-memory database (threads default to the machine's cores). */
  static async open(options: { threads?: number; memoryLimit?: string } = {}): Promise<DuckSession> {
    const config: Record<string, string> = {};
    if (options.threads) config.threads = String(options.threads);
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    const instance = await DuckDBInstance.create(':memory:', config);
    const connection = await instance.connect();
    // Date-times without an offset are read as UTC, whatever the machine's zone (without the ICU extension
    // there is no zone setting, and DuckDB reads them as UTC anyway).
    try {
      await connection.run("SET TimeZone = 'UTC'");
    } catch {
      // no ICU: nothing to set
    }
    return new DuckSession(instance, connection);
  }

  /** Runs a statement and ignores its result. */
  async exec(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /** Runs a query and returns its rows as objects of JS values (for small results only). */
  async rows(sql: string): Promise<Record<string, DuckDBValue>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjects();
  }

  /** Runs a query returning one number (e.g. a count). */
  async scalar(sql: string): Promise<number> {
    const reader = await this.connection.runAndReadAll(sql);
    const v = reader.getRows()[0]?.[0];
    return v === null || v === undefined ? NaN : Number(v);
  }

  /**
   * Streams a query and copies its columns into typed arrays sized `expectedRows` (grown when exceeded).
   * Column i must have the SQL type matching `kinds[i]` (INTEGER, FLOAT, DOUBLE); chunks are copied as raw
   * memory (no per-value conversion). NULL becomes -1 (int32) or NaN (floats).
   */
  async columns(sql: string, kinds: FetchKind[], expectedRows = 1024): Promise<{ rows: number; columns: FetchedColumn[] }> {
    const result = await this.connection.stream(sql);
    if (result.columnCount !== kinds.length) throw new Error(`query returns ${result.columnCount} columns, ${kinds.length} kinds given`);
    kinds.forEach((k, j) => {
      const got = result.columnType(j).typeId;
      if (got !== SQL_TYPE[k]) throw new Error(`column ${j} of the query has type ${result.columnType(j).toString()}, expected ${DuckDBTypeId[SQL_TYPE[k]]} for ${k}`);
    });
    let cap = Math.max(1, expectedRows);
    let cols: FetchedColumn[] = kinds.map((k) => allocate(k, cap));
    let n = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const m = chunk.rowCount;
      if (n + m > cap) {
        cap = Math.max(cap * 2, n + m);
        cols = cols.map((c, j) => {
          const bigger = allocate(kinds[j], cap);
          bigger.set(c.subarray(0, n));
          return bigger;
        });
      }
      for (let j = 0; j < kinds.length; j++) {
        const out = cols[j];
        const width = out.BYTES_PER_ELEMENT;
        const vec = bindings.data_chunk_get_vector(chunk.chunk, j);
        const bytes = bindings.vector_get_data(vec, m * width);
        new Uint8Array(out.buffer, out.byteOffset + n * width, m * width).set(bytes);
        const validity = bindings.vector_get_validity(vec, Math.ceil(m / 64) * 8);
        if (validity) {
          const missing = kinds[j] === 'int32' ? -1 : NaN;
          for (let r = 0; r < m; r++) if (!bindings.validity_row_is_valid(validity, r)) out[n + r] = missing;
        }
      }
      n += m;
    }
    return { rows: n, columns: cols.map((c) => (c.length === n ? c : c.slice(0, n))) };
  }

  /** Runs a query and returns its first column as strings (NULL → ''), streaming chunk by chunk. */
  async strings(sql: string): Promise<string[]> {
    const result = await this.connection.stream(sql);
    const out: string[] = [];
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const vec = chunk.getColumnVector(0);
      for (let r = 0; r < chunk.rowCount; r++) {
        const v = vec.getItem(r);
        out.push(v === null ? '' : String(v));
      }
    }
    return out;
  }

  /** Closes the connection and the database. */
  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

const SQL_TYPE: Record<FetchKind, DuckDBTypeId> = { int32: DuckDBTypeId.INTEGER, float32: DuckDBTypeId.FLOAT, float64: DuckDBTypeId.DOUBLE };

function allocate(kind: FetchKind, n: number): FetchedColumn {
  return kind === 'int32' ? new Int32Array(n) : kind === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/** Quotes a string as an SQL literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Quotes an identifier (column name) for SQL. */
export function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Runs `work` with a fresh session and always closes it. */
export async function withDuck<T>(work: (db: DuckSession) => Promise<T>, options: { threads?: number; memoryLimit?: string } = {}): Promise<T> {
  const db = await DuckSession.open(options);
  try {
    return await work(db);
  } finally {
    db.close();
  }
}
