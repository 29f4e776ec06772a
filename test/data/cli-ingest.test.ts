/** `recsys datasets`, `eda` option parsing and `train`'s cleaning summary (issue 9, "Read real-world files right"). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { register as registerDatasets } from '../../src/cli/commands/datasets.js';
import { register as registerTrain } from '../../src/cli/commands/train.js';
import { formatCleaningReport } from '../../src/data/cleaning.js';
import { loadDataset, locateDataset } from '../../src/data/datasets/registry.js';
import { loadInteractionsFile } from '../../src/data/datasets/generic.js';
import { writeSyntheticMovieLens } from '../../src/data/synthetic/movielens.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-cli-ingest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(register: (p: Command) => void, args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const so = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const se = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const p = new Command();
    p.exitOverride();
    register(p);
    await p.parseAsync(['node', 'recsys', ...args]);
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
  return { out: out.join(''), err: err.join('') };
}

describe('recsys datasets info', () => {
  afterEach(() => vi.restoreAllMocks());

  it('with filters reports the users and items that remain and the density over them', async () => {
    const { out } = await run(registerDatasets, ['datasets', 'info', 'kuairec-sample', '--min-value', '2', '--k-core', '5,5', '--no-progress']);
    // Independent count: rows and columns with an entry in the filtered matrix.
    const ds = await loadDataset('kuairec-sample', { filters: { minValue: 2, kCore: { user: 5, item: 5 } } });
    const x = ds.interactions;
    let users = 0;
    for (let u = 0; u < x.nUsers; u++) if (x.rowPtr[u + 1] > x.rowPtr[u]) users++;
    const items = new Set(Array.from(x.colIdx)).size;
    expect(users).toBeLessThan(x.nUsers);
    expect(items).toBeLessThan(x.nItems);
    const density = ((x.nnz / (users * items)) * 100).toFixed(3);
    expect(out).toContain(`users ${users}, items ${items}, interactions ${x.nnz} (density ${density}%)`);
    expect(out).toContain(`${x.nUsers - users} of ${x.nUsers} users and ${x.nItems - items} of ${x.nItems} items in the id maps are left out (the filters left them no interaction)`);
    // A single file's rows add up, filters included.
    const p = join(dir, 'filtered.csv');
    writeFileSync(p, 'user,item,rating\n1,10,5\n1,11,1\n2,10,x\n2,10,4\n2,10,2\n3,12,1\n');
    const generic = await run(registerDatasets, ['datasets', 'info', 'generic', '--path', p, '--user-col', 'user', '--item-col', 'item', '--value-col', 'rating', '--min-value', '2', '--no-progress']);
    expect(generic.out).toContain('6 read = 2 kept + 1 dropped + 1 merged + 2 removed by filters');
    expect(generic.out).toContain('users 2, items 1, interactions 2 (density 100.000%); 1 of 3 users and 2 of 3 items in the id maps are left out');
  });

  it('reads a headerless file by column index, with the value named by its column and the time unit given', async () => {
    const p = join(dir, 'nohdr.csv');
    writeFileSync(p, '1,10,5,1593898068000\n2,10,3,1593898069000\n1,20,4,1593898070000\n');
    const { out } = await run(registerDatasets, ['datasets', 'info', 'generic', '--path', p, '--no-header', '--user-col', '0', '--item-col', '1', '--value-col', '2', '--time-col', '3', '--time-unit', 'ms', '--no-progress']);
    expect(out).toContain('value: column2 (numeric); users 2, items 2, interactions 3');
    expect(out).toMatch(/rows read: 3, interactions kept: 3/);
    await expect(run(registerDatasets, ['datasets', 'info', 'generic', '--path', p, '--user-col', '0', '--item-col', '1', '--time-unit', 'hours', '--no-progress'])).rejects.toThrow(/--time-unit must be one of s, ms, us, ns, iso, auto \(got "hours"\)/);
    await expect(run(registerDatasets, ['datasets', 'info', 'generic', '--path', p, '--user-col', '0', '--item-col', '1', '--id-type', 'float', '--no-progress'])).rejects.toThrow(/--id-type must be one of auto, int, string/);
  });

  it('the description and facts show the loaded counts, the train file and the time zone', async () => {
    const { out } = await run(registerDatasets, ['datasets', 'info', 'kuairec-sample', '--no-progress']);
    const ds = await loadDataset('kuairec-sample');
    expect(out).toContain(`big_matrix (train): ${ds.interactions.nnz.toLocaleString('en-US')} watch events from 1,000 users on 1,500 videos`);
    expect(out).toMatch(/small_matrix \(test\): 60,000 entries, 200 users × 300 videos/);
    expect(out).toMatch(/train: .*big_matrix\.csv\.gz; test: .*small_matrix\.csv\.gz; time zone for hours and weekdays: Asia\/Shanghai; SYNTHETIC data/);
  });
});

describe('recsys datasets list', () => {
  afterEach(() => vi.restoreAllMocks());

  it('says which data sets are present and where, and which are only downloadable', async () => {
    const data = join(dir, 'cache');
    writeSyntheticMovieLens(join(data, 'ml-1m'), 'ml-1m', { seed: 4 });
    const { out } = await run(registerDatasets, ['datasets', 'list', '--data-dir', data]);
    const line = (name: string): string => out.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    expect(line('kuairec-sample')).toMatch(/present \(embedded\): .*data\/kuairec-sample\/big_matrix\.csv\.gz$/);
    expect(line('ml-1m')).toContain(`present: ${join(data, 'ml-1m', 'ratings.dat')}`);
    const msd = locateDataset('msd-taste', { dataDir: data });
    expect(line('msd-taste')).toContain(msd ? `present: ${msd}` : 'not present; downloadable: recsys datasets download msd-taste');
    expect(out).toMatch(/\d+ present, \d+ only downloadable/);
  });
});

describe('recsys train', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints the cleaning summary of `datasets info` and stores the report in the model provenance', async () => {
    const input = join(dir, 'train.csv');
    writeFileSync(input, 'user,item,qty\n1,10,5\n1,11,x\n2,10,3\n2,10,4\n3,12,1e300\n');
    const out = join(dir, 'model');
    const { err } = await run(registerTrain, ['train', '--input', input, '--user-col', 'user', '--item-col', 'item', '--value-col', 'qty', '--model', 'item-knn', '--out', out]);
    const ds = await loadInteractionsFile(input, { user: 'user', item: 'item', value: 'qty' });
    expect(err).toContain(formatCleaningReport(ds.report));
    expect(err).toMatch(/value beyond float32 range/);
    const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { provenance: { cleaning: unknown } };
    expect(model.provenance.cleaning).toEqual(JSON.parse(JSON.stringify(ds.report)));
  });
});
