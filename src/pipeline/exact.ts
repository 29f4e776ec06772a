/**
 * Exact maximum-inner-product retrieval on item vectors: the kernels' fused score + top-k (`scoreTopK`), the
 * same call the factor models rank with, so its lists equal the model's `recommend`.
 */
import type { CsrMatrix, DenseMatrix, Kernels, PackedItems, ScoreTopKOptions } from '../linalg/api.js';
import { getKernels } from '../linalg/index.js';

/** Top-k of a batch of queries: row r holds query r's items best first (padded with item -1, score -∞). */
export interface VectorHits {
  k: number;
  items: Int32Array;
  scores: Float32Array;
}

/** A searchable set of item vectors. */
export interface VectorIndex {
  /** "exact", "ivf" or "hnsw". */
  readonly kind: string;
  /** Vector dimensions of a query. */
  readonly dims: number;
  /** Items indexed. */
  readonly size: number;
  /** The top `k` items of each query row (`queries` is rows × dims), never returning the items in `exclude`. */
  search(queries: DenseMatrix, k: number, exclude?: ReadonlySet<number>): Promise<VectorHits>;
}

/**
 * Exact retrieval through the kernels. The first search packs `items` once (`Kernels.packItems`) and every search
 * scores against that pack: with the native kernels a copy of the item matrix in the GEMM's panel layout, so the
 * index holds **twice the item matrix's memory** (items × dims floats more), in exchange for single queries scoring
 * 2.5–5× faster (docs/kernels.md); lists are bit-identical to unpacked scoring. The pack is a snapshot: `items`
 * must not change after the first search — build a new index for new vectors (training updates factors in place).
 */
export class ExactIndex implements VectorIndex {
  readonly kind = 'exact';
  private packing: Promise<PackedItems> | null = null;
  private packingKernels: Kernels | null = null;

  constructor(readonly items: DenseMatrix, readonly itemBias: Float32Array | null = null, private readonly kernels?: Kernels) {
    if (itemBias && itemBias.length !== items.rows) throw new Error(`ExactIndex: ${itemBias.length} item biases for ${items.rows} items`);
  }

  /** The pack of `items` made by `kn`: made once and shared by concurrent searches; a failed pack is retried. */
  private packed(kn: Kernels): Promise<PackedItems> {
    if (!this.packing || this.packingKernels !== kn) {
      const packing = kn.packItems(this.items);
      this.packing = packing;
      this.packingKernels = kn;
      packing.catch(() => {
        if (this.packing === packing) this.packing = null;
      });
    }
    return this.packing;
  }

  get dims(): number {
    return this.items.cols;
  }

  get size(): number {
    return this.items.rows;
  }

  async search(queries: DenseMatrix, k: number, exclude?: ReadonlySet<number>): Promise<VectorHits> {
    checkQueries(queries, this.dims, k);
    const kn = this.kernels ?? (await getKernels());
    const options: ScoreTopKOptions = { packed: await this.packed(kn) };
    if (exclude && exclude.size > 0) options.excludeAll = Int32Array.from(exclude);
    if (this.itemBias) options.itemBias = this.itemBias;
    const r = await kn.scoreTopK(queries, this.items, k, options);
    return { k, items: r.items, scores: r.scores };
  }

  /** The top `k` of each query row, never returning row r's items in row r of `exclude`. */
  async searchRows(queries: DenseMatrix, k: number, exclude: CsrMatrix | null): Promise<VectorHits> {
    checkQueries(queries, this.dims, k);
    if (exclude && exclude.rows !== queries.rows) throw new RangeError(`searchRows: ${exclude.rows} exclusion rows for ${queries.rows} queries`);
    const kn = this.kernels ?? (await getKernels());
    const options: ScoreTopKOptions = { packed: await this.packed(kn) };
    if (exclude && exclude.colIdx.length > 0) options.exclude = exclude;
    if (this.itemBias) options.itemBias = this.itemBias;
    const r = await kn.scoreTopK(queries, this.items, k, options);
    return { k, items: r.items, scores: r.scores };
  }
}

/** Throws unless `queries` has `dims` columns and `k` is a positive integer. */
export function checkQueries(queries: DenseMatrix, dims: number, k: number): void {
  if (queries.cols !== dims) throw new RangeError(`query vectors have ${queries.cols} dimensions, the index ${dims}`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`retrieval: k must be a positive integer (got ${k})`);
}
