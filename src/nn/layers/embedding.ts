/** Embedding lookup: one row of a table per id; id −1 means "absent" and yields a zero row. */
import type { DenseMatrix, Kernels } from '../../linalg/api.js';
import { normalInit } from '../init.js';
import type { Rng } from '../../core/rng.js';
import { MatrixBuffer, Param } from '../tensor.js';

/** A table of `count` vectors of size `dim`. */
export class Embedding {
  /** The table, count × dim. */
  readonly table: Param;
  private readonly out: MatrixBuffer;
  private ids: Int32Array | null = null;

  constructor(kernels: Kernels, name: string, readonly count: number, readonly dim: number, rng: Rng, std = 0.05) {
    this.table = new Param(kernels, `${name}.table`, count, dim, { sparse: true });
    normalInit(this.table, rng, std);
    this.out = new MatrixBuffer(kernels);
  }

  /** Row r of the output is table[ids[r]] (zeros for id −1). */
  forward(ids: Int32Array): DenseMatrix {
    const d = this.dim;
    const y = this.out.get(ids.length, d);
    const t = this.table.value;
    for (let r = 0; r < ids.length; r++) {
      const id = ids[r];
      if (id === -1) {
        y.data.fill(0, r * d, (r + 1) * d);
        continue;
      }
      if (id < 0 || id >= this.count || !Number.isInteger(id)) throw new RangeError(`${this.table.name}: id ${id} outside [0, ${this.count})`);
      y.data.set(t.subarray(id * d, (id + 1) * d), r * d);
    }
    this.ids = ids;
    return y;
  }

  /** table.grad[ids[r]] += dy[r]. */
  backward(dy: DenseMatrix): void {
    const ids = this.ids;
    if (!ids) throw new Error(`${this.table.name}: backward before forward`);
    const d = this.dim;
    const g = this.table.grad;
    for (let r = 0; r < ids.length; r++) {
      const id = ids[r];
      if (id < 0) continue;
      const o = id * d;
      const s = r * d;
      this.table.markRow(id);
      for (let j = 0; j < d; j++) g[o + j] += dy.data[s + j];
    }
  }

  /** The table. */
  params(): Param[] {
    return [this.table];
  }
}
