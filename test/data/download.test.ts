/** `datasets download` and the SYNTHETIC label (issue 9): cached archives are verified, failures leave nothing behind. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKuaiRec } from '../../src/data/datasets/kuairec.js';
import { loadMovieLens } from '../../src/data/datasets/movielens.js';
import { downloadDataset } from '../../src/data/download.js';
import { writeSyntheticKuaiRec } from '../../src/data/synthetic/kuairec.js';
import { writeSyntheticMovieLens } from '../../src/data/synthetic/movielens.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-download-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real ml-100k-layout zip (u.data only) and its md5. */
function makeZip(): { bytes: Buffer; md5: string } {
  const src = join(dir, 'zipsrc', 'ml-100k');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'u.data'), '1\t1\t5\t100\n2\t1\t3\t200\n');
  const zip = join(dir, 'zipsrc', 'ml-100k.zip');
  if (!existsSync(zip)) execFileSync('zip', ['-q', '-r', zip, 'ml-100k'], { cwd: join(dir, 'zipsrc') });
  const bytes = readFileSync(zip);
  return { bytes, md5: createHash('md5').update(bytes).digest('hex') };
}

/** A fetch that serves only the .md5 file (`md5`, or an HTTP 404 when null) and fails for anything else. */
function md5Only(md5: string | null, calls: string[] = []): typeof fetch {
  return (async (url: string | URL | Request) => {
    calls.push(String(url));
    if (String(url).endsWith('.md5')) return md5 === null ? new Response('no', { status: 404 }) : new Response(`${md5}  ml-100k.zip\n`);
    throw new TypeError('fetch failed');
  }) as typeof fetch;
}

describe('an archive put in the cache by hand', () => {
  it('is checked against the published checksum before extraction: a mismatch is refused, naming the file, which is kept', async () => {
    const { bytes } = makeZip();
    const cache = join(dir, 'hand-bad');
    const target = join(cache, 'ml-100k', 'ml-100k.zip');
    mkdirSync(join(cache, 'ml-100k'), { recursive: true });
    writeFileSync(target, bytes);
    await expect(downloadDataset('ml-100k', { dataDir: cache, fetchImpl: md5Only('0'.repeat(32)) })).rejects.toThrow(
      new RegExp(`${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: checksum mismatch: md5 [0-9a-f]{32}, expected 0{32} .*; not extracted`),
    );
    expect(existsSync(join(cache, 'ml-100k', 'ml-100k', 'u.data'))).toBe(false);
    expect(readFileSync(target).equals(bytes)).toBe(true);
  });

  it('with the right checksum is extracted (and said to be verified); without a reachable checksum it is extracted with a note', async () => {
    const { bytes, md5 } = makeZip();
    for (const [name, sum, said] of [['hand-good', md5, /md5 checksum verified/], ['hand-offline', null, /not verified \(the published md5 .* could not be fetched\)/]] as const) {
      const cache = join(dir, name);
      mkdirSync(join(cache, 'ml-100k'), { recursive: true });
      writeFileSync(join(cache, 'ml-100k', 'ml-100k.zip'), bytes);
      const notes: string[] = [];
      const calls: string[] = [];
      const out = await downloadDataset('ml-100k', { dataDir: cache, fetchImpl: md5Only(sum, calls), onNote: (n) => notes.push(n) });
      expect(calls.every((u) => u.endsWith('.md5'))).toBe(true);
      expect(notes.join('\n')).toMatch(said);
      expect(readFileSync(join(out, 'ml-100k', 'u.data'), 'utf8')).toBe('1\t1\t5\t100\n2\t1\t3\t200\n');
    }
  });
});

describe('a failed download', () => {
  it('leaves no empty folder, and never removes a folder that was there before', async () => {
    const http500 = (async () => new Response('down', { status: 500 })) as unknown as typeof fetch;
    const fresh = join(dir, 'fail-fresh', 'nested');
    await expect(downloadDataset('ml-1m', { dataDir: fresh, fetchImpl: http500 })).rejects.toThrow(/cannot download .*ml-1m\.zip: HTTP 500/);
    expect(existsSync(join(dir, 'fail-fresh'))).toBe(false);
    const existing = join(dir, 'fail-existing');
    mkdirSync(existing);
    await expect(downloadDataset('ml-1m', { dataDir: existing, fetchImpl: http500 })).rejects.toThrow(/HTTP 500/);
    expect(existsSync(existing)).toBe(true);
    expect(existsSync(join(existing, 'ml-1m'))).toBe(false);
  });
});

describe('the SYNTHETIC label', () => {
  it('comes from the marker file the generators write, not from the folder name', async () => {
    const named = join(dir, 'synthetic-looking');
    writeSyntheticMovieLens(join(named, 'ml-1m'), 'ml-1m', { seed: 2 });
    unlinkSync(join(named, 'ml-1m', 'SYNTHETIC'));
    const unmarked = await loadMovieLens('ml-1m', { dataDir: named });
    expect(unmarked.description).not.toMatch(/SYNTHETIC/);
    expect(unmarked.info?.synthetic).toBe(false);
    const plain = join(dir, 'plain');
    writeSyntheticMovieLens(join(plain, 'ml-1m'), 'ml-1m', { seed: 2 });
    const marked = await loadMovieLens('ml-1m', { dataDir: plain });
    expect(marked.description).toMatch(/^MovieLens 1M \(GroupLens\) format — SYNTHETIC stand-in files .*: [\d,]+ ratings from 60 users on \d+ movies$/);
    expect(marked.info?.synthetic).toBe(true);
    // writeSyntheticKuaiRec writes its own marker now (the loader labels it without help).
    const kr = join(dir, 'kr');
    writeSyntheticKuaiRec(kr, { users: 40, items: 50, bigRows: 600, smallUsers: 5, smallItems: 6, missingTimeRows: 1, gzip: false });
    const k = await loadKuaiRec('kuairec', { path: kr, interactionsOnly: true });
    expect(k.description).toMatch(/SYNTHETIC/);
    expect(k.info).toMatchObject({ synthetic: true, timeZone: 'Asia/Shanghai', valueColumn: 'watch_ratio', trainFile: join(kr, 'big_matrix.csv'), testFile: join(kr, 'small_matrix.csv') });
  });
});
