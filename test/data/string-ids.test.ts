import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInteractionsFile } from '../../src/data/datasets/generic.js';
import { loadMsd } from '../../src/data/datasets/msd.js';
import { writeSyntheticMsd } from '../../src/data/synthetic/msd.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-strid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A generated Taste Profile file with repeated pairs and bad rows: ids with spaces around them (trimmed),
 * non-ASCII ids, a blank id, a non-numeric count, a row with too few fields.
 */
function makeFile(): { folder: string; path: string; lines: string[] } {
  const folder = join(dir, 'msd-taste');
  writeSyntheticMsd(folder, { users: 40, songs: 60, songsPerUser: 8, seed: 21, metadata: false });
  const path = join(folder, 'train_triplets.txt');
  const base = readFileSync(path, 'utf8').trim().split('\n');
  const [u0, s0] = base[0].split('\t');
  const [u1, s1] = base[7].split('\t');
  const lines = [
    ...base.slice(0, 20),
    `${u0}\t${s0}\t4`, // repeat
    `  ${u1} \t${s1}\t2`, // repeat after trimming
    `${u0}\tnot-a-count-row\tabc`, // non-numeric count: rejected
    `${u1}\t${s0}`, // too few fields: rejected
    `   \t${s1}\t3`, // blank user: dropped
    `ÄÖ-user\tSONG-é\t5`,
    `ÄÖ-user\t ${s0}\t1`,
    `\u00a0${u1}\t${s0}\u3000\t6`, // Unicode spaces around ids: trimmed too
    ...base.slice(20),
    `${u0}\t${s0}\t7`, // repeat again, late in the file
  ];
  writeFileSync(path, lines.join('\n') + '\n');
  return { folder, path, lines };
}

interface Ref {
  users: string[];
  items: string[];
  rowPtr: number[];
  colIdx: number[];
  values: number[];
  /** Rows merged into an earlier row of the same (user, item). */
  merged: number;
}

/** Plain-JS reference: sorted distinct ids, entries per user sorted by item index, duplicates by policy. */
function reference(lines: string[], policy: 'sum' | 'first' | 'last'): Ref {
  const events: [string, string, number][] = [];
  for (const line of lines) {
    const f = line.split('\t');
    if (f.length !== 3 || !/^\s*-?\d+(\.\d*)?\s*$/.test(f[2])) continue;
    const u = f[0].trim();
    const i = f[1].trim();
    if (!u || !i) continue;
    events.push([u, i, Number(f[2])]);
  }
  const users = [...new Set(events.map((e) => e[0]))].sort();
  const items = [...new Set(events.map((e) => e[1]))].sort();
  const cell = new Map<string, number>();
  for (const [u, i, v] of events) {
    const k = `${users.indexOf(u)} ${items.indexOf(i)}`;
    const old = cell.get(k);
    cell.set(k, old === undefined ? v : policy === 'sum' ? old + v : policy === 'first' ? old : v);
  }
  const keys = [...cell.keys()].map((k) => k.split(' ').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const rowPtr = new Array<number>(users.length + 1).fill(0);
  for (const [u] of keys) rowPtr[u + 1]++;
  for (let u = 0; u < users.length; u++) rowPtr[u + 1] += rowPtr[u];
  return { users, items, rowPtr, colIdx: keys.map((k) => k[1]), values: keys.map((k) => cell.get(`${k[0]} ${k[1]}`)!), merged: events.length - cell.size };
}

describe('string-id loading', () => {
  const { folder, path, lines } = makeFile();

  it('gives the same ids and CSR as a plain reference, for sum/first/last, and reports bad rows by line', async () => {
    const msd = await loadMsd('msd-taste', { path: folder });
    const cols = { format: { delimiter: '\t', header: false, quote: '', columnNames: ['user', 'song', 'play_count'] }, idType: 'string' as const };
    for (const [policy, ds] of [
      ['sum', msd],
      ['first', await loadInteractionsFile(path, { user: 'user', item: 'song', value: 'play_count' }, { ...cols, duplicatePolicy: 'first' })],
      ['last', await loadInteractionsFile(path, { user: 'user', item: 'song', value: 'play_count' }, { ...cols, duplicatePolicy: 'last' })],
    ] as const) {
      const want = reference(lines, policy);
      const x = ds.interactions;
      expect(x.users.ids(), policy).toEqual(want.users);
      expect(x.items.ids(), policy).toEqual(want.items);
      expect(Array.from(x.rowPtr), policy).toEqual(want.rowPtr);
      expect(Array.from(x.colIdx), policy).toEqual(want.colIdx);
      expect(Array.from(x.values), policy).toEqual(want.values);
    }
    const r = msd.report;
    expect(r.rowsRead).toBe(lines.length);
    const issue = (kind: string) => r.issues.find((i) => i.kind.startsWith(kind));
    expect(issue('non-numeric value')).toMatchObject({ count: 1, lines: [23], action: 'dropped' });
    expect(issue('malformed row')).toMatchObject({ count: 1, lines: [24], action: 'dropped' });
    expect(issue('missing id')).toMatchObject({ count: 1, lines: [25], field: 'user', action: 'dropped' });
    // The three repeats written above, plus any pair the generated rows happen to share.
    const merged = reference(lines, 'sum').merged;
    expect(merged).toBeGreaterThanOrEqual(3);
    expect(r.duplicates).toMatchObject({ policy: 'sum', merged });
    for (const id of [...msd.interactions.users.ids(), ...msd.interactions.items.ids()]) expect(id).toBe(String(id).trim());
    expect(msd.interactions.users.indexOf('ÄÖ-user')).toBeGreaterThanOrEqual(0);
  });
});
