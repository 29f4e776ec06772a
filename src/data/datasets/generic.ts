import { assembleMatrix, clipValues } from '../assemble.js';
import { CleaningLog } from '../cleaning.js';
import type { DatasetInfo, LoadedDataset, ValueKind } from '../dataset.js';
import { countsPhrase } from '../dataset-info.js';
import { DuckSession, withDuck } from '../duck.js';
import { applyFilters } from '../filters.js';
import { buildIdMaps, dropStaged, fetchEvents, stageInteractions, type ColumnMapping, type StageOptions } from '../ingest.js';
import { throwIfAborted } from '../../core/progress.js';
import type { LoadOptions } from '../load-options.js';

/** Options of {@link loadInteractionsFile}. */
export interface FileLoadOptions extends LoadOptions, StageOptions {
  /** Name recorded in the dataset (default: the file path). */
  name?: string;
  /** What the value means (default "numeric" when a value column is mapped, else "implicit"). */
  valueKind?: ValueKind;
  /** Zone the file's times are read in for hour/weekday statistics (default UTC). */
  timeZone?: string;
  /**
   * An open DuckDB session to load with (its tables for this file are dropped afterwards); by default a session
   * is opened and closed for the load. Sharing one saves the start-up cost when loading many small files.
   */
  session?: DuckSession;
}

/** The registry's facts for "generic" (any interactions file). */
export const GENERIC_INFO: DatasetInfo = {
  name: 'generic',
  description: 'Any CSV/TSV/`::`/Parquet (gzip ok): path + user/item[/value/time] columns, by name or 0-based index',
  valueKind: 'numeric',
  valueColumn: null,
  timeZone: 'UTC',
  trainFile: '<your file>',
  testFile: null,
  files: ['<your file>'],
  downloadable: false,
  embedded: false,
  synthetic: false,
};

/**
 * Loads any CSV/TSV/`::`-separated/Parquet file (optionally gzipped) of interactions with DuckDB, mapping
 * the named columns; bad rows are skipped and reported, repeated pairs merged by `duplicatePolicy`.
 */
export async function loadInteractionsFile(path: string, mapping: ColumnMapping, options: FileLoadOptions = {}): Promise<LoadedDataset> {
  const log = new CleaningLog();
  const policy = options.duplicatePolicy ?? 'last';
  // DuckDB is closed before the matrix is built, so its memory is released before the JS arrays peak.
  const work = async (db: DuckSession) => {
    options.onProgress?.({ phase: `reading ${path}`, done: 0, total: 3 });
    const staged = await stageInteractions(db, 'ev', path, mapping, options, log);
    throwIfAborted(options.signal);
    options.onProgress?.({ phase: 'factorizing ids', done: 1, total: 3 });
    const { users, items } = await buildIdMaps(db, [staged]);
    const events = await fetchEvents(db, staged, { users, items });
    return { staged, users, items, events };
  };
  const shared = options.session;
  const { staged, users, items, events } = shared
    ? await work(shared).finally(() => Promise.all([dropStaged(shared, { table: 'ev' }), shared.exec('DROP TABLE IF EXISTS _users'), shared.exec('DROP TABLE IF EXISTS _items')]))
    : await withDuck(work);
  throwIfAborted(options.signal);
  options.onProgress?.({ phase: 'building matrix', done: 2, total: 3 });
  const valueColumn = staged.columns.value;
  if (options.clip !== undefined) clipValues(events, options.clip, path, valueColumn ?? 'value', log);
  const m = await assembleMatrix(events, users, items, policy, path, log);
  const filtered = options.filters ? applyFilters(m, options.filters, log) : m;
  options.onProgress?.({ phase: 'done', done: 3, total: 3 });
  const description = `interactions from ${path}: ${countsPhrase(filtered.interactions, valueColumn ? `events (value "${valueColumn}")` : 'events')}`;
  const valueKind = options.valueKind ?? (valueColumn ? 'numeric' : 'implicit');
  return {
    name: options.name ?? path,
    description,
    valueKind,
    interactions: filtered.interactions,
    eventColumns: filtered.eventColumns,
    report: await log.report(staged.rowsRead, filtered.interactions.nnz, m.duplicates),
    info: { ...GENERIC_INFO, name: options.name ?? path, description, valueKind, valueColumn, timeZone: options.timeZone ?? 'UTC', trainFile: path, files: [path] },
  };
}
