import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { drawCumulative, Rng } from '../../core/rng.js';
import { LineWriter } from './writer.js';
import { writeSyntheticMarker } from '../schema.js';

/** Size and seed of generated Taste Profile files. */
export interface MsdSyntheticOptions {
  users: number;
  songs: number;
  /** Average distinct songs per user. */
  songsPerUser: number;
  seed: number;
  /** Also write song_metadata.csv (song_id,title,artist_name,year). */
  metadata: boolean;
  /** File name of the triplets (train_triplets.txt or 10000.txt). */
  file: string;
}

function hexId(rng: Rng, n: number): string {
  let s = '';
  for (let k = 0; k < n; k++) s += '0123456789abcdef'[rng.int(16)];
  return s;
}

function songId(rng: Rng): string {
  let s = 'SO';
  for (let k = 0; k < 16; k++) s += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[rng.int(36)];
  return s;
}

/**
 * Writes SYNTHETIC Million Song Dataset Taste Profile files into `dir`: `user \t song \t play_count` without
 * header (40-hex user ids, SO… song ids, long-tailed counts) and optionally song_metadata.csv. Returns the paths.
 */
export function writeSyntheticMsd(dir: string, options: Partial<MsdSyntheticOptions> = {}): string[] {
  const o: MsdSyntheticOptions = { users: 50, songs: 120, songsPerUser: 12, seed: 11, metadata: true, file: 'train_triplets.txt', ...options };
  const rng = new Rng(o.seed);
  const users = Array.from({ length: o.users }, () => hexId(rng, 40));
  const songs = Array.from({ length: o.songs }, () => songId(rng));
  const cum = new Float64Array(o.songs);
  let acc = 0;
  for (let i = 0; i < o.songs; i++) cum[i] = acc += 1 / Math.pow(i + 2, 0.9);
  const w = new LineWriter(join(dir, o.file));
  for (const u of users) {
    const n = Math.max(1, Math.min(o.songs, Math.round(o.songsPerUser * rng.logNormal(0, 0.6))));
    const seen = new Set<number>();
    while (seen.size < n) seen.add(drawCumulative(cum, rng.uniform()));
    for (const s of seen) w.line(`${u}\t${songs[s]}\t${1 + Math.floor(rng.logNormal(0, 1.1))}`);
  }
  w.close();
  const written = [w.path];
  if (o.metadata) {
    const lines = ['song_id,title,artist_name,year'];
    songs.forEach((s, k) => lines.push(`${s},Song ${k},Artist ${k % 17},${k % 5 === 0 ? 0 : 1970 + (k % 45)}`));
    writeFileSync(join(dir, 'song_metadata.csv'), lines.join('\n') + '\n');
    written.push(join(dir, 'song_metadata.csv'));
  }
  writeSyntheticMarker(dir, `synthetic Taste Profile files from src/data/synthetic/msd.ts, seed ${o.seed}`);
  return written;
}
