import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { LoadProgress } from './load-options.js';
import { cacheDir } from './paths.js';

/** One file to fetch for a data set. */
export interface DownloadSource {
  url: string;
  /** sha256 of the file, when known (null: not published; see `checksumNote`). */
  sha256: string | null;
  /** URL of a published md5 sum file (GroupLens publishes `<zip>.md5`), checked when sha256 is unknown. */
  md5Url?: string;
  /** Unzip after download (into the data set's cache folder). */
  unzip: boolean;
  /** Where checksums stand for this file. */
  checksumNote: string;
}

const GROUPLENS = 'https://files.grouplens.org/datasets/movielens';

function grouplens(zip: string): DownloadSource {
  return { url: `${GROUPLENS}/${zip}`, sha256: null, md5Url: `${GROUPLENS}/${zip}.md5`, unzip: true, checksumNote: 'no sha256 published; verified against the md5 GroupLens publishes next to the zip' };
}

/** Official download locations per registry name. */
export const DOWNLOADS: Record<string, DownloadSource[]> = {
  'ml-100k': [grouplens('ml-100k.zip')],
  'ml-1m': [grouplens('ml-1m.zip')],
  'ml-10m': [grouplens('ml-10m.zip')],
  'ml-20m': [grouplens('ml-20m.zip')],
  'ml-25m': [grouplens('ml-25m.zip')],
  'ml-32m': [grouplens('ml-32m.zip')],
  'ml-latest-small': [grouplens('ml-latest-small.zip')],
  kuairec: [
    {
      url: 'https://nas.chongminggao.top:4430/datasets/KuaiRec.zip',
      sha256: null,
      unzip: true,
      checksumNote: 'checksum unknown: the KuaiRec project (https://kuairec.com) publishes no hash for KuaiRec.zip; size is about 430 MB',
    },
  ],
  'msd-taste': [
    {
      url: 'http://millionsongdataset.com/sites/default/files/challenge/train_triplets.txt.zip',
      sha256: null,
      unzip: true,
      checksumNote: 'checksum unknown: LabROSA (millionsongdataset.com/tasteprofile) publishes no hash',
    },
  ],
  'msd-taste-10k': [
    {
      url: 'https://static.turi.com/datasets/millionsong/10000.txt',
      sha256: null,
      unzip: false,
      checksumNote: 'checksum unknown; 10000.txt is a community subset (Turi mirror), not a LabROSA file',
    },
  ],
};

/** Options of {@link downloadDataset}. */
export interface DownloadOptions {
  dataDir?: string;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** Replaceable fetch (tests). */
  fetchImpl?: typeof fetch;
  /** Told what was verified or could not be (e.g. an archive found in the cache whose checksum is unknown). */
  onNote?: (text: string) => void;
}

/** sha256 (hex) of a file. */
export async function sha256File(path: string): Promise<string> {
  return hashFile(path, 'sha256');
}

async function hashFile(path: string, algo: 'sha256' | 'md5'): Promise<string> {
  const h = createHash(algo);
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/** Extracts a zip with the system `unzip` (present here; a clear error says what to do when it is not). */
export function unzipFile(zip: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  try {
    execFileSync('unzip', ['-o', '-q', zip, '-d', dest], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new Error(`cannot extract ${zip}: the \`unzip\` program is not installed; extract it by hand into ${dest}`);
    throw new Error(`cannot extract ${zip}: ${e.message.split('\n')[0]}`);
  }
}

/** Folders from `dir` up that do not exist yet (the ones a `mkdir -p dir` would create), deepest first. */
function missingFolders(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) out.push(d);
  return out;
}

/** Removes the folders in `created` (deepest first) that are still empty; nothing else. */
function removeEmpty(created: readonly string[]): void {
  for (const d of created) {
    try {
      if (readdirSync(d).length > 0) return;
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/**
 * Downloads a data set's files into `<cache>/<name>/` atomically (temp file + rename), verifies checksums
 * where known, unzips archives, and reports progress in bytes. An archive already in the cache (put there by
 * hand, or by an earlier run) is verified against the published checksum before it is extracted; on a mismatch
 * nothing is extracted and the error names the file (which is left as it is). On network failure the error says
 * which file to fetch by hand and where to put it, and no folder the download made is left behind empty.
 */
export async function downloadDataset(name: string, options: DownloadOptions = {}): Promise<string> {
  const sources = DOWNLOADS[name];
  if (!sources) throw new Error(`no download known for "${name}" (known: ${Object.keys(DOWNLOADS).join(', ')})`);
  const dir = join(cacheDir(options.dataDir), name);
  const created = missingFolders(dir);
  mkdirSync(dir, { recursive: true });
  const doFetch = options.fetchImpl ?? fetch;
  try {
    for (const src of sources) {
      const file = src.url.slice(src.url.lastIndexOf('/') + 1);
      const target = join(dir, file);
      const tmp = `${target}.part-${process.pid}`;
      const manual = `Download ${src.url} by hand and put it in ${dir}${src.unzip ? ' (then unzip it there)' : ''}, or put the extracted files in ../shared/data/${name}/.`;
      if (existsSync(target)) {
        // Not ours to delete: a mismatch refuses to extract and leaves the file for the user to replace.
        const v = await verify(src, target, doFetch);
        if (v.mismatch) throw new Error(`${target}: checksum mismatch: ${v.mismatch}; not extracted. Delete it or replace it with the official file from ${src.url}.`);
        options.onNote?.(v.checked ? `${target}: ${v.checked} checksum verified` : `${target}: found in the cache; not verified (${v.why})`);
      } else {
        let res: Response;
        try {
          res = await doFetch(src.url, { signal: options.signal });
        } catch (err) {
          throw new Error(`cannot download ${src.url}: ${err instanceof Error ? err.message : String(err)} (offline?). ${manual}`);
        }
        if (!res.ok || !res.body) throw new Error(`cannot download ${src.url}: HTTP ${res.status}. ${manual}`);
        const total = Number(res.headers.get('content-length') ?? 0);
        let done = 0;
        const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
        body.on('data', (chunk: Buffer) => {
          done += chunk.length;
          options.onProgress?.({ phase: `downloading ${file}`, done, total: total || done });
        });
        try {
          await pipeline(body, createWriteStream(tmp));
        } catch (err) {
          rmSync(tmp, { force: true });
          throw new Error(`download of ${src.url} failed: ${err instanceof Error ? err.message : String(err)}. ${manual}`);
        }
        const v = await verify(src, tmp, doFetch);
        if (v.mismatch) {
          rmSync(tmp, { force: true });
          throw new Error(`checksum mismatch for ${src.url}: ${v.mismatch}; the download was deleted. ${manual}`);
        }
        if (!v.checked) options.onNote?.(`${file}: not verified (${v.why})`);
        renameSync(tmp, target);
      }
      if (src.unzip) unzipFile(target, dir);
    }
  } catch (err) {
    removeEmpty(created);
    throw err;
  }
  return dir;
}

/** What a checksum check found: the algorithm verified, a mismatch, or why nothing could be checked. */
interface Verified {
  checked?: 'sha256' | 'md5';
  mismatch?: string;
  why?: string;
}

async function verify(src: DownloadSource, path: string, doFetch: typeof fetch): Promise<Verified> {
  if (src.sha256) {
    const got = await sha256File(path);
    return got === src.sha256 ? { checked: 'sha256' } : { mismatch: `sha256 ${got}, expected ${src.sha256}` };
  }
  if (!src.md5Url) return { why: src.checksumNote };
  let expected: string | null = null;
  try {
    const r = await doFetch(src.md5Url);
    if (r.ok) expected = /[0-9a-f]{32}/i.exec(await r.text())?.[0]?.toLowerCase() ?? null;
  } catch {
    expected = null;
  }
  if (!expected) return { why: `the published md5 (${src.md5Url}) could not be fetched` };
  const got = await hashFile(path, 'md5');
  return got === expected ? { checked: 'md5' } : { mismatch: `md5 ${got}, expected ${expected} (from ${src.md5Url})` };
}
