/**
 * Turns a batch of entity (user or item) indices into one input matrix: [id embedding | one embedding per
 * categorical feature | one mean-pooled EmbeddingBag per multi-hot feature | standardized numeric features].
 * Index −1 means an unknown entity (all parts zero); the id embedding of chosen rows can be dropped (−1) to train
 * and serve cold-start entities from their features alone.
 */
import type { DenseMatrix, Kernels } from '../../linalg/api.js';
import { Concat } from '../../nn/layers/concat.js';
import { Embedding } from '../../nn/layers/embedding.js';
import { EmbeddingBag } from '../../nn/layers/embedding-bag.js';
import type { Rng } from '../../core/rng.js';
import { MatrixBuffer, type Param } from '../../nn/tensor.js';
import type { EncodedFeatures } from './features.js';

/** Sizes of an {@link EntityEncoder}. */
export interface EntityEncoderOptions {
  /** Entities with an id embedding (0 = no id embedding). */
  idCount: number;
  /** Size of the id embedding. */
  idDim: number;
  /** Size of each categorical / multi-hot embedding. */
  featDim: number;
}

/** Feature-and-id input block of a tower or a ranking MLP. */
export class EntityEncoder {
  /** Output width. */
  readonly width: number;
  private readonly id: Embedding | null;
  private readonly cats: Embedding[];
  private readonly bags: EmbeddingBag[];
  private readonly numeric: MatrixBuffer;
  private readonly concat: Concat;

  constructor(kernels: Kernels, name: string, readonly features: EncodedFeatures, options: EntityEncoderOptions, rng: Rng) {
    this.id = options.idCount > 0 ? new Embedding(kernels, `${name}.id`, options.idCount, options.idDim, rng) : null;
    this.cats = features.categorical.map((c) => new Embedding(kernels, `${name}.cat.${c.name}`, c.size, options.featDim, rng));
    this.bags = features.multiHot.map((h) => new EmbeddingBag(kernels, `${name}.bag.${h.name}`, h.size, options.featDim, 'mean', rng));
    this.numeric = new MatrixBuffer(kernels);
    this.concat = new Concat(kernels);
    this.width = (this.id ? options.idDim : 0) + (this.cats.length + this.bags.length) * options.featDim + features.numeric.names.length;
  }

  /**
   * The input rows for `ids` (−1 = unknown entity). Rows where `dropId` is non-zero, or whose id is at least
   * the id embedding's count, get a zero id embedding.
   */
  forward(ids: Int32Array, dropId?: Uint8Array | null): DenseMatrix {
    const b = ids.length;
    const f = this.features;
    const parts: DenseMatrix[] = [];
    if (this.id) {
      const idIds = new Int32Array(b);
      for (let r = 0; r < b; r++) idIds[r] = ids[r] < 0 || ids[r] >= this.id.count || (dropId && dropId[r]) ? -1 : ids[r];
      parts.push(this.id.forward(idIds));
    }
    f.categorical.forEach((c, k) => {
      const codes = new Int32Array(b);
      for (let r = 0; r < b; r++) codes[r] = ids[r] < 0 ? -1 : c.codes[ids[r]];
      parts.push(this.cats[k].forward(codes));
    });
    f.multiHot.forEach((h, k) => {
      const ptr = new Int32Array(b + 1);
      for (let r = 0; r < b; r++) ptr[r + 1] = ptr[r] + (ids[r] < 0 ? 0 : h.ptr[ids[r] + 1] - h.ptr[ids[r]]);
      const idx = new Int32Array(ptr[b]);
      for (let r = 0; r < b; r++) if (ids[r] >= 0) idx.set(h.idx.subarray(h.ptr[ids[r]], h.ptr[ids[r] + 1]), ptr[r]);
      parts.push(this.bags[k].forward({ ptr, ids: idx }));
    });
    const m = f.numeric.names.length;
    if (m > 0) {
      const x = this.numeric.get(b, m);
      for (let r = 0; r < b; r++) {
        if (ids[r] < 0) x.data.fill(0, r * m, (r + 1) * m);
        else x.data.set(f.numeric.data.subarray(ids[r] * m, (ids[r] + 1) * m), r * m);
      }
      parts.push(x);
    }
    if (parts.length === 0) throw new Error('entity encoder: no id embedding and no features');
    return this.concat.forward(parts);
  }

  /** Back-propagates into the embedding tables (numeric inputs have no parameters). */
  backward(dy: DenseMatrix): void {
    const grads = this.concat.backward(dy);
    let k = 0;
    if (this.id) this.id.backward(grads[k++]);
    for (const c of this.cats) c.backward(grads[k++]);
    for (const h of this.bags) h.backward(grads[k++]);
  }

  /** All embedding tables. */
  params(): Param[] {
    return [...(this.id ? this.id.params() : []), ...this.cats.flatMap((c) => c.params()), ...this.bags.flatMap((h) => h.params())];
  }
}
