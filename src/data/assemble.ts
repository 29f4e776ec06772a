import { EXAMPLE_LINES, type CleaningLog } from './cleaning.js';
import { DataFileError } from './errors.js';
import type { IdMap } from './id-map.js';
import type { StagedEvents } from './ingest.js';
import { Interactions, type DuplicatePolicy, type DuplicateReport } from './interactions.js';

/** The result of turning staged events into a matrix. */
export interface AssembledMatrix {
  interactions: Interactions;
  /** Per-event side columns aligned with the CSR entries. */
  eventColumns: Record<string, Float32Array>;
  duplicates: DuplicateReport;
}

/** Caps values above `cap` in place and reports them; returns how many were clipped. */
export function clipValues(events: StagedEvents, cap: number, file: string, field: string, log: CleaningLog): number {
  const v = events.values;
  if (!v) return 0;
  const rows: number[] = [];
  let count = 0;
  for (let e = 0; e < v.length; e++) {
    if (v[e] > cap) {
      if (rows.length < EXAMPLE_LINES) rows.push(events.rows[e]);
      v[e] = cap;
      count++;
    }
  }
  log.addAt({ file, kind: `value above clip cap ${cap}`, field, count, action: 'clipped' }, { rows }, events.lines);
  return count;
}

/**
 * Builds the CSR matrix from events (merging repeated pairs by `policy`, reported in `log`) and aligns the
 * event columns with it.
 */
export async function assembleMatrix(events: StagedEvents, users: IdMap, items: IdMap, policy: DuplicatePolicy, file: string, log: CleaningLog): Promise<AssembledMatrix> {
  let built: ReturnType<typeof Interactions.fromCoo>;
  try {
    built = Interactions.fromCoo({ users, items, userIdx: events.userIdx, itemIdx: events.itemIdx, values: events.values ?? undefined, timestamps: events.timestamps }, policy);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const m = /events (\d+) and (\d+)/.exec(msg);
    if (m) {
      const { rows } = await events.lines.lines([events.rows[Number(m[1])], events.rows[Number(m[2])]], []);
      throw new DataFileError(file, `${file} lines ${rows[0]} and ${rows[1]}: ${msg.replace(/ \(events \d+ and \d+\)/, '')} (duplicate policy "error")`, { line: rows[1] });
    }
    throw err;
  }
  const { interactions, duplicates, source } = built;
  if (duplicates.merged > 0) {
    // First few lines of events that were merged into another one.
    const used = new Uint8Array(events.userIdx.length);
    for (let p = 0; p < source.length; p++) used[source[p]] = 1;
    const rows: number[] = [];
    for (let e = 0; e < used.length && rows.length < EXAMPLE_LINES; e++) if (!used[e]) rows.push(events.rows[e]);
    log.addAt({ file, kind: `repeated user-item pair (${duplicates.pairs} pairs; policy ${policy})`, count: duplicates.merged, action: 'merged' }, { rows }, events.lines);
  }
  const eventColumns: Record<string, Float32Array> = {};
  for (const [name, col] of Object.entries(events.extra)) {
    const out = new Float32Array(source.length);
    for (let p = 0; p < source.length; p++) out[p] = col[source[p]];
    eventColumns[name] = out;
  }
  return { interactions, eventColumns, duplicates };
}
