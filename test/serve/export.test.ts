import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqlString, withDuck } from '../../src/data/duck.js';
import { EventLog } from '../../src/serve/event-log.js';
import { runCli } from '../cli/helpers.js';
import { tempDir } from './fixtures.js';

async function logWithEvents(): Promise<string> {
  const dir = await tempDir();
  const log = await EventLog.open(dir);
  await log.append([{ user: 'a', item: 'x,y', value: 2, time: 10, id: 'k1' }, { user: 7, item: 'z', time: 11 }]);
  await log.close();
  return dir;
}

describe('recsys events export', () => {
  it('writes CSV with every event and quoted fields', async () => {
    const data = await logWithEvents();
    const out = join(await tempDir(), 'events.csv');
    const r = await runCli(['events', 'export', '--data', data, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/wrote 2 events/);
    expect(await readFile(out, 'utf8')).toBe('seq,user,item,value,time,id\n1,a,"x,y",2,10,k1\n2,7,z,1,11,\n');
  });

  it('writes Parquet that DuckDB reads back', async () => {
    const data = await logWithEvents();
    const out = join(await tempDir(), 'events.parquet');
    expect((await runCli(['events', 'export', '--data', data, '--out', out])).code).toBe(0);
    const rows = await withDuck((db) => db.rows(`SELECT seq, "user", item, value, time, id FROM read_parquet(${sqlString(out)}) ORDER BY seq`));
    expect(rows.map((r) => [Number(r.seq), r.user, r.item, r.value, r.time, r.id])).toEqual([[1, 'a', 'x,y', 2, 10, 'k1'], [2, '7', 'z', 1, 11, null]]);
  });

  it('refuses a wrong extension and a missing log with exit 2', async () => {
    const data = await logWithEvents();
    const bad = await runCli(['events', 'export', '--data', data, '--out', join(data, 'x.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\.csv or \.parquet/);
    const none = await runCli(['events', 'export', '--data', await tempDir(), '--out', join(data, 'x.csv')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no event log there/);
  });
});
