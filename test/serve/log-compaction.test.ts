import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_LOG_FILE, EventLog, LOCK_FILE, readEventLog } from '../../src/serve/event-log.js';
import { ARCHIVE_DIR, archiveName, eventLine, readLogFile, type LoggedEvent } from '../../src/serve/log-format.js';
import { runCli } from '../cli/helpers.js';
import { tempDir } from './fixtures.js';

/** Every event of the data directory, archive first (what export reads). */
function exported(dir: string): { events: LoggedEvent[]; state: { tornBytes: number; archived: number } } {
  const state = { tornBytes: 0, archived: 0 };
  return { events: [...readEventLog(dir, state)], state };
}

async function logOf(n: number): Promise<{ dir: string; log: EventLog }> {
  const dir = await tempDir();
  const log = await EventLog.open(dir);
  await log.append(Array.from({ length: n }, (_, j) => ({ user: `u${j % 3}`, item: j, time: 100 + j, id: `e${j + 1}` })));
  return { dir, log };
}

describe('log format: chunked scan', () => {
  it('reads the same events at every chunk size, lines and multi-byte characters split across reads', async () => {
    const dir = await tempDir();
    const events: LoggedEvent[] = Array.from({ length: 40 }, (_, j) => ({ seq: j + 1, user: j % 2 ? `ü-${j}` : j, item: `🎬${'é'.repeat(j % 5)}`, value: j / 4, time: 1e9 + j, id: j % 3 ? `id-${j}` : null }));
    const path = join(dir, EVENT_LOG_FILE);
    await writeFile(path, events.map(eventLine).join(''));
    for (const chunkBytes of [1, 2, 3, 5, 7, 13, 64, 100, 4096]) {
      const { events: read, state } = readLogFile(path, { chunkBytes });
      expect(read, `chunk ${chunkBytes}`).toEqual(events);
      expect(state.goodBytes).toBe(state.totalBytes);
    }
    // A torn tail is found at any chunk size too, and only the complete lines are kept.
    await writeFile(path, events.map(eventLine).join('') + '{"seq":41,"user":"x","ite');
    for (const chunkBytes of [1, 7, 4096]) {
      const { events: read, state } = readLogFile(path, { chunkBytes });
      expect(read).toHaveLength(40);
      expect(state.totalBytes - state.goodBytes).toBe(Buffer.byteLength('{"seq":41,"user":"x","ite'));
    }
  });

  it('a header sets the first seq; an event out of order is an error naming the line', async () => {
    const dir = await tempDir();
    const path = join(dir, EVENT_LOG_FILE);
    const e = (seq: number): LoggedEvent => ({ seq, user: 'u', item: 1, value: 1, time: 1, id: null });
    await writeFile(path, `{"compacted":{"through":7,"time":5}}\n${eventLine(e(8))}${eventLine(e(9))}`);
    expect(readLogFile(path, { chunkBytes: 3 }).events.map((x) => x.seq)).toEqual([8, 9]);
    await writeFile(path, `{"compacted":{"through":7,"time":5}}\n${eventLine(e(9))}${eventLine(e(10))}`);
    expect(() => readLogFile(path)).toThrow(/events\.log:2: event seq 9 where 8 was expected/);
  });
});

describe('EventLog replay progress', () => {
  it('a log of 64 MiB or more reports its replay in MiB, ending at the total; a small one reports nothing', async () => {
    const dir = await tempDir();
    const pad = 'x'.repeat(1000);
    const lines: string[] = [];
    for (let s = 1; s <= 70_000; s++) lines.push(eventLine({ seq: s, user: `u${s % 7}-${pad}`, item: s, value: 1, time: s, id: null }));
    await writeFile(join(dir, EVENT_LOG_FILE), lines.join(''));
    const reports: { done: number; total: number }[] = [];
    const log = await EventLog.open(dir, { progress: (p) => reports.push({ done: p.done, total: p.total }) });
    expect(log.events).toHaveLength(70_000);
    await log.close();
    expect(reports.length).toBe(2); // after 65,536 events, and at the end
    expect(reports[0].done).toBeLessThan(reports[0].total);
    expect(reports[1]).toEqual({ done: 72, total: 72 }); // 70,000 lines of ≈ 1,075 bytes
    const small = await logOf(3);
    await small.log.close();
    const none: unknown[] = [];
    await (await EventLog.open(small.dir, { progress: (p) => none.push(p) })).close();
    expect(none).toEqual([]);
  });
});

describe('EventLog compaction', () => {
  it('moves events 1…through to the archive; the live log, memory and ids keep the rest; export still has all', async () => {
    const { dir, log } = await logOf(10);
    const r = await log.compact(4);
    expect(r).toEqual({ archivedThrough: 4, archived: 4, archive: join(dir, ARCHIVE_DIR, archiveName(1, 4)), live: 6 });
    expect(log.events.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    expect([log.lastSeq, log.archivedThrough]).toEqual([10, 4]);
    expect((await readFile(r.archive!, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([1, 2, 3, 4]);
    // Appends go on numbering after the last event; an archived id is stored again, a live one is a duplicate.
    const more = await log.append([{ user: 'n', item: 'a' }, { user: 'n', item: 'b', id: 'e2' }, { user: 'n', item: 'c', id: 'e7' }]);
    expect(more.map((m) => [m.event.seq, m.duplicate])).toEqual([[11, false], [12, false], [7, true]]);
    await log.close();
    const again = await EventLog.open(dir);
    expect(again.events.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    expect([again.lastSeq, again.archivedThrough]).toEqual([12, 4]);
    // Again, through a later seq: a second archive file; through an archived seq: nothing to do.
    expect((await again.compact(9)).archive).toBe(join(dir, ARCHIVE_DIR, archiveName(5, 9)));
    expect(await again.compact(3)).toEqual({ archivedThrough: 9, archived: 0, archive: null, live: 3 });
    await expect(again.compact(13)).rejects.toThrow(/past the last stored event \(seq 12\)/);
    expect(() => again.compact(-1)).toThrow(RangeError);
    await again.close();
    const { events, state } = exported(dir);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, j) => j + 1));
    expect(events.slice(0, 10).map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, j) => `e${j + 1}`));
    expect(state.archived).toBe(9);
    const live = (await readFile(join(dir, EVENT_LOG_FILE), 'utf8')).split('\n');
    expect(JSON.parse(live[0])).toEqual({ compacted: { through: 9, time: expect.any(Number) } });
  });

  it('appends that arrive during a compaction are all stored once, after it', async () => {
    const { dir, log } = await logOf(50);
    const posts: Promise<unknown>[] = [];
    for (let j = 0; j < 100; j++) {
      posts.push(log.append([{ user: 'c', item: j, id: `c${j}` }]));
      if (j === 30) posts.push(log.compact(50));
    }
    await Promise.all(posts);
    expect(log.archivedThrough).toBe(50);
    await log.close();
    const { events } = exported(dir);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 150 }, (_, j) => j + 1));
    expect(new Set(events.map((e) => e.id)).size).toBe(150);
  });

  it('a crash before the live log was replaced leaves a stale archive file: removed on open, never exported twice', async () => {
    const { dir, log } = await logOf(6);
    await log.close();
    // What a compaction through 3 writes first, before it replaces the live log.
    const { events } = readLogFile(join(dir, EVENT_LOG_FILE));
    await mkdir(join(dir, ARCHIVE_DIR));
    const stale = join(dir, ARCHIVE_DIR, archiveName(1, 3));
    await writeFile(stale, events.slice(0, 3).map(eventLine).join(''));
    await writeFile(`${join(dir, EVENT_LOG_FILE)}.tmp-4242`, 'half a new live log');
    await writeFile(`${stale}.tmp-4242`, 'half an archive file');
    expect(exported(dir).events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const warnings: string[] = [];
    const again = await EventLog.open(dir, { warn: (m) => warnings.push(m) });
    expect(again.events).toHaveLength(6);
    expect(warnings.join('\n')).toMatch(/removed, left by a compaction that a crash interrupted/);
    expect(warnings.join('\n')).toMatch(/events\.log\.tmp-4242: removed, a temporary file/);
    expect(await readdir(join(dir, ARCHIVE_DIR))).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual([ARCHIVE_DIR, LOCK_FILE, EVENT_LOG_FILE].sort());
    await again.close();
  });

  it('a missing archive file: the service starts with a warning, export refuses naming it', async () => {
    const { dir, log } = await logOf(6);
    await log.compact(2);
    await log.compact(4);
    await log.close();
    await rm(join(dir, ARCHIVE_DIR, archiveName(1, 2)));
    const warnings: string[] = [];
    const again = await EventLog.open(dir, { warn: (m) => warnings.push(m) });
    expect(again.events.map((e) => e.seq)).toEqual([5, 6]);
    expect(warnings.join('\n')).toMatch(/holds events 3–4 where the archive should go on from 1/);
    await again.close();
    expect(() => exported(dir)).toThrow(/archive should go on from 1; the archive is damaged/);
  });
});

describe('EventLog lock', () => {
  it('refuses a directory open in this process or held by a live process, takes over a dead one', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir);
    await expect(EventLog.open(dir)).rejects.toThrow(/open already in this process/);
    await log.close();
    // A live process (a child that sleeps) holds it.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      await writeFile(join(dir, LOCK_FILE), `${child.pid}\n`);
      await expect(EventLog.open(dir)).rejects.toThrow(new RegExp(`in use by process ${child.pid}`));
      const cli = await runCli(['events', 'compact', '--data', dir, '--through', '0']);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(/in use by process/);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // Now it is dead: the stale lock is taken over.
    const again = await EventLog.open(dir);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    await again.close();
    await expect(readFile(join(dir, LOCK_FILE))).rejects.toThrow(/ENOENT/);
  });
});

describe('recsys events compact / export', () => {
  it('compacts offline, export writes archive and live log, bad --through is exit 2', async () => {
    const { dir, log } = await logOf(5);
    await log.close();
    const r = await runCli(['events', 'compact', '--data', dir, '--through', '3']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/archived 3 events to .*events-000000000001-000000000003\.log; 2 stay in/);
    expect((await runCli(['events', 'compact', '--data', dir, '--through', '2'])).stderr).toMatch(/nothing to do: events 1–3 are archived already/);
    for (const bad of ['x', '-1', '1.5']) expect((await runCli(['events', 'compact', '--data', dir, '--through', bad])).code).toBe(2);
    const past = await runCli(['events', 'compact', '--data', dir, '--through', '6']);
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(/past the last stored event \(seq 5\)/);
    const out = join(await tempDir(), 'all.csv');
    const ex = await runCli(['events', 'export', '--data', dir, '--out', out]);
    expect(ex.code).toBe(0);
    expect(ex.stderr).toMatch(/wrote 5 events \(seq 1–5\)/);
    expect(ex.stderr).toMatch(/recsys events compact --data .* --through 5/);
    expect((await readFile(out, 'utf8')).trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]))).toEqual([1, 2, 3, 4, 5]);
  });
});
