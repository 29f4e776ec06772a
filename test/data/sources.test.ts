import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMovieLens, parseMovieTitle } from '../../src/data/datasets/movielens.js';
import { loadMsd } from '../../src/data/datasets/msd.js';
import { listDatasets, loadDataset } from '../../src/data/datasets/registry.js';
import { DOWNLOADS, downloadDataset } from '../../src/data/download.js';
import { categoricalFrom, multiHotFrom, multiHotLabels, parseBracketList } from '../../src/data/features.js';
import { writeSyntheticMovieLens } from '../../src/data/synthetic/movielens.js';
import { writeSyntheticMsd } from '../../src/data/synthetic/msd.js';
import { timeFeatures } from '../../src/data/time-features.js';
import { stateOfZip, stateOfZipPrefix } from '../../src/data/zip-prefix.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('MovieLens', () => {
  it('parses titles into clean title and year', () => {
    expect(parseMovieTitle('Toy Story (1995)')).toEqual({ title: 'Toy Story', year: 1995 });
    expect(parseMovieTitle('Shawshank Redemption, The (1994)')).toEqual({ title: 'The Shawshank Redemption', year: 1994 });
    expect(parseMovieTitle('City of Lost Children, The (Cité des enfants perdus, La) (1995)').year).toBe(1995);
    expect(parseMovieTitle('Babylon 5')).toEqual({ title: 'Babylon 5', year: NaN });
  });

  for (const [name, format] of [['ml-100k', 'ml-100k'], ['ml-1m', 'ml-1m'], ['ml-latest-small', 'csv']] as const) {
    it(`${name}: ratings match the file, movie and user features are aligned`, async () => {
      const folder = join(dir, 'ml', name);
      writeSyntheticMovieLens(folder, format, { seed: 3 });
      const ds = await loadMovieLens(name, { dataDir: join(dir, 'ml') });
      const ratingsFile = readdirSync(folder).find((f) => /^(u\.data|ratings\.(dat|csv))$/.test(f))!;
      const sep = format === 'ml-100k' ? '\t' : format === 'ml-1m' ? '::' : ',';
      const rows = readFileSync(join(folder, ratingsFile), 'utf8').trim().split('\n').slice(format === 'csv' ? 1 : 0).map((l) => l.split(sep).map(Number));
      const x = ds.interactions;
      expect(x.nnz).toBe(rows.length);
      for (const [u, i, r, t] of rows.slice(0, 200)) {
        const p = x.find(x.users.indexOf(u), x.items.indexOf(i));
        expect(x.values[p]).toBe(r);
        expect(x.timestamps![p]).toBe(t);
        const d = new Date(t * 1000);
        expect(ds.eventColumns.hour[p]).toBe(d.getUTCHours());
        expect(ds.eventColumns.day_of_week[p]).toBe(d.getUTCDay());
        expect(ds.eventColumns.month[p]).toBe(d.getUTCMonth() + 1);
      }
      const f = ds.itemFeatures!;
      expect(f.numeric.year).toHaveLength(x.nItems);
      expect(f.multiHot.genres.ptr).toHaveLength(x.nItems + 1);
      expect(f.multiHot.genres.names).not.toContain('(no genres listed)');
      if (format !== 'csv') {
        // Movie 2 is written with a latin-1 "é": it must decode.
        const i2 = x.items.indexOf(2);
        if (i2 >= 0) expect(f.text.title[i2]).toBe('Café Society');
        const uf = ds.userFeatures!;
        expect(uf.categorical.state.codes).toHaveLength(x.nUsers);
        const state = (u: number): string => uf.categorical.state.names[uf.categorical.state.codes[x.users.indexOf(u)]];
        // Users cycle through the ZIP list: 55455 → MN, T8H1N → unknown (reported, kept).
        expect(state(1)).toBe('MN');
        expect(state(9)).toBe('unknown');
        const zipIssue = ds.report.issues.find((i) => i.field === 'zip')!;
        expect(zipIssue.action).toBe('kept');
        expect(zipIssue.lines[0]).toBe(9);
      }
      if (format === 'ml-1m') {
        const age = ds.userFeatures!.categorical.age;
        expect(age.names.every((n) => ['Under 18', '18-24', '25-34', '35-44', '45-49', '50-55', '56+'].includes(n))).toBe(true);
        expect(ds.userFeatures!.categorical.occupation.names.length).toBeGreaterThan(5);
      }
      expect(ds.description).toMatch(/SYNTHETIC/);
    });
  }

  it('a missing release names the file and the folders', async () => {
    await expect(loadMovieLens('ml-25m', { dataDir: join(dir, 'none') })).rejects.toThrow(/ratings\.csv not found[\s\S]*none[\s\S]*recsys datasets download ml-25m/);
  });
});

describe('MSD Taste Profile', () => {
  it('loads string ids, play counts (sum policy) and joins metadata', async () => {
    const folder = join(dir, 'msd', 'msd-taste');
    writeSyntheticMsd(folder, { seed: 9 });
    const lines = readFileSync(join(folder, 'train_triplets.txt'), 'utf8').trim().split('\n');
    writeFileSync(join(folder, 'train_triplets.txt'), [...lines, lines[0]].join('\n') + '\n');
    const ds = await loadMsd('msd-taste', { dataDir: join(dir, 'msd') });
    const [u0, s0, c0] = lines[0].split('\t');
    const x = ds.interactions;
    expect(typeof x.users.idOf(0)).toBe('string');
    expect(x.get(x.users.indexOf(u0), x.items.indexOf(s0))).toBe(2 * Number(c0));
    expect(ds.report.duplicates).toMatchObject({ policy: 'sum', merged: 1, pairs: 1 });
    expect(x.nnz).toBe(lines.length);
    expect(ds.valueKind).toBe('play_count');
    const f = ds.itemFeatures!;
    expect(f.text.title.filter((t) => t !== '')).toHaveLength(x.nItems);
    // Year 0 means unknown in the MSD.
    expect(f.numeric.year.some((y) => Number.isNaN(y))).toBe(true);
  });
});

describe('registry', () => {
  it('lists every source and loads "generic" from column options', async () => {
    const names = listDatasets().map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['kuairec-sample', 'kuairec', 'ml-100k', 'ml-1m', 'ml-10m', 'ml-20m', 'ml-25m', 'ml-32m', 'ml-latest-small', 'msd-taste', 'msd-taste-10k', 'generic']));
    const p = join(dir, 'g.csv');
    writeFileSync(p, 'a;b;c\n1;2;3\n');
    const ds = await loadDataset('generic', { path: p, userCol: 'a', itemCol: 'b', valueCol: 'c', delimiter: ';' });
    expect(ds.interactions.get(0, 0)).toBe(3);
    await expect(loadDataset('generic', {})).rejects.toThrow(/path, userCol and itemCol/);
    await expect(loadDataset('nope')).rejects.toThrow(/unknown data set "nope"/);
  });
});

describe('downloads', () => {
  it('offline: the error names the URL, the file and where to put it; nothing half-written is left', async () => {
    const offline = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    const cache = join(dir, 'dl-off');
    await expect(downloadDataset('ml-1m', { dataDir: cache, fetchImpl: offline })).rejects.toThrow(
      /cannot download https:\/\/files\.grouplens\.org\/datasets\/movielens\/ml-1m\.zip: fetch failed \(offline\?\)\. Download .* by hand and put it in .*dl-off\/ml-1m/,
    );
    // Issue 9: a failed download leaves no empty folder behind (it used to leave an empty ml-1m/).
    expect(existsSync(join(cache, 'ml-1m'))).toBe(false);
    expect(existsSync(cache)).toBe(false);
  });

  it('downloads atomically, checks the published md5 and unzips', async () => {
    const src = join(dir, 'zipsrc', 'ml-100k');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'u.data'), '1\t1\t5\t100\n');
    const zip = join(dir, 'ml-100k.zip');
    execFileSync('zip', ['-q', '-r', zip, 'ml-100k'], { cwd: join(dir, 'zipsrc') });
    const bytes = readFileSync(zip);
    const md5 = (await import('node:crypto')).createHash('md5').update(bytes).digest('hex');
    const fake = (good: boolean): typeof fetch =>
      (async (url: string | URL | Request) =>
        String(url).endsWith('.md5') ? new Response(`${good ? md5 : 'f'.repeat(32)}  ml-100k.zip\n`) : new Response(bytes, { headers: { 'content-length': String(bytes.length) } })) as typeof fetch;
    const bad = join(dir, 'dl-bad');
    await expect(downloadDataset('ml-100k', { dataDir: bad, fetchImpl: fake(false) })).rejects.toThrow(/checksum mismatch .* md5/);
    expect(existsSync(join(bad, 'ml-100k', 'ml-100k.zip'))).toBe(false);
    const good = join(dir, 'dl-good');
    const seen: number[] = [];
    const out = await downloadDataset('ml-100k', { dataDir: good, fetchImpl: fake(true), onProgress: (p) => seen.push(p.done) });
    expect(seen[seen.length - 1]).toBe(bytes.length);
    expect(readFileSync(join(out, 'ml-100k', 'u.data'), 'utf8')).toBe('1\t1\t5\t100\n');
    const ds = await loadMovieLens('ml-100k', { dataDir: good });
    expect(ds.interactions.nnz).toBe(1);
  });

  it('every downloadable source states its checksum situation', async () => {
    for (const [name, srcs] of Object.entries(DOWNLOADS)) for (const s of srcs) expect(s.checksumNote.length, name).toBeGreaterThan(10);
    await expect(downloadDataset('kuairec-sample')).rejects.toThrow(/no download known/);
  });
});

describe('features and helpers', () => {
  it('zip prefixes map to states; non-US and malformed zips do not', () => {
    expect(stateOfZip('55455')).toBe('MN');
    expect(stateOfZip('98107-4541')).toBe('WA');
    expect(stateOfZip('02139')).toBe('MA');
    expect(stateOfZip('10021')).toBe('NY');
    expect(stateOfZip('94043')).toBe('CA');
    expect(stateOfZip('73301')).toBe('TX');
    expect(stateOfZip('T8H1N')).toBeNull();
    expect(stateOfZip('1234')).toBeNull();
    expect(stateOfZip('00000')).toBeNull();
    expect(stateOfZip('')).toBeNull();
    expect(stateOfZipPrefix(999)).toBe('AK');
  });

  it('categorical and multi-hot builders', () => {
    const c = categoricalFrom(['b', null, 'a', 'b', '']);
    expect(c.names).toEqual(['a', 'b']);
    expect(Array.from(c.codes)).toEqual([1, -1, 0, 1, -1]);
    const m = multiHotFrom([['10', '9', '9'], null, ['2']]);
    expect(m.names).toEqual(['2', '9', '10']);
    expect(multiHotLabels(m, 0)).toEqual(['9', '10']);
    expect(multiHotLabels(m, 1)).toEqual([]);
    expect(parseBracketList('[27, 9]')).toEqual(['27', '9']);
    expect(parseBracketList('[]')).toEqual([]);
    expect(parseBracketList('27, 9')).toBeNull();
  });

  it('time features of a known instant', () => {
    // 2000-12-31 22:12:40 UTC, a Sunday.
    const f = timeFeatures(Float64Array.from([978300760, NaN]));
    expect([f.hour[0], f.day_of_week[0], f.month[0]]).toEqual([22, 0, 12]);
    expect(Number.isNaN(f.hour[1])).toBe(true);
  });
});

describe('side-table encoding', () => {
  it('a latin-1 movies.dat without a declared encoding is re-read as latin-1 and noted', async () => {
    const folder = join(dir, 'ml10', 'ml-10m');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'ratings.dat'), '1::1::4.5::978300760\n1::2::3::978300761\n');
    writeFileSync(join(folder, 'movies.dat'), Buffer.from('1::Café Society (1995)::Drama\n2::Toy Story (1995)::Comedy\n', 'latin1'));
    const ds = await loadMovieLens('ml-10m', { dataDir: join(dir, 'ml10') });
    expect(ds.itemFeatures!.text.title).toEqual(['Café Society', 'Toy Story']);
    expect(ds.report.notes.some((n) => /not valid UTF-8 .* read as latin-1/.test(n))).toBe(true);
    expect(ds.interactions.get(0, 0)).toBe(4.5);
  });
});
