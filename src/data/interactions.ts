import { IdMap } from './id-map.js';

/**
 * How repeated (user, item) pairs are merged:
 * - `last`: keep the latest event (largest timestamp; input order breaks ties and decides when there are no timestamps);
 * - `first`: keep the earliest event, likewise;
 * - `sum` / `max` / `mean`: combine the values; the merged event keeps the latest timestamp;
 * - `error`: throw on the first repeated pair.
 */
export type DuplicatePolicy = 'last' | 'first' | 'sum' | 'max' | 'mean' | 'error';

/** Raw coordinate-format events in dense index space, as produced by a loader. */
export interface CooInput {
  users: IdMap;
  items: IdMap;
  /** Dense user index per event. */
  userIdx: Int32Array;
  /** Dense item index per event. */
  itemIdx: Int32Array;
  /** Value per event (rating, watch ratio, play count...); all ones when omitted. */
  values?: Float32Array;
  /** Event time in seconds since the Unix epoch, NaN where unknown; omitted when the data has no time. */
  timestamps?: Float64Array | null;
}

/** What merging repeated pairs did. */
export interface DuplicateReport {
  policy: DuplicatePolicy;
  /** Events that were merged into another event of the same pair (events read minus events kept). */
  merged: number;
  /** Distinct (user, item) pairs that had more than one event. */
  pairs: number;
}

/** Compressed sparse column view: for each item, its users. */
export interface CscView {
  colPtr: Int32Array;
  rowIdx: Int32Array;
  values: Float32Array;
  /** Position of each CSC entry in the CSR arrays. */
  csrPos: Int32Array;
}

/** A per-entry predicate used by {@link Interactions.filterEntries}. */
export type EntryPredicate = (user: number, item: number, value: number, time: number, pos: number) => boolean;

/**
 * A user–item interaction matrix with values and optional timestamps.
 *
 * Storage is CSR by user (items sorted ascending within a row), built once; a CSC view by item is built on
 * first use. Filters keep the user and item index spaces (so train/test splits stay aligned); {@link compact}
 * drops empty rows and columns and re-indexes.
 */
export class Interactions {
  /** External ids of the users. */
  readonly users: IdMap;
  /** External ids of the items. */
  readonly items: IdMap;
  /** CSR row pointers, length nUsers + 1. */
  readonly rowPtr: Int32Array;
  /** CSR column (item) indices, length nnz. */
  readonly colIdx: Int32Array;
  /** CSR values, length nnz. */
  readonly values: Float32Array;
  /** CSR timestamps (seconds since epoch, NaN where unknown), or null when the data has no time. */
  readonly timestamps: Float64Array | null;
  private cscCache: CscView | null = null;

  /** Wraps CSR arrays; prefer {@link Interactions.fromCoo}. Items must be sorted and unique within each row. */
  constructor(users: IdMap, items: IdMap, rowPtr: Int32Array, colIdx: Int32Array, values: Float32Array, timestamps: Float64Array | null) {
    if (rowPtr.length !== users.size + 1) throw new Error(`rowPtr length ${rowPtr.length} != nUsers + 1 (${users.size + 1})`);
    const nnz = rowPtr[users.size];
    if (colIdx.length !== nnz || values.length !== nnz) throw new Error(`CSR arrays disagree: nnz ${nnz}, colIdx ${colIdx.length}, values ${values.length}`);
    if (timestamps && timestamps.length !== nnz) throw new Error(`timestamps length ${timestamps.length} != nnz ${nnz}`);
    this.users = users;
    this.items = items;
    this.rowPtr = rowPtr;
    this.colIdx = colIdx;
    this.values = values;
    this.timestamps = timestamps;
  }

  /** Number of users (rows), including users with no events. */
  get nUsers(): number {
    return this.users.size;
  }

  /** Number of items (columns), including items with no events. */
  get nItems(): number {
    return this.items.size;
  }

  /** Number of stored (user, item) entries. */
  get nnz(): number {
    return this.colIdx.length;
  }

  /** nnz / (nUsers · nItems). */
  get density(): number {
    const cells = this.nUsers * this.nItems;
    return cells === 0 ? 0 : this.nnz / cells;
  }

  /**
   * Builds the matrix from events, sorting them into CSR order with two stable counting sorts (O(n)) and
   * merging repeated pairs by `policy`. `source[p]` is the input event that CSR entry p takes its per-event
   * side columns from: the picked event for `last`/`first`, the (last) largest-valued event for `max`, the
   * latest-timed event (the last in input order when no time is known) for `sum`/`mean`.
   */
  static fromCoo(input: CooInput, policy: DuplicatePolicy = 'last'): { interactions: Interactions; duplicates: DuplicateReport; source: Int32Array } {
    const { users, items, userIdx, itemIdx } = input;
    const n = userIdx.length;
    if (itemIdx.length !== n) throw new Error(`userIdx (${n}) and itemIdx (${itemIdx.length}) differ in length`);
    if (input.values && input.values.length !== n) throw new Error(`values (${input.values.length}) and userIdx (${n}) differ in length`);
    if (input.timestamps && input.timestamps.length !== n) throw new Error(`timestamps (${input.timestamps.length}) and userIdx (${n}) differ in length`);
    const nU = users.size;
    const nI = items.size;
    for (let e = 0; e < n; e++) {
      const u = userIdx[e];
      const i = itemIdx[e];
      if (u < 0 || u >= nU) throw new RangeError(`event ${e}: user index ${u} outside [0, ${nU})`);
      if (i < 0 || i >= nI) throw new RangeError(`event ${e}: item index ${i} outside [0, ${nI})`);
    }
    // Stable counting sort by item, then stable counting sort by user: CSR order, input order within a pair.
    const order = groupedByUserOrder(userIdx, itemIdx, nI) ?? countingSort(userIdx, nU, countingSort(itemIdx, nI, null));

    // Count distinct pairs first so the output arrays are allocated at their final size (no copy).
    let distinct = 0;
    for (let r = 0; r < n; r++) {
      if (r === 0 || userIdx[order[r]] !== userIdx[order[r - 1]] || itemIdx[order[r]] !== itemIdx[order[r - 1]]) distinct++;
    }
    const rowCounts = new Int32Array(nU + 1);
    const col = new Int32Array(distinct);
    const val = new Float32Array(distinct);
    const ts = input.timestamps ? new Float64Array(distinct) : null;
    const source = new Int32Array(distinct);
    const srcVal = input.values;
    const srcTs = input.timestamps ?? null;
    let out = 0;
    let merged = 0;
    let pairs = 0;
    let p = 0;
    while (p < n) {
      const e0 = order[p];
      const u = userIdx[e0];
      const it = itemIdx[e0];
      let q = p + 1;
      while (q < n && userIdx[order[q]] === u && itemIdx[order[q]] === it) q++;
      const runLen = q - p;
      let v: number;
      let t = NaN;
      let src = e0;
      if (runLen === 1) {
        v = srcVal ? srcVal[e0] : 1;
        if (srcTs) t = srcTs[e0];
      } else {
        pairs++;
        merged += runLen - 1;
        if (policy === 'error') {
          throw new Error(`duplicate (user ${JSON.stringify(users.idOf(u))}, item ${JSON.stringify(items.idOf(it))}): ${runLen} events (events ${order[p]} and ${order[p + 1]})`);
        }
        let pick = -1;
        if (policy === 'last' || policy === 'first') {
          pick = order[policy === 'last' ? q - 1 : p];
          if (srcTs) {
            // Latest (or earliest) known timestamp wins; input order breaks ties.
            for (let r = p; r < q; r++) {
              const e = order[r];
              const te = srcTs[e];
              if (Number.isNaN(te)) continue;
              const tp = srcTs[pick];
              if (Number.isNaN(tp) || (policy === 'last' ? te >= tp : te < tp)) pick = e;
            }
          }
          v = srcVal ? srcVal[pick] : 1;
          if (srcTs) t = srcTs[pick];
          src = pick;
        } else {
          src = order[q - 1];
          let acc = policy === 'max' ? -Infinity : 0;
          let maxSrc = src;
          for (let r = p; r < q; r++) {
            const e = order[r];
            const x = srcVal ? srcVal[e] : 1;
            if (policy === 'max') {
              if (x >= acc) maxSrc = e;
              acc = x > acc ? x : acc;
            } else acc += x;
            if (srcTs) {
              const te = srcTs[e];
              if (!Number.isNaN(te) && (Number.isNaN(t) || te >= t)) {
                t = te;
                src = e;
              }
            }
          }
          if (policy === 'max') src = maxSrc;
          v = policy === 'mean' ? acc / runLen : acc;
        }
      }
      col[out] = it;
      val[out] = v;
      source[out] = src;
      if (ts) ts[out] = t;
      rowCounts[u + 1]++;
      out++;
      p = q;
    }
    for (let u = 0; u < nU; u++) rowCounts[u + 1] += rowCounts[u];
    const interactions = new Interactions(users, items, rowCounts, col, val, ts);
    return { interactions, duplicates: { policy, merged, pairs }, source };
  }

  /** The item indices of user `u` (a view, sorted ascending). */
  userItems(u: number): Int32Array {
    return this.colIdx.subarray(this.rowPtr[u], this.rowPtr[u + 1]);
  }

  /** The values of user `u`, aligned with {@link userItems}. */
  userValues(u: number): Float32Array {
    return this.values.subarray(this.rowPtr[u], this.rowPtr[u + 1]);
  }

  /** The timestamps of user `u`, aligned with {@link userItems}, or null when the data has no time. */
  userTimes(u: number): Float64Array | null {
    return this.timestamps ? this.timestamps.subarray(this.rowPtr[u], this.rowPtr[u + 1]) : null;
  }

  /** Number of entries of each user. */
  userCounts(): Int32Array {
    const c = new Int32Array(this.nUsers);
    for (let u = 0; u < this.nUsers; u++) c[u] = this.rowPtr[u + 1] - this.rowPtr[u];
    return c;
  }

  /** Number of entries of each item. */
  itemCounts(): Int32Array {
    const c = new Int32Array(this.nItems);
    const col = this.colIdx;
    for (let p = 0; p < col.length; p++) c[col[p]]++;
    return c;
  }

  /** The user index of each CSR entry (expanded row pointers). */
  rowIndices(): Int32Array {
    const r = new Int32Array(this.nnz);
    for (let u = 0; u < this.nUsers; u++) r.fill(u, this.rowPtr[u], this.rowPtr[u + 1]);
    return r;
  }

  /** The CSC view by item (users sorted ascending within a column), built once. */
  csc(): CscView {
    if (this.cscCache) return this.cscCache;
    const nI = this.nItems;
    const colPtr = new Int32Array(nI + 1);
    const col = this.colIdx;
    for (let p = 0; p < col.length; p++) colPtr[col[p] + 1]++;
    for (let i = 0; i < nI; i++) colPtr[i + 1] += colPtr[i];
    const next = colPtr.slice(0, nI);
    const rowIdx = new Int32Array(this.nnz);
    const values = new Float32Array(this.nnz);
    const csrPos = new Int32Array(this.nnz);
    for (let u = 0; u < this.nUsers; u++) {
      for (let p = this.rowPtr[u]; p < this.rowPtr[u + 1]; p++) {
        const d = next[col[p]]++;
        rowIdx[d] = u;
        values[d] = this.values[p];
        csrPos[d] = p;
      }
    }
    this.cscCache = { colPtr, rowIdx, values, csrPos };
    return this.cscCache;
  }

  /** Keeps the entries where `keep[pos]` is non-zero; same user and item index spaces. */
  selectEntries(keep: Uint8Array): Interactions {
    if (keep.length !== this.nnz) throw new Error(`mask length ${keep.length} != nnz ${this.nnz}`);
    let m = 0;
    for (let p = 0; p < keep.length; p++) if (keep[p]) m++;
    const rowPtr = new Int32Array(this.nUsers + 1);
    const col = new Int32Array(m);
    const val = new Float32Array(m);
    const ts = this.timestamps ? new Float64Array(m) : null;
    let o = 0;
    for (let u = 0; u < this.nUsers; u++) {
      for (let p = this.rowPtr[u]; p < this.rowPtr[u + 1]; p++) {
        if (!keep[p]) continue;
        col[o] = this.colIdx[p];
        val[o] = this.values[p];
        if (ts) ts[o] = this.timestamps![p];
        o++;
      }
      rowPtr[u + 1] = o;
    }
    return new Interactions(this.users, this.items, rowPtr, col, val, ts);
  }

  /** Keeps the entries for which `pred` holds; same index spaces. */
  filterEntries(pred: EntryPredicate): Interactions {
    const keep = new Uint8Array(this.nnz);
    const ts = this.timestamps;
    for (let u = 0; u < this.nUsers; u++) {
      for (let p = this.rowPtr[u]; p < this.rowPtr[u + 1]; p++) {
        keep[p] = pred(u, this.colIdx[p], this.values[p], ts ? ts[p] : NaN, p) ? 1 : 0;
      }
    }
    return this.selectEntries(keep);
  }

  /** Keeps only the rows of the given users (others become empty); same index spaces. */
  selectUsers(userIndices: ArrayLike<number>): Interactions {
    const want = new Uint8Array(this.nUsers);
    for (let k = 0; k < userIndices.length; k++) want[userIndices[k]] = 1;
    const keep = new Uint8Array(this.nnz);
    for (let u = 0; u < this.nUsers; u++) if (want[u]) keep.fill(1, this.rowPtr[u], this.rowPtr[u + 1]);
    return this.selectEntries(keep);
  }

  /** Keeps entries with value >= `min` (e.g. rating >= 4, watch_ratio >= 2). */
  minValue(min: number): Interactions {
    return this.filterEntries((_u, _i, v) => v >= min);
  }

  /** Sets every value to 1. */
  binarize(): Interactions {
    return new Interactions(this.users, this.items, this.rowPtr, this.colIdx, new Float32Array(this.nnz).fill(1), this.timestamps);
  }

  /** Keeps entries whose timestamp lies in [from, to); entries without time are dropped. */
  timeWindow(from: number, to: number): Interactions {
    if (!this.timestamps) throw new Error('timeWindow: this data has no timestamps');
    return this.filterEntries((_u, _i, _v, t) => t >= from && t < to);
  }

  /**
   * Iteratively removes users with fewer than `minUser` entries and items with fewer than `minItem` entries
   * until both hold (the k-core); same index spaces.
   */
  kCore(minUser: number, minItem: number): Interactions {
    let cur: Interactions = this;
    for (;;) {
      const uc = cur.userCounts();
      const ic = cur.itemCounts();
      let bad = false;
      for (let u = 0; u < uc.length && !bad; u++) if (uc[u] > 0 && uc[u] < minUser) bad = true;
      for (let i = 0; i < ic.length && !bad; i++) if (ic[i] > 0 && ic[i] < minItem) bad = true;
      if (!bad) return cur;
      cur = cur.filterEntries((u, i) => uc[u] >= minUser && ic[i] >= minItem);
    }
  }

  /** Drops users and items without entries and re-indexes; returns the kept old indices too. */
  compact(): { interactions: Interactions; userIndex: Int32Array; itemIndex: Int32Array } {
    const uc = this.userCounts();
    const ic = this.itemCounts();
    const keptUsers: number[] = [];
    const keptItems: number[] = [];
    const newItem = new Int32Array(this.nItems).fill(-1);
    for (let u = 0; u < uc.length; u++) if (uc[u] > 0) keptUsers.push(u);
    for (let i = 0; i < ic.length; i++) if (ic[i] > 0) { newItem[i] = keptItems.length; keptItems.push(i); }
    const rowPtr = new Int32Array(keptUsers.length + 1);
    for (let k = 0; k < keptUsers.length; k++) rowPtr[k + 1] = rowPtr[k] + uc[keptUsers[k]];
    const col = new Int32Array(this.nnz);
    for (let p = 0; p < this.nnz; p++) col[p] = newItem[this.colIdx[p]];
    const interactions = new Interactions(this.users.subset(keptUsers), this.items.subset(keptItems), rowPtr, col, this.values, this.timestamps);
    return { interactions, userIndex: Int32Array.from(keptUsers), itemIndex: Int32Array.from(keptItems) };
  }

  /** The entries as coordinate arrays in CSR order. */
  toCoo(): { userIdx: Int32Array; itemIdx: Int32Array; values: Float32Array; timestamps: Float64Array | null } {
    return { userIdx: this.rowIndices(), itemIdx: this.colIdx.slice(), values: this.values.slice(), timestamps: this.timestamps ? this.timestamps.slice() : null };
  }

  /** The value at (u, i), or 0 when absent (binary search in the row). */
  get(u: number, i: number): number {
    const p = this.find(u, i);
    return p < 0 ? 0 : this.values[p];
  }

  /** The CSR position of (u, i), or -1. */
  find(u: number, i: number): number {
    let lo = this.rowPtr[u];
    let hi = this.rowPtr[u + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.colIdx[mid];
      if (c === i) return mid;
      if (c < i) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/**
 * CSR order for events already grouped by user (user indices non-decreasing, as in files sorted by user):
 * each user's run is sorted by (item, position) with a native sort of packed int32 keys. Null when the
 * events are not grouped or the keys would not fit in 31 bits.
 */
function groupedByUserOrder(userIdx: Int32Array, itemIdx: Int32Array, nItems: number): Int32Array | null {
  const n = userIdx.length;
  let maxRun = 0;
  let start = 0;
  for (let e = 1; e <= n; e++) {
    if (e === n || userIdx[e] !== userIdx[e - 1]) {
      if (e < n && userIdx[e] < userIdx[e - 1]) return null;
      if (e - start > maxRun) maxRun = e - start;
      start = e;
    }
  }
  if (n === 0 || nItems * maxRun >= 2 ** 31) return null;
  const keys = new Int32Array(n);
  for (let e = 0, s = 0; e <= n; e++) {
    if (e === n || (e > s && userIdx[e] !== userIdx[s])) {
      const run = keys.subarray(s, e);
      for (let k = 0; k < run.length; k++) run[k] = itemIdx[s + k] * maxRun + k;
      run.sort();
      for (let k = 0; k < run.length; k++) run[k] = s + (run[k] % maxRun);
      s = e;
    }
  }
  return keys;
}

/** Stable counting sort of positions by `keys` (0..nKeys-1); sorts `order` (or the identity) and returns it. */
function countingSort(keys: Int32Array, nKeys: number, order: Int32Array | null): Int32Array {
  const n = keys.length;
  const start = new Int32Array(nKeys + 1);
  for (let e = 0; e < n; e++) start[keys[e] + 1]++;
  for (let k = 0; k < nKeys; k++) start[k + 1] += start[k];
  const out = new Int32Array(n);
  if (order) {
    for (let r = 0; r < n; r++) {
      const e = order[r];
      out[start[keys[e]]++] = e;
    }
  } else {
    for (let e = 0; e < n; e++) out[start[keys[e]]++] = e;
  }
  return out;
}
