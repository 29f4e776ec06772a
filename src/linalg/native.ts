/**
 * The native {@link Kernels}: C++ kernels (AVX2+FMA or AVX-512F, chosen from CPUID when the addon loads) on the
 * addon's own thread pool. Typed arrays are handed to the kernels as they are — no staging, no copies: results are
 * written straight into the caller's arrays (GEMM's `c`, ALS's X, spdInverse with `overwrite`, BPR's factors) or
 * into fresh ordinary arrays. Calls whose work is below {@link NATIVE_PARALLEL_MIN_WORK} run synchronously on the
 * calling thread; up to {@link NATIVE_SYNC_MAX_WORK} (a millisecond or two) synchronously on the calling thread
 * joined by the pool's workers (no hop through libuv's thread pool, whose cost is a large share of such a call);
 * larger ones run as napi async work, whose worker thread joins the pool's threads − 1 workers, so the event
 * loop keeps running. Calls are serialized in call order (a later call sees an earlier one's output).
 */
import type {
  AdamStepOptions,
  AlsExplicitOptions,
  BprEpochOptions,
  BprProblem,
  CsrMatrix,
  DenseMatrix,
  GemmOptions,
  IalsOptions,
  IvfLists,
  IvfSearchOptions,
  Kernels,
  PackedItems,
  ScoreTopKOptions,
  SpdInverseOptions,
  TopKOptions,
  TopKResult,
} from './api.js';
import { adamConstants } from './adam.js';
import { loadNativeAddon, type NativeAddon, type NativeBuffer, type NativeInfo, type NativePool } from './native-addon.js';
import { packWithoutCopy, ReferenceKernels } from './reference.js';
import { checkAdam, checkBpr, checkCsr, checkDense, checkDropout, checkElementwise, checkGram, checkHalfStep, checkIvfSearch, checkMultinomial, checkScoreTopK, checkTopK, fail, gemmShape } from './validate.js';
import { defaultThreads } from './wasm.js';

/** Work (≈ flops) below which a call runs synchronously on the calling thread. */
export const NATIVE_PARALLEL_MIN_WORK = 4e6;

/** Work (≈ flops) up to which a parallel call still runs synchronously (the calling thread joins the pool). */
export const NATIVE_SYNC_MAX_WORK = 3e8;
/** Length from which the synchronous vector helpers call the addon (below, plain JS is as fast). */
const SYNC_NATIVE_MIN_LENGTH = 1024;
/** Diagonal block size of the blocked SPD inverse. */
const INVERSE_BLOCK = 128;

/** The kernel names of native/src/kernels.inc, in table order. */
const OPS = ['gemm', 'gram', 'sparseGram', 'csrMatmul', 'denseCsrT', 'choleskySolve', 'spdFactor', 'spdInvertL', 'spdProduct', 'fillUpper', 'als', 'topk', 'scoreTopK', 'packItems', 'ivfSearch', 'adviseHugePages', 'adam', 'multinomial', 'dropout', 'tanh', 'bpr', 'rowNorms', 'normalizeRows', 'dot', 'axpy'] as const;
type Op = (typeof OPS)[number];

/**
 * The native copy behind a {@link PackedItems}: V in the GEMM's B-panel layout of this addon's ISA (`nr`-item
 * slivers, nPad = ⌈items/nr⌉·nr), starting `offset` floats into `buffer` (the first 64-byte boundary).
 */
interface NativePanels {
  buffer: Float32Array;
  offset: number;
  nPad: number;
  nr: number;
}

/** Panels of the packs made by native kernels (any instance: one addon, one ISA per process). */
const panelsOf = new WeakMap<PackedItems, NativePanels>();

/** The column list sorted and de-duplicated: the list itself when it already is (read-only, as every operand). */
function sortedUnique(values: Int32Array): Int32Array {
  let sorted = true;
  for (let i = 1; i < values.length && sorted; i++) sorted = values[i] > values[i - 1];
  if (sorted) return values;
  const out = offHeapI32(values.length);
  out.set(values);
  out.sort();
  let m = 0;
  for (let i = 0; i < out.length; i++) if (m === 0 || out[i] !== out[m - 1]) out[m++] = out[i];
  return out.subarray(0, m);
}

/**
 * Zeroed result arrays never placed on V8's heap: typed arrays of ≤ 64 bytes are, and handing one to native code
 * makes V8 move it to a backing store of its own first (a malloc and a later sweep, microseconds per call).
 */
function offHeapI32(n: number): Int32Array {
  return n > 16 ? new Int32Array(n) : new Int32Array(17).subarray(0, n);
}

function offHeapF32(n: number): Float32Array {
  return n > 16 ? new Float32Array(n) : new Float32Array(17).subarray(0, n);
}

/** The native kernels. Create with {@link createNativeKernels}. */
export class NativeKernels implements Kernels {
  /** Always "native". */
  readonly kind = 'native';
  private readonly reference = new ReferenceKernels();
  private readonly opIndex = new Map<Op, number>();
  /** Reused by {@link argsOf} (48 values: the addon's maximum). */
  private readonly argScratch = new Float64Array(48);
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private closed_ = false;
  private readonly dotOut = new Float64Array(1);

  constructor(
    private readonly addon: NativeAddon,
    private readonly pool: NativePool,
    /** Threads of the pool (the calling thread of an async job included). */
    readonly threads: number,
    /** What the addon reports: ISA, CPU, micro-kernel shape. */
    readonly info: NativeInfo,
  ) {
    for (const op of OPS) {
      const i = info.ops.indexOf(op);
      if (i < 0) throw new Error(`linalg: the native addon lacks the kernel "${op}" (rebuild with \`npm run build:native -- --force\`)`);
      this.opIndex.set(op, i);
    }
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.closed_;
  }

  /** 'avx2' or 'avx512'. */
  get isa(): string {
    return this.info.isa;
  }

  /** A zeroed ordinary array: every array is passed to the native kernels without copying. */
  allocF32(length: number): Float32Array {
    return new Float32Array(length);
  }

  /** A zeroed ordinary array. */
  allocI32(length: number): Int32Array {
    return new Int32Array(length);
  }

  /** Nothing to do: the garbage collector owns these arrays. */
  free(_array: Float32Array | Int32Array): void {}

  /** Runs `op` now (sync, when nothing is queued) or after every earlier call; resolves with its status. */
  private exec(op: Op, buffers: NativeBuffer[], args: number[], work: number): Promise<number> {
    if (this.closed_) return Promise.reject(new Error('linalg: the kernels were closed'));
    const index = this.opIndex.get(op) as number;
    // 0: this thread alone; 2: this thread joined by the pool; 1: async work on the pool.
    const mode = work < NATIVE_PARALLEL_MIN_WORK ? 0 : work <= NATIVE_SYNC_MAX_WORK ? (this.threads > 1 ? 2 : 0) : 1;
    if (mode !== 1 && this.queued === 0) return Promise.resolve(this.addon.call(this.pool, index, buffers, this.argsOf(args), mode));
    const a = Float64Array.from(args);
    this.queued++;
    const run = this.tail.then(() => this.addon.call(this.pool, index, buffers, a, mode));
    this.tail = run.catch(() => undefined);
    return run.finally(() => {
      this.queued--;
    });
  }

  /**
   * The arguments of a call made now, in one reused array: the addon copies them before it returns. A fresh
   * Float64Array of ≤ 8 values would live on V8's heap, and handing it to native code makes V8 move it to a
   * backing store of its own (a malloc and a later sweep: a few microseconds a call).
   */
  private argsOf(args: readonly number[]): Float64Array {
    const a = this.argScratch.subarray(0, args.length);
    a.set(args);
    return a;
  }

  /** Synchronous call (the vector helpers, dropout): runs at once on the calling thread. */
  private now(op: Op, buffers: NativeBuffer[], args: number[]): number {
    if (this.closed_) throw new Error('linalg: the kernels were closed');
    const result = this.addon.call(this.pool, this.opIndex.get(op) as number, buffers, this.argsOf(args), false);
    if (typeof result !== 'number') throw new Error(`linalg: native ${op} did not run synchronously`);
    return result;
  }

  /** C = alpha·op(A)·op(B) + beta·C, written into `options.c` in place when given. */
  async gemm(a: DenseMatrix, b: DenseMatrix, options: GemmOptions = {}): Promise<DenseMatrix> {
    const { m, n, k } = gemmShape(a, b, options);
    const c = options.c ?? { rows: m, cols: n, data: new Float32Array(m * n) };
    if (m === 0 || n === 0) return c;
    const args = [0, a.cols, 0, b.cols, 0, n, m, n, k, options.transA ? 1 : 0, options.transB ? 1 : 0, options.alpha ?? 1, options.beta ?? 0, 0];
    await this.exec('gemm', [a.data, b.data, c.data], args, 2 * m * n * Math.max(k, 1));
    return c;
  }

  /** XᵀX: float32 GEMM partials over fixed row blocks, summed in float64. */
  async gram(x: DenseMatrix): Promise<DenseMatrix> {
    checkDense('gram', 'X', x);
    const out = new Float32Array(x.cols * x.cols);
    if (x.cols > 0) await this.exec('gram', [x.data, out], [x.rows, x.cols], 2 * x.rows * x.cols * x.cols);
    return { rows: x.cols, cols: x.cols, data: out };
  }

  /** Row i of XᵀX from the users of item i (CSC built inside), float64 row accumulators; rows over threads. */
  async sparseGram(x: CsrMatrix): Promise<DenseMatrix> {
    checkCsr('sparseGram', 'X', x);
    const n = x.cols;
    const out = new Float32Array(n * n);
    if (n === 0) return { rows: 0, cols: 0, data: out };
    let work = n * n;
    for (let r = 0; r < x.rows; r++) work += 2 * (x.rowPtr[r + 1] - x.rowPtr[r]) ** 2;
    await this.exec('sparseGram', [x.rowPtr, x.colIdx, x.values, out], [x.rows, n], work);
    return { rows: n, cols: n, data: out };
  }

  /** Float64 Cholesky per system, systems over the threads. */
  async choleskySolveBatched(a: Float32Array, b: Float32Array, k: number, batch: number): Promise<Float32Array> {
    if (!Number.isInteger(k) || k < 0 || !Number.isInteger(batch) || batch < 0) fail('choleskySolveBatched', `invalid k=${k} or batch=${batch}`);
    if (a.length < batch * k * k) fail('choleskySolveBatched', `a holds ${a.length} values, needs ${batch}·${k}·${k}`);
    if (b.length < batch * k) fail('choleskySolveBatched', `b holds ${b.length} values, needs ${batch}·${k}`);
    const x = new Float32Array(batch * k);
    if (batch === 0 || k === 0) return x;
    const status = await this.exec('choleskySolve', [a, b, x], [k, batch], batch * ((k * k * k) / 3 + 2 * k * k));
    if (status !== 0) fail('choleskySolveBatched', `system ${status - 1} is not positive definite`);
    return x;
  }

  /**
   * Blocked right-looking Cholesky (float64 diagonal blocks, GEMM panel solves and lower-triangle trailing
   * updates), Z = L⁻¹ in place by block rows, A⁻¹ = ZᵀZ by block rows: one n×n working matrix (the input itself
   * with `overwrite`) plus an n×128 temporary.
   */
  async spdInverse(a: DenseMatrix, options: SpdInverseOptions = {}): Promise<DenseMatrix> {
    checkDense('spdInverse', 'A', a);
    if (a.rows !== a.cols) fail('spdInverse', `A must be square, is ${a.rows}×${a.cols}`);
    const n = a.rows;
    if (n === 0) return { rows: 0, cols: 0, data: new Float32Array(0) };
    const nb = INVERSE_BLOCK;
    const w = options.overwrite ? a.data : a.data.slice(0, n * n);
    const tmp = new Float32Array(n * nb);
    const inv = new Float32Array(nb * nb);
    const blocks = Math.ceil(n / nb);
    let stepsDone = 0;
    const step = (): void => {
      options.signal?.throwIfAborted();
      options.onProgress?.(++stepsDone, 3 * blocks);
    };
    options.signal?.throwIfAborted();
    for (let j0 = 0; j0 < n; j0 += nb) {
      const rest = n - j0 - Math.min(nb, n - j0);
      const status = await this.exec('spdFactor', [w, tmp, inv], [n, nb, j0], 2 * rest * rest * nb + 2 * rest * nb * nb);
      if (status !== 0) fail('spdInverse', `A is not symmetric positive definite (pivot ${status - 1} is not positive)`);
      step();
    }
    await this.exec('fillUpper', [w], [n, 1], n * n);
    for (let i0 = 0; i0 < n; i0 += nb) {
      await this.exec('spdInvertL', [w, tmp, inv], [n, nb, i0], nb * i0 * (i0 + 2 * nb));
      step();
    }
    for (let i0 = 0; i0 < n; i0 += nb) {
      await this.exec('spdProduct', [w, tmp], [n, nb, i0], 2 * nb * (i0 + nb) * (n - i0));
      step();
    }
    await this.exec('fillUpper', [w], [n, 0], n * n);
    return options.overwrite ? a : { rows: n, cols: n, data: w };
  }

  /** CSR × dense with float32 row updates, rows over the threads. */
  async csrMatmul(a: CsrMatrix, b: DenseMatrix): Promise<DenseMatrix> {
    checkCsr('csrMatmul', 'A', a);
    checkDense('csrMatmul', 'B', b);
    if (a.cols !== b.rows) fail('csrMatmul', `A is ${a.rows}×${a.cols}, B is ${b.rows}×${b.cols}`);
    const d = b.cols;
    const out = new Float32Array(a.rows * d);
    if (a.rows > 0 && d > 0) await this.exec('csrMatmul', [a.rowPtr, a.colIdx, a.values, b.data, out], [a.rows, d], 2 * a.rowPtr[a.rows] * d + a.rows * d);
    return { rows: a.rows, cols: d, data: out };
  }

  /** B·Aᵀ as (A·Bᵀ)ᵀ: tiled transposes around the CSR × dense kernel. */
  async denseCsrT(b: DenseMatrix, a: CsrMatrix): Promise<DenseMatrix> {
    checkCsr('denseCsrT', 'A', a);
    checkDense('denseCsrT', 'B', b);
    if (a.cols !== b.cols) fail('denseCsrT', `B is ${b.rows}×${b.cols}, A is ${a.rows}×${a.cols} (needs B.cols = A.cols)`);
    const d = b.rows;
    const out = new Float32Array(d * a.rows);
    if (d > 0 && a.rows > 0) await this.exec('denseCsrT', [a.rowPtr, a.colIdx, a.values, b.data, out], [a.rows, a.cols, d], 2 * a.rowPtr[a.rows] * d + 2 * (a.rows + a.cols) * d);
    return { rows: d, cols: a.rows, data: out };
  }

  /** Shared body of both ALS half steps (X written in place). */
  private async alsStep(kernel: string, r: CsrMatrix, y: DenseMatrix, x: DenseMatrix, implicit: IalsOptions | undefined, explicit: AlsExplicitOptions | undefined): Promise<void> {
    checkHalfStep(kernel, r, y, x);
    const f = y.cols;
    if (r.rows === 0 || f === 0) return;
    const nnz = r.rowPtr[r.rows];
    let work = nnz * f * f + (r.rows * f * f * f) / 3;
    let gram: Float32Array | null = null;
    let args: number[];
    if (implicit) {
      if (implicit.gram) gram = checkGram(kernel, implicit.gram, f).data;
      const solver = implicit.solver === 'cg' ? 1 : 0;
      const cgSteps = implicit.cgSteps ?? 3;
      if (solver === 1) work = (cgSteps + 1) * (r.rows * f * f * 2 + nnz * f * 4);
      if (!gram) work += 2 * y.rows * f * f;
      args = [r.rows, y.rows, f, (implicit.confidence ?? 'linear') === 'log' ? 1 : 0, implicit.unobservedWeight ?? 1, implicit.alpha, implicit.eps ?? 1, implicit.reg, implicit.regExponent ?? 0, solver, cgSteps];
    } else {
      const e = explicit as AlsExplicitOptions;
      args = [r.rows, y.rows, f, 2, 0, 0, 1, e.reg, (e.scaleByCount ?? true) ? 1 : 0, 0, 0];
    }
    const status = await this.exec('als', [r.rowPtr, r.colIdx, r.values, y.data, x.data, gram], args, work);
    if (status !== 0) fail(kernel, `the system of row ${status - 1} is not positive definite (is reg > 0?)`);
  }

  /** Implicit ALS half step (Cholesky or warm-started CG), rows over the threads. */
  ialsHalfStep(r: CsrMatrix, y: DenseMatrix, x: DenseMatrix, options: IalsOptions): Promise<void> {
    return this.alsStep('ialsHalfStep', r, y, x, options, undefined);
  }

  /** Explicit ALS-WR half step, rows over the threads. */
  alsExplicitHalfStep(r: CsrMatrix, y: DenseMatrix, x: DenseMatrix, options: AlsExplicitOptions): Promise<void> {
    return this.alsStep('alsExplicitHalfStep', r, y, x, undefined, options);
  }

  /** [candidates, exclude.rowPtr, exclude.colIdx, excludeAll] for the selection kernels (null = absent). */
  private selection(options: TopKOptions): NativeBuffer[] {
    const all = options.excludeAll && options.excludeAll.length > 0 ? sortedUnique(options.excludeAll) : null;
    return [options.candidates ? sortedUnique(options.candidates) : null, options.exclude?.rowPtr ?? null, options.exclude?.colIdx ?? null, all];
  }

  /** Heap selection per row, rows over the threads. */
  async topk(scores: DenseMatrix, k: number, options: TopKOptions = {}): Promise<TopKResult> {
    checkDense('topk', 'scores', scores);
    checkTopK('topk', scores.rows, scores.cols, k, options);
    const rows = scores.rows;
    const items = offHeapI32(rows * k);
    const out = offHeapF32(rows * k);
    if (rows === 0 || k === 0) return { k, items, scores: out };
    await this.exec('topk', [scores.data, ...this.selection(options), items, out], [rows, scores.cols, k], rows * scores.cols * 4);
    return { k, items, scores: out };
  }

  /**
   * Blocks of ≤ 64 users × 4096-item tiles feeding per-user heaps; the full score matrix never exists. Tiles of
   * 1–4 users are scored by FMA chains over V's rows (transposed in registers, or streamed from `options.packed`'s
   * panels), larger ones by the GEMM (which skips packing V when given the panels); every path computes each score
   * with the same operations, so the results are bit-identical. 1–4 users on several threads split the items over
   * them instead (one selection per thread, merged by the full order: the same lists).
   */
  async scoreTopK(u: DenseMatrix, v: DenseMatrix, k: number, options: ScoreTopKOptions = {}): Promise<TopKResult> {
    checkScoreTopK(u, v, k, options);
    const users = u.rows;
    const items = offHeapI32(users * k);
    const out = offHeapF32(users * k);
    if (users === 0 || k === 0) return { k, items, scores: out };
    const panels = options.packed ? panelsOf.get(options.packed) : undefined;
    const args = [users, v.rows, u.cols, k, panels?.offset ?? 0, panels?.nPad ?? 0, panels?.nr ?? 0];
    const status = await this.exec('scoreTopK', [u.data, v.data, options.itemBias ?? null, ...this.selection(options), items, out, panels?.buffer ?? null], args, 2 * users * v.rows * Math.max(u.cols, 1));
    if (status !== 0) fail('scoreTopK', `options.packed does not fit this kernel build (${panels?.nr}-item panels at offset ${panels?.offset}; the ${this.isa} kernels read 64-byte aligned ${this.info.nr}-item panels); pack V again`);
    return { k, items, scores: out };
  }

  /**
   * V (items × f) copied into the GEMM's B-panel layout (⌈items/NR⌉·NR × f floats + 64 bytes, i.e. about V's own
   * size), in parallel. scoreTopK with it streams the panels: no transposes for 1–4 users, no packing of V for more.
   */
  async packItems(v: DenseMatrix): Promise<PackedItems> {
    checkDense('packItems', 'V', v);
    // Nothing to stream without items or factors: such a pack holds no panels (scoreTopK scores V as given).
    if (v.rows === 0 || v.cols === 0) return packWithoutCopy(v);
    const nr = this.info.nr;
    const nPad = Math.ceil(v.rows / nr) * nr;
    // 16 floats of slack: the panels start at the buffer's first 64-byte boundary (aligned vector loads).
    const buffer = new Float32Array(v.cols * nPad + 16);
    const meta = new Int32Array(1);
    const status = await this.exec('packItems', [v.data, buffer, meta], [v.rows, v.cols, nPad], 4 * v.rows * v.cols);
    if (status !== 0) fail('packItems', `the native kernel rejected ${v.rows}×${v.cols} panels of ${nr} items (status ${status})`);
    const packed: PackedItems = Object.freeze({ rows: v.rows, cols: v.cols, source: v.data, bytes: buffer.byteLength });
    panelsOf.set(packed, { buffer, offset: meta[0], nPad, nr });
    return packed;
  }

  /**
   * One query per thread task (one query: on the calling thread): centroid and item codes scored 8 slots at a time
   * with vpmaddubsw (7-bit codes × the 8-bit query), candidates in a heap, their rows prefetched as they enter and
   * scored exactly (docs/kernels.md).
   */
  async ivfSearch(queries: DenseMatrix, v: DenseMatrix, lists: IvfLists, k: number, options: IvfSearchOptions): Promise<TopKResult> {
    checkIvfSearch(queries, v, lists, k, options);
    const rows = queries.rows;
    const items = offHeapI32(rows * k);
    const out = offHeapF32(rows * k);
    if (rows === 0 || k === 0) return { k, items, scores: out };
    const [, exclRowPtr, exclColIdx, exclAll] = this.selection(options);
    const buffers: NativeBuffer[] = [queries.data, v.data, options.itemBias ?? null, lists.centroidCodes, lists.listStart, lists.slotItems, lists.codes, lists.codeOffset, lists.codeScale, exclRowPtr, exclColIdx, exclAll, items, out];
    const exact = options.exact ?? true;
    const args = [rows, v.rows, v.cols, lists.width, lists.lists, k, options.nprobe, exact ? Math.max(options.rerank, k) : k, exact ? 1 : 0];
    // Work: the probed share of the codes, per query.
    const work = rows * (lists.lists * lists.width + (lists.listStart[lists.lists] * Math.min(options.nprobe, lists.lists) / lists.lists) * lists.width) * 2;
    const status = await this.exec('ivfSearch', buffers, args, work);
    if (status !== 0) fail('ivfSearch', 'the native kernel rejected the index arrays (shorter than their layout)');
    return { k, items, scores: out };
  }

  /** madvise(MADV_HUGEPAGE, then MADV_COLLAPSE) on each array's 2 MiB-aligned interior; refusals are ignored (a hint). */
  adviseHugePages(arrays: readonly (Float32Array | Int32Array | Uint8Array)[]): void {
    if (arrays.length === 0) return;
    this.now('adviseHugePages', [...arrays], arrays.map((a) => a.byteLength));
  }

  /** Adam in float32 lanes, element chunks over the threads, in place on the caller's arrays. */
  async adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, options: AdamStepOptions): Promise<void> {
    checkAdam(w, g, m, v);
    const n = w.length;
    if (n === 0) return;
    const c = adamConstants(options);
    await this.exec('adam', [w, g, m, v], [n, c.l2, c.shrink, options.beta1, options.beta2, c.lrC1, c.c2, options.eps, options.clearGrad ? 1 : 0], n * 16);
  }

  /** Multinomial NLL: row chunks over the threads (vectorized exp), per-row losses summed here in row order. */
  async multinomialNll(logits: DenseMatrix, targets: CsrMatrix, grad: DenseMatrix): Promise<number> {
    checkMultinomial(logits, targets, grad);
    const { rows, cols } = logits;
    if (rows === 0) return NaN;
    const losses = new Float64Array(rows);
    await this.exec('multinomial', [logits.data, targets.rowPtr, targets.colIdx, targets.values, grad.data, losses], [rows, cols], rows * cols * 24);
    let total = 0;
    for (let r = 0; r < rows; r++) total += losses[r];
    return total / rows;
  }

  /** tanh in float32 lanes (vectorized exp), element chunks over the threads for large inputs. */
  async tanh(x: DenseMatrix, out: DenseMatrix): Promise<void> {
    checkElementwise('tanh', x, out);
    const n = x.rows * x.cols;
    if (n > 0) await this.exec('tanh', [x.data, out.data], [n], n * 20);
  }

  /**
   * BPR SGD: chunk c runs ceil(steps/chunks) updates from its own xorshift32 streams; with several chunks and
   * threads they run concurrently on the caller's factor arrays (Hogwild), else in order (deterministic).
   */
  async bprEpoch(problem: BprProblem, userF: DenseMatrix, itemF: DenseMatrix, itemB: Float32Array, options: BprEpochOptions): Promise<{ logLik: number; count: number }> {
    const [nnz, f, chunks] = checkBpr(problem, userF, itemF, itemB, options);
    if (nnz === 0 || options.steps === 0) return { logLik: 0, count: 0 };
    const r = problem.r;
    const per = Math.ceil(options.steps / chunks);
    const used = Math.ceil(options.steps / per);
    const sums = new Float64Array(used * 2);
    const args = [nnz, r.cols, f, options.steps, per, options.lr, options.reg, options.seed >>> 0, used];
    await this.exec('bpr', [r.rowPtr, r.colIdx, problem.entryUser, problem.positives ?? null, userF.data, itemF.data, itemB, sums], args, options.steps * (f * 8 + 50));
    let logLik = 0;
    let count = 0;
    for (let c = 0; c < used; c++) {
      logLik += sums[2 * c];
      count += sums[2 * c + 1];
    }
    return { logLik, count };
  }

  /** xoshiro128** dropout on the calling thread; the generator state is advanced in place. */
  dropoutCsr(x: CsrMatrix, p: number, rngState: Uint32Array): CsrMatrix {
    checkDropout(x, p, rngState);
    const nnz = x.rowPtr[x.rows];
    const rowPtr = new Int32Array(x.rows + 1);
    const colIdx = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    this.now('dropout', [x.rowPtr, x.colIdx, x.values, rngState, rowPtr, colIdx, values], [x.rows, p, 1 / (1 - p)]);
    const kept = rowPtr[x.rows];
    return { rows: x.rows, cols: x.cols, rowPtr, colIdx: kept === nnz ? colIdx : colIdx.slice(0, kept), values: kept === nnz ? values : values.slice(0, kept) };
  }

  /** Row norms (float64 sums). */
  rowNorms(x: DenseMatrix): Float32Array {
    checkDense('rowNorms', 'X', x);
    if (x.rows * x.cols < SYNC_NATIVE_MIN_LENGTH) return this.reference.rowNorms(x);
    const out = new Float32Array(x.rows);
    this.now('rowNorms', [x.data, out], [x.rows, x.cols]);
    return out;
  }

  /** Unit-normalizes rows in place (zero rows stay zero). */
  normalizeRows(x: DenseMatrix): void {
    checkDense('normalizeRows', 'X', x);
    if (x.rows * x.cols < SYNC_NATIVE_MIN_LENGTH) this.reference.normalizeRows(x);
    else this.now('normalizeRows', [x.data], [x.rows, x.cols]);
  }

  /** Float64 dot product. */
  dot(a: Float32Array, b: Float32Array): number {
    if (a.length !== b.length) fail('dot', `lengths differ: ${a.length} and ${b.length}`);
    if (a.length < SYNC_NATIVE_MIN_LENGTH) return this.reference.dot(a, b);
    this.now('dot', [a, b, this.dotOut], [a.length]);
    return this.dotOut[0];
  }

  /** y += alpha·x. */
  axpy(alpha: number, x: Float32Array, y: Float32Array): void {
    if (x.length !== y.length) fail('axpy', `lengths differ: ${x.length} and ${y.length}`);
    if (x.length < SYNC_NATIVE_MIN_LENGTH) this.reference.axpy(alpha, x, y);
    else this.now('axpy', [x, y], [alpha, x.length]);
  }

  /** Waits for queued calls; the instance cannot be used afterwards (idle pool threads never hold the process). */
  async close(): Promise<void> {
    if (this.closed_) return;
    this.closed_ = true;
    await this.tail;
  }
}

/** Loads the addon and starts a pool of `threads` threads; throws when the addon is missing or cannot run here. */
export async function createNativeKernels(threads: number = defaultThreads()): Promise<NativeKernels> {
  const addon = loadNativeAddon();
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`linalg: threads must be a positive integer, got ${threads}`);
  return new NativeKernels(addon, addon.createPool(threads), threads, addon.info());
}
