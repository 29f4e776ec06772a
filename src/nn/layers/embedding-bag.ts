/**
 * EmbeddingBag: for each example, the sum or mean of the table rows of a variable-length id list, given as CSR
 * (ptr over examples, ids, optional per-id weights). An empty list yields a zero row.
 */
import type { DenseMatrix, Kernels } from '../../linalg/api.js';
import { normalInit } from '../init.js';
import type { Rng } from '../../core/rng.js';
import { MatrixBuffer, Param } from '../tensor.js';

/** Variable-length id lists: example r owns ids[ptr[r]..ptr[r+1]). */
export interface Bags {
  ptr: Int32Array;
  ids: Int32Array;
  /** Optional weight per id (multiplies the row). */
  weights?: Float32Array;
}

/** How the rows of a bag are combined. */
export type BagMode = 'sum' | 'mean';

/** Sum or mean of embedding rows per example. */
export class EmbeddingBag {
  /** The table, count × dim. */
  readonly table: Param;
  private readonly out: MatrixBuffer;
  private bags: Bags | null = null;

  constructor(kernels: Kernels, name: string, readonly count: number, readonly dim: number, readonly mode: BagMode, rng: Rng, std = 0.05) {
    this.table = new Param(kernels, `${name}.table`, count, dim, { sparse: true });
    normalInit(this.table, rng, std);
    this.out = new MatrixBuffer(kernels);
  }

  /** Output row r = (1/|bag r| when mean) Σ_{p in bag r} w_p · table[ids[p]]. */
  forward(bags: Bags): DenseMatrix {
    const n = bags.ptr.length - 1;
    const d = this.dim;
    const y = this.out.get(n, d);
    y.data.fill(0, 0, n * d);
    const t = this.table.value;
    for (let r = 0; r < n; r++) {
      const a = bags.ptr[r];
      const b = bags.ptr[r + 1];
      if (b === a) continue;
      const scale = this.mode === 'mean' ? 1 / (b - a) : 1;
      const o = r * d;
      for (let p = a; p < b; p++) {
        const id = bags.ids[p];
        if (id < 0 || id >= this.count) throw new RangeError(`${this.table.name}: id ${id} (example ${r}) outside [0, ${this.count})`);
        const w = scale * (bags.weights ? bags.weights[p] : 1);
        const s = id * d;
        for (let j = 0; j < d; j++) y.data[o + j] += w * t[s + j];
      }
    }
    this.bags = bags;
    return y;
  }

  /** table.grad[ids[p]] += scale · w_p · dy[r] for every id p of bag r. */
  backward(dy: DenseMatrix): void {
    const bags = this.bags;
    if (!bags) throw new Error(`${this.table.name}: backward before forward`);
    const n = bags.ptr.length - 1;
    const d = this.dim;
    const g = this.table.grad;
    for (let r = 0; r < n; r++) {
      const a = bags.ptr[r];
      const b = bags.ptr[r + 1];
      if (b === a) continue;
      const scale = this.mode === 'mean' ? 1 / (b - a) : 1;
      const o = r * d;
      for (let p = a; p < b; p++) {
        const w = scale * (bags.weights ? bags.weights[p] : 1);
        const s = bags.ids[p] * d;
        this.table.markRow(bags.ids[p]);
        for (let j = 0; j < d; j++) g[s + j] += w * dy.data[o + j];
      }
    }
  }

  /** The table. */
  params(): Param[] {
    return [this.table];
  }
}
