// Top-k selection with exclusions and candidate lists, and user × item scoring fused with it.
// A bounded min-heap per row keeps the k best (score descending, then column ascending). Columns are visited in
// ascending order (candidate lists arrive sorted), so a later column with an equal score never displaces an
// earlier one, and the sorted exclusion lists are walked with cursors instead of being looked up.
import { gemmBlock, GEMM_SCRATCH_BYTES } from './gemm';

/** Columns scored per GEMM tile in scoreTopKChunk. */
export const ITEM_BLOCK: i32 = 4096;

// @ts-ignore: decorator
@inline function worse(sa: f32, ia: i32, sb: f32, ib: i32): bool {
  return sa < sb || (sa == sb && ia > ib);
}

function siftDown(hs: usize, hi: usize, size: i32, from: i32): void {
  let i = from;
  const s = load<f32>(hs + <usize>i * 4);
  const id = load<i32>(hi + <usize>i * 4);
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    let c = l;
    if (l + 1 < size && worse(load<f32>(hs + <usize>(l + 1) * 4), load<i32>(hi + <usize>(l + 1) * 4), load<f32>(hs + <usize>l * 4), load<i32>(hi + <usize>l * 4))) c = l + 1;
    const cs = load<f32>(hs + <usize>c * 4);
    const ci = load<i32>(hi + <usize>c * 4);
    if (!worse(cs, ci, s, id)) break;
    store<f32>(hs + <usize>i * 4, cs);
    store<i32>(hi + <usize>i * 4, ci);
    i = c;
  }
  store<f32>(hs + <usize>i * 4, s);
  store<i32>(hi + <usize>i * 4, id);
}

function siftUp(hs: usize, hi: usize, from: i32): void {
  let i = from;
  const s = load<f32>(hs + <usize>i * 4);
  const id = load<i32>(hi + <usize>i * 4);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const ps = load<f32>(hs + <usize>parent * 4);
    const pi = load<i32>(hi + <usize>parent * 4);
    if (!worse(s, id, ps, pi)) break;
    store<f32>(hs + <usize>i * 4, ps);
    store<i32>(hi + <usize>i * 4, pi);
    i = parent;
  }
  store<f32>(hs + <usize>i * 4, s);
  store<i32>(hi + <usize>i * 4, id);
}

/** Offers one column to a heap whose size is stored at `sizePtr`. */
// @ts-ignore: decorator
@inline function offer(s: f32, col: i32, k: i32, hs: usize, hi: usize, sizePtr: usize): void {
  if (s != s) return;
  const size = load<i32>(sizePtr);
  if (size < k) {
    store<f32>(hs + <usize>size * 4, s);
    store<i32>(hi + <usize>size * 4, col);
    store<i32>(sizePtr, size + 1);
    siftUp(hs, hi, size);
  } else if (s > load<f32>(hs)) {
    store<f32>(hs, s);
    store<i32>(hi, col);
    siftDown(hs, hi, size, 0);
  }
}

/** True when `col` is in the sorted list [list + cursor, list + end); advances the cursor stored at `cursorPtr`. */
// @ts-ignore: decorator
@inline function excluded(list: usize, cursorPtr: usize, end: i32, col: i32): bool {
  if (list == 0) return false;
  let c = load<i32>(cursorPtr);
  while (c < end && load<i32>(list + <usize>c * 4) < col) c++;
  store<i32>(cursorPtr, c);
  return c < end && load<i32>(list + <usize>c * 4) == col;
}

/**
 * Offers columns [j0, j1) (or the sorted candidates in that range) of one row, whose score of column j sits at
 * scores + (j − j0)·4. `state` holds three i32: heap size, row-exclusion cursor, global-exclusion cursor.
 */
function feed(
  scores: usize, j0: i32, j1: i32, cand: usize, nCand: i32, candCursorPtr: usize,
  excl: usize, exclEnd: i32, exclAll: usize, nExclAll: i32, k: i32, hs: usize, hi: usize, state: usize,
): void {
  if (cand != 0) {
    let t = load<i32>(candCursorPtr);
    for (; t < nCand; t++) {
      const col = load<i32>(cand + <usize>t * 4);
      if (col >= j1) break;
      if (excluded(excl, state + 4, exclEnd, col) || excluded(exclAll, state + 8, nExclAll, col)) continue;
      offer(load<f32>(scores + <usize>(col - j0) * 4), col, k, hs, hi, state);
    }
    store<i32>(candCursorPtr, t);
    return;
  }
  for (let col = j0; col < j1; col++) {
    if (excluded(excl, state + 4, exclEnd, col) || excluded(exclAll, state + 8, nExclAll, col)) continue;
    offer(load<f32>(scores + <usize>(col - j0) * 4), col, k, hs, hi, state);
  }
}

/** Empties a heap into k output slots best first, padding with -1 / -Infinity. */
function drain(k: i32, hs: usize, hi: usize, size: i32, items: usize, scores: usize): void {
  for (let j = size; j < k; j++) {
    store<i32>(items + <usize>j * 4, -1);
    store<f32>(scores + <usize>j * 4, -Infinity);
  }
  for (let n = size; n > 0; n--) {
    store<i32>(items + <usize>(n - 1) * 4, load<i32>(hi));
    store<f32>(scores + <usize>(n - 1) * 4, load<f32>(hs));
    store<f32>(hs, load<f32>(hs + <usize>(n - 1) * 4));
    store<i32>(hi, load<i32>(hi + <usize>(n - 1) * 4));
    siftDown(hs, hi, n - 1, 0);
  }
}

/** Bytes of scratch topkChunk needs. */
export function topkScratchBytes(k: i32): i32 {
  return k * 8 + 64;
}

/** Rows [chunk·perChunk, …) of a top-k over a dense score matrix (rows × cols). exclRowPtr/exclAll/cand 0 = none. */
export function topkChunk(
  scores: usize, rows: i32, cols: i32, k: i32, cand: usize, nCand: i32,
  exclRowPtr: usize, exclColIdx: usize, exclAll: usize, nExclAll: i32,
  outItems: usize, outScores: usize, perChunk: i32, chunk: i32, scratch: usize,
): i32 {
  const state = (scratch + 15) & ~(<usize>15);
  const hs = state + 16;
  const hi = hs + <usize>k * 4;
  const end = min(rows, (chunk + 1) * perChunk);
  for (let r = chunk * perChunk; r < end; r++) {
    store<i32>(state, 0);
    store<i32>(state + 4, exclRowPtr != 0 ? load<i32>(exclRowPtr + <usize>r * 4) : 0);
    store<i32>(state + 8, 0);
    store<i32>(state + 12, 0);
    const exclEnd = exclRowPtr != 0 ? load<i32>(exclRowPtr + <usize>(r + 1) * 4) : 0;
    feed(scores + <usize>(r * cols) * 4, 0, cols, cand, nCand, state + 12, exclRowPtr != 0 ? exclColIdx : 0, exclEnd, exclAll, nExclAll, k, hs, hi, state);
    drain(k, hs, hi, load<i32>(state), outItems + <usize>(r * k) * 4, outScores + <usize>(r * k) * 4);
  }
  return 0;
}

/** Bytes of scratch scoreTopKChunk needs for `perChunk` users and k results. */
export function scoreTopKScratchBytes(perChunk: i32, k: i32): i32 {
  return GEMM_SCRATCH_BYTES + perChunk * ITEM_BLOCK * 4 + perChunk * (16 + k * 8) + 128;
}

/**
 * Users [chunk·perChunk, …): scores U·Vᵀ (+ bias) one ITEM_BLOCK of items at a time into a tile, each user's
 * heap fed block by block, so no full score row is ever stored.
 */
export function scoreTopKChunk(
  u: usize, users: i32, v: usize, items: i32, f: i32, bias: usize, k: i32, cand: usize, nCand: i32,
  exclRowPtr: usize, exclColIdx: usize, exclAll: usize, nExclAll: i32,
  outItems: usize, outScores: usize, perChunk: i32, chunk: i32, scratch: usize,
): i32 {
  const u0 = chunk * perChunk;
  const rows = min(users - u0, perChunk);
  if (rows <= 0) return 0;
  const gemmScratch = scratch;
  const tile = (scratch + <usize>GEMM_SCRATCH_BYTES + 15) & ~(<usize>15);
  const states = tile + <usize>(perChunk * ITEM_BLOCK) * 4;
  const heaps = states + <usize>(perChunk * 16);
  for (let r = 0; r < rows; r++) {
    const st = states + <usize>r * 16;
    store<i32>(st, 0);
    store<i32>(st + 4, exclRowPtr != 0 ? load<i32>(exclRowPtr + <usize>(u0 + r) * 4) : 0);
    store<i32>(st + 8, 0);
    store<i32>(st + 12, 0);
  }
  for (let j0 = 0; j0 < items; j0 += ITEM_BLOCK) {
    const nb = min(ITEM_BLOCK, items - j0);
    gemmBlock(u + <usize>(u0 * f) * 4, f, v + <usize>(j0 * f) * 4, f, tile, nb, rows, nb, f, false, true, 1, 0, gemmScratch);
    for (let r = 0; r < rows; r++) {
      const row = tile + <usize>(r * nb) * 4;
      if (bias != 0) {
        for (let j = 0; j < nb; j++) store<f32>(row + <usize>j * 4, load<f32>(row + <usize>j * 4) + load<f32>(bias + <usize>(j0 + j) * 4));
      }
      const st = states + <usize>r * 16;
      const hs = heaps + <usize>(r * k) * 8;
      const exclEnd = exclRowPtr != 0 ? load<i32>(exclRowPtr + <usize>(u0 + r + 1) * 4) : 0;
      feed(row, j0, j0 + nb, cand, nCand, st + 12, exclRowPtr != 0 ? exclColIdx : 0, exclEnd, exclAll, nExclAll, k, hs, hs + <usize>k * 4, st);
    }
  }
  for (let r = 0; r < rows; r++) {
    const hs = heaps + <usize>(r * k) * 8;
    drain(k, hs, hs + <usize>k * 4, load<i32>(states + <usize>r * 16), outItems + <usize>((u0 + r) * k) * 4, outScores + <usize>((u0 + r) * k) * 4);
  }
  return 0;
}
