/**
 * The kernel layer's contract: every numeric hot path of recsys goes through a {@link Kernels} object.
 * Three implementations exist: the plain-TypeScript reference (slow, obviously correct, used by tests), the
 * WebAssembly SIMD one running on a worker-thread pool over shared memory, and the native C++ one (the default
 * where its addon is built).
 *
 * Conventions: dense matrices are row-major float32; sparse matrices are CSR with sorted, unique column
 * indices per row. Arrays may live anywhere; arrays allocated with {@link Kernels.allocF32} live in the shared
 * WebAssembly memory and are passed to the kernels without copying.
 */

/** A row-major dense float32 matrix. `data.length` must be at least rows·cols. */
export interface DenseMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** A CSR sparse matrix. */
export interface CsrMatrix {
  rows: number;
  cols: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float32Array;
}

/** Options of {@link Kernels.gemm}: C = alpha·op(A)·op(B) + beta·C. */
export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  /** Output (and input when beta ≠ 0); allocated when omitted. */
  c?: DenseMatrix;
}

/** Options of {@link Kernels.spdInverse}. */
export interface SpdInverseOptions {
  /** Write the inverse into the input matrix (default false). */
  overwrite?: boolean;
  /** Called after each 128-row block step with (steps done, steps in all); large n takes seconds to minutes. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting stops the inverse at the next block step (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Options of the implicit-ALS half step. */
export interface IalsOptions {
  /** Confidence scale: c = 1 + alpha·r (linear) or 1 + alpha·log(1 + r/eps) (log). */
  alpha: number;
  confidence?: 'linear' | 'log';
  /** eps of the log confidence (default 1). */
  eps?: number;
  /** L2 regularization λ. */
  reg: number;
  /** Scale λ by (number of entries in the row)^regExponent (Rendle et al. 2022 frequency scaling; 0 = plain). */
  regExponent?: number;
  /** Weight of unobserved entries (the Gram term is multiplied by it; default 1). */
  unobservedWeight?: number;
  /** 'cg' (warm-started from the current X, `cgSteps` steps) or 'cholesky' (exact). */
  solver: 'cg' | 'cholesky';
  cgSteps?: number;
  /**
   * YᵀY (f × f) when already known, e.g. from {@link Kernels.gram} once per fit, so that folding in single users
   * does not recompute it (it costs items·f² per call otherwise). Must match Y.
   */
  gram?: DenseMatrix;
}

/** Options of the explicit ALS-WR half step. */
export interface AlsExplicitOptions {
  /** λ; multiplied by the row's entry count when `scaleByCount` (ALS-WR, default true). */
  reg: number;
  scaleByCount?: boolean;
}

/** Options of top-k selection. */
export interface TopKOptions {
  /** Per score row, the columns never to return (e.g. the user's training items); rows align with the score rows. */
  exclude?: CsrMatrix;
  /** Columns never to return, for every row. */
  excludeAll?: Int32Array;
  /** When given, only these columns are ranked. */
  candidates?: Int32Array;
}

/**
 * An item matrix V (items × f) packed once by {@link Kernels.packItems} for repeated {@link Kernels.scoreTopK} calls
 * against it (a service's retrieval). Opaque: a backend keeps its layout to itself (the native one holds a copy of
 * V in its GEMM's panel layout, `bytes` ≈ the size of V; WASM and the reference keep nothing and score V as given).
 *
 * The pack is a snapshot: V must not be changed while the pack is used — scores would come from the old values.
 * Training loops update factors in place, so pack after training, and never cache packs keyed on arrays.
 */
export interface PackedItems {
  /** Items (rows of V). */
  readonly rows: number;
  /** Factors (columns of V). */
  readonly cols: number;
  /** V's data array at packing time; scoreTopK rejects the pack for any other array. */
  readonly source: Float32Array;
  /** Bytes held by the packed copy (0 when the backend keeps none). */
  readonly bytes: number;
}

/** Options of {@link Kernels.scoreTopK}. */
export interface ScoreTopKOptions extends TopKOptions {
  /** Added to every user's score of item i. */
  itemBias?: Float32Array;
  /**
   * `packItems(v)` of this very V (same array, same shape; anything else is rejected). Results are bit-identical to
   * scoring without it; the native backend then streams the packed panels instead of transposing V on the fly.
   */
  packed?: PackedItems;
}

/**
 * The arrays of an inverted-file index over item vectors V (built by src/pipeline/ivf.ts), read by
 * {@link Kernels.ivfSearch}. Centroids and codes are rows of width w: V's columns, plus one for the item bias when
 * the index was built with one (the query's coordinate there is 1). Every array is read as given, never copied.
 */
export interface IvfLists {
  /** Width w of centroids and codes (V's columns, or V's columns + 1 with a bias column). */
  readonly width: number;
  /** Lists L (≥ 1). */
  readonly lists: number;
  /**
   * The list centroids as 7-bit codes, laid out like `codes` (centroid l in slot l; ⌈L/8⌉·8·wp bytes): scored like
   * the items, against the same 8-bit query, so choosing the lists reads a quarter of what float centroids take.
   */
  readonly centroidCodes: Uint8Array;
  /** List l holds the slots [listStart[l], listStart[l + 1]); every boundary a multiple of 8 (L + 1 entries). */
  readonly listStart: Int32Array;
  /** The item index in each slot, −1 for padding. */
  readonly slotItems: Int32Array;
  /**
   * 7-bit codes (0…127) in blocks of 8 slots: slot s's coordinate j at (s >> 3)·8·wp + (j >> 2)·32 + (s & 7)·4 +
   * (j & 3), wp = ⌈w/4⌉·4 (padding coordinates 0).
   */
  readonly codes: Uint8Array;
  /** Coordinate j of a slot's item ≈ codeOffset[j] + codeScale[j] · code (w values each). */
  readonly codeOffset: Float32Array;
  readonly codeScale: Float32Array;
}

/** Options of {@link Kernels.ivfSearch}. */
export interface IvfSearchOptions {
  /** Lists searched per query, those with the highest centroid score (≥ 1; more than L means all). */
  nprobe: number;
  /** Items with the best approximate (code) scores that are scored exactly (at least k of them are). */
  rerank: number;
  /**
   * false: no exact pass — the best k by code score are returned with their code scores (an approximation of the
   * inner product; V's rows are not read). Default true.
   */
  exact?: boolean;
  /** Added to item i's exact score (the index must then have its bias column). */
  itemBias?: Float32Array;
  /** Items never returned to query r: row r's sorted column indices. */
  exclude?: CsrMatrix;
  /** Items never returned to any query. */
  excludeAll?: Int32Array;
}

/** Result of a top-k selection: rows × k, best first, padded with -1 / -Infinity. */
export interface TopKResult {
  k: number;
  items: Int32Array;
  scores: Float32Array;
}

/** Options of {@link Kernels.adamStep}: one Adam / AdamW update with bias correction. */
export interface AdamStepOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** The step counter t ≥ 1 of the bias corrections 1/(1 − β₁ᵗ), 1/(1 − β₂ᵗ). */
  step: number;
  /** λ: added to the gradient as λ·w, or with `decoupled` (AdamW) applied as w ← w·(1 − lr·λ). */
  weightDecay: number;
  decoupled: boolean;
  /** Zero the gradient after reading it (default false). */
  clearGrad?: boolean;
}

/** Options of {@link Kernels.bprEpoch}. */
export interface BprEpochOptions {
  /** Updates in all (the model passes nnz per epoch). */
  steps: number;
  /** Learning rate of this epoch. */
  lr: number;
  /** L2 regularization λ. */
  reg: number;
  /**
   * Seed (uint32) of the epoch. Chunk c draws entries from xorshift32 seeded with {@link bprChunkSeed}(seed, c)
   * and negatives from a second one seeded with bprChunkSeed(seed ^ 0x5bd1e995, c).
   */
  seed: number;
  /**
   * Independent sampling streams, ceil(steps / chunks) updates each (default 1). With more than one chunk and more
   * than one thread, the chunks run concurrently on the shared factor arrays (Hogwild); otherwise they run in
   * order on one thread and the result is deterministic for a seed.
   */
  chunks?: number;
}

/** The BPR problem of {@link Kernels.bprEpoch}: the training CSR (rows = users, sorted columns) and each entry's row. */
export interface BprProblem {
  r: CsrMatrix;
  /** entryUser[e] = the row of stored entry e. */
  entryUser: Int32Array;
  /**
   * Optional rows·cols-bit membership bitmap of R (see {@link fillBprBitmap}): when given, negatives are tested
   * with one load instead of a binary search in the row (the same results, far fewer cache misses).
   */
  positives?: Int32Array;
}

/** Int32 words of a rows × cols membership bitmap. */
export function bprBitmapWords(rows: number, cols: number): number {
  return Math.ceil((rows * cols) / 32);
}

/** Sets bit u·cols + c (word ⌊·/32⌋, bit · mod 32) of `bits` for every stored entry (u, c) of R; `bits` must be zeroed. */
export function fillBprBitmap(r: CsrMatrix, bits: Int32Array): void {
  for (let u = 0; u < r.rows; u++) {
    const base = u * r.cols;
    for (let p = r.rowPtr[u]; p < r.rowPtr[u + 1]; p++) {
      const b = base + r.colIdx[p];
      bits[Math.floor(b / 32)] |= 1 << (b % 32);
    }
  }
}

/** The state word of chunk `chunk`'s xorshift32 stream for epoch seed `seed` (murmur3 finalizer; never 0). */
export function bprChunkSeed(seed: number, chunk: number): number {
  let h = (seed ^ Math.imul(chunk + 1, 0x9e3779b9)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0 || 0x9e3779b9;
}

/**
 * The numeric kernels. All heavy methods are async because they run on worker threads. Every method is required:
 * an implementation without a kernel of its own for some method delegates to the reference implementation, so
 * callers never choose a fallback.
 */
export interface Kernels {
  /** "reference", "wasm" or "native". */
  readonly kind: string;
  /** Worker threads used. */
  readonly threads: number;

  /** A float32 array in shared memory (zero-initialized), passed to kernels without copying. */
  allocF32(length: number): Float32Array;
  /** An int32 array in shared memory. */
  allocI32(length: number): Int32Array;
  /** Returns an array from allocF32/allocI32 to the allocator. */
  free(array: Float32Array | Int32Array): void;

  /** C = alpha·op(A)·op(B) + beta·C. */
  gemm(a: DenseMatrix, b: DenseMatrix, options?: GemmOptions): Promise<DenseMatrix>;
  /** XᵀX (cols × cols), accumulated in float64. */
  gram(x: DenseMatrix): Promise<DenseMatrix>;
  /**
   * XᵀX (cols × cols, dense) of a CSR matrix — the item–item co-occurrence Gram of EASE and item-KNN — in
   * Σ_rows nnz_row² work (pairs within each row), accumulated in float64.
   */
  sparseGram(x: CsrMatrix): Promise<DenseMatrix>;
  /** Solves `batch` SPD systems A_b x_b = b_b; `a` holds batch k×k matrices, `b` batch k-vectors; returns x. */
  choleskySolveBatched(a: Float32Array, b: Float32Array, k: number, batch: number): Promise<Float32Array>;
  /**
   * Inverse of a symmetric positive definite matrix (blocked Cholesky on GEMM); throws when not SPD.
   * With `overwrite`, the result is written into `a` (returned; its contents are destroyed even on failure); when
   * `a.data` comes from allocF32 no n×n copy is made at all (n = 20,000 then needs 1.6 GB instead of 4.8 GB).
   */
  spdInverse(a: DenseMatrix, options?: SpdInverseOptions): Promise<DenseMatrix>;
  /** A·B for CSR A (m × n) and dense B (n × d). */
  csrMatmul(a: CsrMatrix, b: DenseMatrix): Promise<DenseMatrix>;
  /** B·Aᵀ for dense B (d × n) and CSR A (m × n): d × m. */
  denseCsrT(b: DenseMatrix, a: CsrMatrix): Promise<DenseMatrix>;
  /**
   * One implicit-ALS half step (Hu, Koren, Volinsky): for every row u of R, solves
   * (w·YᵀY + Yᵤᵀ(Cᵤ − I)Yᵤ + λᵤI) xᵤ = Yᵤᵀ Cᵤ pᵤ, writing X in place. Rows without entries get xᵤ = 0.
   */
  ialsHalfStep(r: CsrMatrix, y: DenseMatrix, x: DenseMatrix, options: IalsOptions): Promise<void>;
  /** One explicit ALS-WR half step: xᵤ = (Yᵤᵀ Yᵤ + λ nᵤ I)⁻¹ Yᵤᵀ rᵤ for every row, X in place. */
  alsExplicitHalfStep(r: CsrMatrix, y: DenseMatrix, x: DenseMatrix, options: AlsExplicitOptions): Promise<void>;
  /** Top-k columns of each row of `scores`. */
  topk(scores: DenseMatrix, k: number, options?: TopKOptions): Promise<TopKResult>;
  /**
   * Fused scoring and top-k: scores = U·Vᵀ (+ itemBias) row by row, never storing the full score matrix.
   * `u` holds one row per user to score; `options.exclude` rows align with `u`'s rows. A user's scores (and so its
   * list) are the same bits whether it is scored alone or with other users, with or without `options.packed`.
   */
  scoreTopK(u: DenseMatrix, v: DenseMatrix, k: number, options?: ScoreTopKOptions): Promise<TopKResult>;
  /**
   * Packs the item matrix V once for {@link scoreTopK}'s `packed` option (see {@link PackedItems}: V must not change
   * afterwards; the native pack costs about V's size in memory and one pass over V).
   */
  packItems(v: DenseMatrix): Promise<PackedItems>;
  /**
   * Approximate top-k by inner product (+ itemBias) through an inverted-file index over V's rows: per query row,
   * the query rounded to 8 bits, the `nprobe` lists whose centroid codes score best (ties: lower list), their
   * items' 7-bit codes scored against it, the best `rerank` of those scored exactly on V (float32), and the best k
   * of those best first (ties: lower item; padded with −1 / −∞). Excluded items never enter. Scores are exact
   * inner products (unless `options.exact` is false); only the candidate set is approximate.
   */
  ivfSearch(queries: DenseMatrix, v: DenseMatrix, lists: IvfLists, k: number, options: IvfSearchOptions): Promise<TopKResult>;
  /**
   * A hint that `arrays` are read at random for a long time (an index's rows): the native backend asks the OS to
   * back them with 2 MiB pages, so row reads miss the TLB far less (docs/pipeline.md); the others do nothing.
   */
  adviseHugePages(arrays: readonly (Float32Array | Int32Array | Uint8Array)[]): void;

  /**
   * One Adam update over whole arrays, in place: g' = g + λw (coupled decay), m = β₁m + (1−β₁)g',
   * v = β₂v + (1−β₂)g'², w = w·shrink − lr·c₁·m / (√(v·c₂) + ε) with c_i = 1/(1 − β_iᵗ) and shrink = 1 − lr·λ
   * (decoupled) or 1. The arrays must have equal lengths.
   */
  adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, options: AdamStepOptions): Promise<void>;
  /**
   * Multinomial negative log-likelihood (Mult-VAE): for each row of `logits` (rows × cols) and CSR `targets` x,
   * −Σ_i x_i · log softmax(z)_i; returns the mean over rows and writes dLoss/dz = (softmax(z)·Σx − x) / rows into
   * `grad` (rows × cols, may not alias `logits`).
   */
  multinomialNll(logits: DenseMatrix, targets: CsrMatrix, grad: DenseMatrix): Promise<number>;

  /**
   * Dropout of the stored entries of CSR `x` (synchronous): entry q is dropped when u < p for the next
   * u = xoshiro128**() / 2³² of the generator whose four state words are `rngState` (advanced in place, one draw
   * per entry in storage order); kept values are scaled by 1/(1 − p). Returns a new CSR in ordinary arrays.
   */
  dropoutCsr(x: CsrMatrix, p: number, rngState: Uint32Array): CsrMatrix;

  /** out = tanh(x) element-wise over rows·cols values (out may be x). */
  tanh(x: DenseMatrix, out: DenseMatrix): Promise<void>;

  /**
   * One epoch of BPR-MF SGD (Rendle et al. 2009) in place on the factors: per update, draw a stored entry (u, i)
   * uniformly (e = s mod nnz of the entry stream's next word s), draw a negative j uniformly (c = t mod items of the
   * negative stream's next word t) up to
   * 32 times until it is not in u's sorted row (binary search; skip the update when all 32 hit positives or u has
   * every item), then with x = p_u·(q_i − q_j) + b_i − b_j, g = σ(−x), d = 1 − lr·λ:
   * p_u ← d·p_u + lr·g(q_i − q_j), q_i ← d·q_i + lr·g·p_u, q_j ← d·q_j − lr·g·p_u (old p_u),
   * b_i += lr(g − λb_i), b_j += lr(−g − λb_j). Returns Σ ln σ(x) and its count over every 16th update of each
   * chunk (the loss report).
   */
  bprEpoch(problem: BprProblem, userF: DenseMatrix, itemF: DenseMatrix, itemB: Float32Array, options: BprEpochOptions): Promise<{ logLik: number; count: number }>;

  /** Euclidean norm of each row. */
  rowNorms(x: DenseMatrix): Float32Array;
  /** Scales each row to unit norm in place (zero rows stay zero). */
  normalizeRows(x: DenseMatrix): void;
  /** Σ a_i b_i in float64. */
  dot(a: Float32Array, b: Float32Array): number;
  /** y += alpha·x. */
  axpy(alpha: number, x: Float32Array, y: Float32Array): void;

  /** Stops the worker threads (the process can then exit). */
  close(): Promise<void>;
}
