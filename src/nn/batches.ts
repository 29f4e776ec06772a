/** Mini-batches over a shuffled range of example indices. */
import type { Rng } from '../core/rng.js';

/**
 * Splits 0..n-1 into batches of `batchSize` (the last may be smaller), shuffled with `rng` when given.
 * Each batch is a view into one permutation array.
 */
export function miniBatches(n: number, batchSize: number, rng: Rng | null): Int32Array[] {
  if (!(batchSize >= 1)) throw new RangeError(`batch size must be >= 1, got ${batchSize}`);
  const order = rng ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  const out: Int32Array[] = [];
  for (let s = 0; s < n; s += batchSize) out.push(order.subarray(s, Math.min(n, s + batchSize)));
  return out;
}

/** Rows `rows` of a CSR matrix (ptr/idx/values) as a new CSR batch, in the given order. */
export function gatherCsrRows(
  rowPtr: Int32Array,
  colIdx: Int32Array,
  values: Float32Array | null,
  cols: number,
  rows: ArrayLike<number>,
): { rows: number; cols: number; rowPtr: Int32Array; colIdx: Int32Array; values: Float32Array } {
  let nnz = 0;
  for (let k = 0; k < rows.length; k++) nnz += rowPtr[rows[k] + 1] - rowPtr[rows[k]];
  const ptr = new Int32Array(rows.length + 1);
  const idx = new Int32Array(nnz);
  const val = new Float32Array(nnz);
  let o = 0;
  for (let k = 0; k < rows.length; k++) {
    const a = rowPtr[rows[k]];
    const b = rowPtr[rows[k] + 1];
    idx.set(colIdx.subarray(a, b), o);
    if (values) val.set(values.subarray(a, b), o);
    else val.fill(1, o, o + b - a);
    o += b - a;
    ptr[k + 1] = o;
  }
  return { rows: rows.length, cols, rowPtr: ptr, colIdx: idx, values: val };
}
