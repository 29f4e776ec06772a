// The PostgreSQL event log that service replicas share, against a real server (skipped with a message when none
// can be started: see test/pipeline/pg-server.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildService } from '../../src/serve/app.js';
import type { LoggedEvent } from '../../src/serve/event-log.js';
import { EVENT_TABLE, PgEventLog } from '../../src/serve/event-log-pg.js';
import { exportEvents } from '../../src/serve/export.js';
import { runCli } from '../cli/helpers.js';
import { startTestPg, type TestPg } from '../pipeline/pg-server.js';
import { savedModel, tempDir } from './fixtures.js';

let server: TestPg | null = null;
let skip = '';
let databases = 0;

beforeAll(async () => {
  const r = await startTestPg();
  if ('skip' in r) {
    skip = r.skip;
    console.warn(`PostgreSQL event log tests skipped: ${skip}`);
  } else server = r;
}, 90_000);
afterAll(() => server?.stop());

/** A fresh database on the test server; its connection string. */
async function freshDb(): Promise<string> {
  if (!server) throw new Error('no server');
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  const name = `events_${process.pid}_${++databases}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return server.url.replace(/\/[^/]*$/, `/${name}`);
}

async function sql<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const strip = (events: readonly LoggedEvent[]): unknown[] => events.map((e) => ({ ...e }));

describe('PostgreSQL event log', () => {
  it('numbers, stores and replays events with their id types; an id is stored once', async (ctx) => {
    if (!server) return ctx.skip();
    const url = await freshDb();
    const a = await PgEventLog.open(url, { pollMs: 0 });
    const first = await a.append([{ user: 'u1', item: 7, value: 2.5, time: 100, id: 'x' }, { user: 3, item: 'i9', time: 101 }]);
    expect(first.map((r) => [r.event.seq, r.duplicate])).toEqual([[1, false], [2, false]]);
    const again = await a.append([{ user: 'u1', item: 8, id: 'x' }, { user: 'u2', item: 'i1', time: 102, id: 'y' }]);
    expect(again[0]).toEqual({ event: expect.objectContaining({ seq: 1, item: 7 }), duplicate: true });
    expect(again[1]).toEqual({ event: expect.objectContaining({ seq: 3, id: 'y' }), duplicate: false });
    const both = await a.append([{ user: 'z', item: 1, id: 'w' }, { user: 'z', item: 2, id: 'w' }]);
    expect(both.map((r) => [r.event.seq, r.duplicate])).toEqual([[4, false], [4, true]]);
    // Concurrent posts of one id on one replica (the last two share a transaction while the first is in flight).
    const racing = await Promise.all([a.append([{ user: 'r', item: 0, id: 'r0' }]), a.append([{ user: 'r', item: 1, id: 'q' }]), a.append([{ user: 'r', item: 2, id: 'q' }])]);
    expect(racing.map(([r]) => [r.event.seq, r.event.item, r.duplicate])).toEqual([[5, 0, false], [6, 1, false], [6, 1, true]]);
    await a.close();
    const b = await PgEventLog.open(url, { pollMs: 0 });
    expect(strip(b.events)).toEqual([
      { seq: 1, user: 'u1', item: 7, value: 2.5, time: 100, id: 'x' },
      { seq: 2, user: 3, item: 'i9', value: 1, time: 101, id: null },
      { seq: 3, user: 'u2', item: 'i1', value: 1, time: 102, id: 'y' },
      { seq: 4, user: 'z', item: 1, value: 1, time: expect.any(Number), id: 'w' },
      { seq: 5, user: 'r', item: 0, value: 1, time: expect.any(Number), id: 'r0' },
      { seq: 6, user: 'r', item: 1, value: 1, time: expect.any(Number), id: 'q' },
    ]);
    await b.close();
  });

  it('replicas: one order without gaps, each id once across them, every event applied by every replica in order', async (ctx) => {
    if (!server) return ctx.skip();
    const url = await freshDb();
    const seen: Record<string, number[]> = { a: [], b: [] };
    const a = await PgEventLog.open(url, { onStored: (es) => seen.a.push(...es.map((e) => e.seq)) });
    const b = await PgEventLog.open(url, { onStored: (es) => seen.b.push(...es.map((e) => e.seq)) });
    // 60 posts on each replica in 20 waves of 3 (so the replicas' transactions interleave), ids 0..89: ids 30..59
    // are posted to both.
    for (let w = 0; w < 20; w++) {
      const posts: Promise<unknown>[] = [];
      for (let j = 3 * w; j < 3 * w + 3; j++) {
        posts.push(a.append([{ user: `a${j}`, item: j, id: `e${j}` }]));
        posts.push(b.append([{ user: `b${j}`, item: j, id: `e${j + 30}` }]));
      }
      await Promise.all(posts);
    }
    await until('both replicas to apply all 90 events', () => a.events.length === 90 && b.events.length === 90);
    expect(strip(a.events)).toEqual(strip(b.events));
    expect(a.events.map((e) => e.seq)).toEqual(Array.from({ length: 90 }, (_, j) => j + 1));
    expect(new Set(a.events.map((e) => e.id)).size).toBe(90);
    expect(seen.a).toEqual(a.events.map((e) => e.seq));
    expect(seen.b).toEqual(b.events.map((e) => e.seq));
    // Group commit: each wave of 3 concurrent appends took at most 2 transactions on a replica.
    expect(a.fsyncCount).toBeLessThanOrEqual(40);
    const rows = await sql<{ n: string }>(url, `SELECT count(*) AS n FROM ${EVENT_TABLE}`);
    expect(Number(rows[0].n)).toBe(90);
    await Promise.all([a.close(), b.close()]);
  });

  it('a failed transaction stores nothing of it and rejects; later appends go on without a gap, also after the connection is cut', async (ctx) => {
    if (!server) return ctx.skip();
    const url = await freshDb();
    const log = await PgEventLog.open(url, { pollMs: 0 });
    await log.append([{ user: 'u', item: 1 }]);
    // A trigger refuses the item "poison": the whole batch is rolled back.
    await sql(url, `CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.item_id = '"poison"'::jsonb THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await sql(url, `CREATE TRIGGER refuse BEFORE INSERT ON ${EVENT_TABLE} FOR EACH ROW EXECUTE FUNCTION refuse()`);
    await expect(log.append([{ user: 'u', item: 2, id: 'ok' }, { user: 'u', item: 'poison' }])).rejects.toThrow(/could not store the events \(poisoned\)/);
    expect(log.events.length).toBe(1);
    expect(Number((await sql<{ n: string }>(url, `SELECT count(*) AS n FROM ${EVENT_TABLE}`))[0].n)).toBe(1);
    // The refused id was not stored: posting it again stores it.
    expect((await log.append([{ user: 'u', item: 2, id: 'ok' }]))[0]).toMatchObject({ event: { seq: 2 }, duplicate: false });
    // The server cuts every connection of the database: the next appends reconnect.
    await sql(url, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    await new Promise((r) => setTimeout(r, 100));
    let stored: number | null = null;
    for (let attempt = 0; attempt < 2 && stored === null; attempt++) {
      stored = await log.append([{ user: 'u', item: 3, id: 'after-cut' }]).then((r) => r[0].event.seq, () => null);
    }
    expect(stored).toBe(3);
    expect(log.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    await log.close();
  });

  it('refuses a table with a gap in seq, naming it', async (ctx) => {
    if (!server) return ctx.skip();
    const url = await freshDb();
    await (await PgEventLog.open(url, { pollMs: 0 })).close();
    await sql(url, `INSERT INTO ${EVENT_TABLE} VALUES (1, NULL, '"u"', '1', 1, 1), (3, NULL, '"u"', '2', 1, 1)`);
    await expect(PgEventLog.open(url, { pollMs: 0 })).rejects.toThrow(/table recsys_events: event seq 3 where 2 was expected/);
  });

  it('two services on one table: an event posted to one changes the next recommendations of the other', async (ctx) => {
    if (!server) return ctx.skip();
    const url = await freshDb();
    const model = await savedModel('ials', { factors: 4, iterations: 8 });
    const s1 = await buildService({ model, dataDir: url });
    const s2 = await buildService({ model, dataDir: url });
    try {
      const before = (await s2.app.inject({ url: '/v1/recommendations?user=u0&k=5' })).json() as { basis: string; items: { item: string }[] };
      expect(before.basis).toBe('model');
      const target = before.items[0].item;
      const posted = await s1.app.inject({ method: 'POST', url: '/v1/events', payload: { user: 'u0', item: target, id: 'p1' } });
      expect(posted.statusCode).toBe(200);
      await until('the second replica to apply the event', () => s2.log.events.length === 1);
      const after = (await s2.app.inject({ url: '/v1/recommendations?user=u0&k=5' })).json() as { basis: string; items: { item: string }[] };
      expect(after.basis).toBe('fold-in');
      expect(after.items.map((x) => x.item)).not.toContain(target);
      // The same id posted to the other replica is a duplicate.
      const dup = (await s2.app.inject({ method: 'POST', url: '/v1/events', payload: { user: 'u0', item: target, id: 'p1' } })).json() as { accepted: number; duplicates: number };
      expect(dup).toMatchObject({ accepted: 0, duplicates: 1 });
    } finally {
      await s1.close();
      await s2.close();
    }
    const out = join(await tempDir(), 'events.csv');
    expect(await exportEvents(url, out)).toEqual({ events: 1, lastSeq: 1, note: null });
    expect((await readFile(out, 'utf8')).split('\n')[1]).toMatch(/^1,u0,i\d+,1,[\d.]+,p1$/);
  });

  it('compaction: every replica drops the events from memory, the rows and their ids stay, a start replays the rest', async (ctx) => {
    if (!server) return ctx.skip();
    const url = await freshDb();
    const dropped: Record<string, number[]> = { a: [], b: [] };
    const a = await PgEventLog.open(url, { onCompacted: (t) => dropped.a.push(t) });
    const b = await PgEventLog.open(url, { onCompacted: (t) => dropped.b.push(t) });
    await a.append(Array.from({ length: 6 }, (_, j) => ({ user: `u${j % 2}`, item: j, id: `e${j + 1}` })));
    await b.append([{ user: 'v', item: 9, id: 'b1' }]);
    await until('a to apply b\'s event', () => a.lastSeq === 7);
    await expect(a.compact(8)).rejects.toThrow(/past the last stored event \(seq 7\)/);
    const r = await a.compact(4);
    expect(r).toMatchObject({ archivedThrough: 4, archived: 4, live: 3, archive: expect.stringMatching(/table recsys_events/) });
    expect(a.events.map((e) => e.seq)).toEqual([5, 6, 7]);
    await until('b to drop the compacted events', () => b.archivedThrough === 4);
    expect(b.events.map((e) => e.seq)).toEqual([5, 6, 7]);
    expect([dropped.a, dropped.b]).toEqual([[4], [4]]);
    // A compacted id is still stored once: posting it again, to either replica, returns the stored event.
    const again = await b.append([{ user: 'x', item: 0, id: 'e2' }, { user: 'x', item: 1, id: 'n1' }]);
    expect(again.map((x) => [x.event.seq, x.duplicate])).toEqual([[2, true], [8, false]]);
    expect(again[0].event).toMatchObject({ user: 'u1', item: 1 });
    expect(await a.compact(3)).toMatchObject({ archivedThrough: 4, archived: 0, archive: null });
    await Promise.all([a.close(), b.close()]);
    const c = await PgEventLog.open(url, { pollMs: 0 });
    expect([c.archivedThrough, c.lastSeq, c.events.map((e) => e.seq)]).toEqual([4, 8, [5, 6, 7, 8]]);
    await c.close();
    // The rows stay: export writes all eight.
    const out = join(await tempDir(), 'all.csv');
    expect(await exportEvents(url, out)).toEqual({ events: 8, lastSeq: 8, note: null });
    // Over HTTP on a replica: the users' compacted events leave their history.
    const model = await savedModel('ials', { factors: 4, iterations: 8 });
    const s = await buildService({ model, dataDir: url });
    try {
      await s.app.inject({ method: 'POST', url: '/v1/events', payload: { user: 'u0', item: 'i3' } });
      const res = await s.app.inject({ method: 'POST', url: '/v1/admin/compact', payload: { through: 8 } });
      expect(res.statusCode, res.body).toBe(200);
      const hist = (await s.app.inject({ url: '/v1/users/u0/history' })).json() as { events: { seq: number }[] };
      expect(hist.events.map((e) => e.seq)).toEqual([9]);
      // The CLI on the table while a replica serves: the replica is told.
      const cli = await runCli(['events', 'compact', '--data', url, '--through', '9']);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stderr).toMatch(/archived 1 event to .*table recsys_events/);
      await until('the serving replica to drop it', () => s.log.archivedThrough === 9);
      expect((await s.app.inject({ url: '/v1/users/u0/history' })).json()).toMatchObject({ events: [] });
    } finally {
      await s.close();
    }
  });
});
