import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

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
   * Column i of the result is converted as `kinds[i]`.
   */
  async columns(sql: string, kinds: FetchKind[], expectedRows = 1024): Promise<{ rows: number; columns: FetchedColumn[] }> {
    const result = await this.connection.stream(sql);
    if (result.columnCount !== kinds.length) throw new Error(`query returns ${result.columnCount} columns, ${kinds.length} kinds given`);
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
        const vec = chunk.getColumnVector(j);
        const out = cols[j];
        const missing = kinds[j] === 'int32' ? -1 : NaN;
        for (let r = 0; r < m; r++) {
          const v = vec.getItem(r);
          out[n + r] = v === null ? missing : Number(v);
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
