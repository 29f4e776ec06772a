/**
 * Shape and argument checks shared by every {@link Kernels} implementation, so that both the reference and the
 * WebAssembly path reject the same bad input with the same message.
 */
import type { BprEpochOptions, BprProblem, CsrMatrix, DenseMatrix, GemmOptions, IvfLists, IvfSearchOptions, PackedItems, ScoreTopKOptions, TopKOptions } from './api.js';
import { bprBitmapWords } from './api.js';

/** Throws a `RangeError` prefixed with the kernel name. */
export function fail(kernel: string, message: string): never {
  throw new RangeError(`${kernel}: ${message}`);
}

/** Checks that `m` is a well-formed dense matrix; `name` is used in the error. */
export function checkDense(kernel: string, name: string, m: DenseMatrix): void {
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 0 || m.cols < 0) {
    fail(kernel, `${name} has invalid shape ${m.rows}×${m.cols}`);
  }
  if (m.data.length < m.rows * m.cols) {
    fail(kernel, `${name} is ${m.rows}×${m.cols} but its data holds only ${m.data.length} values`);
  }
}

/** Checks that `m` is a well-formed CSR matrix (row pointers monotone, column indices in range). */
export function checkCsr(kernel: string, name: string, m: CsrMatrix): void {
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 0 || m.cols < 0) {
    fail(kernel, `${name} has invalid shape ${m.rows}×${m.cols}`);
  }
  if (m.rowPtr.length < m.rows + 1) fail(kernel, `${name}.rowPtr has ${m.rowPtr.length} entries, needs ${m.rows + 1}`);
  if (m.rowPtr[0] !== 0) fail(kernel, `${name}.rowPtr[0] is ${m.rowPtr[0]}, must be 0`);
  const nnz = m.rowPtr[m.rows];
  if (m.colIdx.length < nnz) fail(kernel, `${name}.colIdx has ${m.colIdx.length} entries, rowPtr says ${nnz}`);
  if (m.values.length < nnz) fail(kernel, `${name}.values has ${m.values.length} entries, rowPtr says ${nnz}`);
  for (let r = 0; r < m.rows; r++) {
    if (m.rowPtr[r + 1] < m.rowPtr[r]) fail(kernel, `${name}.rowPtr decreases at row ${r}`);
  }
  for (let p = 0; p < nnz; p++) {
    const c = m.colIdx[p];
    if (c < 0 || c >= m.cols) fail(kernel, `${name}.colIdx[${p}] = ${c} is outside 0..${m.cols - 1}`);
  }
}

/** The shape of op(A)·op(B): m × n with inner dimension k. */
export interface GemmShape {
  m: number;
  n: number;
  k: number;
}

/** Validates a GEMM call and returns its shape. */
export function gemmShape(a: DenseMatrix, b: DenseMatrix, options: GemmOptions): GemmShape {
  checkDense('gemm', 'A', a);
  checkDense('gemm', 'B', b);
  const m = options.transA ? a.cols : a.rows;
  const k = options.transA ? a.rows : a.cols;
  const kb = options.transB ? b.cols : b.rows;
  const n = options.transB ? b.rows : b.cols;
  if (k !== kb) {
    fail('gemm', `inner dimensions differ: op(A) is ${m}×${k}, op(B) is ${kb}×${n}`);
  }
  if (options.c) {
    checkDense('gemm', 'C', options.c);
    if (options.c.rows !== m || options.c.cols !== n) {
      fail('gemm', `C is ${options.c.rows}×${options.c.cols}, expected ${m}×${n}`);
    }
  }
  return { m, n, k };
}

/** Validates top-k options against a score matrix of `rows` × `cols`. */
export function checkTopK(kernel: string, rows: number, cols: number, k: number, options: TopKOptions): void {
  if (!Number.isInteger(k) || k < 0) fail(kernel, `k must be a non-negative integer, got ${k}`);
  if (options.exclude) {
    checkCsr(kernel, 'exclude', options.exclude);
    if (options.exclude.rows !== rows) fail(kernel, `exclude has ${options.exclude.rows} rows, scores have ${rows}`);
    const { rowPtr, colIdx } = options.exclude;
    for (let r = 0; r < rows; r++) {
      for (let p = rowPtr[r] + 1; p < rowPtr[r + 1]; p++) {
        if (colIdx[p] <= colIdx[p - 1]) fail(kernel, `exclude row ${r}: column indices must be sorted ascending and unique`);
      }
    }
  }
  if (options.excludeAll) {
    for (const c of options.excludeAll) if (c < 0 || c >= cols) fail(kernel, `excludeAll holds ${c}, outside 0..${cols - 1}`);
  }
  if (options.candidates) {
    for (const c of options.candidates) if (c < 0 || c >= cols) fail(kernel, `candidates holds ${c}, outside 0..${cols - 1}`);
  }
}

/** Validates the operands of scoreTopK (every backend: same checks, same messages). */
export function checkScoreTopK(u: DenseMatrix, v: DenseMatrix, k: number, options: ScoreTopKOptions): void {
  checkDense('scoreTopK', 'U', u);
  checkDense('scoreTopK', 'V', v);
  if (u.cols !== v.cols) fail('scoreTopK', `U has ${u.cols} columns, V has ${v.cols}`);
  if (options.itemBias && options.itemBias.length < v.rows) fail('scoreTopK', `itemBias has ${options.itemBias.length} values, V has ${v.rows} rows`);
  if (options.packed) checkPacked('scoreTopK', options.packed, v);
  checkTopK('scoreTopK', u.rows, v.rows, k, options);
}

/** Throws unless `packed` was packed from `v` (same shape, same data array). */
function checkPacked(kernel: string, packed: PackedItems, v: DenseMatrix): void {
  if (packed.rows !== v.rows || packed.cols !== v.cols) {
    fail(kernel, `options.packed holds ${packed.rows}×${packed.cols} items, V is ${v.rows}×${v.cols} (pack V again with packItems)`);
  }
  if (packed.source !== v.data) fail(kernel, 'options.packed was packed from another array than V.data (pack V again with packItems)');
}

/** Validates the shapes of an ALS half step: R is users × items, Y items × f, X users × f. */
export function checkHalfStep(kernel: string, r: CsrMatrix, y: DenseMatrix, x: DenseMatrix): void {
  checkCsr(kernel, 'R', r);
  checkDense(kernel, 'Y', y);
  checkDense(kernel, 'X', x);
  if (y.rows !== r.cols) fail(kernel, `Y has ${y.rows} rows, R has ${r.cols} columns`);
  if (x.rows !== r.rows) fail(kernel, `X has ${x.rows} rows, R has ${r.rows} rows`);
  if (x.cols !== y.cols) fail(kernel, `X has ${x.cols} columns (factors), Y has ${y.cols}`);
}

/** Checks a precomputed f × f Gram matrix and returns it. */
export function checkGram(kernel: string, gram: DenseMatrix, f: number): DenseMatrix {
  checkDense(kernel, 'gram', gram);
  if (gram.rows !== f || gram.cols !== f) fail(kernel, `gram is ${gram.rows}×${gram.cols}, expected ${f}×${f} (Y has ${f} columns)`);
  return gram;
}

/** Checks the arrays of an Adam step (equal lengths). */
export function checkAdam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array): void {
  if (g.length !== w.length || m.length !== w.length || v.length !== w.length) {
    fail('adamStep', `array lengths differ: w ${w.length}, g ${g.length}, m ${m.length}, v ${v.length}`);
  }
}

/** Checks the operands of the multinomial loss (logits and targets of one shape, a gradient buffer to match). */
export function checkMultinomial(logits: DenseMatrix, targets: CsrMatrix, grad: DenseMatrix): void {
  checkDense('multinomialNll', 'logits', logits);
  checkCsr('multinomialNll', 'targets', targets);
  if (logits.rows !== targets.rows || logits.cols !== targets.cols) {
    fail('multinomialNll', `logits ${logits.rows}×${logits.cols} vs targets ${targets.rows}×${targets.cols}`);
  }
  if (grad.data.length < logits.rows * logits.cols) fail('multinomialNll', `gradient buffer holds ${grad.data.length} values, needs ${logits.rows}·${logits.cols}`);
  if (grad.data === logits.data) fail('multinomialNll', 'grad must not alias logits');
}

/** Checks the operands of CSR dropout: a well-formed CSR, a rate in [0, 1) and four xoshiro128** state words. */
export function checkDropout(x: CsrMatrix, p: number, rngState: Uint32Array): void {
  checkCsr('dropoutCsr', 'X', x);
  if (!(p >= 0 && p < 1)) fail('dropoutCsr', `p must be in [0, 1), got ${p}`);
  if (rngState.length < 4) fail('dropoutCsr', `rngState holds ${rngState.length} words, needs 4`);
}

/** Checks the operands of an element-wise kernel (out holds at least x's values). */
export function checkElementwise(kernel: string, x: DenseMatrix, out: DenseMatrix): void {
  checkDense(kernel, 'X', x);
  if (out.data.length < x.rows * x.cols) fail(kernel, `out holds ${out.data.length} values, needs ${x.rows}·${x.cols}`);
}

/** Validates the arguments of bprEpoch; returns [nnz, f, chunks]. */
export function checkBpr(problem: BprProblem, userF: DenseMatrix, itemF: DenseMatrix, itemB: Float32Array, options: BprEpochOptions): [number, number, number] {
  const { r, entryUser } = problem;
  checkDense('bprEpoch', 'userF', userF);
  checkDense('bprEpoch', 'itemF', itemF);
  const nnz = r.rowPtr[r.rows];
  if (userF.rows !== r.rows) fail('bprEpoch', `userF has ${userF.rows} rows, R has ${r.rows}`);
  if (itemF.rows !== r.cols) fail('bprEpoch', `itemF has ${itemF.rows} rows, R has ${r.cols} columns`);
  if (userF.cols !== itemF.cols) fail('bprEpoch', `userF has ${userF.cols} columns, itemF has ${itemF.cols}`);
  if (itemB.length < r.cols) fail('bprEpoch', `itemB holds ${itemB.length} values, needs ${r.cols}`);
  if (entryUser.length < nnz || r.colIdx.length < nnz) fail('bprEpoch', `entryUser/colIdx hold fewer than ${nnz} entries`);
  if (problem.positives && problem.positives.length < bprBitmapWords(r.rows, r.cols)) fail('bprEpoch', `positives holds ${problem.positives.length} words, needs ${bprBitmapWords(r.rows, r.cols)}`);
  if (problem.positives && r.rows * r.cols > 2 ** 31) fail('bprEpoch', `a positives bitmap needs rows·cols ≤ 2³¹, got ${r.rows * r.cols}`);
  if (!Number.isInteger(options.steps) || options.steps < 0) fail('bprEpoch', `steps must be a non-negative integer, got ${options.steps}`);
  const chunks = options.chunks ?? 1;
  if (!Number.isInteger(chunks) || chunks < 1) fail('bprEpoch', `chunks must be a positive integer, got ${chunks}`);
  return [nnz, userF.cols, chunks];
}

/** IvfLists whose slots were checked, with the V height they were checked against. */
const checkedLists = new WeakMap<IvfLists, number>();

/** Validates the operands of ivfSearch (every backend: same checks, same messages). */
export function checkIvfSearch(q: DenseMatrix, v: DenseMatrix, lists: IvfLists, k: number, options: IvfSearchOptions): void {
  checkDense('ivfSearch', 'queries', q);
  checkDense('ivfSearch', 'V', v);
  if (q.cols !== v.cols) fail('ivfSearch', `queries have ${q.cols} columns, V has ${v.cols}`);
  const w = lists.width;
  const bias = options.itemBias !== undefined;
  if (w !== v.cols + (bias ? 1 : 0)) fail('ivfSearch', `the index is ${w} wide; V has ${v.cols} columns${bias ? ' + a bias column' : ' and no itemBias was given'}`);
  if (options.itemBias && options.itemBias.length < v.rows) fail('ivfSearch', `itemBias has ${options.itemBias.length} values, V has ${v.rows} rows`);
  const L = lists.lists;
  if (!Number.isInteger(L) || L < 1) fail('ivfSearch', `lists must be a positive integer, got ${L}`);
  const wp = Math.ceil(w / 4) * 4;
  const slots = lists.listStart[L];
  if (lists.listStart.length !== L + 1 || lists.listStart[0] !== 0) fail('ivfSearch', `listStart must hold ${L + 1} offsets from 0`);
  if (lists.centroidCodes.length < Math.ceil(L / 8) * 8 * wp) fail('ivfSearch', `centroidCodes hold ${lists.centroidCodes.length} bytes, ${L} lists of width ${wp} need ${Math.ceil(L / 8) * 8 * wp}`);
  if (lists.slotItems.length < slots) fail('ivfSearch', `slotItems holds ${lists.slotItems.length} entries, the lists ${slots}`);
  if (lists.codes.length < slots * wp) fail('ivfSearch', `codes hold ${lists.codes.length} bytes, ${slots} slots of width ${wp} need ${slots * wp}`);
  if (lists.codeOffset.length < w || lists.codeScale.length < w) fail('ivfSearch', `codeOffset / codeScale need ${w} values`);
  // The offsets and slots are read on every search: checked once per lists object (and V height), not per call.
  if (checkedLists.get(lists) !== v.rows) {
    for (let l = 0; l < L; l++) if (lists.listStart[l + 1] < lists.listStart[l] || lists.listStart[l + 1] % 8 !== 0) fail('ivfSearch', `listStart[${l + 1}] = ${lists.listStart[l + 1]}: offsets must ascend in multiples of 8`);
    for (let s = 0; s < slots; s++) if (lists.slotItems[s] >= v.rows || lists.slotItems[s] < -1) fail('ivfSearch', `slotItems[${s}] = ${lists.slotItems[s]}, outside −1..${v.rows - 1}`);
    checkedLists.set(lists, v.rows);
  }
  for (const [name, x] of [['nprobe', options.nprobe], ['rerank', options.rerank]] as const) if (!Number.isInteger(x) || x < 1) fail('ivfSearch', `${name} must be a positive integer, got ${x}`);
  if (options.exact !== undefined && typeof options.exact !== 'boolean') fail('ivfSearch', `exact must be a boolean, got ${String(options.exact)}`);
  checkTopK('ivfSearch', q.rows, v.rows, k, options);
}

