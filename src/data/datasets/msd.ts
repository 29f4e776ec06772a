import { assembleMatrix, clipValues } from '../assemble.js';
import { CleaningLog } from '../cleaning.js';
import type { DatasetInfo, EntityFeatures, LoadedDataset } from '../dataset.js';
import { countsPhrase } from '../dataset-info.js';
import { DOWNLOADS } from '../download.js';
import { withDuck } from '../duck.js';
import { emptyFeatures } from '../features.js';
import { applyFilters } from '../filters.js';
import { buildIdMaps, fetchEvents, fileColumns, stageInteractions } from '../ingest.js';
import { throwIfAborted } from '../../core/progress.js';
import type { LoadOptions } from '../load-options.js';
import { candidateDirs, findFile, missingDataError } from '../paths.js';
import { hasSyntheticMarker } from '../schema.js';
import { readSideTable } from '../side-tables.js';

/** Taste Profile options. */
export interface MsdLoadOptions extends LoadOptions {
  /** A CSV with song_id and any of title, artist_name, year, joined as item features (default: song_metadata.csv next to the triplets, when present). */
  metadata?: string;
}

const TRIPLET_COLUMNS = ['user', 'song', 'play_count'];

type MsdName = 'msd-taste' | 'msd-taste-10k';

const fileOf = (name: MsdName): string => (name === 'msd-taste' ? 'train_triplets.txt' : '10000.txt');

/** The registry's facts for the Taste Profile data sets (play counts, no times). */
export function msdInfo(name: MsdName): DatasetInfo {
  const full = name === 'msd-taste';
  return {
    name,
    description: full
      ? 'Million Song Dataset Echo Nest Taste Profile: 48M (user, song, play count) triplets, 1M users × 384k songs'
      : 'Taste Profile 10000.txt subset (2M triplets): same format as train_triplets.txt',
    valueKind: 'play_count',
    valueColumn: 'play_count',
    timeZone: 'UTC',
    trainFile: fileOf(name),
    testFile: null,
    files: [fileOf(name), `song_metadata.csv (optional${full ? ': song_id,title,artist_name,year' : ''})`],
    downloadable: name in DOWNLOADS,
    embedded: false,
    synthetic: false,
  };
}

/** Where the data set's triplet file is (null when it is nowhere the loader looks). */
export function locateMsd(name: MsdName, options: LoadOptions = {}): string | null {
  return findFile(candidateDirs(name, options), fileOf(name), ['train_triplets', 'taste_profile']);
}

/**
 * Loads the Million Song Dataset Taste Profile (`msd-taste`: train_triplets.txt, 48M rows; `msd-taste-10k`:
 * the 10000.txt subset): user \t song \t play count, no header, string ids.
 */
export async function loadMsd(name: MsdName, options: MsdLoadOptions = {}): Promise<LoadedDataset> {
  const fileName = fileOf(name);
  const path = locateMsd(name, options);
  if (!path) throw missingDataError(name, fileName, candidateDirs(name, options));
  const dir = path.slice(0, path.lastIndexOf('/'));
  const log = new CleaningLog();
  return withDuck(async (db) => {
    options.onProgress?.({ phase: `reading ${fileName}`, done: 0, total: 3 });
    const staged = await stageInteractions(db, 'triplets', path, { user: 'user', item: 'song', value: 'play_count' }, { format: { delimiter: '\t', header: false, quote: '', columnNames: TRIPLET_COLUMNS }, idType: 'string', strict: options.strict }, log);
    const { users, items } = await buildIdMaps(db, [staged]);
    const events = await fetchEvents(db, staged, { users, items });
    await db.exec('DROP TABLE triplets');
    throwIfAborted(options.signal);
    options.onProgress?.({ phase: 'building matrix', done: 1, total: 3 });
    if (options.clip !== undefined) clipValues(events, options.clip, path, 'play_count', log);
    const m = await assembleMatrix(events, users, items, options.duplicatePolicy ?? 'sum', path, log);
    const filtered = options.filters ? applyFilters(m, options.filters, log) : m;
    const synthetic = hasSyntheticMarker(dir);
    if (synthetic) log.note('SYNTHETIC DATA: generated Taste Profile-format files');
    const description = `Million Song Dataset Taste Profile (${fileName})${synthetic ? ' — SYNTHETIC stand-in files' : ''}: ${countsPhrase(filtered.interactions, 'play counts', 'songs')}`;
    const ds: LoadedDataset = {
      name,
      description,
      valueKind: 'play_count',
      interactions: filtered.interactions,
      eventColumns: filtered.eventColumns,
      report: await log.report(staged.rowsRead, filtered.interactions.nnz, m.duplicates),
      info: { ...msdInfo(name), description, trainFile: path, synthetic },
    };
    options.onProgress?.({ phase: 'metadata', done: 2, total: 3 });
    const meta = options.metadata ?? findFile([dir], 'song_metadata.csv');
    if (meta) {
      const present = await fileColumns(db, meta);
      if (!present.includes('song_id')) throw new Error(`${meta} line 1: song_id column "song_id" not found; columns are: ${present.join(', ')}`);
      const want = ['title', 'artist_name', 'year'].filter((c) => present.includes(c));
      const full = await readSideTable(db, meta, ['song_id', ...want], log, { table: 'meta' });
      const f: EntityFeatures = emptyFeatures();
      const n = items.size;
      f.text.title = new Array<string>(n).fill('');
      f.text.artist_name = new Array<string>(n).fill('');
      f.numeric.year = new Float32Array(n).fill(NaN);
      let matched = 0;
      for (const r of full.rows) {
        const i = items.indexOf(r.song_id ?? '');
        if (i < 0) continue;
        matched++;
        if (r.title) f.text.title[i] = r.title;
        if (r.artist_name) f.text.artist_name[i] = r.artist_name;
        const y = Number(r.year);
        // The MSD writes year 0 for unknown.
        if (r.year && y > 0) f.numeric.year[i] = y;
      }
      log.note(`${meta}: metadata matched ${matched} of ${n} songs`);
      ds.itemFeatures = f;
    }
    ds.report = await log.report(ds.report.rowsRead, ds.report.rowsKept, ds.report.duplicates);
    options.onProgress?.({ phase: 'done', done: 3, total: 3 });
    return ds;
  });
}
