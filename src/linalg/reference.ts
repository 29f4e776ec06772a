/**
 * The plain-TypeScript reference implementation of {@link Kernels}: simple loops with float64 accumulation.
 * It is slow and obviously correct; the tests hold the WebAssembly path against it.
 */
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
import { adamConstants, adamRange } from './adam.js';
import { bprChunkSeed } from './api.js';
import { choleskyInPlace, choleskySolveInPlace } from './small-dense.js';
import { checkAdam, checkBpr, checkCsr, checkDense, checkDropout, checkElementwise, checkGram, checkHalfStep, checkIvfSearch, checkMultinomial, checkScoreTopK, checkTopK, fail, gemmShape } from './validate.js';

/** A pack that holds no copy (backends that score V as given): shape and source array, for the checks only. */
export function packWithoutCopy(v: DenseMatrix): PackedItems {
  checkDense('packItems', 'V', v);
  return Object.freeze({ rows: v.rows, cols: v.cols, source: v.data, bytes: 0 });
}

/** Confidence of an implicit observation with value `r`. */
export function confidence(r: number, options: IalsOptions): number {
  if ((options.confidence ?? 'linear') === 'log') return 1 + options.alpha * Math.log(1 + r / (options.eps ?? 1));
  return 1 + options.alpha * r;
}

/** Sorted top-k of (score, column) pairs: score descending, then column ascending; NaN scores are never returned. */
export function selectTopK(scores: ArrayLike<number>, columns: ArrayLike<number>, k: number, outItems: Int32Array, outScores: Float32Array, offset: number): void {
  const order: number[] = [];
  for (let i = 0; i < columns.length; i++) if (!Number.isNaN(scores[i])) order.push(i);
  order.sort((x, y) => scores[y] - scores[x] || columns[x] - columns[y] || 0);
  for (let j = 0; j < k; j++) {
    if (j < order.length) {
      outItems[offset + j] = columns[order[j]];
      outScores[offset + j] = scores[order[j]];
    } else {
      outItems[offset + j] = -1;
      outScores[offset + j] = -Infinity;
    }
  }
}

/** Row r's excluded columns: `all` (every row's) plus row r of `options.exclude`. */
function rowExclusions(options: TopKOptions, all: ReadonlySet<number>, r: number): Set<number> {
  const excluded = new Set<number>(all);
  if (options.exclude) for (let p = options.exclude.rowPtr[r]; p < options.exclude.rowPtr[r + 1]; p++) excluded.add(options.exclude.colIdx[p]);
  return excluded;
}

/** Top-k over each row of a score function, honouring exclusions and candidates. */
function topkRows(rows: number, cols: number, k: number, options: TopKOptions, score: (row: number, col: number) => number): TopKResult {
  const items = new Int32Array(rows * k);
  const scores = new Float32Array(rows * k);
  const excludedAll = new Set<number>(options.excludeAll ?? []);
  for (let r = 0; r < rows; r++) {
    const excluded = rowExclusions(options, excludedAll, r);
    const cols0: number[] = [];
    const vals: number[] = [];
    const consider = (c: number): void => {
      if (excluded.has(c)) return;
      cols0.push(c);
      vals.push(Math.fround(score(r, c)));
    };
    if (options.candidates) for (const c of new Set(options.candidates)) consider(c);
    else for (let c = 0; c < cols; c++) consider(c);
    selectTopK(vals, cols0, k, items, scores, r * k);
  }
  return { k, items, scores };
}

/** Rows of an SPD system for one user of an ALS half step: builds A and b in float64, solves, writes X. */
function solveRowDense(a: Float64Array, b: Float64Array, f: number, x: DenseMatrix, u: number, kernel: string): void {
  if (!choleskyInPlace(a, f)) fail(kernel, `the system of row ${u} is not positive definite (is reg > 0?)`);
  choleskySolveInPlace(a, f, b);
  for (let j = 0; j < f; j++) x.data[u * f + j] = b[j];
}

/** 32-bit rotate left (unsigned result). */
function rotl32(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The reference kernels (no workers, no shared memory). */
export class ReferenceKernels implements Kernels {
  /** Always "reference". */
  readonly kind = 'reference';
  /** Runs on the calling thread only. */
  readonly threads = 1;

  /** A plain zeroed Float32Array. */
  allocF32(length: number): Float32Array {
    return new Float32Array(length);
  }

  /** A plain zeroed Int32Array. */
  allocI32(length: number): Int32Array {
    return new Int32Array(length);
  }

  /** Nothing to do: the garbage collector owns these arrays. */
  free(_array: Float32Array | Int32Array): void {}

  /** Triple loop with float64 accumulation. */
  async gemm(a: DenseMatrix, b: DenseMatrix, options: GemmOptions = {}): Promise<DenseMatrix> {
    const { m, n, k } = gemmShape(a, b, options);
    const alpha = options.alpha ?? 1;
    const beta = options.beta ?? 0;
    const c = options.c ?? { rows: m, cols: n, data: new Float32Array(m * n) };
    const aAt = options.transA ? (i: number, p: number) => a.data[p * a.cols + i] : (i: number, p: number) => a.data[i * a.cols + p];
    const bAt = options.transB ? (p: number, j: number) => b.data[j * b.cols + p] : (p: number, j: number) => b.data[p * b.cols + j];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += aAt(i, p) * bAt(p, j);
        const old = beta === 0 ? 0 : beta * c.data[i * n + j];
        c.data[i * n + j] = alpha * s + old;
      }
    }
    return c;
  }

  /** XᵀX with float64 sums. */
  async gram(x: DenseMatrix): Promise<DenseMatrix> {
    checkDense('gram', 'X', x);
    const f = x.cols;
    const acc = new Float64Array(f * f);
    for (let r = 0; r < x.rows; r++) {
      const o = r * f;
      for (let i = 0; i < f; i++) {
        const xi = x.data[o + i];
        for (let j = 0; j < f; j++) acc[i * f + j] += xi * x.data[o + j];
      }
    }
    return { rows: f, cols: f, data: Float32Array.from(acc) };
  }

  /** Pairs within each row, float64 sums. */
  async sparseGram(x: CsrMatrix): Promise<DenseMatrix> {
    checkCsr('sparseGram', 'X', x);
    const n = x.cols;
    const acc = new Float64Array(n * n);
    for (let r = 0; r < x.rows; r++) {
      for (let p = x.rowPtr[r]; p < x.rowPtr[r + 1]; p++) {
        const i = x.colIdx[p];
        for (let q = x.rowPtr[r]; q < x.rowPtr[r + 1]; q++) acc[i * n + x.colIdx[q]] += x.values[p] * x.values[q];
      }
    }
    return { rows: n, cols: n, data: Float32Array.from(acc) };
  }

  /** Cholesky in float64 for each system. */
  async choleskySolveBatched(a: Float32Array, b: Float32Array, k: number, batch: number): Promise<Float32Array> {
    if (a.length < batch * k * k) fail('choleskySolveBatched', `a holds ${a.length} values, needs ${batch}·${k}·${k}`);
    if (b.length < batch * k) fail('choleskySolveBatched', `b holds ${b.length} values, needs ${batch}·${k}`);
    const out = new Float32Array(batch * k);
    const l = new Float64Array(k * k);
    const x = new Float64Array(k);
    for (let s = 0; s < batch; s++) {
      for (let i = 0; i < k * k; i++) l[i] = a[s * k * k + i];
      for (let i = 0; i < k; i++) x[i] = b[s * k + i];
      if (!choleskyInPlace(l, k)) fail('choleskySolveBatched', `system ${s} is not positive definite`);
      choleskySolveInPlace(l, k, x);
      for (let i = 0; i < k; i++) out[s * k + i] = x[i];
    }
    return out;
  }

  /** Cholesky, then inverse columns by solving against the identity, all float64. */
  async spdInverse(a: DenseMatrix, options: SpdInverseOptions = {}): Promise<DenseMatrix> {
    checkDense('spdInverse', 'A', a);
    if (a.rows !== a.cols) fail('spdInverse', `A must be square, is ${a.rows}×${a.cols}`);
    const n = a.rows;
    const l = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) l[i] = a.data[i];
    if (!choleskyInPlace(l, n)) fail('spdInverse', 'A is not symmetric positive definite');
    const out = new Float32Array(n * n);
    const e = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      options.signal?.throwIfAborted();
      options.onProgress?.(j + 1, n);
      e.fill(0);
      e[j] = 1;
      choleskySolveInPlace(l, n, e);
      for (let i = 0; i < n; i++) out[i * n + j] = e[i];
    }
    if (options.overwrite) {
      a.data.set(out);
      return a;
    }
    return { rows: n, cols: n, data: out };
  }

  /** Row-by-row sparse × dense. */
  async csrMatmul(a: CsrMatrix, b: DenseMatrix): Promise<DenseMatrix> {
    checkCsr('csrMatmul', 'A', a);
    checkDense('csrMatmul', 'B', b);
    if (a.cols !== b.rows) fail('csrMatmul', `A is ${a.rows}×${a.cols}, B is ${b.rows}×${b.cols}`);
    const d = b.cols;
    const out = new Float32Array(a.rows * d);
    const acc = new Float64Array(d);
    for (let r = 0; r < a.rows; r++) {
      acc.fill(0);
      for (let p = a.rowPtr[r]; p < a.rowPtr[r + 1]; p++) {
        const v = a.values[p];
        const o = a.colIdx[p] * d;
        for (let j = 0; j < d; j++) acc[j] += v * b.data[o + j];
      }
      for (let j = 0; j < d; j++) out[r * d + j] = acc[j];
    }
    return { rows: a.rows, cols: d, data: out };
  }

  /** B·Aᵀ: entry (i, r) = Σ_p B[i, col_p] · val_p over row r of A. */
  async denseCsrT(b: DenseMatrix, a: CsrMatrix): Promise<DenseMatrix> {
    checkCsr('denseCsrT', 'A', a);
    checkDense('denseCsrT', 'B', b);
    if (a.cols !== b.cols) fail('denseCsrT', `B is ${b.rows}×${b.cols}, A is ${a.rows}×${a.cols} (needs B.cols = A.cols)`);
    const out = new Float32Array(b.rows * a.rows);
    for (let i = 0; i < b.rows; i++) {
      for (let r = 0; r < a.rows; r++) {
        let s = 0;
        for (let p = a.rowPtr[r]; p < a.rowPtr[r + 1]; p++) s += b.data[i * b.cols + a.colIdx[p]] * a.values[p];
        out[i * a.rows + r] = s;
      }
    }
    return { rows: b.rows, cols: a.rows, data: out };
  }

  /** Forms each user's normal equations densely and solves them exactly (the `cholesky` answer for both solvers). */
  async ialsHalfStep(r: CsrMatrix, y: DenseMatrix, x: DenseMatrix, options: IalsOptions): Promise<void> {
    checkHalfStep('ialsHalfStep', r, y, x);
    const f = y.cols;
    const w = options.unobservedWeight ?? 1;
    const gram = options.gram ? checkGram('ialsHalfStep', options.gram, f).data : (await this.gram(y)).data;
    const a = new Float64Array(f * f);
    const b = new Float64Array(f);
    for (let u = 0; u < r.rows; u++) {
      const start = r.rowPtr[u];
      const end = r.rowPtr[u + 1];
      if (end === start) {
        x.data.fill(0, u * f, (u + 1) * f);
        continue;
      }
      const lambda = options.reg * Math.pow(end - start, options.regExponent ?? 0);
      for (let i = 0; i < f * f; i++) a[i] = w * gram[i];
      for (let i = 0; i < f; i++) a[i * f + i] += lambda;
      b.fill(0);
      for (let p = start; p < end; p++) {
        const c = confidence(r.values[p], options);
        const o = r.colIdx[p] * f;
        for (let i = 0; i < f; i++) {
          const yi = y.data[o + i];
          b[i] += c * yi;
          for (let j = 0; j < f; j++) a[i * f + j] += (c - 1) * yi * y.data[o + j];
        }
      }
      solveRowDense(a, b, f, x, u, 'ialsHalfStep');
    }
  }

  /** Forms (YᵤᵀYᵤ + λ nᵤ I) densely per row and solves it. */
  async alsExplicitHalfStep(r: CsrMatrix, y: DenseMatrix, x: DenseMatrix, options: AlsExplicitOptions): Promise<void> {
    checkHalfStep('alsExplicitHalfStep', r, y, x);
    const f = y.cols;
    const a = new Float64Array(f * f);
    const b = new Float64Array(f);
    for (let u = 0; u < r.rows; u++) {
      const start = r.rowPtr[u];
      const end = r.rowPtr[u + 1];
      if (end === start) {
        x.data.fill(0, u * f, (u + 1) * f);
        continue;
      }
      const lambda = options.reg * ((options.scaleByCount ?? true) ? end - start : 1);
      a.fill(0);
      b.fill(0);
      for (let i = 0; i < f; i++) a[i * f + i] = lambda;
      for (let p = start; p < end; p++) {
        const o = r.colIdx[p] * f;
        const v = r.values[p];
        for (let i = 0; i < f; i++) {
          const yi = y.data[o + i];
          b[i] += v * yi;
          for (let j = 0; j < f; j++) a[i * f + j] += yi * y.data[o + j];
        }
      }
      solveRowDense(a, b, f, x, u, 'alsExplicitHalfStep');
    }
  }

  /** Sorts the admissible columns of each row. */
  async topk(scores: DenseMatrix, k: number, options: TopKOptions = {}): Promise<TopKResult> {
    checkDense('topk', 'scores', scores);
    checkTopK('topk', scores.rows, scores.cols, k, options);
    return topkRows(scores.rows, scores.cols, k, options, (r, c) => scores.data[r * scores.cols + c]);
  }

  /** Scores each admissible (user, item) pair with a float64 dot product, then selects. */
  async scoreTopK(u: DenseMatrix, v: DenseMatrix, k: number, options: ScoreTopKOptions = {}): Promise<TopKResult> {
    checkScoreTopK(u, v, k, options);
    const f = u.cols;
    const bias = options.itemBias;
    return topkRows(u.rows, v.rows, k, options, (r, c) => {
      let s = bias ? bias[c] : 0;
      for (let j = 0; j < f; j++) s += u.data[r * f + j] * v.data[c * f + j];
      return s;
    });
  }

  /** Nothing to pack: the reference scores V as given (the pack only carries V's shape and array for the checks). */
  async packItems(v: DenseMatrix): Promise<PackedItems> {
    return packWithoutCopy(v);
  }

  /**
   * The inverted-file search written out plainly: the code scores (centroids' and items') as the native kernel
   * rounds them, exact scores in float64, selections by sorting.
   */
  async ivfSearch(queries: DenseMatrix, v: DenseMatrix, lists: IvfLists, k: number, options: IvfSearchOptions): Promise<TopKResult> {
    checkIvfSearch(queries, v, lists, k, options);
    const { width: w, lists: L } = lists;
    const d = v.cols;
    const wp = Math.ceil(w / 4) * 4;
    const nprobe = Math.min(options.nprobe, L);
    const exact = options.exact ?? true;
    const rerank = exact ? Math.max(options.rerank, k) : k;
    const items = new Int32Array(queries.rows * k);
    const scores = new Float32Array(queries.rows * k);
    const excludedAll = new Set<number>(options.excludeAll ?? []);
    for (let r = 0; r < queries.rows; r++) {
      const qx = Float32Array.from({ length: w }, (_, j) => (j < d ? queries.data[r * d + j] : 1));
      const excluded = rowExclusions(options, excludedAll, r);
      // The query in 8 bits.
      let base = 0;
      let most = 0;
      for (let j = 0; j < w; j++) {
        base += qx[j] * lists.codeOffset[j];
        const t = Math.abs(Math.fround(qx[j] * lists.codeScale[j]));
        if (t > most || Number.isNaN(t)) most = t;
      }
      const sigma = most > 0 && Number.isFinite(most) ? Math.fround(most / 127) : 0;
      const e = new Int32Array(wp);
      for (let j = 0; j < w; j++) e[j] = sigma > 0 ? Math.max(-127, Math.min(127, Math.floor(Math.fround(Math.fround(qx[j] * lists.codeScale[j]) / sigma) + 0.5))) : 0;
      const baseF = Math.fround(base);
      /** The code score of slot s in `codes` (the kernel's rounding: an exact integer sum, then σ·sum + base in float32). */
      const codeScore = (codes: Uint8Array, s: number): number => {
        const block = (s >> 3) * 8 * wp;
        let acc = 0;
        for (let j = 0; j < wp; j++) acc += e[j] * codes[block + (j >> 2) * 32 + (s & 7) * 4 + (j & 3)];
        return Math.fround(Math.fround(acc) * sigma + baseF);
      };
      // Lists by centroid code score.
      const cScores: number[] = [];
      const cIds: number[] = [];
      for (let l = 0; l < L; l++) {
        cScores.push(codeScore(lists.centroidCodes, l));
        cIds.push(l);
      }
      const probe = new Int32Array(nprobe);
      selectTopK(cScores, cIds, nprobe, probe, new Float32Array(nprobe), 0);
      const aScores: number[] = [];
      const aIds: number[] = [];
      for (const l of probe) {
        for (let s = lists.listStart[l]; s < lists.listStart[l + 1]; s++) {
          const item = lists.slotItems[s];
          if (item < 0 || excluded.has(item)) continue;
          aScores.push(codeScore(lists.codes, s));
          aIds.push(item);
        }
      }
      if (!exact) {
        selectTopK(aScores, aIds, k, items, scores, r * k);
        continue;
      }
      const cand = new Int32Array(rerank);
      selectTopK(aScores, aIds, rerank, cand, new Float32Array(rerank), 0);
      const eScores: number[] = [];
      const eIds: number[] = [];
      for (const item of cand) {
        if (item < 0) break;
        let s = 0;
        for (let j = 0; j < d; j++) s += queries.data[r * d + j] * v.data[item * d + j];
        eScores.push(Math.fround(s + (options.itemBias ? options.itemBias[item] : 0)));
        eIds.push(item);
      }
      selectTopK(eScores, eIds, k, items, scores, r * k);
    }
    return { k, items, scores };
  }

  /** Nothing to do: a hint for the native backend. */
  adviseHugePages(_arrays: readonly (Float32Array | Int32Array | Uint8Array)[]): void {}

  /** √(Σ x²) per row in float64. */
  rowNorms(x: DenseMatrix): Float32Array {
    checkDense('rowNorms', 'X', x);
    const out = new Float32Array(x.rows);
    for (let r = 0; r < x.rows; r++) {
      let s = 0;
      for (let j = 0; j < x.cols; j++) s += x.data[r * x.cols + j] ** 2;
      out[r] = Math.sqrt(s);
    }
    return out;
  }

  /** Divides each nonzero row by its norm. */
  normalizeRows(x: DenseMatrix): void {
    const norms = this.rowNorms(x);
    for (let r = 0; r < x.rows; r++) {
      if (norms[r] === 0) continue;
      for (let j = 0; j < x.cols; j++) x.data[r * x.cols + j] /= norms[r];
    }
  }

  /** Float64 dot product. */
  dot(a: Float32Array, b: Float32Array): number {
    if (a.length !== b.length) fail('dot', `lengths differ: ${a.length} and ${b.length}`);
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }

  /** y += alpha·x. */
  axpy(alpha: number, x: Float32Array, y: Float32Array): void {
    if (x.length !== y.length) fail('axpy', `lengths differ: ${x.length} and ${y.length}`);
    for (let i = 0; i < x.length; i++) y[i] += alpha * x[i];
  }

  /** The float64 Adam loop over the whole arrays. */
  async adamStep(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, options: AdamStepOptions): Promise<void> {
    checkAdam(w, g, m, v);
    adamRange(w, g, m, v, 0, w.length, adamConstants(options), options.beta1, options.beta2, options.eps);
    if (options.clearGrad) g.fill(0);
  }

  /** The float64 multinomial NLL row by row. */
  async multinomialNll(logits: DenseMatrix, targets: CsrMatrix, grad: DenseMatrix): Promise<number> {
    checkMultinomial(logits, targets, grad);
    const { rows, cols } = logits;
    const g = grad.data;
    const z = logits.data;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let max = -Infinity;
      for (let j = 0; j < cols; j++) if (z[o + j] > max) max = z[o + j];
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(z[o + j] - max);
        g[o + j] = e;
        s += e;
      }
      const logZ = max + Math.log(s);
      let xSum = 0;
      for (let p = targets.rowPtr[r]; p < targets.rowPtr[r + 1]; p++) {
        const x = targets.values[p];
        xSum += x;
        total -= x * (z[o + targets.colIdx[p]] - logZ);
      }
      const scale = xSum / (s * rows);
      for (let j = 0; j < cols; j++) g[o + j] *= scale;
      for (let p = targets.rowPtr[r]; p < targets.rowPtr[r + 1]; p++) g[o + targets.colIdx[p]] -= targets.values[p] / rows;
    }
    return total / rows;
  }

  /** xoshiro128** in JavaScript over the entries. */
  dropoutCsr(x: CsrMatrix, p: number, rngState: Uint32Array): CsrMatrix {
    checkDropout(x, p, rngState);
    const nnz = x.rowPtr[x.rows];
    const rowPtr = new Int32Array(x.rows + 1);
    const colIdx = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    const scale = 1 / (1 - p);
    let [s0, s1, s2, s3] = rngState;
    let o = 0;
    for (let r = 0; r < x.rows; r++) {
      for (let q = x.rowPtr[r]; q < x.rowPtr[r + 1]; q++) {
        const result = Math.imul(rotl32(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
        const t = (s1 << 9) >>> 0;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = rotl32(s3, 11);
        s0 >>>= 0;
        s1 >>>= 0;
        s2 >>>= 0;
        if (result / 4294967296 < p) continue;
        colIdx[o] = x.colIdx[q];
        values[o] = x.values[q] * scale;
        o++;
      }
      rowPtr[r + 1] = o;
    }
    rngState[0] = s0;
    rngState[1] = s1;
    rngState[2] = s2;
    rngState[3] = s3;
    return { rows: x.rows, cols: x.cols, rowPtr, colIdx: colIdx.slice(0, o), values: values.slice(0, o) };
  }

  /** BPR SGD chunk after chunk on this thread (float64 arithmetic, float32 storage); see Kernels.bprEpoch. */
  async bprEpoch(problem: BprProblem, userF: DenseMatrix, itemF: DenseMatrix, itemB: Float32Array, options: BprEpochOptions): Promise<{ logLik: number; count: number }> {
    const [nnz, f, chunks] = checkBpr(problem, userF, itemF, itemB, options);
    let logLik = 0;
    let count = 0;
    if (nnz === 0 || options.steps === 0) return { logLik, count };
    const { rowPtr, colIdx } = problem.r;
    const entryUser = problem.entryUser;
    const bits = problem.positives;
    const nItems = problem.r.cols;
    const P = userF.data;
    const Q = itemF.data;
    const { lr, reg } = options;
    const per = Math.ceil(options.steps / chunks);
    for (let chunk = 0; chunk < chunks; chunk++) {
      const steps = Math.max(0, Math.min(per, options.steps - chunk * per));
      let s = bprChunkSeed(options.seed, chunk);
      let t = bprChunkSeed((options.seed ^ 0x5bd1e995) >>> 0, chunk);
      for (let step = 0; step < steps; step++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        const e = (s >>> 0) % nnz;
        const u = entryUser[e];
        const i = colIdx[e];
        const lo0 = rowPtr[u];
        const hi0 = rowPtr[u + 1] - 1;
        if (hi0 - lo0 + 1 >= nItems) continue;
        let j = -1;
        for (let tries = 0; tries < 32 && j < 0; tries++) {
          t ^= t << 13;
          t ^= t >>> 17;
          t ^= t << 5;
          const c = (t >>> 0) % nItems;
          let found = false;
          if (bits) {
            const b = u * nItems + c;
            found = ((bits[b >>> 5] >>> (b & 31)) & 1) !== 0;
          } else {
            let lo = lo0;
            let hi = hi0;
            while (lo <= hi) {
              const mid = (lo + hi) >>> 1;
              const v = colIdx[mid];
              if (v === c) {
                found = true;
                break;
              }
              if (v < c) lo = mid + 1;
              else hi = mid - 1;
            }
          }
          if (!found) j = c;
        }
        if (j < 0) continue;
        const pu = u * f;
        const qi = i * f;
        const qj = j * f;
        let x = itemB[i] - itemB[j];
        for (let d = 0; d < f; d++) x += P[pu + d] * (Q[qi + d] - Q[qj + d]);
        const g = 1 / (1 + Math.exp(x));
        if ((step & 15) === 0) {
          logLik += x > -30 ? -Math.log1p(Math.exp(-x)) : x;
          count++;
        }
        const lg = lr * g;
        const decay = 1 - lr * reg;
        for (let d = 0; d < f; d++) {
          const a = P[pu + d];
          const bi = Q[qi + d];
          const bj = Q[qj + d];
          P[pu + d] = decay * a + lg * (bi - bj);
          Q[qi + d] = decay * bi + lg * a;
          Q[qj + d] = decay * bj - lg * a;
        }
        itemB[i] += lr * (g - reg * itemB[i]);
        itemB[j] += lr * (-g - reg * itemB[j]);
      }
    }
    return { logLik, count };
  }

  /** Math.tanh per element. */
  async tanh(x: DenseMatrix, out: DenseMatrix): Promise<void> {
    checkElementwise('tanh', x, out);
    const n = x.rows * x.cols;
    for (let i = 0; i < n; i++) out.data[i] = Math.tanh(x.data[i]);
  }

  /** Nothing to stop. */
  async close(): Promise<void> {}
}

/** The shared reference instance. */
export const referenceKernels: Kernels = new ReferenceKernels();
