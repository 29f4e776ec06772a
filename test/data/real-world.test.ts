/** Real-world files the loader must read right (issue 9, "Read real-world files right"). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { cleaningBalance } from '../../src/data/cleaning.js';
import { loadInteractionsFile, type FileLoadOptions } from '../../src/data/datasets/generic.js';
import type { CleaningIssue, LoadedDataset } from '../../src/data/dataset.js';
import type { ColumnMapping } from '../../src/data/ingest.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-realworld-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const MAP: ColumnMapping = { user: 'user', item: 'item', value: 'rating', time: 'ts' };
const issue = (ds: LoadedDataset, kind: string): CleaningIssue | undefined => ds.report.issues.find((i) => i.kind.startsWith(kind));
const load = (path: string, mapping: ColumnMapping = MAP, options: FileLoadOptions = {}): Promise<LoadedDataset> => loadInteractionsFile(path, mapping, options);

describe('values beyond float32', () => {
  it('1e300 is dropped and reported with its line, like NaN and inf; the rest loads', async () => {
    const p = file('huge.csv', 'user,item,rating,ts\n1,10,5,100\n1,11,1e300,100\n2,10,-1e39,200\n2,11,inf,5\n3,12,4,7\n');
    const ds = await load(p);
    expect(issue(ds, 'value beyond float32')).toMatchObject({ count: 2, lines: [3, 4], action: 'dropped', field: 'rating' });
    expect(issue(ds, 'non-finite value')).toMatchObject({ count: 1, lines: [5] });
    expect(ds.interactions.nnz).toBe(2);
    expect(cleaningBalance(ds.report).balanced).toBe(true);
  });

  it('an extra column beyond float32 keeps the row with NaN there, reported', async () => {
    const p = file('huge-extra.csv', 'user,item,rating,dur\n1,10,5,1e300\n2,10,4,7\n');
    const ds = await load(p, { user: 'user', item: 'item', value: 'rating', extra: ['dur'] });
    expect(ds.interactions.nnz).toBe(2);
    expect(issue(ds, 'value beyond float32 range (kept as NaN)')).toMatchObject({ count: 1, lines: [2], field: 'dur', action: 'kept' });
    const x = ds.interactions;
    expect(Number.isNaN(ds.eventColumns.dur[x.find(x.users.indexOf(1), x.items.indexOf(10))])).toBe(true);
  });
});

describe('timestamps', () => {
  const T = 1593898068; // 2020-07-04 21:27:48 UTC
  const rows = (f: (t: number) => string): string => `user,item,ts\n1,1,${f(T)}\n1,2,${f(T + 60)}\n2,1,${f(T + 3600)}\n`;
  const times = (ds: LoadedDataset): number[] => Array.from(ds.interactions.timestamps!).sort((a, b) => a - b);
  const MAP_T: ColumnMapping = { user: 'user', item: 'item', time: 'ts' };

  it('epoch milliseconds and microseconds are detected by magnitude, converted, and noted', async () => {
    const ms = await load(file('ms.csv', rows((t) => String(t * 1000))), MAP_T);
    expect(times(ms)).toEqual([T, T + 60, T + 3600]);
    expect(ms.report.notes.join('\n')).toMatch(/time column "ts" holds epoch milliseconds .*2020-07-04.*converted to seconds/);
    const us = await load(file('us.csv', rows((t) => `${t}000123`)), MAP_T);
    expect(times(us)[0]).toBeCloseTo(T + 0.000123, 6);
    expect(us.report.notes.join('\n')).toMatch(/epoch microseconds/);
    const s = await load(file('s.csv', rows((t) => String(t))), MAP_T);
    expect(times(s)).toEqual([T, T + 60, T + 3600]);
    expect(s.report.notes.join('\n')).not.toMatch(/epoch/);
  });

  it('an explicit unit wins; one that contradicts the magnitude is noted', async () => {
    const p = file('ms2.csv', rows((t) => String(t * 1000)));
    const asked = await load(p, MAP_T, { timeUnit: 'seconds' });
    expect(times(asked)[0]).toBe(T * 1000);
    expect(asked.report.notes.join('\n')).toMatch(/read as epoch seconds as asked, but its values look like epoch milliseconds/);
    const ms = await load(p, MAP_T, { timeUnit: 'milliseconds' });
    expect(times(ms)[0]).toBe(T);
  });

  it('ISO-8601 and KuaiRec "YYYY-MM-DD HH:MM:SS.fff" are parsed (offsets honoured, none = UTC)', async () => {
    const iso = file('iso.csv', 'user,item,ts\n1,1,2020-07-04 21:27:48.378\n1,2,2020-07-04T21:27:48Z\n2,1,2020-07-05T05:27:48+08:00\n2,2,2020-07-04\n3,3,\n');
    const ds = await load(iso, MAP_T);
    const x = ds.interactions;
    const at = (u: number, i: number): number => x.timestamps![x.find(x.users.indexOf(u), x.items.indexOf(i))];
    expect(at(1, 1)).toBeCloseTo(T + 0.378, 3);
    expect(at(1, 2)).toBe(T);
    expect(at(2, 1)).toBe(T);
    expect(at(2, 2)).toBe(Date.UTC(2020, 6, 4) / 1000);
    expect(Number.isNaN(at(3, 3))).toBe(true);
    expect(ds.report.notes.join('\n')).toMatch(/read as ISO-8601 date-times .*without a UTC offset are taken as UTC/);
    expect(issue(ds, 'missing time')).toMatchObject({ count: 1, lines: [6], action: 'kept' });
  });

  it('an unparseable date-time among ISO times is dropped with its line', async () => {
    const ds = await load(file('iso-bad.csv', 'user,item,ts\n1,1,2020-07-04 21:27:48\n1,2,yesterday\n2,1,2020-07-05\n'), MAP_T);
    expect(issue(ds, 'unparseable date-time')).toMatchObject({ count: 1, lines: [3], field: 'ts', action: 'dropped' });
    expect(ds.interactions.nnz).toBe(2);
  });

  it('ISO times with an epoch unit asked for get an error that says so, not "wrong column mapping or separator?"', async () => {
    const iso = file('iso2.csv', 'user,item,ts\n1,1,2020-07-05 05:27:48.378\n2,1,2020-07-06 00:00:00.000\n');
    const err = await load(iso, MAP_T, { timeUnit: 'seconds' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/iso2\.csv line 2: time column "ts" holds date-times \(e\.g\. "2020-07-05 05:27:48\.378"\), not epoch seconds: read it as ISO \(--time-unit iso/);
    expect((err as Error).message).not.toMatch(/wrong column mapping/);
    await expect(load(file('nums.csv', rows((t) => String(t))), MAP_T, { timeUnit: 'iso' })).rejects.toThrow(/nums\.csv line 2: time column "ts" holds numbers \(e\.g\. 1593898068\), not ISO date-times/);
  });
});

describe('headers', () => {
  it('a headerless file is read with column indexes', async () => {
    const p = file('nohdr.csv', '1,10,5,100\n2,10,3,200\n1,20,4,300\n');
    const ds = await load(p, { user: '0', item: '1', value: '2', time: '3' }, { format: { header: false } });
    expect(ds.interactions.nnz).toBe(3);
    expect(ds.report.rowsRead).toBe(3);
    expect(ds.info?.valueColumn).toBe('column2');
    await expect(load(p, { user: '0', item: '7' }, { format: { header: false } })).rejects.toThrow(/nohdr\.csv line 1: item column index 7 is out of range: the file has 4 columns/);
  });

  it('a header that looks like data gets a hint (error) or a note (when read by index)', async () => {
    const p = file('datahdr.csv', '1,10,5,100\n2,10,3,200\n');
    await expect(load(p)).rejects.toThrow(/datahdr\.csv line 1: user column "user" not found.*line 1 looks like data, not a header: .*--no-header/);
    const ds = await load(p, { user: '0', item: '1' });
    expect(ds.report.notes.join('\n')).toMatch(/line 1 was read as the header but looks like data .*--no-header/);
  });

  it('a repeated header name is an error naming both columns (not a silent "rating_1")', async () => {
    const p = file('dup-hdr.csv', 'user,item,rating,Rating\n1,10,5,1\n');
    await expect(load(p, { user: 'user', item: 'item', value: 'rating' })).rejects.toThrow(/dup-hdr\.csv line 1: columns 3 and 4 are both named "rating", so the value column "rating" is ambiguous/);
    await expect(load(p, { user: 'user', item: 'item', value: 'rating_1' })).rejects.toThrow(/value column "rating_1" not found \(columns 3 and 4 are both named "rating"/);
    const other = file('dup-other.csv', 'user,item,x,x\n1,10,5,1\n');
    const ds = await load(other, { user: 'user', item: 'item' });
    expect(ds.report.notes.join('\n')).toMatch(/columns 3 and 4 are both named "x" \(not used by this load\)/);
  });
});

describe('ids', () => {
  it('non-integer ids in an integer id column are rejected and reported, never rounded into another id', async () => {
    const p = file('frac.csv', 'user,item,rating\n1,10,5\n1.5,10,4\n2,10,3\n2.0,11,3\n1e3,10.7,2\n');
    const ds = await load(p, { user: 'user', item: 'item', value: 'rating' });
    const x = ds.interactions;
    expect(x.users.ids()).toEqual([1, 2]);
    expect(x.items.ids()).toEqual([10, 11]);
    // 1.5 is not user 2 (and 10.7 not item 11): user 2 keeps its own value.
    expect(x.get(x.users.indexOf(2), x.items.indexOf(10))).toBe(3);
    const bad = ds.report.issues.filter((i) => i.kind.startsWith('id not an exact integer'));
    expect(bad.map((i) => [i.field, i.count, i.lines])).toEqual([['user', 1, [3]], ['item', 1, [6]]]);
    expect(cleaningBalance(ds.report).balanced).toBe(true);
  });

  it('ids beyond 2^53 stay strings (exact), so two of them never merge', async () => {
    const ds = await load(file('big-ids.csv', 'user,item\n9007199254740993,1\n9007199254740992,1\n'), { user: 'user', item: 'item' });
    expect(ds.interactions.users.ids()).toEqual(['9007199254740992', '9007199254740993']);
  });
});

describe('binary files', () => {
  it('a binary file is "not a text file" with the offset of the binary byte', async () => {
    const bin = Buffer.concat([Buffer.from('user,item\n1,2\n'), Buffer.from([0, 1, 2, 3, 0xff, 0xfe]), Buffer.alloc(100, 7)]);
    await expect(load(file('bin.csv', bin), { user: 'user', item: 'item' })).rejects.toThrow(/bin\.csv: not a text file \(binary byte 0x00 at offset 14, line 3\)/);
    await expect(load(file('packed.csv', gzipSync(Buffer.from('user,item\n1,2\n'))), { user: 'user', item: 'item' })).rejects.toThrow(/packed\.csv: not a text file \(binary byte 0x1f at offset 0, line 1\); it looks gzip-compressed: name it \.gz/);
    await expect(load(file('notgz.csv.gz', 'user,item\n1,2\n'), { user: 'user', item: 'item' })).rejects.toThrow(/notgz\.csv\.gz: cannot be decompressed as gzip/);
  });
});

describe('file lines', () => {
  it('reported lines are the file lines, past blank lines and quoted fields with newlines', async () => {
    const p = file('lines.csv', 'user,item,rating,note\n1,10,5,a\n\n2,10,4,"two\nlines"\n\n3,10,x,b\n4,10,,c\n5,10,2,"x\n\ny"\n6,,1,d\n');
    const ds = await load(p, { user: 'user', item: 'item', value: 'rating' });
    expect(issue(ds, 'non-numeric value')).toMatchObject({ lines: [7] });
    expect(issue(ds, 'missing value')).toMatchObject({ lines: [8] });
    expect(issue(ds, 'missing id')).toMatchObject({ lines: [12] });
    const strict = await load(p, { user: 'user', item: 'item', value: 'rating' }, { strict: true }).catch((e: Error) => e.message);
    expect(strict).toMatch(/lines\.csv line 7: non-numeric value in field "rating"/);
    const gz = await load(file('lines.csv.gz', gzipSync(Buffer.from('user,item\n1,1\n\n\n"2\n",\n3,3\n'))), { user: 'user', item: 'item' });
    expect(issue(gz, 'missing id')).toMatchObject({ lines: [5], field: 'item' });
  });

  it('each dropped row counts once: rows read = kept + dropped + merged', async () => {
    const p = file('mixed.csv', 'user,item,rating,ts\n,,,\n1,10,5,100\n1,10,4,100\n1.5,x,1e300,abc\n2,11,nan,1\n3,12\n');
    const ds = await load(p);
    const b = cleaningBalance(ds.report);
    expect(b).toMatchObject({ read: 6, kept: 1, merged: 1, balanced: true });
    expect(b.dropped).toBe(4);
  });
});

describe('the value column keeps its name and kind', () => {
  it('"qty" is a numeric value named qty, not a rating', async () => {
    const ds = await load(file('qty.csv', 'user,item,qty\n1,10,3\n2,10,1\n'), { user: 'user', item: 'item', value: 'qty' });
    expect(ds.valueKind).toBe('numeric');
    expect(ds.info).toMatchObject({ valueColumn: 'qty', valueKind: 'numeric', timeZone: 'UTC', trainFile: join(dir, 'qty.csv'), testFile: null });
    expect(ds.description).toMatch(/2 events \(value "qty"\) from 2 users on 1 items/);
  });
});
