import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ML100K_GENRES, writeSyntheticMarker } from '../schema.js';
import { drawCumulative, Rng } from '../../core/rng.js';
import { LineWriter } from './writer.js';

/** Which MovieLens file layout to write. */
export type MovieLensFormat = 'ml-100k' | 'ml-1m' | 'csv';

/** Size and seed of generated MovieLens-format files. */
export interface MovieLensSyntheticOptions {
  users: number;
  movies: number;
  /** Ratings per user on average (each user rates distinct movies). */
  ratingsPerUser: number;
  seed: number;
}

const GENRES = ML100K_GENRES.slice(1);
const WORDS = ['Night', 'Return', 'Star', 'Love', 'City', 'Dark', 'Last', 'Man', 'Story', 'War', 'Dream', 'River', 'Ghost', 'King', 'Road'];
const ZIPS = ['55455', '94043', '10021', '98107-4541', '02139', '60614', '73301', '33139', 'T8H1N', 'V5A 2B1', '00000'];

/**
 * Writes small MovieLens-format files (SYNTHETIC, labelled by a SYNTHETIC marker file) into `dir`:
 * ml-100k (u.data, u.item latin-1, u.user), ml-1m (ratings.dat, movies.dat, users.dat with `::`) or the CSV
 * layout of 20M/25M/32M/latest-small (ratings.csv, movies.csv). Deterministic for a seed. Returns the paths.
 */
export function writeSyntheticMovieLens(dir: string, format: MovieLensFormat, options: Partial<MovieLensSyntheticOptions> = {}): string[] {
  const o: MovieLensSyntheticOptions = { users: 60, movies: 80, ratingsPerUser: 15, seed: 7, ...options };
  const rng = new Rng(o.seed);
  const d = 4;
  const uv = Array.from({ length: o.users * d }, () => rng.normal());
  const iv = Array.from({ length: o.movies * d }, () => rng.normal());
  const cum = new Float64Array(o.movies);
  let acc = 0;
  for (let i = 0; i < o.movies; i++) cum[i] = acc += 1 / Math.pow(i + 3, 0.8);
  const written: string[] = [];
  const sep = format === 'ml-100k' ? '\t' : format === 'ml-1m' ? '::' : ',';
  const ratingsFile = join(dir, format === 'ml-100k' ? 'u.data' : format === 'ml-1m' ? 'ratings.dat' : 'ratings.csv');
  const rw = new LineWriter(ratingsFile);
  if (format === 'csv') rw.line('userId,movieId,rating,timestamp');
  const t0 = 956703932;
  for (let u = 0; u < o.users; u++) {
    const n = Math.max(1, Math.min(o.movies, Math.round(o.ratingsPerUser * rng.logNormal(0, 0.5))));
    const seen = new Set<number>();
    while (seen.size < n) seen.add(drawCumulative(cum, rng.uniform()));
    for (const i of seen) {
      let s = 0;
      for (let k = 0; k < d; k++) s += uv[u * d + k] * iv[i * d + k];
      const raw = 3.5 + 0.6 * s + 0.5 * rng.normal();
      const rating = format === 'csv' ? Math.min(5, Math.max(0.5, Math.round(raw * 2) / 2)) : Math.min(5, Math.max(1, Math.round(raw)));
      const ts = t0 + rng.int(3 * 365 * 86400);
      rw.line([u + 1, i + 1, rating, ts].join(sep));
    }
  }
  rw.close();
  written.push(rw.path);

  const title = (i: number): string => {
    const base = `${rng.pick(WORDS)} ${rng.pick(WORDS)}`;
    const t = i % 7 === 0 ? `${base}, The` : base;
    return i % 23 === 5 ? t : `${t} (${1930 + ((i * 37) % 70)})`;
  };
  const movieGenres = (): string[] => {
    const g = new Set<string>([rng.pick(GENRES)]);
    if (rng.uniform() < 0.5) g.add(rng.pick(GENRES));
    return [...g];
  };
  if (format === 'ml-100k') {
    const lines: string[] = [];
    for (let i = 0; i < o.movies; i++) {
      const g = movieGenres();
      const flags = ML100K_GENRES.map((name) => (g.includes(name) ? '1' : '0'));
      lines.push([i + 1, i === 1 ? 'Café Society (1995)' : title(i), '01-Jan-1995', '', 'http://us.imdb.com/M/title-exact?x', ...flags].join('|'));
    }
    writeFileSync(join(dir, 'u.item'), Buffer.from(lines.join('\n') + '\n', 'latin1'));
    written.push(join(dir, 'u.item'));
    const occ = ['administrator', 'artist', 'doctor', 'educator', 'engineer', 'student', 'other'];
    const ul: string[] = [];
    for (let u = 0; u < o.users; u++) ul.push([u + 1, 18 + rng.int(50), rng.uniform() < 0.7 ? 'M' : 'F', rng.pick(occ), ZIPS[u % ZIPS.length]].join('|'));
    writeFileSync(join(dir, 'u.user'), ul.join('\n') + '\n');
    written.push(join(dir, 'u.user'));
  } else if (format === 'ml-1m') {
    const lines: string[] = [];
    for (let i = 0; i < o.movies; i++) lines.push([i + 1, i === 1 ? 'Café Society (1995)' : title(i), movieGenres().join('|')].join('::'));
    writeFileSync(join(dir, 'movies.dat'), Buffer.from(lines.join('\n') + '\n', 'latin1'));
    written.push(join(dir, 'movies.dat'));
    const ages = ['1', '18', '25', '35', '45', '50', '56'];
    const ul: string[] = [];
    for (let u = 0; u < o.users; u++) ul.push([u + 1, rng.uniform() < 0.7 ? 'M' : 'F', rng.pick(ages), rng.int(21), ZIPS[u % ZIPS.length]].join('::'));
    writeFileSync(join(dir, 'users.dat'), ul.join('\n') + '\n');
    written.push(join(dir, 'users.dat'));
  } else {
    const lines = ['movieId,title,genres'];
    for (let i = 0; i < o.movies; i++) {
      const t = title(i);
      const g = i % 29 === 3 ? '(no genres listed)' : movieGenres().join('|');
      lines.push(`${i + 1},${/[,"]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t},${g}`);
    }
    writeFileSync(join(dir, 'movies.csv'), lines.join('\n') + '\n');
    written.push(join(dir, 'movies.csv'));
  }
  writeSyntheticMarker(dir, `synthetic ${format} files from src/data/synthetic/movielens.ts, seed ${o.seed}`);
  return written;
}
