/**
 * PureSVD (Cremonesi et al. 2010): the rank-k truncated SVD X ≈ UΣVᵀ of the user–item matrix, scores
 * x_u·V·Vᵀ. The SVD is the randomized range finder of Halko, Martinsson & Tropp (2011): Y = XΩ, q power
 * iterations with re-orthonormalization, B = QᵀX, then the small eigenproblem of BBᵀ. All products with X
 * are kernel `csrMatmul` calls, orthonormalization is Cholesky-QR twice (kernel Gram + GEMM); only the
 * l×l decompositions run in TypeScript. User factors are X·V (so folding a history in is x·V).
 */
import type { Interactions } from '../../data/interactions.js';
import type { CsrMatrix, DenseMatrix, Kernels } from '../../linalg/api.js';
import { choleskyInPlace, symmetricEigen, upperTriangularInverse } from '../../linalg/small-dense.js';
import { bool, defineParams, int, type ParamsOf } from '../../core/params.js';
import { checkpoint, type FitOptions } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { itemUserCsr, userItemCsr, withValues } from '../matrices.js';
import { defineModel } from '../registry.js';
import { ones, vector, type StateReader, type StoredState } from '../skeleton.js';
import { FoldInFactorModel, randomMatrix, type FactorState } from './factor-model.js';

/** Hyperparameters of {@link PureSvdRecommender}. */
export const PURE_SVD_PARAMS = defineParams({
  factors: int(64, { min: 1, doc: 'rank k of the truncated SVD' }),
  oversample: int(10, { min: 0, doc: 'extra sketch columns (l = k + oversample)' }),
  powerIterations: int(3, { min: 0, doc: 'power iterations of the range finder' }),
  binary: bool(true, { doc: 'factorize X = [r > 0] (true) or the raw values' }),
  seed: int(42, { doc: 'seed of the random sketch' }),
});

/** Typed hyperparameters of {@link PureSvdRecommender}. */
export type PureSvdParams = ParamsOf<typeof PURE_SVD_PARAMS>;

interface PureSvdState extends FactorState {
  /** The k largest singular values. */
  sigma: Float64Array;
}

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
    await checkpoint(signal);
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
export class PureSvdRecommender extends FoldInFactorModel<PureSvdParams, PureSvdState> {
  readonly name = 'pure-svd';

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(PURE_SVD_PARAMS.parse('pure-svd', params));
  }

  /** The k largest singular values (empty before fit). */
  get singularValues(): Float64Array {
    return this.stateOrNull?.sigma ?? new Float64Array(0);
  }

  /** Randomized SVD, then user factors X·V. */
  protected async fitState(train: Interactions, options: FitOptions): Promise<PureSvdState> {
    const p = this.params;
    const kn = await this.kernels();
    const values = p.binary ? new Float32Array(train.nnz).fill(1) : train.values;
    const { v, sigma } = await randomizedSvd(kn, train, values, p.factors, p.oversample, p.powerIterations, new Rng(p.seed), options.signal);
    const user = await kn.csrMatmul(withValues(userItemCsr(train), values), v);
    options.onProgress?.({ phase: 'svd', done: 1, total: 1 });
    return { user, item: v, itemBias: null, sigma };
  }

  /** x·V for the rows. */
  protected async foldInRows(state: PureSvdState, rows: CsrMatrix): Promise<DenseMatrix> {
    const kn = await this.kernels();
    return kn.csrMatmul(this.params.binary ? ones(rows) : rows, state.item);
  }

  protected exportState(state: PureSvdState): StoredState {
    const s = this.factorArrays(state);
    s.arrays.singularValues = vector(state.sigma);
    return s;
  }

  protected importState(saved: StateReader, train: Interactions): PureSvdState {
    const f = this.readFactors(saved, train);
    return { ...f, sigma: saved.f64('singularValues', f.user.cols) };
  }
}

/** Registry entry of PureSVD. */
export const pureSvdModel = defineModel({
  name: 'pure-svd',
  description: 'PureSVD: truncated randomized SVD (Halko et al.) of the interaction matrix, scores x·V·Vᵀ',
  params: PURE_SVD_PARAMS,
  create: (p) => new PureSvdRecommender(p),
});
