/**
 * The fast {@link Kernels}: AssemblyScript SIMD kernels (build/kernels-relaxed.wasm or build/kernels.wasm) on a
 * worker pool over one shared WebAssembly memory. Inputs that already live in that memory (allocF32/allocI32) are
 * used in place; other inputs are copied into temporary blocks that are freed after the call (the first-fit
 * allocator hands the same blocks out again on the next call, so repeated calls do not grow memory). Results are
 * copied out into ordinary arrays, except GEMM's `c` (and spdInverse with `overwrite`) in shared memory. Where a
 * call is cheaper in JavaScript than staged for WebAssembly (the synchronous row norms, dot and axpy on small or
 * non-shared arrays), it delegates to the reference implementation.
 */
import { availableParallelism } from 'node:os';
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
import { SharedAllocator } from './allocator.js';
import { WorkerPool, type Job } from './pool.js';
import { adamConstants } from './adam.js';
import { packWithoutCopy, ReferenceKernels } from './reference.js';
import { checkAdam, checkBpr, checkCsr, checkDense, checkDropout, checkElementwise, checkGram, checkHalfStep, checkMultinomial, checkScoreTopK, checkTopK, fail, gemmShape } from './validate.js';
import { wasmApi, type WasmExports, type WasmGlobal } from './wasm-api.js';
import { loadKernelModule } from './wasm-module.js';

/** Work (≈ flops) below which a call runs on the main thread instead of being dispatched to the workers. */
export const PARALLEL_MIN_WORK = 4e6;
/** Register tile of the GEMM micro-kernel (assembly/gemm.ts). */
const MR = 6;
const NR = 8;
/** Bytes of scratch a GEMM chunk needs (assembly/gemm.ts GEMM_SCRATCH_BYTES). */
let gemmScratchBytes = 0;
/** Length from which the synchronous vector helpers use wasm SIMD on shared arrays. */
const SYNC_SIMD_MIN_LENGTH = 4096;
/** Diagonal block size of the blocked SPD inverse. */
const INVERSE_BLOCK = 128;
/** Initial shared memory: 16 MiB. */
const INITIAL_PAGES = 256;

type Fn = (...args: number[]) => number;

/** The default thread count: RECSYS_THREADS, else every core. */
export function defaultThreads(): number {
  const env = process.env.RECSYS_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`RECSYS_THREADS must be a positive integer, got "${env}"`);
    return n;
  }
  return availableParallelism();
}

/** Per-call temporary blocks in shared memory, freed together. */
class Staging {
  private readonly owned: number[] = [];

  constructor(
    private readonly allocator: SharedAllocator,
    /** Kernel name prefixed to allocation errors. */
    private readonly kernel: string,
  ) {}

  /** Address of `data[0..length)` in shared memory: in place when it already lives there, else a copy. */
  f32(data: Float32Array, length: number): number {
    const inPlace = this.allocator.addressOf(data);
    if (inPlace !== undefined) return inPlace;
    const p = this.bytes(length * 4);
    new Float32Array(this.allocator.buffer, p, length).set(length === data.length ? data : data.subarray(0, length));
    return p;
  }

  /** Address of `data[0..length)` in shared memory: in place or a copy. */
  i32(data: Int32Array, length: number): number {
    const inPlace = this.allocator.addressOf(data);
    if (inPlace !== undefined) return inPlace;
    const p = this.bytes(length * 4);
    new Int32Array(this.allocator.buffer, p, length).set(length === data.length ? data : data.subarray(0, length));
    return p;
  }

  /** A temporary block of `n` bytes (not zeroed). */
  bytes(n: number): number {
    let p: number;
    try {
      p = this.allocator.alloc(n);
    } catch (err) {
      throw new RangeError(`${this.kernel}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.owned.push(p);
    return p;
  }

  /** A float32 view of shared memory. */
  viewF32(address: number, length: number): Float32Array {
    return new Float32Array(this.allocator.buffer, address, length);
  }

  /** An int32 view of shared memory. */
  viewI32(address: number, length: number): Int32Array {
    return new Int32Array(this.allocator.buffer, address, length);
  }

  /** Frees every temporary block. */
  release(): void {
    for (const p of this.owned) this.allocator.free(p);
    this.owned.length = 0;
  }
}

/** Staged CSR matrix addresses. */
interface StagedCsr {
  rowPtr: number;
  colIdx: number;
  values: number;
}

/** Raw-pointer GEMM arguments (row-major, leading dimensions in elements). */
interface RawGemm {
  a: number;
  lda: number;
  b: number;
  ldb: number;
  c: number;
  ldc: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  /** Only the lower triangle of a square C is needed (blocks skip columns right of their last row). */
  lower?: boolean;
}

/** Sorted, de-duplicated copy of a column list. */
function sortedUnique(values: Int32Array): Int32Array {
  const out = Int32Array.from(new Set(values));
  out.sort();
  return out;
}

/** The WebAssembly kernels. Create with {@link createWasmKernels}. */
export class WasmKernels implements Kernels {
  /** Always "wasm". */
  readonly kind = 'wasm';
  /** The reference implementation: the synchronous kernels delegate to it for small or non-shared arrays. */
  private readonly reference = new ReferenceKernels();
  private closed_ = false;

  constructor(
    private readonly allocator: SharedAllocator,
    private readonly pool: WorkerPool,
    /** Which kernel build runs: 'relaxed-simd' (FMA) or 'simd'. */
    readonly variant: 'relaxed-simd' | 'simd',
  ) {}

  /** Worker threads. */
  get threads(): number {
    return this.pool.threads;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.closed_;
  }

  /** The allocator (exposed for tests and diagnostics). */
  get memory(): SharedAllocator {
    return this.allocator;
  }

  /** A zeroed float32 array in shared memory. */
  allocF32(length: number): Float32Array {
    const p = this.allocator.alloc(length * 4);
    const view = new Float32Array(this.allocator.buffer, p, length);
    view.fill(0);
    return view;
  }

  /** A zeroed int32 array in shared memory. */
  allocI32(length: number): Int32Array {
    const p = this.allocator.alloc(length * 4);
    const view = new Int32Array(this.allocator.buffer, p, length);
    view.fill(0);
    return view;
  }

  /** Returns an allocF32/allocI32 array to the allocator. */
  free(array: Float32Array | Int32Array): void {
    const p = this.allocator.addressOf(array);
    if (p === undefined || !this.allocator.isBlock(p)) throw new RangeError('linalg free: the array was not allocated by allocF32/allocI32 (or was freed already)');
    this.allocator.free(p);
  }

  private get exports(): WasmExports {
    return this.pool.exports;
  }

  private run(job: Job): Promise<number> {
    if (this.closed_) throw new Error('linalg: the kernels were closed');
    return this.pool.run(job);
  }

  private stageCsr(st: Staging, m: CsrMatrix): StagedCsr {
    const nnz = m.rowPtr[m.rows];
    return { rowPtr: st.i32(m.rowPtr, m.rows + 1), colIdx: st.i32(m.colIdx, nnz), values: st.f32(m.values, nnz) };
  }

  /** Runs a raw GEMM, choosing main thread or workers and the chunk grid. */
  private gemmRaw(g: RawGemm): Promise<number> {
    if (g.m <= 0 || g.n <= 0) return Promise.resolve(0);
    const work = 2 * g.m * g.n * Math.max(g.k, 1);
    const parallel = work >= PARALLEL_MIN_WORK;
    let rowsPerChunk = g.m;
    let colsPerChunk = g.n;
    if (parallel) {
      const pieces = this.threads * (g.lower ? 4 : 1);
      if (g.lower || g.m >= g.n) rowsPerChunk = Math.ceil(Math.ceil(g.m / pieces) / MR) * MR;
      else colsPerChunk = Math.ceil(Math.ceil(g.n / pieces) / NR) * NR;
    }
    const chunks = Math.ceil(g.m / rowsPerChunk) * Math.ceil(g.n / colsPerChunk);
    const args = [g.a, g.lda, g.b, g.ldb, g.c, g.ldc, g.m, g.n, g.k, g.transA ? 1 : 0, g.transB ? 1 : 0, g.alpha, g.beta, rowsPerChunk, colsPerChunk, g.lower ? 1 : 0];
    return this.run({ fn: 'gemmChunk', args, chunks, scratchBytes: gemmScratchBytes, parallel });
  }

  /** C = alpha·op(A)·op(B) + beta·C on the SIMD GEMM. */
  async gemm(a: DenseMatrix, b: DenseMatrix, options: GemmOptions = {}): Promise<DenseMatrix> {
    const { m, n, k } = gemmShape(a, b, options);
    const beta = options.beta ?? 0;
    const st = new Staging(this.allocator, 'gemm');
    try {
      const pa = st.f32(a.data, a.rows * a.cols);
      const pb = st.f32(b.data, b.rows * b.cols);
      const c = options.c;
      const inPlace = c ? this.allocator.addressOf(c.data) : undefined;
      const pc = inPlace ?? (c && beta !== 0 ? st.f32(c.data, m * n) : st.bytes(m * n * 4));
      await this.gemmRaw({ a: pa, lda: a.cols, b: pb, ldb: b.cols, c: pc, ldc: n, m, n, k, transA: !!options.transA, transB: !!options.transB, alpha: options.alpha ?? 1, beta });
      if (c) {
        if (inPlace === undefined) c.data.set(st.viewF32(pc, m * n));
        return c;
      }
      return { rows: m, cols: n, data: st.viewF32(pc, m * n).slice() };
    } finally {
      st.release();
    }
  }

  /** Gram in row chunks: float32 SIMD partials, summed in float64 in a fixed order. */
  private async gramRaw(st: Staging, px: number, rows: number, f: number): Promise<Float64Array> {
    const sum = new Float64Array(f * f);
    if (rows === 0 || f === 0) return sum;
    const rowsPerChunk = Math.max(256, Math.ceil(rows / 64 / 256) * 256);
    const chunks = Math.ceil(rows / rowsPerChunk);
    const partials = st.bytes(chunks * f * f * 4);
    await this.run({ fn: 'gramChunk', args: [px, rows, f, rowsPerChunk, partials], chunks, scratchBytes: gemmScratchBytes, parallel: 2 * rows * f * f >= PARALLEL_MIN_WORK });
    const view = st.viewF32(partials, chunks * f * f);
    for (let c = 0; c < chunks; c++) {
      const o = c * f * f;
      for (let i = 0; i < f * f; i++) sum[i] += view[o + i];
    }
    return sum;
  }

  /** XᵀX. */
  async gram(x: DenseMatrix): Promise<DenseMatrix> {
    checkDense('gram', 'X', x);
    const st = new Staging(this.allocator, 'gram');
    try {
      const sum = await this.gramRaw(st, st.f32(x.data, x.rows * x.cols), x.rows, x.cols);
      return { rows: x.cols, cols: x.cols, data: Float32Array.from(sum) };
    } finally {
      st.release();
    }
  }

  /** Row i of XᵀX from the users of item i (CSC) and their items (CSR), float64 row accumulators; rows over threads. */
  async sparseGram(x: CsrMatrix): Promise<DenseMatrix> {
    checkCsr('sparseGram', 'X', x);
    const n = x.cols;
    const nnz = x.rowPtr[x.rows];
    if (n === 0) return { rows: 0, cols: 0, data: new Float32Array(0) };
    const st = new Staging(this.allocator, 'sparseGram');
    try {
      const s = this.stageCsr(st, x);
      // CSC of X by counting sort (users stay in ascending order within each column).
      const colPtr = st.viewI32(st.bytes((n + 1) * 4), n + 1);
      const rowIdx = st.viewI32(st.bytes(Math.max(nnz, 1) * 4), Math.max(nnz, 1));
      const colValues = st.viewF32(st.bytes(Math.max(nnz, 1) * 4), Math.max(nnz, 1));
      colPtr.fill(0);
      for (let p = 0; p < nnz; p++) colPtr[x.colIdx[p] + 1]++;
      for (let i = 0; i < n; i++) colPtr[i + 1] += colPtr[i];
      const fill = colPtr.slice(0, n);
      let work = 0;
      for (let r = 0; r < x.rows; r++) {
        const len = x.rowPtr[r + 1] - x.rowPtr[r];
        work += len * len;
        for (let p = x.rowPtr[r]; p < x.rowPtr[r + 1]; p++) {
          const slot = fill[x.colIdx[p]]++;
          rowIdx[slot] = r;
          colValues[slot] = x.values[p];
        }
      }
      const out = st.bytes(n * n * 4);
      const perChunk = Math.max(1, Math.ceil(n / (this.threads * 32)));
      await this.run({
        fn: 'sparseGramChunk',
        args: [s.rowPtr, s.colIdx, s.values, colPtr.byteOffset, rowIdx.byteOffset, colValues.byteOffset, n, out, perChunk],
        chunks: Math.ceil(n / perChunk),
        scratchBytes: n * 8 + 64,
        parallel: 2 * work + n * n >= PARALLEL_MIN_WORK,
      });
      return { rows: n, cols: n, data: st.viewF32(out, n * n).slice() };
    } finally {
      st.release();
    }
  }

  /** Float64 Cholesky per system, systems spread over the threads. */
  async choleskySolveBatched(a: Float32Array, b: Float32Array, k: number, batch: number): Promise<Float32Array> {
    if (!Number.isInteger(k) || k < 0 || !Number.isInteger(batch) || batch < 0) fail('choleskySolveBatched', `invalid k=${k} or batch=${batch}`);
    if (a.length < batch * k * k) fail('choleskySolveBatched', `a holds ${a.length} values, needs ${batch}·${k}·${k}`);
    if (b.length < batch * k) fail('choleskySolveBatched', `b holds ${b.length} values, needs ${batch}·${k}`);
    if (batch === 0 || k === 0) return new Float32Array(batch * k);
    const st = new Staging(this.allocator, 'choleskySolveBatched');
    try {
      const pa = st.f32(a, batch * k * k);
      const pb = st.f32(b, batch * k);
      const px = st.bytes(batch * k * 4);
      const work = batch * (k * k * k / 3 + 2 * k * k);
      const perChunk = Math.max(1, Math.ceil(batch / (this.threads * 16)));
      const status = await this.run({
        fn: 'choleskySolveChunk',
        args: [pa, pb, px, k, batch, perChunk],
        chunks: Math.ceil(batch / perChunk),
        scratchBytes: (k * k + k) * 8 + 64,
        parallel: work >= PARALLEL_MIN_WORK,
      });
      if (status !== 0) fail('choleskySolveBatched', `system ${status - 1} is not positive definite`);
      return st.viewF32(px, batch * k).slice();
    } finally {
      st.release();
    }
  }

  /**
   * Blocked right-looking Cholesky (float64 diagonal blocks, GEMM panel solves and lower-triangle trailing
   * updates), in-place triangular inverse Z = L⁻¹ by block rows, then A⁻¹ = ZᵀZ by block rows; all in one n×n
   * working matrix plus an n×128 temporary.
   */
  async spdInverse(a: DenseMatrix, options: SpdInverseOptions = {}): Promise<DenseMatrix> {
    checkDense('spdInverse', 'A', a);
    if (a.rows !== a.cols) fail('spdInverse', `A must be square, is ${a.rows}×${a.cols}`);
    const n = a.rows;
    if (n === 0) return { rows: 0, cols: 0, data: new Float32Array(0) };
    const nb = INVERSE_BLOCK;
    const ex = this.exports;
    const factorDiagonalBlock = ex.factorDiagonalBlock as Fn;
    const invertLowerBlock = ex.invertLowerBlock as Fn;
    const copyBlock = ex.copyBlock as Fn;
    const fillUpper = ex.fillUpper as Fn;
    const st = new Staging(this.allocator, 'spdInverse');
    try {
      const inPlace = options.overwrite ? this.allocator.addressOf(a.data) : undefined;
      const w = inPlace ?? st.bytes(n * n * 4);
      if (inPlace === undefined) st.viewF32(w, n * n).set(a.data.subarray(0, n * n));
      const inv = st.bytes(nb * nb * 4);
      const tmp = st.bytes(n * nb * 4);
      const small = st.bytes(2 * nb * nb * 8 + 64);
      const at = (i: number, j: number): number => w + (i * n + j) * 4;
      const blocks = Math.ceil(n / nb);
      let stepsDone = 0;
      const step = (): void => {
        options.signal?.throwIfAborted();
        options.onProgress?.(++stepsDone, 3 * blocks);
      };
      // 1. L (lower) in place.
      for (let j0 = 0; j0 < n; j0 += nb) {
        const jb = Math.min(nb, n - j0);
        const status = factorDiagonalBlock(at(j0, j0), n, jb, inv, small);
        if (status !== 0) fail('spdInverse', `A is not symmetric positive definite (pivot ${j0 + status - 1} is not positive)`);
        const j1 = j0 + jb;
        const rest = n - j1;
        if (rest === 0) {
          step();
          continue;
        }
        copyBlock(at(j1, j0), n, tmp, jb, rest, jb);
        await this.gemmRaw({ a: tmp, lda: jb, b: inv, ldb: jb, c: at(j1, j0), ldc: n, m: rest, n: jb, k: jb, transA: false, transB: true, alpha: 1, beta: 0 });
        await this.gemmRaw({ a: at(j1, j0), lda: n, b: at(j1, j0), ldb: n, c: at(j1, j1), ldc: n, m: rest, n: rest, k: jb, transA: false, transB: true, alpha: -1, beta: 1, lower: true });
        step();
      }
      fillUpper(w, n, 1);
      // 2. Z = L⁻¹ in place, block row by block row.
      for (let i0 = 0; i0 < n; i0 += nb) {
        const ib = Math.min(nb, n - i0);
        invertLowerBlock(at(i0, i0), n, ib, inv, small);
        if (i0 > 0) {
          await this.gemmRaw({ a: at(i0, 0), lda: n, b: w, ldb: n, c: tmp, ldc: i0, m: ib, n: i0, k: i0, transA: false, transB: false, alpha: 1, beta: 0 });
          await this.gemmRaw({ a: inv, lda: ib, b: tmp, ldb: i0, c: at(i0, 0), ldc: n, m: ib, n: i0, k: ib, transA: false, transB: false, alpha: -1, beta: 0 });
        }
        copyBlock(inv, ib, at(i0, i0), n, ib, ib);
        step();
      }
      // 3. A⁻¹ = ZᵀZ: block row i needs only rows ≥ i0 of Z, which are still intact.
      for (let i0 = 0; i0 < n; i0 += nb) {
        const ib = Math.min(nb, n - i0);
        const iEnd = i0 + ib;
        await this.gemmRaw({ a: at(i0, i0), lda: n, b: at(i0, 0), ldb: n, c: tmp, ldc: iEnd, m: ib, n: iEnd, k: n - i0, transA: true, transB: false, alpha: 1, beta: 0 });
        copyBlock(tmp, iEnd, at(i0, 0), n, ib, iEnd);
        step();
      }
      fillUpper(w, n, 0);
      if (inPlace !== undefined) return a;
      if (options.overwrite) {
        a.data.set(st.viewF32(w, n * n));
        return a;
      }
      return { rows: n, cols: n, data: st.viewF32(w, n * n).slice() };
    } finally {
      st.release();
    }
  }

  /** CSR × dense with f32x4 row updates. */
  async csrMatmul(a: CsrMatrix, b: DenseMatrix): Promise<DenseMatrix> {
    checkCsr('csrMatmul', 'A', a);
    checkDense('csrMatmul', 'B', b);
    if (a.cols !== b.rows) fail('csrMatmul', `A is ${a.rows}×${a.cols}, B is ${b.rows}×${b.cols}`);
    const d = b.cols;
    if (a.rows === 0 || d === 0) return { rows: a.rows, cols: d, data: new Float32Array(a.rows * d) };
    const st = new Staging(this.allocator, 'csrMatmul');
    try {
      const s = this.stageCsr(st, a);
      const pb = st.f32(b.data, b.rows * d);
      const out = st.bytes(a.rows * d * 4);
      await this.csrMatmulRaw(s, a.rows, a.rowPtr[a.rows], pb, d, out);
      return { rows: a.rows, cols: d, data: st.viewF32(out, a.rows * d).slice() };
    } finally {
      st.release();
    }
  }

  /** Transposes rows × cols float32 at `src` into `dst` (cols × rows). */
  private transposeRaw(src: number, rows: number, cols: number, dst: number): Promise<number> {
    const perChunk = Math.max(16, Math.ceil(rows / (this.threads * 4) / 16) * 16);
    return this.run({ fn: 'transposeChunk', args: [src, rows, cols, dst, perChunk], chunks: Math.ceil(rows / perChunk), scratchBytes: 0, parallel: rows * cols >= PARALLEL_MIN_WORK / 4 });
  }

  /** CSR × dense on staged pointers: out (rows × d). */
  private csrMatmulRaw(s: StagedCsr, rows: number, nnz: number, b: number, d: number, out: number): Promise<number> {
    const perChunk = Math.max(16, Math.ceil(rows / (this.threads * 32)));
    return this.run({
      fn: 'csrMatmulChunk',
      args: [s.rowPtr, s.colIdx, s.values, b, d, out, rows, perChunk],
      chunks: Math.ceil(rows / perChunk),
      scratchBytes: 0,
      parallel: 2 * nnz * d >= PARALLEL_MIN_WORK,
    });
  }

  /** B·Aᵀ computed as (A·Bᵀ)ᵀ: transpose B, CSR × dense with contiguous SIMD row updates, transpose back. */
  async denseCsrT(b: DenseMatrix, a: CsrMatrix): Promise<DenseMatrix> {
    checkCsr('denseCsrT', 'A', a);
    checkDense('denseCsrT', 'B', b);
    if (a.cols !== b.cols) fail('denseCsrT', `B is ${b.rows}×${b.cols}, A is ${a.rows}×${a.cols} (needs B.cols = A.cols)`);
    const d = b.rows;
    if (d === 0 || a.rows === 0) return { rows: d, cols: a.rows, data: new Float32Array(d * a.rows) };
    const st = new Staging(this.allocator, 'denseCsrT');
    try {
      const s = this.stageCsr(st, a);
      const pb = st.f32(b.data, d * b.cols);
      const bt = st.bytes(Math.max(b.cols * d, 1) * 4);
      const tmp = st.bytes(a.rows * d * 4);
      const out = st.bytes(d * a.rows * 4);
      await this.transposeRaw(pb, d, b.cols, bt);
      await this.csrMatmulRaw(s, a.rows, a.rowPtr[a.rows], bt, d, tmp);
      await this.transposeRaw(tmp, a.rows, d, out);
      return { rows: d, cols: a.rows, data: st.viewF32(out, d * a.rows).slice() };
    } finally {
      st.release();
    }
  }

  /** Shared body of both ALS half steps. */
  private async alsStep(kernel: string, r: CsrMatrix, y: DenseMatrix, x: DenseMatrix, implicit: IalsOptions | undefined, explicit: AlsExplicitOptions | undefined): Promise<void> {
    checkHalfStep(kernel, r, y, x);
    const f = y.cols;
    if (r.rows === 0) return;
    if (f === 0) return;
    const st = new Staging(this.allocator, kernel);
    try {
      const s = this.stageCsr(st, r);
      const py = st.f32(y.data, y.rows * f);
      const xInPlace = this.allocator.addressOf(x.data);
      const px = xInPlace ?? st.f32(x.data, x.rows * f);
      let g = 0;
      let g32 = 0;
      let mode = 2;
      let w = 0;
      let regExponent = explicit && (explicit.scaleByCount ?? true) ? 1 : 0;
      let solver = 0;
      let cgSteps = 0;
      const nnz = r.rowPtr[r.rows];
      let work = nnz * f * f + r.rows * (f * f * f) / 3;
      if (implicit) {
        mode = (implicit.confidence ?? 'linear') === 'log' ? 1 : 0;
        w = implicit.unobservedWeight ?? 1;
        regExponent = implicit.regExponent ?? 0;
        solver = implicit.solver === 'cg' ? 1 : 0;
        cgSteps = implicit.cgSteps ?? 3;
        if (solver === 1) work = (cgSteps + 1) * (r.rows * f * f * 2 + nnz * f * 4);
        const gram = implicit.gram ? checkGram(kernel, implicit.gram, f).data : Float32Array.from(await this.gramRaw(st, py, y.rows, f));
        g = st.bytes(f * f * 8);
        new Float64Array(this.allocator.buffer, g, f * f).set(gram.subarray(0, f * f));
        g32 = st.f32(gram, f * f);
      }
      const reg = implicit ? implicit.reg : (explicit as AlsExplicitOptions).reg;
      const perChunk = Math.max(1, Math.min(64, Math.ceil(r.rows / (this.threads * 16))));
      const status = await this.run({
        fn: 'alsChunk',
        args: [s.rowPtr, s.colIdx, s.values, py, px, f, r.rows, g, g32, w, mode, implicit?.alpha ?? 0, implicit?.eps ?? 1, reg, regExponent, solver, cgSteps, perChunk],
        chunks: Math.ceil(r.rows / perChunk),
        scratchBytes: (this.exports.alsScratchBytes as Fn)(f),
        parallel: work >= PARALLEL_MIN_WORK,
      });
      if (status !== 0) fail(kernel, `the system of row ${status - 1} is not positive definite (is reg > 0?)`);
      if (xInPlace === undefined) x.data.set(st.viewF32(px, x.rows * f));
    } finally {
      st.release();
    }
  }

  /** Implicit ALS half step (Cholesky or warm-started CG), parallel over rows. */
  ialsHalfStep(r: CsrMatrix, y: DenseMatrix, x: DenseMatrix, options: IalsOptions): Promise<void> {
    return this.alsStep('ialsHalfStep', r, y, x, options, undefined);
  }

  /** Explicit ALS-WR half step, parallel over rows. */
  alsExplicitHalfStep(r: CsrMatrix, y: DenseMatrix, x: DenseMatrix, options: AlsExplicitOptions): Promise<void> {
    return this.alsStep('alsExplicitHalfStep', r, y, x, undefined, options);
  }

  /** Stages the exclusion and candidate lists shared by topk and scoreTopK: [cand, nCand, exclRowPtr, exclColIdx, exclAll, nExclAll]. */
  private stageSelection(st: Staging, options: TopKOptions): number[] {
    const cand = options.candidates ? sortedUnique(options.candidates) : undefined;
    const all = options.excludeAll && options.excludeAll.length > 0 ? sortedUnique(options.excludeAll) : undefined;
    const ex = options.exclude;
    return [
      cand ? st.i32(cand, cand.length) : 0,
      cand ? cand.length : 0,
      ex ? st.i32(ex.rowPtr, ex.rows + 1) : 0,
      ex ? st.i32(ex.colIdx, Math.max(ex.rowPtr[ex.rows], 1)) : 0,
      all ? st.i32(all, all.length) : 0,
      all ? all.length : 0,
    ];
  }

  /** Heap selection per row in wasm. */
  async topk(scores: DenseMatrix, k: number, options: TopKOptions = {}): Promise<TopKResult> {
    checkDense('topk', 'scores', scores);
    checkTopK('topk', scores.rows, scores.cols, k, options);
    const rows = scores.rows;
    if (rows === 0 || k === 0) return { k, items: new Int32Array(rows * k), scores: new Float32Array(rows * k) };
    const st = new Staging(this.allocator, 'topk');
    try {
      const ps = st.f32(scores.data, rows * scores.cols);
      const sel = this.stageSelection(st, options);
      const outItems = st.bytes(rows * k * 4);
      const outScores = st.bytes(rows * k * 4);
      const perChunk = Math.max(1, Math.ceil(rows / (this.threads * 16)));
      await this.run({
        fn: 'topkChunk',
        args: [ps, rows, scores.cols, k, ...sel, outItems, outScores, perChunk],
        chunks: Math.ceil(rows / perChunk),
        scratchBytes: k * 8 + 64,
        parallel: rows * scores.cols * 4 >= PARALLEL_MIN_WORK,
      });
      return { k, items: st.viewI32(outItems, rows * k).slice(), scores: st.viewF32(outScores, rows * k).slice() };
    } finally {
      st.release();
    }
  }

  /** Blocks of users × 4096-item GEMM tiles feeding per-user heaps; the full score matrix never exists. */
  async scoreTopK(u: DenseMatrix, v: DenseMatrix, k: number, options: ScoreTopKOptions = {}): Promise<TopKResult> {
    checkScoreTopK(u, v, k, options);
    const users = u.rows;
    if (users === 0 || k === 0) return { k, items: new Int32Array(users * k), scores: new Float32Array(users * k) };
    const st = new Staging(this.allocator, 'scoreTopK');
    try {
      const pu = st.f32(u.data, users * u.cols);
      const pv = st.f32(v.data, v.rows * v.cols);
      const bias = options.itemBias ? st.f32(options.itemBias, v.rows) : 0;
      const sel = this.stageSelection(st, options);
      const outItems = st.bytes(users * k * 4);
      const outScores = st.bytes(users * k * 4);
      const perChunk = Math.max(1, Math.min(64, Math.ceil(users / this.threads)));
      const scratchBytes = (this.exports.scoreTopKScratchBytes as Fn)(perChunk, k);
      await this.run({
        fn: 'scoreTopKChunk',
        args: [pu, users, pv, v.rows, u.cols, bias, k, ...sel, outItems, outScores, perChunk],
        chunks: Math.ceil(users / perChunk),
        scratchBytes,
        parallel: 2 * users * v.rows * Math.max(u.cols, 1) >= PARALLEL_MIN_WORK,
      });
      return { k, items: st.viewI32(outItems, users * k).slice(), scores: st.viewF32(outScores, users * k).slice() };
    } finally {
      st.release();
    }
  }

  /** Nothing to pack: the WASM kernels score V as given (the pack only carries V's shape and array for the checks). */
  async packItems(v: DenseMatrix): Promise<PackedItems> {
    return packWithoutCopy(v);
  }

  /** Nothing to do: WebAssembly memory is not the process's to advise. */
  adviseHugePages(_arrays: readonly (Float32Array | Int32Array | Uint8Array)[]): void {}

  /** No WebAssembly kernel: the reference search (correct; ≈ 4 ms a query at 100k × 64, 20× the native one). */
  async ivfSearch(queries: DenseMatrix, v: DenseMatrix, lists: IvfLists, k: number, options: IvfSearchOptions): Promise<TopKResult> {
    return this.reference.ivfSearch(queries, v, lists, k, options);
  }

  /** Adam in f32x4 lanes, element chunks over the workers; arrays outside shared memory are copied in and back. */
  async adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, options: AdamStepOptions): Promise<void> {
    checkAdam(w, g, m, v);
    const n = w.length;
    if (n === 0) return;
    const c = adamConstants(options);
    const st = new Staging(this.allocator, 'adamStep');
    try {
      const arrays = [w, g, m, v];
      const ptrs = arrays.map((a) => st.f32(a, n));
      // ≈ 12 flops per element plus 28 bytes of traffic: worth the workers from a few hundred thousand elements.
      const parallel = n * 16 >= PARALLEL_MIN_WORK;
      const perChunk = parallel ? Math.max(4096, Math.ceil(n / (this.threads * 4) / 4) * 4) : n;
      await this.run({
        fn: 'adamChunk',
        args: [...ptrs, n, c.l2, c.shrink, options.beta1, options.beta2, c.lrC1, c.c2, options.eps, options.clearGrad ? 1 : 0, perChunk],
        chunks: Math.ceil(n / perChunk),
        scratchBytes: 0,
        parallel,
      });
      arrays.forEach((a, i) => {
        if (this.allocator.addressOf(a) === undefined) a.set(st.viewF32(ptrs[i], n));
      });
    } finally {
      st.release();
    }
  }

  /** Multinomial NLL: row chunks over the workers (vectorized exp), per-row losses summed here in row order. */
  async multinomialNll(logits: DenseMatrix, targets: CsrMatrix, grad: DenseMatrix): Promise<number> {
    checkMultinomial(logits, targets, grad);
    const { rows, cols } = logits;
    if (rows === 0) return NaN;
    const st = new Staging(this.allocator, 'multinomialNll');
    try {
      const pz = st.f32(logits.data, rows * cols);
      const s = this.stageCsr(st, targets);
      const gInPlace = this.allocator.addressOf(grad.data);
      const pg = gInPlace ?? st.bytes(Math.max(rows * cols, 1) * 4);
      const rowLoss = st.bytes(rows * 8);
      const perChunk = Math.max(1, Math.ceil(rows / (this.threads * 8)));
      await this.run({
        fn: 'multinomialChunk',
        args: [pz, rows, cols, s.rowPtr, s.colIdx, s.values, pg, rowLoss, perChunk],
        chunks: Math.ceil(rows / perChunk),
        scratchBytes: 0,
        parallel: rows * cols * 24 >= PARALLEL_MIN_WORK,
      });
      if (gInPlace === undefined) grad.data.set(st.viewF32(pg, rows * cols));
      const losses = new Float64Array(this.allocator.buffer, rowLoss, rows);
      let total = 0;
      for (let r = 0; r < rows; r++) total += losses[r];
      return total / rows;
    } finally {
      st.release();
    }
  }

  /** tanh in f32x4 lanes (vectorized exp), element chunks over the workers for large inputs. */
  async tanh(x: DenseMatrix, out: DenseMatrix): Promise<void> {
    checkElementwise('tanh', x, out);
    const n = x.rows * x.cols;
    if (n === 0) return;
    const st = new Staging(this.allocator, 'tanh');
    try {
      const px = st.f32(x.data, n);
      const outInPlace = this.allocator.addressOf(out.data);
      const po = outInPlace ?? st.bytes(n * 4);
      const parallel = n * 20 >= PARALLEL_MIN_WORK;
      const perChunk = parallel ? Math.max(4096, Math.ceil(n / (this.threads * 4) / 4) * 4) : n;
      await this.run({ fn: 'tanhChunk', args: [px, po, n, perChunk], chunks: Math.ceil(n / perChunk), scratchBytes: 0, parallel });
      if (outInPlace === undefined) out.data.set(st.viewF32(po, n));
    } finally {
      st.release();
    }
  }

  /**
   * BPR SGD: chunk c runs ceil(steps/chunks) updates from its own xorshift32 stream (assembly/bpr.ts, f32x4 over
   * the factors). Several chunks run on the workers at once, Hogwild on the factor arrays (in place when they come
   * from allocF32, else copied in and back); one chunk runs on the main thread's instance.
   */
  async bprEpoch(problem: BprProblem, userF: DenseMatrix, itemF: DenseMatrix, itemB: Float32Array, options: BprEpochOptions): Promise<{ logLik: number; count: number }> {
    const [nnz, f, chunks] = checkBpr(problem, userF, itemF, itemB, options);
    if (nnz === 0 || options.steps === 0) return { logLik: 0, count: 0 };
    const r = problem.r;
    const st = new Staging(this.allocator, 'bprEpoch');
    try {
      const rowPtr = st.i32(r.rowPtr, r.rows + 1);
      const colIdx = st.i32(r.colIdx, nnz);
      const entryUser = st.i32(problem.entryUser, nnz);
      const bits = problem.positives ? st.i32(problem.positives, Math.ceil((r.rows * r.cols) / 32)) : 0;
      const pu = st.f32(userF.data, userF.rows * f);
      const pq = st.f32(itemF.data, itemF.rows * f);
      const pb = st.f32(itemB, r.cols);
      const out = st.bytes(chunks * 16);
      const per = Math.ceil(options.steps / chunks);
      await this.run({
        fn: 'bprChunk',
        args: [rowPtr, colIdx, entryUser, nnz, r.cols, pu, pq, pb, f, options.steps, per, options.lr, options.reg, options.seed >>> 0, out, bits],
        chunks: Math.ceil(options.steps / per),
        scratchBytes: 16,
        parallel: chunks > 1 && this.threads > 1,
      });
      if (this.allocator.addressOf(userF.data) === undefined) userF.data.set(st.viewF32(pu, userF.rows * f));
      if (this.allocator.addressOf(itemF.data) === undefined) itemF.data.set(st.viewF32(pq, itemF.rows * f));
      if (this.allocator.addressOf(itemB) === undefined) itemB.set(st.viewF32(pb, r.cols));
      const sums = new Float64Array(this.allocator.buffer, out, chunks * 2);
      let logLik = 0;
      let count = 0;
      for (let c = 0; c < Math.ceil(options.steps / per); c++) {
        logLik += sums[2 * c];
        count += sums[2 * c + 1];
      }
      return { logLik, count };
    } finally {
      st.release();
    }
  }

  /** xoshiro128** dropout on the main thread's instance (one sequential stream; inputs copied in, result out). */
  dropoutCsr(x: CsrMatrix, p: number, rngState: Uint32Array): CsrMatrix {
    checkDropout(x, p, rngState);
    const nnz = x.rowPtr[x.rows];
    const st = new Staging(this.allocator, 'dropoutCsr');
    try {
      const s = this.stageCsr(st, x);
      const state = st.bytes(16);
      const words = st.viewI32(state, 4);
      words.set(new Int32Array(rngState.buffer, rngState.byteOffset, 4));
      const outRowPtr = st.bytes((x.rows + 1) * 4);
      const outColIdx = st.bytes(Math.max(nnz, 1) * 4);
      const outValues = st.bytes(Math.max(nnz, 1) * 4);
      const o = (this.exports.dropoutCsrF32 as Fn)(s.rowPtr, s.colIdx, s.values, x.rows, p, 1 / (1 - p), state, outRowPtr, outColIdx, outValues);
      new Int32Array(rngState.buffer, rngState.byteOffset, 4).set(words);
      return { rows: x.rows, cols: x.cols, rowPtr: st.viewI32(outRowPtr, x.rows + 1).slice(), colIdx: st.viewI32(outColIdx, o).slice(), values: st.viewF32(outValues, o).slice() };
    } finally {
      st.release();
    }
  }

  /** Row norms: SIMD on the main thread's instance when X lives in shared memory and is large, else JS. */
  rowNorms(x: DenseMatrix): Float32Array {
    checkDense('rowNorms', 'X', x);
    const px = this.sharedAddress(x.data, x.rows * x.cols);
    if (px === undefined) return this.reference.rowNorms(x);
    const st = new Staging(this.allocator, 'rowNorms');
    try {
      const out = st.bytes(x.rows * 4);
      (this.exports.rowNormsF32 as Fn)(px, x.rows, x.cols, out);
      return st.viewF32(out, x.rows).slice();
    } finally {
      st.release();
    }
  }

  /** Unit-normalizes rows in place (SIMD for large shared arrays, else JS). */
  normalizeRows(x: DenseMatrix): void {
    checkDense('normalizeRows', 'X', x);
    const px = this.sharedAddress(x.data, x.rows * x.cols);
    if (px === undefined) this.reference.normalizeRows(x);
    else (this.exports.normalizeRowsF32 as Fn)(px, x.rows, x.cols);
  }

  /** Float64 dot product (SIMD for large shared arrays, else JS). */
  dot(a: Float32Array, b: Float32Array): number {
    if (a.length !== b.length) fail('dot', `lengths differ: ${a.length} and ${b.length}`);
    const pa = this.sharedAddress(a, a.length);
    const pb = this.sharedAddress(b, b.length);
    if (pa === undefined || pb === undefined) return this.reference.dot(a, b);
    return (this.exports.dotF32 as Fn)(pa, pb, a.length);
  }

  /** y += alpha·x (SIMD for large shared arrays, else JS). */
  axpy(alpha: number, x: Float32Array, y: Float32Array): void {
    if (x.length !== y.length) fail('axpy', `lengths differ: ${x.length} and ${y.length}`);
    const px = this.sharedAddress(x, x.length);
    const py = this.sharedAddress(y, y.length);
    if (px === undefined || py === undefined) this.reference.axpy(alpha, x, y);
    else (this.exports.axpyF32 as Fn)(alpha, px, py, x.length);
  }

  /** The address of a shared array worth handing to wasm synchronously (copying would cost more than the op). */
  private sharedAddress(data: Float32Array, length: number): number | undefined {
    return length >= SYNC_SIMD_MIN_LENGTH ? this.allocator.addressOf(data) : undefined;
  }

  /** Stops the workers; the instance cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed_) return;
    this.closed_ = true;
    await this.pool.close();
  }
}

/** Compiles the kernels, creates the shared memory and starts `threads` workers. */
export async function createWasmKernels(threads: number = defaultThreads()): Promise<WasmKernels> {
  const { module, variant } = await loadKernelModule();
  const memory = new wasmApi.Memory({ initial: INITIAL_PAGES, maximum: 65536, shared: true });
  const probe = new wasmApi.Instance(module, { env: { memory } }).exports;
  gemmScratchBytes = (probe.GEMM_SCRATCH_BYTES as WasmGlobal).value as number;
  const base = (probe.heapBase as Fn)() + 1024;
  const allocator = new SharedAllocator(memory, base);
  const pool = new WorkerPool(module, memory, allocator, threads);
  try {
    await pool.ready;
  } catch (err) {
    await pool.close();
    throw err;
  }
  return new WasmKernels(allocator, pool, variant);
}
