import { assembleMatrix, clipValues } from '../assemble.js';
import { CleaningLog } from '../cleaning.js';
import type { LoadedDataset } from '../dataset.js';
import { withDuck } from '../duck.js';
import { applyFilters } from '../filters.js';
import { buildIdMaps, fetchEvents, stageInteractions, type ColumnMapping, type StageOptions } from '../ingest.js';
import { throwIfAborted } from '../../core/progress.js';
import type { LoadOptions } from '../load-options.js';

/** Options of {@link loadInteractionsFile}. */
export interface FileLoadOptions extends LoadOptions, StageOptions {
  /** Name recorded in the dataset (default: the file path). */
  name?: string;
  /** What the value means (default "rating" when a value column is mapped, else "implicit"). */
  valueKind?: LoadedDataset['valueKind'];
}

/**
 * Loads any CSV/TSV/`::`-separated/Parquet file (optionally gzipped) of interactions with DuckDB, mapping
 * the named columns; bad rows are skipped and reported, repeated pairs merged by `duplicatePolicy`.
 */
export async function loadInteractionsFile(path: string, mapping: ColumnMapping, options: FileLoadOptions = {}): Promise<LoadedDataset> {
  const log = new CleaningLog();
  const policy = options.duplicatePolicy ?? 'last';
  // DuckDB is closed before the matrix is built, so its memory is released before the JS arrays peak.
  const { staged, users, items, events } = await withDuck(async (db) => {
    options.onProgress?.({ phase: `reading ${path}`, done: 0, total: 3 });
    const staged = await stageInteractions(db, 'ev', path, mapping, options, log);
    throwIfAborted(options.signal);
    options.onProgress?.({ phase: 'factorizing ids', done: 1, total: 3 });
    const { users, items } = await buildIdMaps(db, [staged]);
    const events = await fetchEvents(db, staged, { users, items });
    return { staged, users, items, events };
  });
  throwIfAborted(options.signal);
  options.onProgress?.({ phase: 'building matrix', done: 2, total: 3 });
  if (options.clip !== undefined) clipValues(events, options.clip, path, mapping.value ?? 'value', log);
  const m = assembleMatrix(events, users, items, policy, path, log);
  const filtered = options.filters ? applyFilters(m, options.filters, log) : m;
  options.onProgress?.({ phase: 'done', done: 3, total: 3 });
  return {
    name: options.name ?? path,
    description: `interactions from ${path}`,
    valueKind: options.valueKind ?? (mapping.value ? 'rating' : 'implicit'),
    interactions: filtered.interactions,
    eventColumns: filtered.eventColumns,
    report: log.report(staged.rowsRead, filtered.interactions.nnz, m.duplicates),
  };
}
