/**
 * A {@link Kernels} wrapper that remembers every array it allocates, so a model can return all of its kernel
 * memory at once (`releaseAll`) when it is refitted or disposed. Kernel memory (the shared WebAssembly heap) is
 * not reclaimed by the garbage collector, so a process that fits many models needs this.
 */
import type { Kernels } from '../linalg/api.js';

/** Delegating kernels with allocation tracking. */
export class TrackedKernels implements Kernels {
  private readonly live = new Set<Float32Array | Int32Array>();

  /** The base implementation's sparse Gram, when it has one. */
  readonly sparseGram: Kernels['sparseGram'];
  /** The base implementation's Adam update, when it has one. */
  readonly adamStep: Kernels['adamStep'];
  /** The base implementation's multinomial loss, when it has one. */
  readonly multinomialNll: Kernels['multinomialNll'];
  /** The base implementation's CSR dropout, when it has one. */
  readonly dropoutCsr: Kernels['dropoutCsr'];
  /** The base implementation's tanh, when it has one. */
  readonly tanh: Kernels['tanh'];
  /** The base implementation's BPR epoch, when it has one. */
  readonly bprEpoch: Kernels['bprEpoch'];

  constructor(readonly base: Kernels) {
    const sparseGram = base.sparseGram?.bind(base);
    this.sparseGram = sparseGram;
    this.adamStep = base.adamStep?.bind(base);
    this.multinomialNll = base.multinomialNll?.bind(base);
    this.dropoutCsr = base.dropoutCsr?.bind(base);
    this.tanh = base.tanh?.bind(base);
    this.bprEpoch = base.bprEpoch?.bind(base);
  }

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
  choleskySolveBatched: Kernels['choleskySolveBatched'] = (a, b, k, n) => this.base.choleskySolveBatched(a, b, k, n);
  spdInverse: Kernels['spdInverse'] = (a, o) => this.base.spdInverse(a, o);
  csrMatmul: Kernels['csrMatmul'] = (a, b) => this.base.csrMatmul(a, b);
  denseCsrT: Kernels['denseCsrT'] = (b, a) => this.base.denseCsrT(b, a);
  ialsHalfStep: Kernels['ialsHalfStep'] = (r, y, x, o) => this.base.ialsHalfStep(r, y, x, o);
  alsExplicitHalfStep: Kernels['alsExplicitHalfStep'] = (r, y, x, o) => this.base.alsExplicitHalfStep(r, y, x, o);
  topk: Kernels['topk'] = (s, k, o) => this.base.topk(s, k, o);
  scoreTopK: Kernels['scoreTopK'] = (u, v, k, o) => this.base.scoreTopK(u, v, k, o);
  rowNorms: Kernels['rowNorms'] = (x) => this.base.rowNorms(x);
  normalizeRows: Kernels['normalizeRows'] = (x) => this.base.normalizeRows(x);
  dot: Kernels['dot'] = (a, b) => this.base.dot(a, b);
  axpy: Kernels['axpy'] = (alpha, x, y) => this.base.axpy(alpha, x, y);

  /** Releases this wrapper's arrays; the shared base kernels stay open (other models use them). */
  async close(): Promise<void> {
    this.releaseAll();
  }
}
