/**
 * Approximate maximum-inner-product retrieval with HNSW through `usearch`. An item bias is folded into the
 * vectors (item [v, b], query [u, 1]), so the index ranks by u·v + b like the model; see {@link HnswParams.mips}
 * for the two ways the inner product is searched.
 * The index is saved next to a model directory (`DIR.hnsw` + `DIR.hnsw.json`), tagged with the model's data
 * fingerprint so that an index built for another training run is refused.
 */
import { readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BatchMatches, Index, MetricKind, ScalarKind } from 'usearch';
import { UsageError } from '../core/errors.js';
import { writeFileSafe } from '../core/safe-write.js';
import type { CsrMatrix, DenseMatrix } from '../linalg/api.js';
import { checkQueries, type VectorHits, type VectorIndex } from './exact.js';

/** HNSW build and search parameters. */
export interface HnswParams {
  /** Graph degree M (usearch `connectivity`); default 16. */
  M: number;
  /** Candidate list size while building (usearch `expansion_add`); default 128. */
  efConstruction: number;
  /** Candidate list size while searching (usearch `expansion_search`); default 128. */
  ef: number;
  /**
   * How inner products are searched. "augmented" (default): the MIPS-to-nearest-neighbour reduction of Bachrach
   * et al. (2014) — every item vector gets one more coordinate √(Φ² − ‖v‖²) so that all have the norm Φ, the
   * query gets 0, and the cosine graph then ranks exactly by u·v; HNSW graphs are far better on it. "ip":
   * usearch's inner-product metric on the raw vectors (not a metric space: lower recall at the same ef).
   */
  mips: 'augmented' | 'ip';
}

/** Defaults of {@link HnswParams}. */
export const HNSW_DEFAULTS: HnswParams = { M: 16, efConstruction: 128, ef: 128, mips: 'augmented' };

/** What is stored next to the index file. */
interface HnswMeta {
  format: 'recsys-hnsw';
  version: 1;
  dims: number;
  size: number;
  bias: boolean;
  /** Largest item norm (after the bias column), for the augmented reduction. */
  phi: number;
  params: HnswParams;
  dataFingerprint: string;
}

/** An HNSW index over item vectors; keys are dense item indices. */
export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw';

  private constructor(
    private index: Index,
    /** Query dimensions (without the bias column). */
    readonly dims: number,
    readonly size: number,
    private readonly bias: boolean,
    private readonly phi: number,
    readonly params: HnswParams,
  ) {}

  /** Query/item width inside the usearch index. */
  private static width(dims: number, bias: boolean, p: HnswParams): number {
    return dims + (bias ? 1 : 0) + (p.mips === 'augmented' ? 1 : 0);
  }

  /** Builds an index over `items` (+ `itemBias`), adding with `threads` threads (0 = all cores). */
  static build(items: DenseMatrix, itemBias: Float32Array | null, params: Partial<HnswParams> = {}, threads = 0): HnswIndex {
    const p = checkParams({ ...HNSW_DEFAULTS, ...params });
    if (itemBias && itemBias.length !== items.rows) throw new Error(`HnswIndex: ${itemBias.length} item biases for ${items.rows} items`);
    if (items.rows < 1) throw new Error('HnswIndex: no items to index');
    const bias = itemBias !== null;
    const w = HnswIndex.width(items.cols, bias, p);
    const { data, phi } = itemRows(items, itemBias, p.mips === 'augmented', w);
    const index = newIndex(w, p);
    const keys = new BigUint64Array(items.rows);
    for (let i = 0; i < items.rows; i++) keys[i] = BigInt(i);
    index.add(keys, data, threads);
    return new HnswIndex(index, items.cols, items.rows, bias, phi, p);
  }

  /** Loads an index saved by {@link save}; `dataFingerprint` must match the one it was built for. `ef` may be changed. */
  static load(path: string, dataFingerprint: string, overrides: Partial<Pick<HnswParams, 'ef'>> = {}): HnswIndex {
    const file = resolve(path);
    const metaFile = `${file}.json`;
    let meta: HnswMeta;
    try {
      meta = parseMeta(JSON.parse(readFileSync(metaFile, 'utf8')), metaFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${metaFile}: no HNSW index here (build one with --ann)`);
      throw e;
    }
    if (meta.dataFingerprint !== dataFingerprint) throw new UsageError(`${metaFile}: the index was built for another training run (data fingerprint ${meta.dataFingerprint.slice(0, 12)}…, the model has ${dataFingerprint.slice(0, 12)}…); rebuild it`);
    const params = checkParams({ ...meta.params, ...overrides });
    const index = newIndex(HnswIndex.width(meta.dims, meta.bias, params), params);
    index.load(file);
    if (index.size() !== meta.size) throw new Error(`${file}: holds ${index.size()} vectors, ${metaFile} says ${meta.size}`);
    return new HnswIndex(index, meta.dims, meta.size, meta.bias, meta.phi, params);
  }

  /** Writes the index to `path` and its description to `path.json` (each replaced atomically). */
  save(path: string, dataFingerprint: string): void {
    const file = resolve(path);
    const exists = statSync(file, { throwIfNoEntry: false });
    if (exists && !exists.isFile()) throw new UsageError(`${file}: exists and is not a regular file; refusing to replace it with an HNSW index`);
    const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      this.index.save(tmp);
      renameSync(tmp, file);
    } finally {
      rmSync(tmp, { force: true });
    }
    const meta: HnswMeta = { format: 'recsys-hnsw', version: 1, dims: this.dims, size: this.size, bias: this.bias, phi: this.phi, params: this.params, dataFingerprint };
    writeFileSafe(`${file}.json`, JSON.stringify(meta, null, 2) + '\n', { what: 'HNSW index description' });
  }

  async search(queries: DenseMatrix, k: number, exclude?: ReadonlySet<number>): Promise<VectorHits> {
    checkQueries(queries, this.dims, k);
    return this.searchFiltered(queries, k, exclude?.size ?? 0, exclude ? () => exclude : () => undefined);
  }

  /** The top `k` of each query row, never returning row r's items in row r of `exclude` (one batched search). */
  async searchRows(queries: DenseMatrix, k: number, exclude: CsrMatrix | null): Promise<VectorHits> {
    checkQueries(queries, this.dims, k);
    if (!exclude) return this.searchFiltered(queries, k, 0, () => undefined);
    if (exclude.rows !== queries.rows) throw new RangeError(`searchRows: ${exclude.rows} exclusion rows for ${queries.rows} queries`);
    let most = 0;
    for (let r = 0; r < exclude.rows; r++) most = Math.max(most, exclude.rowPtr[r + 1] - exclude.rowPtr[r]);
    const sets = Array.from({ length: exclude.rows }, (_, r) => new Set(exclude.colIdx.subarray(exclude.rowPtr[r], exclude.rowPtr[r + 1])));
    return this.searchFiltered(queries, k, most, (r) => sets[r]);
  }

  /**
   * The top `k` of each row without row r's `excluded(r)` items (`extra` = the most any row excludes). HNSW
   * cannot filter inside the graph walk here, so excluded items are over-fetched and dropped: first k + min(extra, k)
   * neighbours for all rows, then — only for rows that lost too many — k + (that row's exclusions). Asking for
   * k + extra at once would widen every search to ef ≥ k + extra, so a user with 1,000 seen items would pay for
   * a 1,100-wide search even when none of them ranks near the top.
   */
  private searchFiltered(queries: DenseMatrix, k: number, extra: number, excluded: (row: number) => ReadonlySet<number> | undefined): VectorHits {
    const n = queries.rows;
    const items = new Int32Array(n * k).fill(-1);
    const scores = new Float32Array(n * k).fill(-Infinity);
    if (n === 0) return { k, items, scores };
    const w = HnswIndex.width(this.dims, this.bias, this.params);
    const q = queryRows(queries, this.bias, w);
    const scale = this.scoreScale(q, n, w);
    const first = Math.min(this.size, k + Math.min(extra, k));
    const short = this.collect(q, Array.from({ length: n }, (_, r) => r), first, k, excluded, scale, items, scores);
    if (short.length > 0) {
      const want = Math.min(this.size, k + short.reduce((most, r) => Math.max(most, excluded(r)?.size ?? 0), 0));
      if (want > first) this.collect(q, short, want, k, excluded, scale, items, scores);
    }
    return { k, items, scores };
  }

  /**
   * Searches `want` neighbours for the query rows `rows` of `q` and writes each row's first k non-excluded hits
   * into items/scores; returns the rows left with fewer than k although the index may hold more.
   */
  private collect(q: Float32Array, rows: readonly number[], want: number, k: number, excluded: (row: number) => ReadonlySet<number> | undefined, scale: Float64Array | null, items: Int32Array, scores: Float32Array): number[] {
    const w = HnswIndex.width(this.dims, this.bias, this.params);
    let sub = q;
    if (rows.length * w !== q.length) {
      sub = new Float32Array(rows.length * w);
      rows.forEach((r, i) => sub.set(q.subarray(r * w, r * w + w), i * w));
    }
    // One query: search on the calling thread (no pool); several: usearch's threads, one query per task.
    const res = this.index.search(sub, want, rows.length === 1 ? 1 : 0);
    // One query gives Matches (no counts), several give BatchMatches.
    const keys = res.keys;
    const dist = res.distances;
    const counts = res instanceof BatchMatches ? res.counts : null;
    const short: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const found = counts ? Number(counts[i]) : keys.length;
      const ex = excluded(r);
      const s = scale ? scale[r] : 1;
      items.fill(-1, r * k, r * k + k);
      scores.fill(-Infinity, r * k, r * k + k);
      let m = 0;
      for (let j = 0; j < found && m < k; j++) {
        const item = Number(keys[i * want + j]);
        if (ex?.has(item)) continue;
        items[r * k + m] = item;
        // usearch's distances: cosine 1 − cos (augmented: u·v (+ b) = cos · ‖q‖ · Φ), inner product 1 − u·v.
        scores[r * k + m] = (1 - dist[i * want + j]) * s;
        m++;
      }
      if (m < k && found === want && want < this.size) short.push(r);
    }
    return short;
  }

  /** Per query row ‖q‖ · Φ, the factor from cosine to u·v (+ b), for the augmented reduction; null for "ip". */
  private scoreScale(q: Float32Array, n: number, w: number): Float64Array | null {
    if (this.params.mips !== 'augmented') return null;
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      let s2 = 0;
      for (let j = r * w; j < r * w + w; j++) s2 += q[j] * q[j];
      out[r] = Math.sqrt(s2) * this.phi;
    }
    return out;
  }
}

/** Where the HNSW index of the model in `modelDir` lives: a sibling file `DIR.hnsw`. */
export function hnswPathFor(modelDir: string): string {
  return `${resolve(modelDir).replace(/\/+$/, '')}.hnsw`;
}

function newIndex(dims: number, p: HnswParams): Index {
  return new Index({ dimensions: dims, metric: p.mips === 'augmented' ? MetricKind.Cos : MetricKind.IP, quantization: ScalarKind.F32, connectivity: p.M, expansion_add: p.efConstruction, expansion_search: p.ef, multi: false });
}

function checkParams(p: HnswParams): HnswParams {
  for (const [key, min] of [['M', 2], ['efConstruction', 1], ['ef', 1]] as const) {
    const v = p[key];
    if (!(Number.isInteger(v) && v >= min && v <= 4096)) throw new RangeError(`HNSW ${key} must be an integer in [${min}, 4096] (got ${v})`);
  }
  if (p.mips !== 'augmented' && p.mips !== 'ip') throw new RangeError(`HNSW mips must be "augmented" or "ip" (got ${String(p.mips)})`);
  return { M: p.M, efConstruction: p.efConstruction, ef: p.ef, mips: p.mips };
}

/** Item rows of width `w`: [v, b?, √(Φ² − ‖[v, b]‖²)?]; Φ = the largest norm of [v, b]. */
function itemRows(items: DenseMatrix, bias: Float32Array | null, augmented: boolean, w: number): { data: Float32Array; phi: number } {
  const f = items.cols;
  const out = new Float32Array(items.rows * w);
  const norms = new Float64Array(items.rows);
  let phi = 0;
  for (let i = 0; i < items.rows; i++) {
    out.set(items.data.subarray(i * f, i * f + f), i * w);
    if (bias) out[i * w + f] = bias[i];
    let s2 = 0;
    for (let j = 0; j < f + (bias ? 1 : 0); j++) s2 += out[i * w + j] * out[i * w + j];
    norms[i] = s2;
    phi = Math.max(phi, s2);
  }
  if (augmented) {
    const last = w - 1;
    for (let i = 0; i < items.rows; i++) out[i * w + last] = Math.sqrt(Math.max(0, phi - norms[i]));
  }
  return { data: out, phi: Math.sqrt(phi) };
}

/** Query rows of width `w`: [u, 1 (bias)?, 0 (augmented)?]. */
function queryRows(q: DenseMatrix, bias: boolean, w: number): Float32Array {
  const f = q.cols;
  const out = new Float32Array(q.rows * w);
  for (let r = 0; r < q.rows; r++) {
    out.set(q.data.subarray(r * f, r * f + f), r * w);
    if (bias) out[r * w + f] = 1;
  }
  return out;
}

function parseMeta(v: unknown, file: string): HnswMeta {
  const bad = (field: string): never => {
    throw new Error(`${file}: field "${field}" missing or invalid`);
  };
  if (typeof v !== 'object' || v === null) return bad('(root)');
  const o: Record<string, unknown> = { ...v };
  if (o.format !== 'recsys-hnsw') bad('format');
  if (o.version !== 1) bad('version');
  for (const f of ['dims', 'size']) if (!(typeof o[f] === 'number' && Number.isInteger(o[f]) && Number(o[f]) > 0)) bad(f);
  if (typeof o.bias !== 'boolean') bad('bias');
  if (!(typeof o.phi === 'number' && Number.isFinite(o.phi) && o.phi >= 0)) bad('phi');
  if (typeof o.dataFingerprint !== 'string') bad('dataFingerprint');
  const p = o.params;
  if (typeof p !== 'object' || p === null) return bad('params');
  const pp: Record<string, unknown> = { ...p };
  for (const f of ['M', 'efConstruction', 'ef']) if (typeof pp[f] !== 'number') bad(`params.${f}`);
  if (pp.mips !== 'augmented' && pp.mips !== 'ip') bad('params.mips');
  return {
    format: 'recsys-hnsw', version: 1, dims: Number(o.dims), size: Number(o.size), bias: Boolean(o.bias), phi: Number(o.phi), dataFingerprint: String(o.dataFingerprint),
    params: { M: Number(pp.M), efConstruction: Number(pp.efConstruction), ef: Number(pp.ef), mips: pp.mips === 'ip' ? 'ip' : 'augmented' },
  };
}
