/**
 * Approximate maximum-inner-product retrieval with an inverted file and quantised scoring (the structure of
 * ScaNN and Faiss' IVF-SQ, in the native kernels): the items are clustered by k-means into lists; a query scores
 * the list centroids and visits the `nprobe` best lists, scoring centroids and items on 7-bit codes against the
 * query rounded to 8 bits, and scores the best `rerank` of those exactly. Where HNSW walks a graph (one dependent
 * memory access after another), this streams a few contiguous lists, so at 100k items a query costs about 20 µs
 * (docs/pipeline.md: the figures against exact retrieval and HNSW).
 *
 * The index holds the lists, the codes (one byte per coordinate: a quarter of the vectors) and a reference to the
 * model's item vectors, which the exact re-scoring reads. Saved next to a model directory (`DIR.ivf` +
 * `DIR.ivf.json`), tagged with the model's data fingerprint so that an index built for another training run is
 * refused.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { writeFileSafe } from '../core/safe-write.js';
import type { CsrMatrix, DenseMatrix, IvfLists, IvfSearchOptions, Kernels } from '../linalg/api.js';
import { getKernels } from '../linalg/index.js';
import { checkQueries, type VectorHits, type VectorIndex } from './exact.js';

/** IVF build and search parameters. */
export interface IvfParams {
  /** Lists (k-means clusters); default {@link ivfDefaultsFor}: about 3.2·√n. */
  lists: number;
  /** Lists searched per query; default about 3·√lists (settable per index at load). */
  nprobe: number;
  /**
   * Candidates scored exactly, as a multiple of k (at least k + 16 of them); default 1. The codes' ranking is
   * close to exact, so the recall is set by the lists probed, not by this (docs/pipeline.md). 0: no exact pass —
   * the scores returned are then the codes' approximation of the inner product, and the item vectors are not read.
   */
  rerank: number;
  /** k-means iterations (build); default 10. */
  iterations: number;
  /** Training points per list for k-means (build; a sample of the items); default 64. */
  samplePerList: number;
  /** Seed of the sample and the initial centroids (build); default 1. */
  seed: number;
}

/** The parameters of {@link IvfParams} that may be changed on a built index. */
export type IvfSearchParams = Pick<IvfParams, 'nprobe' | 'rerank'>;

/**
 * The defaults for an index over `n` items: lists ≈ 3.2·√n, nprobe ≈ 3·√lists — 1,012 lists and 95 probed at
 * 100k items (recall@100 0.96–1.0 on the data in docs/pipeline.md), 3,200 and 170 at 1M (0.997). The share of
 * lists a query needs falls as the catalogue grows.
 */
export function ivfDefaultsFor(n: number): IvfParams {
  const lists = Math.max(1, Math.min(65536, Math.round(3.2 * Math.sqrt(Math.max(1, n)))));
  return { lists, nprobe: Math.min(lists, Math.max(1, Math.round(3 * Math.sqrt(lists)))), rerank: 1, iterations: 10, samplePerList: 64, seed: 1 };
}

/** What is stored next to the index file. */
interface IvfMeta {
  format: 'recsys-ivf';
  version: 1;
  dims: number;
  size: number;
  bias: boolean;
  lists: number;
  slots: number;
  params: IvfParams;
  dataFingerprint: string;
  /** Byte offset and element count of each array in the index file. */
  sections: Record<SectionName, [number, number]>;
}

const SECTIONS = ['centroidCodes', 'listStart', 'slotItems', 'codes', 'codeOffset', 'codeScale'] as const;
type SectionName = (typeof SECTIONS)[number];

/** An inverted-file index over item vectors; results are dense item indices. */
export class IvfIndex implements VectorIndex {
  readonly kind = 'ivf';
  /** The kernels searched with, once looked up (see kernelsToUse). */
  private resolved: Kernels | null = null;

  private constructor(
    /** The item vectors searched (the model's; re-scored exactly, never copied). */
    readonly items: DenseMatrix,
    readonly itemBias: Float32Array | null,
    private readonly lists: IvfLists,
    readonly params: IvfParams,
    private readonly kernels?: Kernels,
  ) {}

  get dims(): number {
    return this.items.cols;
  }

  get size(): number {
    return this.items.rows;
  }

  /** Lists of the index. */
  get listCount(): number {
    return this.lists.lists;
  }

  /** Bytes the index holds besides the item vectors (codes, lists, centroids). */
  get bytes(): number {
    return SECTIONS.reduce((s, name) => s + this.lists[name].byteLength, 0);
  }

  /**
   * Builds an index over `items` (+ `itemBias`, a further coordinate of every item, 1 in every query): k-means on
   * a sample (assignments by the kernels' fused score + top-1), every item in its nearest list, codes per
   * coordinate over the coordinate's range. Parameters not given are {@link ivfDefaultsFor} the item count.
   * `progress` is called after each k-means iteration.
   */
  static async build(items: DenseMatrix, itemBias: Float32Array | null, params: Partial<IvfParams> = {}, options: { kernels?: Kernels; progress?: (done: number, total: number) => void } = {}): Promise<IvfIndex> {
    const given = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
    const p = checkParams({ ...ivfDefaultsFor(items.rows), ...given });
    const n = items.rows;
    if (n < 1) throw new Error('IvfIndex: no items to index');
    if (itemBias && itemBias.length !== n) throw new Error(`IvfIndex: ${itemBias.length} item biases for ${n} items`);
    const d = items.cols;
    for (let i = 0; i < n * d; i++) if (!Number.isFinite(items.data[i])) throw new RangeError(`IvfIndex: item ${Math.floor(i / d)} has a non-finite coordinate ${Math.floor(i % d)} (${items.data[i]})`);
    if (itemBias) for (let i = 0; i < n; i++) if (!Number.isFinite(itemBias[i])) throw new RangeError(`IvfIndex: item ${i} has a non-finite bias (${itemBias[i]})`);
    const kn = options.kernels ?? (await getKernels());
    const rows = widened(items, itemBias);
    const L = Math.min(p.lists, n);
    const centroids = await kMeans(kn, rows, L, p, options.progress);
    const assign = await nearest(kn, rows, centroids);
    const lists = layout(rows, centroids, assign);
    return new IvfIndex(items, itemBias, lists, { ...p, lists: L, nprobe: Math.min(p.nprobe, L) }, options.kernels);
  }

  /**
   * Loads an index saved by {@link save} over the model's `items` (+ `itemBias`): `dataFingerprint` must match
   * the one it was built for; `nprobe` and `rerank` may be changed.
   */
  static load(path: string, dataFingerprint: string, items: DenseMatrix, itemBias: Float32Array | null, overrides: Partial<IvfSearchParams> = {}, kernels?: Kernels): IvfIndex {
    const file = resolve(path);
    const metaFile = `${file}.json`;
    let meta: IvfMeta;
    try {
      meta = parseMeta(JSON.parse(readFileSync(metaFile, 'utf8')), metaFile);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${metaFile}: no IVF index here (build one with --ann ivf)`);
      throw e;
    }
    if (meta.dataFingerprint !== dataFingerprint) throw new UsageError(`${metaFile}: the index was built for another training run (data fingerprint ${meta.dataFingerprint.slice(0, 12)}…, the model has ${dataFingerprint.slice(0, 12)}…); rebuild it`);
    if (meta.dims !== items.cols || meta.size !== items.rows || meta.bias !== (itemBias !== null)) throw new UsageError(`${metaFile}: built over ${meta.size} items × ${meta.dims}${meta.bias ? ' + bias' : ''}, the model has ${items.rows} × ${items.cols}${itemBias ? ' + bias' : ''}; rebuild it`);
    const buf = readFileSync(file);
    const at = (name: SectionName, bytesPer: number): [number, number] => {
      const [offset, count] = meta.sections[name];
      if (offset % 8 !== 0 || offset + count * bytesPer > buf.byteLength) throw new Error(`${file}: section ${name} (${count} values at byte ${offset}) lies outside the ${buf.byteLength}-byte file; rebuild the index`);
      return [buf.byteOffset + offset, count];
    };
    const f32 = (name: SectionName): Float32Array => new Float32Array(buf.buffer, ...at(name, 4));
    const i32 = (name: SectionName): Int32Array => new Int32Array(buf.buffer, ...at(name, 4));
    const w = meta.dims + (meta.bias ? 1 : 0);
    const lists: IvfLists = {
      width: w, lists: meta.lists, centroidCodes: new Uint8Array(buf.buffer, ...at('centroidCodes', 1)), listStart: i32('listStart'), slotItems: i32('slotItems'),
      codes: new Uint8Array(buf.buffer, ...at('codes', 1)), codeOffset: f32('codeOffset'), codeScale: f32('codeScale'),
    };
    if (lists.listStart.length !== meta.lists + 1 || lists.listStart[meta.lists] !== meta.slots) throw new Error(`${file}: the list offsets do not match ${metaFile}; rebuild the index`);
    const params = checkParams({ ...meta.params, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) });
    return new IvfIndex(items, itemBias, lists, params, kernels);
  }

  /** Writes the arrays to `path` and the description to `path.json`, each replaced atomically. */
  save(path: string, dataFingerprint: string): void {
    const file = resolve(path);
    const exists = statSync(file, { throwIfNoEntry: false });
    if (exists && !exists.isFile()) throw new UsageError(`${file}: exists and is not a regular file; refusing to replace it with an IVF index`);
    const sections = {} as Record<SectionName, [number, number]>;
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const name of SECTIONS) {
      const a = this.lists[name];
      sections[name] = [offset, a.length];
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      chunks.push(bytes);
      offset += bytes.byteLength;
      const pad = (8 - (offset % 8)) % 8;
      if (pad) chunks.push(new Uint8Array(pad));
      offset += pad;
    }
    writeFileSafe(file, chunks, { what: 'IVF index' });
    const meta: IvfMeta = {
      format: 'recsys-ivf', version: 1, dims: this.dims, size: this.size, bias: this.itemBias !== null, lists: this.lists.lists,
      slots: this.lists.listStart[this.lists.lists], params: this.params, dataFingerprint, sections,
    };
    writeFileSafe(`${file}.json`, JSON.stringify(meta, null, 2) + '\n', { what: 'IVF index description' });
  }

  /** The same index searched with other `nprobe` / `rerank` (shares the arrays). */
  with(overrides: Partial<IvfSearchParams>): IvfIndex {
    return new IvfIndex(this.items, this.itemBias, this.lists, checkParams({ ...this.params, ...overrides }), this.kernels);
  }

  async search(queries: DenseMatrix, k: number, exclude?: ReadonlySet<number>): Promise<VectorHits> {
    checkQueries(queries, this.dims, k);
    const kn = await this.kernelsToUse();
    const options = this.searchOptions(k);
    if (exclude && exclude.size > 0) options.excludeAll = Int32Array.from(exclude);
    const r = await kn.ivfSearch(queries, this.items, this.lists, k, options);
    return { k, items: r.items, scores: r.scores };
  }

  /** The top `k` of each query row, never returning row r's items in row r of `exclude`. */
  async searchRows(queries: DenseMatrix, k: number, exclude: CsrMatrix | null): Promise<VectorHits> {
    checkQueries(queries, this.dims, k);
    if (exclude && exclude.rows !== queries.rows) throw new RangeError(`searchRows: ${exclude.rows} exclusion rows for ${queries.rows} queries`);
    const kn = await this.kernelsToUse();
    const options = this.searchOptions(k);
    if (exclude && exclude.colIdx.length > 0) options.exclude = exclude;
    const r = await kn.ivfSearch(queries, this.items, this.lists, k, options);
    return { k, items: r.items, scores: r.scores };
  }

  /** The kernels given at construction, else the default ones; the first time, the random-read arrays are advised. */
  private async kernelsToUse(): Promise<Kernels> {
    if (this.resolved) return this.resolved;
    const kn = this.kernels ?? (await getKernels());
    kn.adviseHugePages([this.items.data, this.lists.codes, this.lists.slotItems]);
    this.resolved = kn;
    return kn;
  }

  private searchOptions(k: number): IvfSearchOptions {
    const exact = this.params.rerank > 0;
    const options: IvfSearchOptions = { nprobe: this.params.nprobe, rerank: exact ? Math.max(k + 16, Math.ceil(this.params.rerank * k)) : k, exact };
    if (this.itemBias) options.itemBias = this.itemBias;
    return options;
  }
}

/** Where the IVF index of the model in `modelDir` lives: a sibling file `DIR.ivf`. */
export function ivfPathFor(modelDir: string): string {
  return `${resolve(modelDir).replace(/\/+$/, '')}.ivf`;
}

function checkParams(p: IvfParams): IvfParams {
  for (const [key, min, max] of [['lists', 1, 65536], ['nprobe', 1, 65536], ['iterations', 0, 1000], ['samplePerList', 1, 100000]] as const) {
    const v = p[key];
    if (!(Number.isInteger(v) && v >= min && v <= max)) throw new RangeError(`IVF ${key} must be an integer in [${min}, ${max}] (got ${v})`);
  }
  if (!(typeof p.rerank === 'number' && (p.rerank === 0 || (p.rerank >= 1 && p.rerank <= 100)))) throw new RangeError(`IVF rerank must be 0 (no exact pass) or a number in [1, 100] (got ${p.rerank})`);
  if (!Number.isInteger(p.seed)) throw new RangeError(`IVF seed must be an integer (got ${p.seed})`);
  return { lists: p.lists, nprobe: p.nprobe, rerank: p.rerank, iterations: p.iterations, samplePerList: p.samplePerList, seed: p.seed };
}

/** The item rows [v, b?] the lists are built over (the items themselves without a bias). */
function widened(items: DenseMatrix, bias: Float32Array | null): DenseMatrix {
  if (!bias) return items;
  const d = items.cols;
  const w = d + 1;
  const data = new Float32Array(items.rows * w);
  for (let i = 0; i < items.rows; i++) {
    data.set(items.data.subarray(i * d, i * d + d), i * w);
    data[i * w + d] = bias[i];
  }
  return { rows: items.rows, cols: w, data };
}

/** Each row's nearest centroid (argmax x·c − ‖c‖²/2 = argmin ‖x − c‖², one fused score + top-1). */
async function nearest(kn: Kernels, rows: DenseMatrix, centroids: DenseMatrix): Promise<Int32Array> {
  const w = centroids.cols;
  const half = new Float32Array(centroids.rows);
  for (let c = 0; c < centroids.rows; c++) {
    let s = 0;
    for (let j = c * w; j < c * w + w; j++) s += centroids.data[j] * centroids.data[j];
    half[c] = -s / 2;
  }
  const r = await kn.scoreTopK(rows, centroids, 1, { itemBias: half });
  return r.items;
}

/**
 * Lloyd's k-means on a sample of `samplePerList`·L rows (all when fewer): centroids start at distinct sample
 * rows; a list left empty takes over half of a large one (its centroid copied and both nudged apart, as Faiss does).
 */
async function kMeans(kn: Kernels, rows: DenseMatrix, L: number, p: IvfParams, progress?: (done: number, total: number) => void): Promise<DenseMatrix> {
  const n = rows.rows;
  const w = rows.cols;
  const rng = new Rng(p.seed);
  const S = Math.min(n, Math.max(L, p.samplePerList * L));
  let sample = rows;
  if (S < n) {
    const data = new Float32Array(S * w);
    rng.sample(n, S).forEach((i, r) => data.set(rows.data.subarray(i * w, i * w + w), r * w));
    sample = { rows: S, cols: w, data };
  }
  const centroids: DenseMatrix = { rows: L, cols: w, data: new Float32Array(L * w) };
  const start = rng.sample(S, L);
  start.forEach((r, c) => centroids.data.set(sample.data.subarray(r * w, r * w + w), c * w));
  const sums = new Float64Array(L * w);
  const counts = new Int32Array(L);
  for (let it = 0; it < p.iterations; it++) {
    const assign = await nearest(kn, sample, centroids);
    sums.fill(0);
    counts.fill(0);
    for (let r = 0; r < S; r++) {
      const c = assign[r];
      counts[c]++;
      for (let j = 0; j < w; j++) sums[c * w + j] += sample.data[r * w + j];
    }
    for (let c = 0; c < L; c++) if (counts[c] > 0) for (let j = 0; j < w; j++) centroids.data[c * w + j] = sums[c * w + j] / counts[c];
    for (let c = 0; c < L; c++) {
      if (counts[c] > 0) continue;
      // Split a list drawn with probability ∝ (size − 1).
      let total = 0;
      for (let x = 0; x < L; x++) total += Math.max(0, counts[x] - 1);
      if (total === 0) break;
      let pick = rng.uniform() * total;
      let big = 0;
      while (big < L - 1 && (pick -= Math.max(0, counts[big] - 1)) >= 0) big++;
      for (let j = 0; j < w; j++) {
        const v = centroids.data[big * w + j];
        const nudge = 1e-4 * (Math.abs(v) > 1e-12 ? Math.abs(v) : 1);
        centroids.data[c * w + j] = v + nudge;
        centroids.data[big * w + j] = v - nudge;
      }
      counts[c] = counts[big] >> 1;
      counts[big] -= counts[c];
    }
    progress?.(it + 1, p.iterations);
  }
  return centroids;
}

/** The kernels' arrays: lists padded to blocks of 8 slots, 7-bit codes per coordinate range (items and centroids). */
function layout(rows: DenseMatrix, centroids: DenseMatrix, assign: Int32Array): IvfLists {
  const n = rows.rows;
  const w = rows.cols;
  const L = centroids.rows;
  const wp = Math.ceil(w / 4) * 4;
  const sizes = new Int32Array(L);
  for (let i = 0; i < n; i++) sizes[assign[i]]++;
  const listStart = new Int32Array(L + 1);
  for (let l = 0; l < L; l++) listStart[l + 1] = listStart[l] + Math.ceil(sizes[l] / 8) * 8;
  const slots = listStart[L];
  const slotItems = new Int32Array(slots).fill(-1);
  const fill = listStart.slice(0, L);
  for (let i = 0; i < n; i++) slotItems[fill[assign[i]]++] = i;
  const codeOffset = new Float32Array(w);
  const codeScale = new Float32Array(w);
  for (let j = 0; j < w; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = rows.data[i * w + j];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    codeOffset[j] = lo;
    codeScale[j] = (hi - lo) / 127;
  }
  /** Row i of `m` coded into `into` at slot s (the kernels' block layout). */
  const encode = (m: DenseMatrix, i: number, into: Uint8Array, s: number): void => {
    const block = (s >> 3) * 8 * wp + (s & 7) * 4;
    for (let j = 0; j < w; j++) {
      const scale = codeScale[j];
      const c = scale > 0 ? Math.round((m.data[i * w + j] - codeOffset[j]) / scale) : 0;
      into[block + (j >> 2) * 32 + (j & 3)] = Math.max(0, Math.min(127, c));
    }
  };
  const codes = new Uint8Array(slots * wp);
  for (let s = 0; s < slots; s++) if (slotItems[s] >= 0) encode(rows, slotItems[s], codes, s);
  // Centroids are means of items, inside the items' range: the same codes fit them.
  const centroidCodes = new Uint8Array(Math.ceil(L / 8) * 8 * wp);
  for (let l = 0; l < L; l++) encode(centroids, l, centroidCodes, l);
  return { width: w, lists: L, centroidCodes, listStart, slotItems, codes, codeOffset, codeScale };
}

function parseMeta(v: unknown, file: string): IvfMeta {
  const bad = (field: string): never => {
    throw new Error(`${file}: field "${field}" missing or invalid`);
  };
  if (typeof v !== 'object' || v === null) return bad('(root)');
  const o: Record<string, unknown> = { ...v };
  if (o.format !== 'recsys-ivf') bad('format');
  if (o.version !== 1) bad('version');
  const int = (f: string, min: number): number => (typeof o[f] === 'number' && Number.isInteger(o[f]) && Number(o[f]) >= min ? Number(o[f]) : bad(f));
  const dims = int('dims', 1);
  const size = int('size', 1);
  const lists = int('lists', 1);
  const slots = int('slots', 0);
  if (typeof o.bias !== 'boolean') bad('bias');
  if (typeof o.dataFingerprint !== 'string') bad('dataFingerprint');
  const p = o.params;
  if (typeof p !== 'object' || p === null) return bad('params');
  const pp: Record<string, unknown> = { ...p };
  for (const f of ['lists', 'nprobe', 'rerank', 'iterations', 'samplePerList', 'seed']) if (typeof pp[f] !== 'number') bad(`params.${f}`);
  const sec = o.sections;
  if (typeof sec !== 'object' || sec === null) return bad('sections');
  const ss: Record<string, unknown> = { ...sec };
  const sections = {} as Record<SectionName, [number, number]>;
  for (const name of SECTIONS) {
    const e = ss[name];
    if (!(Array.isArray(e) && e.length === 2 && e.every((x) => Number.isInteger(x) && x >= 0))) return bad(`sections.${name}`);
    sections[name] = [Number(e[0]), Number(e[1])];
  }
  return {
    format: 'recsys-ivf', version: 1, dims, size, bias: Boolean(o.bias), lists, slots, dataFingerprint: String(o.dataFingerprint), sections,
    params: { lists: Number(pp.lists), nprobe: Number(pp.nprobe), rerank: Number(pp.rerank), iterations: Number(pp.iterations), samplePerList: Number(pp.samplePerList), seed: Number(pp.seed) },
  };
}
