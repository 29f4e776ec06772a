/**
 * Micro-batching of vector searches: queries that arrive in the same turn of the event loop (concurrent
 * requests of a service) are searched in one call of the wrapped index — for the exact index one fused
 * score + top-k over a block of query rows (a GEMM instead of one matrix–vector product per request), each row
 * with its own exclusions. The results are those of searching each query alone.
 */
import type { CsrMatrix, DenseMatrix } from '../linalg/api.js';
import type { VectorHits, VectorIndex } from './exact.js';
import { checkQueries } from './exact.js';

/** An index whose batched search takes per-row exclusions (the exact index does). */
export interface RowExcludingIndex extends VectorIndex {
  /** The top `k` of each query row, never returning row r's items in `exclude` row r. */
  searchRows(queries: DenseMatrix, k: number, exclude: CsrMatrix | null): Promise<VectorHits>;
}

interface Pending {
  query: Float32Array;
  k: number;
  exclude: Int32Array;
  resolve: (hits: VectorHits) => void;
  reject: (e: unknown) => void;
}

/** Options of {@link BatchingIndex}. */
export interface BatchingOptions {
  /** Most queries in one call (default 64). */
  maxBatch?: number;
}

/** Wraps an index so that concurrent single-query searches share one call; see the module comment. */
export class BatchingIndex implements VectorIndex {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly maxBatch: number;
  /** Calls made to the wrapped index and queries answered (for tests and metrics). */
  readonly stats = { calls: 0, queries: 0 };

  constructor(
    readonly inner: RowExcludingIndex,
    options: BatchingOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 64;
    if (!(Number.isInteger(this.maxBatch) && this.maxBatch >= 1)) throw new RangeError(`BatchingIndex: maxBatch must be a positive integer (got ${this.maxBatch})`);
  }

  get kind(): string {
    return this.inner.kind;
  }

  get dims(): number {
    return this.inner.dims;
  }

  get size(): number {
    return this.inner.size;
  }

  async search(queries: DenseMatrix, k: number, exclude?: ReadonlySet<number>): Promise<VectorHits> {
    checkQueries(queries, this.dims, k);
    // A block of queries is already a batch.
    if (queries.rows !== 1) return this.inner.search(queries, k, exclude);
    return new Promise<VectorHits>((resolve, reject) => {
      this.pending.push({ query: queries.data.slice(0, queries.cols), k, exclude: exclude ? Int32Array.from(exclude).sort() : new Int32Array(0), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      void this.run(batch);
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    const d = this.dims;
    const rows = batch.length;
    const k = Math.max(...batch.map((p) => p.k));
    const data = new Float32Array(rows * d);
    const rowPtr = new Int32Array(rows + 1);
    batch.forEach((p, r) => {
      data.set(p.query, r * d);
      rowPtr[r + 1] = rowPtr[r] + p.exclude.length;
    });
    const colIdx = new Int32Array(rowPtr[rows]);
    batch.forEach((p, r) => colIdx.set(p.exclude, rowPtr[r]));
    const exclude: CsrMatrix | null = colIdx.length ? { rows, cols: this.size, rowPtr, colIdx, values: new Float32Array(colIdx.length).fill(1) } : null;
    this.stats.calls++;
    this.stats.queries += rows;
    try {
      const hits = await this.inner.searchRows({ rows, cols: d, data }, k, exclude);
      batch.forEach((p, r) => {
        const items = hits.items.slice(r * k, r * k + p.k);
        const scores = hits.scores.slice(r * k, r * k + p.k);
        p.resolve({ k: p.k, items, scores });
      });
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}
