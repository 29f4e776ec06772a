import { UsageError } from '../core/errors.js';
import type { CleaningLog } from './cleaning.js';
import { Interactions } from './interactions.js';

/** Optional filters applied after loading, in this order: time window, minimum value, k-core, binarize. */
export interface InteractionFilters {
  /** Keep events with time in [from, to) (seconds since epoch); events without time are removed. */
  timeWindow?: { from: number; to: number };
  /** Keep events with value >= this. */
  minValue?: number;
  /** Iteratively keep users with >= user events and items with >= item events. */
  kCore?: { user: number; item: number };
  /** Replace every kept value by 1. */
  binarize?: boolean;
}

/** Interactions with their per-event side columns (aligned with the CSR entries). */
export interface InteractionsWithEvents {
  interactions: Interactions;
  eventColumns: Record<string, Float32Array>;
}

/** The k-core keep mask over the CSR entries of `x` (entries where `start` is zero are already out). */
export function kCoreMask(x: Interactions, minUser: number, minItem: number, start?: Uint8Array): Uint8Array {
  const keep = start ? start.slice() : new Uint8Array(x.nnz).fill(1);
  const uc = new Int32Array(x.nUsers);
  const ic = new Int32Array(x.nItems);
  for (;;) {
    uc.fill(0);
    ic.fill(0);
    for (let u = 0; u < x.nUsers; u++) {
      for (let p = x.rowPtr[u]; p < x.rowPtr[u + 1]; p++) {
        if (!keep[p]) continue;
        uc[u]++;
        ic[x.colIdx[p]]++;
      }
    }
    let removed = 0;
    for (let u = 0; u < x.nUsers; u++) {
      for (let p = x.rowPtr[u]; p < x.rowPtr[u + 1]; p++) {
        if (keep[p] && (uc[u] < minUser || ic[x.colIdx[p]] < minItem)) {
          keep[p] = 0;
          removed++;
        }
      }
    }
    if (removed === 0) return keep;
  }
}

/** A suggestion for a filter that removed everything. */
function hint(what: string): string {
  if (what.startsWith('value')) return 'check the threshold against the value column\'s range';
  if (what.startsWith('time')) return 'check the window against the data\'s time range and unit (seconds since epoch)';
  return 'lower the minimum counts';
}

/** Keeps the event-column entries where `keep` is set (same order as {@link Interactions.selectEntries}). */
export function selectEventColumns(columns: Record<string, Float32Array>, keep: Uint8Array): Record<string, Float32Array> {
  let m = 0;
  for (let p = 0; p < keep.length; p++) if (keep[p]) m++;
  const out: Record<string, Float32Array> = {};
  for (const [name, col] of Object.entries(columns)) {
    const c = new Float32Array(m);
    let o = 0;
    for (let p = 0; p < keep.length; p++) if (keep[p]) c[o++] = col[p];
    out[name] = c;
  }
  return out;
}

/**
 * Applies `filters`, keeping event columns aligned; each step that removes entries leaves a note in `log`.
 * A step that removes every remaining interaction is a {@link UsageError} naming the filter (nothing would be
 * left to train or evaluate on).
 */
export function applyFilters(data: InteractionsWithEvents, filters: InteractionFilters, log?: CleaningLog): InteractionsWithEvents {
  let { interactions, eventColumns } = data;
  const step = (keep: Uint8Array, what: string): void => {
    let kept = 0;
    for (let p = 0; p < keep.length; p++) kept += keep[p];
    log?.note(`filter ${what}: removed ${keep.length - kept} of ${keep.length} interactions`);
    log?.filtered(keep.length - kept);
    if (kept === 0 && keep.length > 0) throw new UsageError(`filter ${what} removes all ${keep.length} interactions; nothing is left (${hint(what)})`);
    interactions = interactions.selectEntries(keep);
    eventColumns = selectEventColumns(eventColumns, keep);
  };
  if (filters.timeWindow) {
    const { from, to } = filters.timeWindow;
    const ts = interactions.timestamps;
    if (!ts) throw new Error('time-window filter: this data set has no timestamps');
    const keep = new Uint8Array(interactions.nnz);
    for (let p = 0; p < keep.length; p++) keep[p] = ts[p] >= from && ts[p] < to ? 1 : 0;
    step(keep, `time in [${from}, ${to})`);
  }
  if (filters.minValue !== undefined) {
    const min = filters.minValue;
    const keep = new Uint8Array(interactions.nnz);
    for (let p = 0; p < keep.length; p++) keep[p] = interactions.values[p] >= min ? 1 : 0;
    step(keep, `value >= ${min}`);
  }
  if (filters.kCore) {
    step(kCoreMask(interactions, filters.kCore.user, filters.kCore.item), `${filters.kCore.user}/${filters.kCore.item}-core (users/items)`);
  }
  if (filters.binarize) {
    interactions = interactions.binarize();
    log?.note('filter binarize: all values set to 1');
  }
  return { interactions, eventColumns };
}
