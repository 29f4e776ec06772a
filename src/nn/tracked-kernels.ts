/**
 * A {@link Kernels} wrapper that remembers every array it allocates, so a model can return all of its kernel
 * memory at once (`releaseAll`) when it is refitted or disposed. Kernel memory (the shared WebAssembly heap) is
 * not reclaimed by the garbage collector, so a process that fits many models needs this.
 */
import type { Kernels } from '../linalg/api.js';

/** Delegating kernels with allocation tracking. */
export class TrackedKernels implements Kernels {
  private readonly live = new Set<Float32Array | Int32Array>();

  constructor(readonly base: Kernels) {}

  /** The base implementation's kind. */
  get kind(): string {
    return this.base.kind;
  }

  /** The base implementation's thread count. */
  get threads(): number {
    return this.base.threads;
  }

  /** Number of arrays allocated through this wrapper and not yet freed. */
  get liveArrays(): number {
    return this.live.size;
  }

  /** Allocates and tracks. */
  allocF32(length: number): Float32Array {
    const a = this.base.allocF32(length);
    this.live.add(a);
    return a;
  }

  /** Allocates and tracks. */
  allocI32(length: number): Int32Array {
    const a = this.base.allocI32(length);
    this.live.add(a);
    return a;
  }

  /** Frees and forgets. */
  free(array: Float32Array | Int32Array): void {
    this.live.delete(array);
    this.base.free(array);
  }

  /** Frees every array still allocated through this wrapper. */
  releaseAll(): void {
    for (const a of this.live) this.base.free(a);
    this.live.clear();
  }

  /** Every kernel below delegates to the base implementation. */
  gemm: Kernels['gemm'] = (a, b, o) => this.base.gemm(a, b, o);
  gram: Kernels['gram'] = (x) => this.base.gram(x);
  sparseGram: Kernels['sparseGram'] = (x) => this.base.sparseGram(x);
  choleskySolveBatched: Kernels['choleskySolveBatched'] = (a, b, k, n) => this.base.choleskySolveBatched(a, b, k, n);
  spdInverse: Kernels['spdInverse'] = (a, o) => this.base.spdInverse(a, o);
  csrMatmul: Kernels['csrMatmul'] = (a, b) => this.base.csrMatmul(a, b);
  denseCsrT: Kernels['denseCsrT'] = (b, a) => this.base.denseCsrT(b, a);
  ialsHalfStep: Kernels['ialsHalfStep'] = (r, y, x, o) => this.base.ialsHalfStep(r, y, x, o);
  alsExplicitHalfStep: Kernels['alsExplicitHalfStep'] = (r, y, x, o) => this.base.alsExplicitHalfStep(r, y, x, o);
  topk: Kernels['topk'] = (s, k, o) => this.base.topk(s, k, o);
  scoreTopK: Kernels['scoreTopK'] = (u, v, k, o) => this.base.scoreTopK(u, v, k, o);
  packItems: Kernels['packItems'] = (v) => this.base.packItems(v);
  ivfSearch: Kernels['ivfSearch'] = (q, v, l, k, o) => this.base.ivfSearch(q, v, l, k, o);
  adviseHugePages: Kernels['adviseHugePages'] = (a) => this.base.adviseHugePages(a);
  adamStep: Kernels['adamStep'] = (w, g, m, v, o) => this.base.adamStep(w, g, m, v, o);
  multinomialNll: Kernels['multinomialNll'] = (z, t, g) => this.base.multinomialNll(z, t, g);
  dropoutCsr: Kernels['dropoutCsr'] = (x, p, s) => this.base.dropoutCsr(x, p, s);
  tanh: Kernels['tanh'] = (x, out) => this.base.tanh(x, out);
  bprEpoch: Kernels['bprEpoch'] = (problem, u, v, b, o) => this.base.bprEpoch(problem, u, v, b, o);
  rowNorms: Kernels['rowNorms'] = (x) => this.base.rowNorms(x);
  normalizeRows: Kernels['normalizeRows'] = (x) => this.base.normalizeRows(x);
  dot: Kernels['dot'] = (a, b) => this.base.dot(a, b);
  axpy: Kernels['axpy'] = (alpha, x, y) => this.base.axpy(alpha, x, y);

  /** Releases this wrapper's arrays; the shared base kernels stay open (other models use them). */
  async close(): Promise<void> {
    this.releaseAll();
  }
}
