import { assembleMatrix, clipValues } from '../assemble.js';
import { CleaningLog } from '../cleaning.js';
import type { DatasetInfo, EntityFeatures, LoadedDataset } from '../dataset.js';
import { countsPhrase } from '../dataset-info.js';
import { DOWNLOADS } from '../download.js';
import { withDuck, type DuckSession } from '../duck.js';
import { categoricalFrom, emptyFeatures, multiHotFrom } from '../features.js';
import { applyFilters } from '../filters.js';
import type { IdMap } from '../id-map.js';
import { buildIdMaps, fetchEvents, stageInteractions, type ColumnMapping, type FileFormat } from '../ingest.js';
import { throwIfAborted } from '../../core/progress.js';
import type { LoadOptions } from '../load-options.js';
import { candidateDirs, findFile, missingDataError } from '../paths.js';
import { hasSyntheticMarker, ML100K_GENRES } from '../schema.js';
import { readSideTable } from '../side-tables.js';
import { timeFeatures } from '../time-features.js';
import { stateOfZip } from '../zip-prefix.js';

/** The MovieLens releases this loader knows. */
export type MovieLensName = 'ml-100k' | 'ml-1m' | 'ml-10m' | 'ml-20m' | 'ml-25m' | 'ml-32m' | 'ml-latest-small';

/** File layout of one MovieLens release. */
export interface MovieLensLayout {
  /** Folder the official zip extracts to. */
  folder: string;
  ratings: { file: string; format: FileFormat; mapping: ColumnMapping };
  movies: { file: string; format: FileFormat; id: string; title: string; genres?: string; genreFlags?: boolean };
  users?: { file: string; format: FileFormat; columns: string[] };
  description: string;
}

const DAT: FileFormat = { delimiter: '::', header: false, quote: '' };
const CSV: FileFormat = { delimiter: ',', header: true };
const RATINGS_DAT = { user: 'user_id', item: 'movie_id', value: 'rating', time: 'timestamp' };
const RATINGS_CSV = { user: 'userId', item: 'movieId', value: 'rating', time: 'timestamp' };
const MOVIES_CSV = { file: 'movies.csv', format: CSV, id: 'movieId', title: 'title', genres: 'genres' };

export { ML100K_GENRES } from '../schema.js';

/** ml-1m age codes → bucket names (from the ml-1m README). */
export const ML1M_AGE_BUCKETS: Record<string, string> = { '1': 'Under 18', '18': '18-24', '25': '25-34', '35': '35-44', '45': '45-49', '50': '50-55', '56': '56+' };

/** ml-1m occupation codes 0–20 → names (from the ml-1m README). */
export const ML1M_OCCUPATIONS = [
  'other or not specified', 'academic/educator', 'artist', 'clerical/admin', 'college/grad student', 'customer service', 'doctor/health care',
  'executive/managerial', 'farmer', 'homemaker', 'K-12 student', 'lawyer', 'programmer', 'retired', 'sales/marketing', 'scientist', 'self-employed',
  'technician/engineer', 'tradesman/craftsman', 'unemployed', 'writer',
];

/** Every known MovieLens layout. */
export const MOVIELENS_LAYOUTS: Record<MovieLensName, MovieLensLayout> = {
  'ml-100k': {
    folder: 'ml-100k',
    ratings: { file: 'u.data', format: { delimiter: '\t', header: false, columnNames: ['user_id', 'movie_id', 'rating', 'timestamp'] }, mapping: RATINGS_DAT },
    movies: {
      file: 'u.item',
      format: { delimiter: '|', header: false, encoding: 'latin-1', quote: '', columnNames: ['movie_id', 'title', 'release_date', 'video_release_date', 'imdb_url', ...ML100K_GENRES.map((g) => `g_${g}`)] },
      id: 'movie_id',
      title: 'title',
      genreFlags: true,
    },
    users: { file: 'u.user', format: { delimiter: '|', header: false, quote: '', columnNames: ['user_id', 'age', 'gender', 'occupation', 'zip'] }, columns: ['user_id', 'age', 'gender', 'occupation', 'zip'] },
    description: 'MovieLens 100K (GroupLens): 100,000 ratings 1–5 from 943 users on 1,682 movies',
  },
  'ml-1m': {
    folder: 'ml-1m',
    ratings: { file: 'ratings.dat', format: { ...DAT, columnNames: ['user_id', 'movie_id', 'rating', 'timestamp'] }, mapping: RATINGS_DAT },
    movies: { file: 'movies.dat', format: { ...DAT, encoding: 'latin-1', columnNames: ['movie_id', 'title', 'genres'] }, id: 'movie_id', title: 'title', genres: 'genres' },
    users: { file: 'users.dat', format: { ...DAT, columnNames: ['user_id', 'gender', 'age', 'occupation', 'zip'] }, columns: ['user_id', 'gender', 'age', 'occupation', 'zip'] },
    description: 'MovieLens 1M (GroupLens): 1,000,209 ratings 1–5 from 6,040 users on 3,706 movies',
  },
  'ml-10m': {
    folder: 'ml-10M100K',
    ratings: { file: 'ratings.dat', format: { ...DAT, columnNames: ['user_id', 'movie_id', 'rating', 'timestamp'] }, mapping: RATINGS_DAT },
    movies: { file: 'movies.dat', format: { ...DAT, columnNames: ['movie_id', 'title', 'genres'] }, id: 'movie_id', title: 'title', genres: 'genres' },
    description: 'MovieLens 10M (GroupLens): 10,000,054 half-star ratings from 69,878 users on 10,677 movies',
  },
  'ml-20m': { folder: 'ml-20m', ratings: { file: 'ratings.csv', format: CSV, mapping: RATINGS_CSV }, movies: MOVIES_CSV, description: 'MovieLens 20M (GroupLens): 20,000,263 ratings from 138,493 users' },
  'ml-25m': { folder: 'ml-25m', ratings: { file: 'ratings.csv', format: CSV, mapping: RATINGS_CSV }, movies: MOVIES_CSV, description: 'MovieLens 25M (GroupLens): 25,000,095 ratings from 162,541 users' },
  'ml-32m': { folder: 'ml-32m', ratings: { file: 'ratings.csv', format: CSV, mapping: RATINGS_CSV }, movies: MOVIES_CSV, description: 'MovieLens 32M (GroupLens): 32,000,204 ratings from 200,948 users' },
  'ml-latest-small': { folder: 'ml-latest-small', ratings: { file: 'ratings.csv', format: CSV, mapping: RATINGS_CSV }, movies: MOVIES_CSV, description: 'MovieLens latest-small (GroupLens): about 100,000 ratings from 610 users' },
};

/** The registry's facts for a MovieLens release (its timestamps are epoch seconds, UTC). */
export function movieLensInfo(name: MovieLensName): DatasetInfo {
  const l = MOVIELENS_LAYOUTS[name];
  return {
    name,
    description: l.description,
    valueKind: 'rating',
    valueColumn: 'rating',
    timeZone: 'UTC',
    trainFile: l.ratings.file,
    testFile: null,
    files: [l.ratings.file, l.movies.file, ...(l.users ? [l.users.file] : [])],
    downloadable: name in DOWNLOADS,
    embedded: false,
    synthetic: false,
  };
}

/** Where the release's ratings file is (null when it is nowhere the loader looks). */
export function locateMovieLens(name: MovieLensName, options: LoadOptions = {}): string | null {
  const layout = MOVIELENS_LAYOUTS[name];
  return findFile(candidateDirs(name, options), layout.ratings.file, [layout.folder]);
}

/** Splits "Usual Suspects, The (1995)" into { title: "The Usual Suspects", year: 1995 }; year NaN when absent. */
export function parseMovieTitle(raw: string): { title: string; year: number } {
  let t = raw.trim();
  let year = NaN;
  const m = /^(.*?)\s*\((\d{4})(?:[–-]\d{0,4})?\)\s*$/.exec(t);
  if (m) {
    t = m[1];
    year = Number(m[2]);
  }
  // "Shawshank Redemption, The" → "The Shawshank Redemption" (also A, An and a few foreign articles).
  const a = /^(.*), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$/.exec(t);
  if (a) t = a[2].endsWith("'") ? `${a[2]}${a[1]}` : `${a[2]} ${a[1]}`;
  return { title: t, year };
}

/** Loads a MovieLens release: ratings with hour/day-of-week/month event columns, movie titles/years/genres, ml-100k/1m user features. */
export async function loadMovieLens(name: MovieLensName, options: LoadOptions = {}): Promise<LoadedDataset> {
  const layout = MOVIELENS_LAYOUTS[name];
  const ratingsPath = locateMovieLens(name, options);
  if (!ratingsPath) throw missingDataError(name, layout.ratings.file, candidateDirs(name, options), `(the official zip extracts to ${layout.folder}/)`);
  const dir = ratingsPath.slice(0, ratingsPath.lastIndexOf('/'));
  const log = new CleaningLog();
  // DuckDB work first (ratings, ids, side tables); closed before the matrix is built to release its memory.
  const read = await withDuck(async (db) => {
    options.onProgress?.({ phase: `reading ${layout.ratings.file}`, done: 0, total: 3 });
    const staged = await stageInteractions(db, 'ratings', ratingsPath, layout.ratings.mapping, { format: layout.ratings.format, idType: 'int', strict: options.strict, timeUnit: options.timeUnit ?? 'seconds' }, log);
    const { users, items } = await buildIdMaps(db, [staged]);
    const events = await fetchEvents(db, staged, { users, items });
    await db.exec('DROP TABLE ratings');
    throwIfAborted(options.signal);
    options.onProgress?.({ phase: 'side data', done: 1, total: 3 });
    const moviesPath = findFile([dir], layout.movies.file);
    const itemFeatures = moviesPath ? await loadMovies(db, moviesPath, layout, items, log) : undefined;
    if (!moviesPath) log.note(`${layout.movies.file} not found: no movie features`);
    let userFeatures: EntityFeatures | undefined;
    if (layout.users) {
      const usersPath = findFile([dir], layout.users.file);
      if (usersPath) userFeatures = await loadUsers(db, usersPath, layout, users, log, name);
      else log.note(`${layout.users.file} not found: no user features`);
    }
    return { staged, users, items, events, itemFeatures, userFeatures };
  });
  throwIfAborted(options.signal);
  options.onProgress?.({ phase: 'building matrix', done: 2, total: 3 });
  const { staged, users, items, events } = read;
  if (options.clip !== undefined) clipValues(events, options.clip, ratingsPath, 'rating', log);
  const m = await assembleMatrix(events, users, items, options.duplicatePolicy ?? 'last', ratingsPath, log);
  if (m.interactions.timestamps) Object.assign(m.eventColumns, timeFeatures(m.interactions.timestamps));
  const filtered = options.filters ? applyFilters(m, options.filters, log) : m;
  // Generated files are labelled by the generator's marker file, never by the folder's name.
  const synthetic = hasSyntheticMarker(dir);
  if (synthetic) log.note('SYNTHETIC DATA: generated MovieLens-format files');
  const title = layout.description.slice(0, layout.description.indexOf(':'));
  const description = `${title}${synthetic ? ' format — SYNTHETIC stand-in files (generated, not GroupLens data)' : ''}: ${countsPhrase(filtered.interactions, 'ratings', 'movies')}`;
  options.onProgress?.({ phase: 'done', done: 3, total: 3 });
  const ds: LoadedDataset = {
    name,
    description,
    valueKind: 'rating',
    interactions: filtered.interactions,
    eventColumns: filtered.eventColumns,
    report: await log.report(staged.rowsRead, filtered.interactions.nnz, m.duplicates),
    info: { ...movieLensInfo(name), description, trainFile: ratingsPath, synthetic },
  };
  if (read.itemFeatures) ds.itemFeatures = read.itemFeatures;
  if (read.userFeatures) ds.userFeatures = read.userFeatures;
  return ds;
}

async function loadMovies(db: DuckSession, path: string, layout: MovieLensLayout, items: IdMap, log: CleaningLog): Promise<EntityFeatures> {
  const mv = layout.movies;
  const flagCols = mv.genreFlags ? ML100K_GENRES.map((g) => `g_${g}`) : [];
  const cols = [mv.id, mv.title, ...(mv.genres ? [mv.genres] : []), ...flagCols];
  const t = await readSideTable(db, path, cols, log, { format: mv.format, table: 'movies' });
  const n = items.size;
  const f = emptyFeatures();
  const titles = new Array<string>(n).fill('');
  const raw = new Array<string>(n).fill('');
  const year = new Float32Array(n).fill(NaN);
  const genres: (string[] | null)[] = new Array(n).fill(null);
  let noYear = 0;
  const noYearLines: number[] = [];
  t.rows.forEach((r, k) => {
    const i = items.indexOf(Number(r[mv.id]));
    if (i < 0) return;
    const p = parseMovieTitle(r[mv.title] ?? '');
    titles[i] = p.title;
    raw[i] = r[mv.title] ?? '';
    year[i] = p.year;
    if (Number.isNaN(p.year)) {
      noYear++;
      if (noYearLines.length < 5) noYearLines.push(t.lines[k]);
    }
    if (mv.genres) {
      const g = (r[mv.genres] ?? '').split('|').filter((x) => x !== '' && x !== '(no genres listed)');
      genres[i] = g;
    } else genres[i] = ML100K_GENRES.filter((g) => r[`g_${g}`] === '1');
  });
  log.add({ file: path, kind: 'title without (year)', field: mv.title, count: noYear, action: 'kept', lines: noYearLines });
  f.text.title = titles;
  f.text.raw_title = raw;
  f.numeric.year = year;
  f.multiHot.genres = multiHotFrom(genres);
  return f;
}

async function loadUsers(db: DuckSession, path: string, layout: MovieLensLayout, users: IdMap, log: CleaningLog, name: MovieLensName): Promise<EntityFeatures> {
  const spec = layout.users!;
  const t = await readSideTable(db, path, spec.columns, log, { format: spec.format, table: 'users' });
  const n = users.size;
  const f = emptyFeatures();
  const gender = new Array<string | null>(n).fill(null);
  const age = new Array<string | null>(n).fill(null);
  const ageYears = new Float32Array(n).fill(NaN);
  const occupation = new Array<string | null>(n).fill(null);
  const zip = new Array<string>(n).fill('');
  const state = new Array<string | null>(n).fill(null);
  let badZip = 0;
  const badZipLines: number[] = [];
  t.rows.forEach((r, k) => {
    const u = users.indexOf(Number(r.user_id));
    if (u < 0) return;
    gender[u] = r.gender;
    if (name === 'ml-1m') {
      age[u] = ML1M_AGE_BUCKETS[r.age ?? ''] ?? null;
      occupation[u] = ML1M_OCCUPATIONS[Number(r.occupation)] ?? null;
    } else {
      ageYears[u] = Number(r.age);
      occupation[u] = r.occupation;
    }
    zip[u] = r.zip ?? '';
    const s = stateOfZip(r.zip);
    state[u] = s ?? 'unknown';
    if (!s) {
      badZip++;
      if (badZipLines.length < 5) badZipLines.push(t.lines[k]);
    }
  });
  log.add({ file: path, kind: 'non-US or malformed zip code (state "unknown")', field: 'zip', count: badZip, action: 'kept', lines: badZipLines });
  f.categorical.gender = categoricalFrom(gender);
  f.categorical.occupation = categoricalFrom(occupation);
  f.categorical.state = categoricalFrom(state);
  if (name === 'ml-1m') f.categorical.age = categoricalFrom(age);
  else f.numeric.age = ageYears;
  f.text.zip = zip;
  return f;
}
