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
  /** Graph degree M (usearch `connectivity`); default 16, 32 from {@link LARGE_CATALOGUE} items. */
  M: number;
  /** Candidate list size while building (usearch `expansion_add`); default 128. */
  efConstruction: number;
  /** Candidate list size while searching (usearch `expansion_search`); default 128. */
  ef: number;
  /**
   * How inner products are searched. "augmented" (default): the MIPS-to-nearest-neighbour reduction of Bachrach
   * et al. (2014) — every item vector gets one more coordinate √(Φ² − ‖v‖²) so that all have the norm Φ, the
   * query gets 0, and the cosine graph then ranks exactly by u·v. "ip": usearch's inner-product metric on the raw
   * vectors (not a metric space). Neither wins everywhere (docs/pipeline.md): ip was ahead on isotropic clusters
   * and iALS factors, augmented on clusters with a decaying spectrum and on tight low-dimensional clusters.
   */
  mips: 'augmented' | 'ip';
  /**
   * How usearch stores the vectors (build-time): "f32" (default below {@link LARGE_CATALOGUE} items) or "f16"
   * (the default from there), half the memory per vector; distances are then computed on the rounded vectors, so
   * scores carry a relative error of about 1e-3.
   */
  quantization: 'f32' | 'f16';
}

/** Whether `v` names an inner-product reduction of {@link HnswParams.mips}. */
export function isMips(v: unknown): v is HnswParams['mips'] {
  return v === 'augmented' || v === 'ip';
}

/** Whether `v` names a vector storage of {@link HnswParams.quantization}. */
export function isQuantization(v: unknown): v is HnswParams['quantization'] {
  return v === 'f32' || v === 'f16';
}

/** Defaults of {@link HnswParams} below {@link LARGE_CATALOGUE} items. */
export const HNSW_DEFAULTS: HnswParams = { M: 16, efConstruction: 128, ef: 128, mips: 'augmented', quantization: 'f32' };

/** Items from which {@link hnswDefaultsFor} builds a denser graph of half-precision vectors. */
export const LARGE_CATALOGUE = 500_000;

/**
 * The defaults for an index of `n` items. Below {@link LARGE_CATALOGUE}: {@link HNSW_DEFAULTS}. From there M 32
 * and f16: at 1M × 64 the search is memory-bound, so half-size vectors are faster, and the denser graph holds
 * recall@100 ≥ 0.95 at ef 128 (M 16 + f32 gave 0.943 at 8.7× exact, M 32 + f16 0.953–0.959 at 11–16×), while at
 * 100k M 16 + f32 was as accurate and faster (docs/pipeline.md). The 500k boundary lies between those two
 * measurements.
 */
export function hnswDefaultsFor(n: number): HnswParams {
  return n >= LARGE_CATALOGUE ? { ...HNSW_DEFAULTS, M: 32, quantization: 'f16' } : HNSW_DEFAULTS;
}

/**
 * Items are split by norm into at most this many ranges, each with its own graph (see {@link HnswIndex}); a range
 * spans a factor of {@link BUCKET_RATIO} in norm and holds at least {@link MIN_BUCKET} items.
 */
const MAX_BUCKETS = 8;
const BUCKET_RATIO = 4;
const MIN_BUCKET = 1024;

/**
 * Ranges up to this size are built on one thread: concurrent insertion into a small graph leaves it poorly
 * connected (recall@50 0.81–1.0 over builds of the same 12k items on 2 threads, 1.0 on one).
 */
const SERIAL_BUILD = 16384;

/** One norm range: its graph, its largest item norm Φ, its item count and the threads its graph may search with (0 = all). */
interface Bucket {
  index: Index;
  phi: number;
  size: number;
  threads: number;
}

/** What is stored next to the index file. */
interface HnswMeta {
  format: 'recsys-hnsw';
  version: 1 | 2;
  dims: number;
  size: number;
  bias: boolean;
  /** Largest item norm (after the bias column). */
  phi: number;
  /** The norm ranges, largest norms first (version 2; version 1 is one range of Φ `phi`). */
  buckets: { phi: number; size: number }[];
  params: HnswParams;
  dataFingerprint: string;
}

/**
 * An HNSW index over item vectors; keys are dense item indices.
 *
 * Norm ranges: items are sorted by the norm of [v, b] and cut into ranges of at most a factor 4 in norm (largest
 * first), each searched by its own graph with its own Φ. Trained factors have heavy-tailed norms (popular items
 * are long, most are near 0): with one Φ the augmented coordinate √(Φ² − ‖v‖²) is ≈ Φ for nearly every item, they
 * collapse onto one point and the graph stops being navigable (recall@100 0.49 on iALS factors of 100k items, 1.000
 * with the ranges). A factor 4 rather than 2: each range visited costs a full graph search, and on clustered
 * vectors with a decaying spectrum a factor 2 made two ranges that every query visits (4× exact instead of 13×).
 * A query visits the ranges from the longest down and stops as soon as its k-th score is at least ‖q‖ · Φ of the
 * next range — by Cauchy–Schwarz no item there can score higher — so the many short items are rarely searched.
 */
export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw';
  /** Query rows searched and graph searches made for them (one per norm range visited), for benchmarks and metrics. */
  readonly stats = { queries: 0, rangeSearches: 0 };

  private constructor(
    private readonly buckets: Bucket[],
    /** Query dimensions (without the bias column). */
    readonly dims: number,
    readonly size: number,
    private readonly bias: boolean,
    readonly params: HnswParams,
  ) {}

  /** Query/item width inside the usearch index. */
  private static width(dims: number, bias: boolean, p: HnswParams): number {
    return dims + (bias ? 1 : 0) + (p.mips === 'augmented' ? 1 : 0);
  }

  /** Norm ranges searched (1 when the item norms are within a factor 4 of each other). */
  get ranges(): number {
    return this.buckets.length;
  }

  /**
   * Builds an index over `items` (+ `itemBias`), adding with `threads` threads (0 = all cores); parameters not
   * given (or given as undefined) are {@link hnswDefaultsFor} the item count.
   */
  static build(items: DenseMatrix, itemBias: Float32Array | null, params: Partial<HnswParams> = {}, threads = 0): HnswIndex {
    const given = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
    const p = checkParams({ ...hnswDefaultsFor(items.rows), ...given });
    if (itemBias && itemBias.length !== items.rows) throw new Error(`HnswIndex: ${itemBias.length} item biases for ${items.rows} items`);
    if (items.rows < 1) throw new Error('HnswIndex: no items to index');
    const bias = itemBias !== null;
    const w = HnswIndex.width(items.cols, bias, p);
    const buckets = normRanges(items, itemBias).map((members) => {
      const { data, phi } = itemRows(items, itemBias, members, p.mips === 'augmented', w);
      const index = newIndex(w, p);
      // usearch reserves one search context per build thread: a graph built on one thread searches on one.
      const t = members.length <= SERIAL_BUILD ? 1 : threads;
      index.add(BigUint64Array.from(members, (i) => BigInt(i)), data, t);
      return { index, phi, size: members.length, threads: t };
    });
    return new HnswIndex(buckets, items.cols, items.rows, bias, p);
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
    const buckets = meta.buckets.map((b, j) => {
      const index = newIndex(HnswIndex.width(meta.dims, meta.bias, params), params);
      const part = bucketFile(file, j);
      index.load(part);
      if (index.size() !== b.size) throw new Error(`${part}: holds ${index.size()} vectors, ${metaFile} says ${b.size}`);
      // A loaded graph has a search context per core.
      return { index, phi: b.phi, size: b.size, threads: 0 };
    });
    return new HnswIndex(buckets, meta.dims, meta.size, meta.bias, params);
  }

  /** Writes the graphs to `path` (and `path.1`, `path.2`, … for further norm ranges) and the description to `path.json`, each replaced atomically. */
  save(path: string, dataFingerprint: string): void {
    const file = resolve(path);
    const exists = statSync(file, { throwIfNoEntry: false });
    if (exists && !exists.isFile()) throw new UsageError(`${file}: exists and is not a regular file; refusing to replace it with an HNSW index`);
    this.buckets.forEach((b, j) => {
      const part = bucketFile(file, j);
      const tmp = join(dirname(part), `.${basename(part)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        b.index.save(tmp);
        renameSync(tmp, part);
      } finally {
        rmSync(tmp, { force: true });
      }
    });
    // Ranges of an earlier, differently cut index at this path.
    for (let j = this.buckets.length; j < MAX_BUCKETS; j++) if (statSync(bucketFile(file, j), { throwIfNoEntry: false })?.isFile()) rmSync(bucketFile(file, j));
    const meta: HnswMeta = {
      format: 'recsys-hnsw', version: 2, dims: this.dims, size: this.size, bias: this.bias, phi: this.buckets[0].phi,
      buckets: this.buckets.map((b) => ({ phi: b.phi, size: b.size })), params: this.params, dataFingerprint,
    };
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
   * The top `k` of each row without row r's `excluded(r)` items (`extra` = the most any row excludes), over the
   * norm ranges from the longest down until the Cauchy–Schwarz bound settles each row.
   */
  private searchFiltered(queries: DenseMatrix, k: number, extra: number, excluded: (row: number) => ReadonlySet<number> | undefined): VectorHits {
    const n = queries.rows;
    const items = new Int32Array(n * k).fill(-1);
    const scores = new Float32Array(n * k).fill(-Infinity);
    if (n === 0) return { k, items, scores };
    const w = HnswIndex.width(this.dims, this.bias, this.params);
    const q = queryRows(queries, this.bias, w);
    const qNorm = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      let s2 = 0;
      for (let j = r * w; j < r * w + w; j++) s2 += q[j] * q[j];
      qNorm[r] = Math.sqrt(s2);
    }
    this.stats.queries += n;
    const filled = new Int32Array(n);
    const mergedItems = new Int32Array(2 * k);
    const mergedScores = new Float32Array(2 * k);
    for (const b of this.buckets) {
      // Rows not yet settled: fewer than k items, or an item of this range could still beat the k-th.
      const open: number[] = [];
      for (let r = 0; r < n; r++) if (filled[r] < k || qNorm[r] * b.phi > scores[r * k + k - 1]) open.push(r);
      if (open.length === 0) break;
      this.stats.rangeSearches += open.length;
      const hits = this.searchRange(b, q, qNorm, open, k, extra, excluded);
      open.forEach((r, i) => {
        // Merge two best-first lists into the row's top k.
        let x = 0;
        let y = 0;
        let m = 0;
        const got = hits.count[i];
        while (m < k && (x < filled[r] || y < got)) {
          const takeOld = y >= got || (x < filled[r] && scores[r * k + x] >= hits.scores[i * k + y]);
          mergedItems[m] = takeOld ? items[r * k + x] : hits.items[i * k + y];
          mergedScores[m] = takeOld ? scores[r * k + x++] : hits.scores[i * k + y++];
          m++;
        }
        items.set(mergedItems.subarray(0, m), r * k);
        scores.set(mergedScores.subarray(0, m), r * k);
        filled[r] = m;
      });
    }
    return { k, items, scores };
  }

  /**
   * The best k non-excluded items of range `b` for the query rows `rows`. HNSW cannot filter inside the graph
   * walk here, so excluded items are over-fetched and dropped: first k + min(extra, k) neighbours for all rows, then
   * — only for rows that lost too many — k + (that row's exclusions). Asking for k + extra at once would widen
   * every search to ef ≥ k + extra, so a user with 1,000 seen items would pay for a 1,100-wide search even when
   * none of them ranks near the top.
   */
  private searchRange(b: Bucket, q: Float32Array, qNorm: Float64Array, rows: readonly number[], k: number, extra: number, excluded: (row: number) => ReadonlySet<number> | undefined): { items: Int32Array; scores: Float32Array; count: Int32Array } {
    const out = { items: new Int32Array(rows.length * k), scores: new Float32Array(rows.length * k), count: new Int32Array(rows.length) };
    const first = Math.min(b.size, k + Math.min(extra, k));
    const all = rows.map((_, i) => i);
    const short = this.collect(b, q, qNorm, rows, all, first, k, excluded, out);
    if (short.length > 0) {
      const want = Math.min(b.size, k + short.reduce((most, i) => Math.max(most, excluded(rows[i])?.size ?? 0), 0));
      if (want > first) this.collect(b, q, qNorm, rows, short, want, k, excluded, out);
    }
    return out;
  }

  /**
   * Searches `want` neighbours in range `b` for the entries `which` of `rows` and writes each one's first k
   * non-excluded hits into `out`; returns the entries left with fewer than k although the range may hold more.
   */
  private collect(b: Bucket, q: Float32Array, qNorm: Float64Array, rows: readonly number[], which: readonly number[], want: number, k: number, excluded: (row: number) => ReadonlySet<number> | undefined, out: { items: Int32Array; scores: Float32Array; count: Int32Array }): number[] {
    const w = HnswIndex.width(this.dims, this.bias, this.params);
    let sub = q;
    if (which.length * w !== q.length) {
      sub = new Float32Array(which.length * w);
      which.forEach((i, j) => sub.set(q.subarray(rows[i] * w, rows[i] * w + w), j * w));
    }
    // One query: search on the calling thread (no pool); several: usearch's threads, one query per task.
    const res = b.index.search(sub, want, which.length === 1 ? 1 : b.threads);
    // One query gives Matches (no counts), several give BatchMatches.
    const keys = res.keys;
    const dist = res.distances;
    const counts = res instanceof BatchMatches ? res.counts : null;
    const aug = this.params.mips === 'augmented';
    const short: number[] = [];
    which.forEach((i, j) => {
      const r = rows[i];
      const found = counts ? Number(counts[j]) : keys.length;
      const ex = excluded(r);
      // usearch's distances: cosine 1 − cos (augmented: u·v (+ b) = cos · ‖q‖ · Φ), inner product 1 − u·v.
      const scale = aug ? qNorm[r] * b.phi : 1;
      let m = 0;
      for (let t = 0; t < found && m < k; t++) {
        const item = Number(keys[j * want + t]);
        if (ex?.has(item)) continue;
        out.items[i * k + m] = item;
        out.scores[i * k + m] = (1 - dist[j * want + t]) * scale;
        m++;
      }
      out.count[i] = m;
      if (m < k && found === want && want < b.size) short.push(i);
    });
    return short;
  }
}

/** Removes an index saved at `path` by {@link HnswIndex.save}: its graphs and its description (missing files are fine). */
export function removeHnswFiles(path: string): void {
  const file = resolve(path);
  for (let j = 0; j < MAX_BUCKETS; j++) rmSync(bucketFile(file, j), { force: true });
  rmSync(`${file}.json`, { force: true });
}

/** Where the HNSW index of the model in `modelDir` lives: a sibling file `DIR.hnsw`. */
export function hnswPathFor(modelDir: string): string {
  return `${resolve(modelDir).replace(/\/+$/, '')}.hnsw`;
}

function newIndex(dims: number, p: HnswParams): Index {
  return new Index({ dimensions: dims, metric: p.mips === 'augmented' ? MetricKind.Cos : MetricKind.IP, quantization: p.quantization === 'f16' ? ScalarKind.F16 : ScalarKind.F32, connectivity: p.M, expansion_add: p.efConstruction, expansion_search: p.ef, multi: false });
}

function checkParams(p: HnswParams): HnswParams {
  for (const [key, min] of [['M', 2], ['efConstruction', 1], ['ef', 1]] as const) {
    const v = p[key];
    if (!(Number.isInteger(v) && v >= min && v <= 4096)) throw new RangeError(`HNSW ${key} must be an integer in [${min}, 4096] (got ${v})`);
  }
  if (p.mips !== 'augmented' && p.mips !== 'ip') throw new RangeError(`HNSW mips must be "augmented" or "ip" (got ${String(p.mips)})`);
  if (!isQuantization(p.quantization)) throw new RangeError(`HNSW quantization must be "f32" or "f16" (got ${String(p.quantization)})`);
  return { M: p.M, efConstruction: p.efConstruction, ef: p.ef, mips: p.mips, quantization: p.quantization };
}

/** Squared norms of the item rows [v, b?]. */
function squaredNorms(items: DenseMatrix, bias: Float32Array | null): Float64Array {
  const f = items.cols;
  const out = new Float64Array(items.rows);
  for (let i = 0; i < items.rows; i++) {
    let s2 = bias ? bias[i] * bias[i] : 0;
    for (let j = i * f; j < i * f + f; j++) s2 += items.data[j] * items.data[j];
    out[i] = s2;
  }
  return out;
}

/**
 * The items cut into norm ranges, longest first: a range takes the items down to 1/{@link BUCKET_RATIO} of its
 * longest norm, at least {@link MIN_BUCKET} of them, and the last of {@link MAX_BUCKETS} (or a tail shorter than
 * MIN_BUCKET) takes the rest.
 */
function normRanges(items: DenseMatrix, bias: Float32Array | null): Int32Array[] {
  const n2 = squaredNorms(items, bias);
  const order = Int32Array.from({ length: items.rows }, (_, i) => i).sort((a, b) => n2[b] - n2[a] || a - b);
  const out: Int32Array[] = [];
  let start = 0;
  while (start < order.length) {
    let end = order.length;
    if (out.length < MAX_BUCKETS - 1) {
      const floor = n2[order[start]] / (BUCKET_RATIO * BUCKET_RATIO);
      end = Math.min(order.length, start + MIN_BUCKET);
      while (end < order.length && n2[order[end]] >= floor) end++;
      if (order.length - end < MIN_BUCKET) end = order.length;
    }
    out.push(order.slice(start, end));
    start = end;
  }
  return out;
}

/** Rows of width `w` for the items `members`: [v, b?, √(Φ² − ‖[v, b]‖²)?]; Φ = the largest norm of [v, b] among them. */
function itemRows(items: DenseMatrix, bias: Float32Array | null, members: Int32Array, augmented: boolean, w: number): { data: Float32Array; phi: number } {
  const f = items.cols;
  const out = new Float32Array(members.length * w);
  const norms = new Float64Array(members.length);
  let phi = 0;
  members.forEach((i, r) => {
    out.set(items.data.subarray(i * f, i * f + f), r * w);
    if (bias) out[r * w + f] = bias[i];
    let s2 = 0;
    for (let j = 0; j < f + (bias ? 1 : 0); j++) s2 += out[r * w + j] * out[r * w + j];
    norms[r] = s2;
    phi = Math.max(phi, s2);
  });
  if (augmented) {
    const last = w - 1;
    for (let r = 0; r < members.length; r++) out[r * w + last] = Math.sqrt(Math.max(0, phi - norms[r]));
  }
  return { data: out, phi: Math.sqrt(phi) };
}

/** The file of norm range `j`: the index path itself for the first, `path.j` for the others. */
function bucketFile(file: string, j: number): string {
  return j === 0 ? file : `${file}.${j}`;
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
  if (o.version !== 1 && o.version !== 2) bad('version');
  for (const f of ['dims', 'size']) if (!(typeof o[f] === 'number' && Number.isInteger(o[f]) && Number(o[f]) > 0)) bad(f);
  if (typeof o.bias !== 'boolean') bad('bias');
  if (!(typeof o.phi === 'number' && Number.isFinite(o.phi) && o.phi >= 0)) bad('phi');
  if (typeof o.dataFingerprint !== 'string') bad('dataFingerprint');
  const p = o.params;
  if (typeof p !== 'object' || p === null) return bad('params');
  const pp: Record<string, unknown> = { ...p };
  for (const f of ['M', 'efConstruction', 'ef']) if (typeof pp[f] !== 'number') bad(`params.${f}`);
  if (pp.mips !== 'augmented' && pp.mips !== 'ip') bad('params.mips');
  // Absent in indexes saved before quantization was a parameter: those are f32.
  if (pp.quantization !== undefined && !isQuantization(pp.quantization)) bad('params.quantization');
  const size = Number(o.size);
  const phi = Number(o.phi);
  let buckets = [{ phi, size }];
  if (o.version === 2) {
    const list = o.buckets;
    if (!Array.isArray(list) || list.length < 1 || list.length > MAX_BUCKETS) return bad('buckets');
    buckets = list.map((x: unknown, j) => {
      const e: Record<string, unknown> = typeof x === 'object' && x !== null ? { ...x } : {};
      if (!(typeof e.phi === 'number' && Number.isFinite(e.phi) && e.phi >= 0)) bad(`buckets[${j}].phi`);
      if (!(typeof e.size === 'number' && Number.isInteger(e.size) && e.size > 0)) bad(`buckets[${j}].size`);
      return { phi: Number(e.phi), size: Number(e.size) };
    });
    if (buckets.reduce((s, b) => s + b.size, 0) !== size) bad('buckets (sizes do not add up to size)');
  }
  return {
    format: 'recsys-hnsw', version: o.version === 2 ? 2 : 1, dims: Number(o.dims), size, bias: Boolean(o.bias), phi, buckets, dataFingerprint: String(o.dataFingerprint),
    params: { M: Number(pp.M), efConstruction: Number(pp.efConstruction), ef: Number(pp.ef), mips: pp.mips === 'ip' ? 'ip' : 'augmented', quantization: pp.quantization === 'f16' ? 'f16' : 'f32' },
  };
}
