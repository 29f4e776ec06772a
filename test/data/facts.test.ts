/** Data-set facts live in DatasetInfo (issue 10) and reach the reports; the synthetic/datasets import cycle is gone. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInteractionsFile } from '../../src/data/datasets/generic.js';
import { listDatasets, loadDataset } from '../../src/data/datasets/registry.js';
import { computeEda } from '../../src/report/eda.js';
import { overviewSection } from '../../src/report/eda-report.js';
import { edaSummaryText } from '../../src/report/eda-text.js';
import { suggestedTimeZone } from '../../src/report/time.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-facts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DatasetInfo', () => {
  it('every registered data set states its value column, kind, time zone and train/test files', () => {
    const byName = Object.fromEntries(listDatasets().map((d) => [d.name, d]));
    expect(byName['kuairec-sample']).toMatchObject({ valueKind: 'watch_ratio', valueColumn: 'watch_ratio', timeZone: 'Asia/Shanghai', trainFile: 'big_matrix.csv', testFile: 'small_matrix.csv', embedded: true, synthetic: true });
    expect(byName['ml-1m']).toMatchObject({ valueKind: 'rating', valueColumn: 'rating', timeZone: 'UTC', trainFile: 'ratings.dat', testFile: null, downloadable: true });
    expect(byName['msd-taste']).toMatchObject({ valueKind: 'play_count', valueColumn: 'play_count', trainFile: 'train_triplets.txt' });
  });

  it('the report time zone is read from the facts, not guessed from the name', async () => {
    const p = join(dir, 'kuairec-lookalike.csv');
    writeFileSync(p, 'user,item,qty,ts\n1,10,3,1593898068\n2,10,1,1593898069\n2,11,2,1593898070\n');
    const named = await loadInteractionsFile(p, { user: 'user', item: 'item', value: 'qty', time: 'ts' }, { name: 'kuairec-mine' });
    expect(suggestedTimeZone(named)).toBe('UTC');
    const tokyo = await loadInteractionsFile(p, { user: 'user', item: 'item' }, { name: 'kuairec-mine', timeZone: 'Asia/Tokyo' });
    expect(suggestedTimeZone(tokyo)).toBe('Asia/Tokyo');
    const kr = await loadDataset('kuairec-sample', { interactionsOnly: true });
    expect(suggestedTimeZone(kr)).toBe('Asia/Shanghai');
  });

  it('the EDA shows the value by its own name and kind ("qty" is not "rating")', async () => {
    const p = join(dir, 'qty.csv');
    writeFileSync(p, 'user,item,qty\n1,10,3\n2,10,1\n2,11,2\n3,11,5\n');
    const ds = await loadInteractionsFile(p, { user: 'user', item: 'item', value: 'qty' });
    const stats = computeEda(ds);
    expect(stats.dataset).toMatchObject({ valueKind: 'numeric', valueName: 'qty', synthetic: false });
    const text = edaSummaryText(stats);
    expect(text).toContain('value (qty)');
    expect(text).toContain('mean qty');
    expect(text).not.toMatch(/rating/);
    expect(overviewSection(stats).html).toContain('qty (numeric value)');
  });
});

describe('imports', () => {
  const importsOf = (folder: string): string[] =>
    readdirSync(folder)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(join(folder, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => `${f} → ${m[1]}`));

  it('data/synthetic and data/datasets do not import each other (shared schemas live in data/schema.ts)', () => {
    expect(importsOf('src/data/synthetic').filter((l) => l.includes('/datasets/'))).toEqual([]);
    expect(importsOf('src/data/datasets').filter((l) => l.includes('/synthetic/'))).toEqual([]);
  });
});
