import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInteractionsFile } from '../../src/data/datasets/generic.js';
import { withDuck } from '../../src/data/duck.js';
import { rowToLine } from '../../src/data/ingest.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-ingest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const MAP = { user: 'user', item: 'item', value: 'rating', time: 'ts' };
const ROWS = 'user,item,rating,ts\n1,10,5,100\n2,10,3,200\n1,20,4,300\n';

/** The matrix as sorted "user item value" strings in external ids. */
async function triples(path: string, mapping = MAP, options = {}): Promise<string[]> {
  const ds = await loadInteractionsFile(path, mapping, options);
  const x = ds.interactions;
  const out: string[] = [];
  for (let u = 0; u < x.nUsers; u++) for (let p = x.rowPtr[u]; p < x.rowPtr[u + 1]; p++) out.push(`${x.users.idOf(u)} ${x.items.idOf(x.colIdx[p])} ${x.values[p]}`);
  return out.sort();
}

const WANT = ['1 10 5', '1 20 4', '2 10 3'];

describe('loadInteractionsFile formats', () => {
  it('reads CSV, TSV, ::-separated .dat, gzip, BOM and CRLF to the same matrix', async () => {
    expect(await triples(file('a.csv', ROWS))).toEqual(WANT);
    expect(await triples(file('a.tsv', ROWS.replace(/,/g, '\t')))).toEqual(WANT);
    expect(await triples(file('a.csv.gz', gzipSync(Buffer.from(ROWS))))).toEqual(WANT);
    expect(await triples(file('bom.csv', '\ufeff' + ROWS))).toEqual(WANT);
    expect(await triples(file('crlf.csv', ROWS.replace(/\n/g, '\r\n')))).toEqual(WANT);
    const dat = file('r.dat', '1::10::5::100\n2::10::3::200\n1::20::4::300\n');
    expect(await triples(dat, { user: 'column0', item: 'column1', value: 'column2', time: 'column3' })).toEqual(WANT);
    expect(await triples(dat, MAP, { format: { columnNames: ['user', 'item', 'rating', 'ts'] } })).toEqual(WANT);
  });

  it('reads Parquet', async () => {
    const csv = file('p.csv', ROWS);
    const pq = join(dir, 'p.parquet');
    await withDuck((db) => db.exec(`COPY (SELECT * FROM read_csv('${csv}')) TO '${pq}' (FORMAT parquet)`));
    expect(await triples(pq)).toEqual(WANT);
  });

  it('keeps timestamps and factorizes integer ids numerically, string ids as strings', async () => {
    const ds = await loadInteractionsFile(file('ids.csv', 'user,item,rating,ts\n10,b,1,5\n9,a,1,6\n100,c,1,\n100,a,1,NaN\n'), MAP);
    expect(ds.interactions.users.ids()).toEqual([9, 10, 100]);
    expect(ds.interactions.items.ids()).toEqual(['a', 'b', 'c']);
    const x = ds.interactions;
    expect(x.timestamps![x.find(x.users.indexOf(10), x.items.indexOf('b'))]).toBe(5);
    expect(Number.isNaN(x.timestamps![x.find(x.users.indexOf(100), x.items.indexOf('c'))])).toBe(true);
    const missing = ds.report.issues.find((i) => i.kind === 'missing time')!;
    expect(missing).toMatchObject({ count: 2, action: 'kept', lines: [4, 5], field: 'ts' });
  });

  it('supports millisecond and ISO times', async () => {
    const ms = await loadInteractionsFile(file('ms.csv', 'user,item,ts\n1,1,1500\n'), { user: 'user', item: 'item', time: 'ts' }, { timeUnit: 'milliseconds' });
    expect(ms.interactions.timestamps![0]).toBe(1.5);
    expect(ms.valueKind).toBe('implicit');
    const iso = await loadInteractionsFile(file('iso.csv', 'user,item,ts\n1,1,1970-01-02 00:00:00\n'), { user: 'user', item: 'item', time: 'ts' }, { timeUnit: 'iso' });
    expect(iso.interactions.timestamps![0]).toBe(86400);
  });
});

describe('validation', () => {
  it('empty file and header-only file are clear errors', async () => {
    await expect(loadInteractionsFile(file('empty.csv', ''), MAP)).rejects.toThrow(/empty\.csv: empty file/);
    await expect(loadInteractionsFile(file('hdr.csv', 'user,item,rating,ts\n'), MAP)).rejects.toThrow(/hdr\.csv: no data rows/);
    await expect(loadInteractionsFile(join(dir, 'nope.csv'), MAP)).rejects.toThrow(/nope\.csv: file not found/);
  });

  it('missing column names file, line 1 and field; wrong separator is diagnosed', async () => {
    await expect(loadInteractionsFile(file('nocol.csv', ROWS), { ...MAP, value: 'stars' })).rejects.toThrow(/nocol\.csv line 1: value column "stars" not found; columns are: "user", "item", "rating", "ts"/);
    const tsv = file('tabs.csv', ROWS.replace(/,/g, '\t'));
    await expect(loadInteractionsFile(tsv, MAP)).rejects.toThrow(/tabs\.csv line 1: user column "user" not found.*wrong separator\? .*tab-separated/);
  });

  it('non-numeric values and malformed rows are dropped with their line numbers; nothing silently lost', async () => {
    const p = file('bad.csv', 'user,item,rating,ts\n1,10,5,100\n1,11,x,100\n2,10\n2,12,3,1,9\n3,13,,5\n,14,2,5\n4,15,2,5\n');
    const ds = await loadInteractionsFile(p, MAP);
    const by = (kind: string): { count: number; lines: number[]; action: string } | undefined => ds.report.issues.find((i) => i.kind.startsWith(kind));
    expect(by('non-numeric value')).toMatchObject({ count: 1, lines: [3], action: 'dropped' });
    const malformed = ds.report.issues.filter((i) => i.kind.startsWith('malformed row'));
    expect(malformed.map((i) => i.kind)).toEqual(['malformed row (missing columns)', 'malformed row (too many columns)']);
    expect(malformed.flatMap((i) => i.lines)).toEqual([4, 5]);
    expect(malformed.every((i) => i.action === 'dropped' && i.count === 1)).toBe(true);
    expect(by('missing value')).toMatchObject({ count: 1, lines: [6] });
    expect(by('missing id')).toMatchObject({ count: 1, lines: [7] });
    expect(ds.report.rowsRead).toBe(7);
    expect(ds.interactions.nnz).toBe(2);
    const dropped = ds.report.issues.filter((i) => i.action === 'dropped').reduce((a, i) => a + i.count, 0);
    expect(ds.report.rowsRead - dropped).toBe(ds.interactions.nnz);
  });

  it('strict mode throws on the first bad row with file, line and field', async () => {
    const p = file('strict.csv', 'user,item,rating,ts\n1,10,5,100\n1,11,abc,100\n');
    await expect(loadInteractionsFile(p, MAP, { strict: true })).rejects.toThrow(/strict\.csv line 3: non-numeric value in field "rating"/);
  });

  it('a value column that is never numeric is an error (wrong mapping), not 100% dropped rows', async () => {
    const p = file('allbad.csv', 'user,item,rating,ts\n1,10,good,100\n1,11,bad,100\n');
    await expect(loadInteractionsFile(p, MAP)).rejects.toThrow(/allbad\.csv line 2: non-numeric value in field "rating" on every row/);
  });

  it('duplicates are merged and counted; the "error" policy names both lines', async () => {
    const p = file('dup.csv', 'user,item,rating,ts\n1,10,5,100\n2,10,3,200\n1,10,1,50\n');
    const ds = await loadInteractionsFile(p, MAP, { duplicatePolicy: 'last' });
    expect(ds.interactions.nnz).toBe(2);
    expect(ds.interactions.get(0, 0)).toBe(5);
    expect(ds.report.duplicates).toEqual({ policy: 'last', merged: 1, pairs: 1 });
    expect(ds.report.issues.find((i) => i.action === 'merged')).toMatchObject({ count: 1, lines: [4] });
    const sum = await loadInteractionsFile(p, MAP, { duplicatePolicy: 'sum' });
    expect(sum.interactions.get(0, 0)).toBe(6);
    await expect(loadInteractionsFile(p, MAP, { duplicatePolicy: 'error' })).rejects.toThrow(/dup\.csv lines 2 and 4: duplicate \(user 1, item 10\)/);
  });

  it('clip caps values and reports them; filters leave notes', async () => {
    const p = file('clip.csv', 'user,item,rating,ts\n1,10,50,100\n2,10,3,200\n2,11,4,200\n');
    const ds = await loadInteractionsFile(p, MAP, { clip: 10, filters: { minValue: 4 } });
    expect(ds.report.issues.find((i) => i.action === 'clipped')).toMatchObject({ count: 1, lines: [2] });
    expect(Array.from(ds.interactions.values).sort()).toEqual([10, 4]);
    expect(ds.report.notes.some((n) => /value >= 4: removed 1 of 3/.test(n))).toBe(true);
  });

  it('missingTime "drop", forced string ids, and an aborted signal', async () => {
    const p = file('opts.csv', 'user,item,rating,ts\n007,1,5,\n7,1,4,10\n');
    const dropped = await loadInteractionsFile(p, MAP, { missingTime: 'drop' });
    expect(dropped.interactions.nnz).toBe(1);
    expect(dropped.report.issues.find((i) => i.kind === 'missing time')).toMatchObject({ action: 'dropped', lines: [2] });
    const strings = await loadInteractionsFile(p, MAP, { idType: 'string' });
    expect(strings.interactions.users.ids()).toEqual(['007', '7']);
    const ints = await loadInteractionsFile(p, MAP);
    // As integers "007" and "7" are the same user: a repeated pair, merged and reported.
    expect(ints.interactions.users.ids()).toEqual([7]);
    expect(ints.report.duplicates.merged).toBe(1);
    const ctl = new AbortController();
    ctl.abort();
    await expect(loadInteractionsFile(p, MAP, { signal: ctl.signal })).rejects.toThrow(/aborted/);
  });

  it('rowToLine skips the header and rejected lines', () => {
    expect(rowToLine(0, 1, [])).toBe(2);
    expect(rowToLine(0, 1, [2, 3])).toBe(4);
    expect(rowToLine(2, 0, [2])).toBe(4);
  });
});
