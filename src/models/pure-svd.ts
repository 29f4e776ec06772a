/**
 * PureSVD (Cremonesi et al. 2010): the rank-k truncated SVD X ≈ UΣVᵀ of the user–item matrix, scores
 * x_u·V·Vᵀ. The SVD is the randomized range finder of Halko, Martinsson & Tropp (2011): Y = XΩ, q power
 * iterations with re-orthonormalization, B = QᵀX, then the small eigenproblem of BBᵀ. All products with X
 * are kernel `csrMatmul` calls, orthonormalization is Cholesky-QR twice (kernel Gram + GEMM); only the
 * l×l decompositions run in TypeScript. User factors are X·V (so folding a history in is x·V).
 */
import type { Interactions } from '../data/interactions.js';
import type { DenseMatrix, Kernels } from '../linalg/api.js';
import { choleskyInPlace, symmetricEigen, upperTriangularInverse } from '../linalg/small-dense.js';
import { Rng } from '../core/rng.js';
import { historyRow, num, readParams, type ModelState } from './base.js';
import { FactorRecommender, randomMatrix } from './factor-model.js';
import { itemUserCsr, userItemCsr, withValues } from './matrices.js';
import type { ShapedArray } from './persistence.js';
import { requireInt, resolveParams } from './params.js';
import type { FitOptions, History, RecommendOptions, TopK } from './recommender.js';
import { throwIfAborted } from './recommender.js';
import type { ModelEntry } from './registry.js';

/** Hyperparameters of {@link PureSvdRecommender}. */
export const PURE_SVD_DEFAULTS = { factors: 64, oversample: 10, powerIterations: 3, binary: true, seed: 42 };

/** Orthonormalizes the columns of tall `y` (Cholesky-QR, done twice for accuracy). */
export async function orthonormalize(kn: Kernels, y: DenseMatrix): Promise<DenseMatrix> {
  let q = y;
  const l = y.cols;
  for (let pass = 0; pass < 2; pass++) {
    const g = await kn.gram(q);
    const a = Float64Array.from(g.data.subarray(0, l * l));
    let trace = 0;
    for (let i = 0; i < l; i++) trace += a[i * l + i];
    const jitter = (trace / Math.max(1, l)) * 1e-7 + 1e-30;
    for (let i = 0; i < l; i++) a[i * l + i] += jitter;
    if (!choleskyInPlace(a, l)) throw new Error('pure-svd: Gram matrix of the sketch is not positive definite');
    const r = new Float64Array(l * l);
    for (let i = 0; i < l; i++) for (let j = 0; j <= i; j++) r[j * l + i] = a[i * l + j];
    const rinv = Float32Array.from(upperTriangularInverse(r, l));
    q = await kn.gemm(q, { rows: l, cols: l, data: rinv });
  }
  return q;
}

/** Truncated SVD of a CSR matrix: right singular vectors V (cols × k) and singular values. */
export async function randomizedSvd(kn: Kernels, x: Interactions, values: Float32Array, k: number, oversample: number, powerIterations: number, rng: Rng, signal?: AbortSignal): Promise<{ v: DenseMatrix; sigma: Float64Array }> {
  const a = withValues(userItemCsr(x), values);
  const at = withValues(itemUserCsr(x), Float32Array.from(x.csc().csrPos, (p) => values[p]));
  const l = Math.min(k + oversample, x.nUsers, x.nItems);
  if (k > l) throw new Error(`pure-svd: factors ${k} exceeds min(users, items) = ${l}`);
  const omega = randomMatrix(x.nItems, l, 1, rng);
  let y = await orthonormalize(kn, await kn.csrMatmul(a, omega));
  for (let it = 0; it < powerIterations; it++) {
    throwIfAborted(signal);
    const z = await orthonormalize(kn, await kn.csrMatmul(at, y));
    y = await orthonormalize(kn, await kn.csrMatmul(a, z));
  }
  const bt = await kn.csrMatmul(at, y);
  const c = await kn.gram(bt);
  const { values: lambda, vectors: w } = symmetricEigen(Float64Array.from(c.data.subarray(0, l * l)), l);
  const sigma = Float64Array.from(lambda.subarray(0, k), (e) => Math.sqrt(Math.max(0, e)));
  const wk = new Float32Array(l * k);
  for (let r = 0; r < l; r++) for (let j = 0; j < k; j++) wk[r * k + j] = sigma[j] > 0 ? w[r * l + j] / sigma[j] : 0;
  const v = await kn.gemm(bt, { rows: l, cols: k, data: wk });
  return { v, sigma };
}

/** PureSVD; see the module comment. */
export class PureSvdRecommender extends FactorRecommender {
  readonly name = 'pure-svd';
  readonly params: typeof PURE_SVD_DEFAULTS;
  /** The k largest singular values. */
  singularValues: Float64Array = new Float64Array(0);

  constructor(params: Record<string, unknown> = {}) {
    super();
    const p = resolveParams('pure-svd', PURE_SVD_DEFAULTS, params);
    requireInt('pure-svd', 'factors', p.factors, 1);
    requireInt('pure-svd', 'oversample', p.oversample, 0);
    requireInt('pure-svd', 'powerIterations', p.powerIterations, 0);
    this.params = p;
  }

  /** Randomized SVD, then user factors X·V. */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    const p = this.params;
    const kn = await this.kernels();
    const values = p.binary ? new Float32Array(train.nnz).fill(1) : train.values;
    const { v, sigma } = await randomizedSvd(kn, train, values, p.factors, p.oversample, p.powerIterations, new Rng(p.seed), options.signal);
    this.userFactors = await kn.csrMatmul(withValues(userItemCsr(train), values), v);
    this.itemFactors = v;
    this.singularValues = sigma;
    this.train = train;
    this.factorsChanged();
    options.onProgress?.({ phase: 'svd', done: 1, total: 1 });
  }

  /** x·V for the history. */
  async foldIn(history: History): Promise<Float32Array> {
    const { v } = this.factors();
    const row = historyRow(history, v.rows);
    if (this.params.binary) row.values.fill(1);
    const kn = await this.kernels();
    return (await kn.csrMatmul(row, v)).data.slice(0, v.cols);
  }

  protected override exportState(): ModelState {
    const s = super.exportState();
    s.arrays.singularValues = { data: this.singularValues, shape: [this.singularValues.length] };
    return s;
  }

  protected override importState(state: Record<string, unknown>, arrays: Record<string, ShapedArray>, where: string): void {
    super.importState(state, arrays, where);
    const sv = arrays.singularValues;
    if (!sv || !(sv.data instanceof Float64Array) || sv.data.length !== num(state, 'factors', where)) throw new Error(`${where}: array "singularValues" missing or invalid`);
    this.singularValues = sv.data;
  }

  /** Top-k for an unseen user's history via {@link foldIn}, excluding the history's items. */
  async recommendForHistory(history: History, k: number, options: Omit<RecommendOptions, 'excludeSeen'> = {}): Promise<TopK> {
    return this.recommendForVector(await this.foldIn(history), history, k, options);
  }

  /** Restores a model saved with `save`. */
  static async load(dir: string): Promise<PureSvdRecommender> {
    return new PureSvdRecommender(await readParams(dir, 'pure-svd')).restoreFrom(dir);
  }
}

/** Registry entry of PureSVD. */
export const pureSvdEntry: ModelEntry = {
  name: 'pure-svd',
  description: 'PureSVD: truncated randomized SVD (Halko et al.) of the interaction matrix, scores x·V·Vᵀ',
  create: (params) => new PureSvdRecommender(params),
  load: (dir) => PureSvdRecommender.load(dir),
  defaults: { ...PURE_SVD_DEFAULTS },
};
