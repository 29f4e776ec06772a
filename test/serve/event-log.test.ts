import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_LOG_FILE, EventLog } from '../../src/serve/event-log.js';
import { tempDir } from './fixtures.js';

describe('EventLog', () => {
  it('stores events durably and replays them in order on reopen', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir);
    const r = await log.append([{ user: 'a', item: 'x' }, { user: 'b', item: 7, value: 3, time: 12, id: 'e1' }], 100);
    expect(r.map((x) => [x.event.seq, x.duplicate])).toEqual([[1, false], [2, false]]);
    await log.close();
    const again = await EventLog.open(dir);
    expect(again.events).toEqual([
      { seq: 1, user: 'a', item: 'x', value: 1, time: 100, id: null },
      { seq: 2, user: 'b', item: 7, value: 3, time: 12, id: 'e1' },
    ]);
    await again.close();
  });

  it('group-commits concurrent appends: one fsync for calls that arrive while a write is in flight', async () => {
    const dir = await tempDir();
    let syncs = 0;
    let release: () => void = () => {};
    let gate: Promise<void> | null = null;
    const log = await EventLog.open(dir, {
      fsync: async (fh) => {
        syncs++;
        if (gate) await gate;
        await fh.sync();
      },
    });
    gate = new Promise<void>((r) => (release = r));
    const first = log.append([{ user: 'u', item: 0 }]);
    await new Promise((r) => setTimeout(r, 20)); // the first write is now waiting in its fsync
    const rest = Array.from({ length: 50 }, (_, j) => log.append([{ user: 'u', item: j + 1 }]));
    await new Promise((r) => setTimeout(r, 20));
    expect(syncs).toBe(1);
    gate = null;
    release();
    await Promise.all([first, ...rest]);
    // the 50 calls that queued during the first fsync share the second
    expect(syncs).toBe(2);
    expect(log.fsyncCount).toBe(2);
    expect(log.events.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, j) => j + 1));
    await log.close();
  });

  it('under load waits out the least commit interval so later arrivals share a commit; after idle writes at once', async () => {
    const dir = await tempDir();
    let syncs = 0;
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const log = await EventLog.open(dir, { minCommitIntervalMs: 300, fsync: async (fh) => { syncs++; await fh.sync(); } });
    const first = log.append([{ user: 'u', item: 0 }]);
    await first; // the log was idle: written at once
    expect(syncs).toBe(1);
    const later: Promise<unknown>[] = [];
    for (let j = 1; j <= 3; j++) {
      later.push(log.append([{ user: 'u', item: j }]));
      await sleep(10);
    }
    expect(syncs).toBe(1); // still inside the interval: waiting for company
    await Promise.all(later);
    expect(syncs).toBe(2);
    await sleep(350);
    const idle = log.append([{ user: 'u', item: 9 }]);
    const winner = await Promise.race([idle.then(() => 'stored'), sleep(200).then(() => 'waited')]);
    expect(winner).toBe('stored');
    expect(syncs).toBe(3);
    expect(log.events.map((e) => e.item)).toEqual([0, 1, 2, 3, 9]);
    await log.close();
    await expect(EventLog.open(dir, { minCommitIntervalMs: -1 })).rejects.toThrow(/minCommitIntervalMs/);
  });

  it('does not acknowledge before the fsync returns', async () => {
    const dir = await tempDir();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const log = await EventLog.open(dir, { fsync: async (fh) => { await gate; await fh.sync(); } });
    let done = false;
    const p = log.append([{ user: 'u', item: 1 }]).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    release();
    await p;
    expect(done).toBe(true);
    await log.close();
  });

  it('stores an event with an id once: within a call, across calls, concurrently and after reopening', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir);
    const a = await log.append([{ user: 'u', item: 1, id: 'x' }, { user: 'u', item: 1, id: 'x' }]);
    expect(a.map((r) => r.duplicate)).toEqual([false, true]);
    expect(a[1].event.seq).toBe(1);
    const [b, c] = await Promise.all([log.append([{ user: 'u', item: 2, id: 'y' }]), log.append([{ user: 'u', item: 2, id: 'y' }])]);
    expect([b[0].duplicate, c[0].duplicate]).toEqual([false, true]);
    await log.close();
    const again = await EventLog.open(dir);
    const d = await again.append([{ user: 'u', item: 9, id: 'x' }]);
    expect(d[0]).toEqual({ event: { seq: 1, user: 'u', item: 1, value: 1, time: expect.any(Number), id: 'x' }, duplicate: true });
    expect(again.events).toHaveLength(2);
    await again.close();
  });

  it('cuts off a torn last line (a crash mid-write) and keeps the complete ones', async () => {
    const dir = await tempDir();
    const log = await EventLog.open(dir);
    await log.append([{ user: 'u', item: 1 }, { user: 'u', item: 2 }]);
    await log.close();
    const path = join(dir, EVENT_LOG_FILE);
    await appendFile(path, '{"seq":3,"user":"u","it');
    const warnings: string[] = [];
    const again = await EventLog.open(dir, { warn: (m) => warnings.push(m) });
    expect(again.events.map((e) => e.item)).toEqual([1, 2]);
    expect(warnings[0]).toMatch(/incomplete last line/);
    await again.append([{ user: 'u', item: 3 }]);
    await again.close();
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).seq)).toEqual([1, 2, 3]);
  });

  it('refuses to start on a damaged inner line, naming file and line', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, EVENT_LOG_FILE), '{"seq":1,"user":"u","item":1,"value":1,"time":1,"id":null}\nnot json\n{"seq":2,"user":"u","item":1,"value":1,"time":1,"id":null}\n');
    await expect(EventLog.open(dir)).rejects.toThrow(/events\.log:2: not valid JSON/);
  });

  it('a failed write stores nothing of the call and a retry of the same ids succeeds', async () => {
    const dir = await tempDir();
    let fail = true;
    const log = await EventLog.open(dir, { fsync: async (fh) => { if (fail) throw new Error('EIO simulated'); await fh.sync(); } });
    await expect(log.append([{ user: 'u', item: 1, id: 'k' }])).rejects.toThrow(/could not store the events \(EIO simulated\)/);
    expect(log.events).toHaveLength(0);
    fail = false;
    const r = await log.append([{ user: 'u', item: 1, id: 'k' }]);
    expect(r[0]).toMatchObject({ duplicate: false, event: { seq: 1 } });
    await log.close();
    expect((await readFile(join(dir, EVENT_LOG_FILE), 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});
