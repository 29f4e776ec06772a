/**
 * Durability over a real socket: a child `recsys serve` takes concurrent posts, is killed with SIGKILL at a
 * random moment of a 10,000-event run, and is started again on the same data directory. Every
 * acknowledged event id must be in the log exactly once, and re-posting them stores nothing. The second run
 * compacts the log all the while, so the kill often lands inside a compaction: every acknowledged id must then
 * be in the archive and the live log together exactly once.
 */
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EventLog, readEventLog } from '../../src/serve/event-log.js';
import { spawnCli } from '../cli/helpers.js';
import { savedModel, tempDir } from './fixtures.js';

/** Starts `recsys serve` on port 0; resolves with its base URL and the child. */
function serve(model: string, data: string): { ready: Promise<{ url: string; child: ChildProcess }>; done: ReturnType<typeof spawnCli> } {
  let resolveReady: (v: { url: string; child: ChildProcess }) => void = () => {};
  let rejectReady: (e: Error) => void = () => {};
  const ready = new Promise<{ url: string; child: ChildProcess }>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  const done = spawnCli(['serve', '--model', model, '--data', data, '--port', '0', '--host', '127.0.0.1'], (text, child) => {
    const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
    if (m) resolveReady({ url: m[1], child });
  }, 60_000);
  // A server that exits before listening fails the test with its stderr.
  void done.then((r) => rejectReady(new Error(`recsys serve exited (${r.code}, ${r.signal}) before listening:\n${r.stderr}`)));
  return { ready, done };
}

async function postEvents(url: string, events: unknown[]): Promise<{ status: number; body: { events?: { id: string; duplicate: boolean }[] } }> {
  const r = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
  return { status: r.status, body: (await r.json()) as { events?: { id: string; duplicate: boolean }[] } };
}

/**
 * `clients` concurrent clients post batches of 1–5 events (ids e0, e1, …, `total` in all) until every one is sent
 * or the server is killed: `child` gets SIGKILL once `killAfter` events are acknowledged. Returns the acknowledged
 * ids and a flag that turns true at the kill.
 */
async function postUntilKilled(url: string, child: ChildProcess, total: number, clients: number, killAfter: number, alongside: (killed: () => boolean) => Promise<void> = async () => {}): Promise<Set<string>> {
  const acked = new Set<string>();
  let killed = false;
  let next = 0;
  const client = async (c: number): Promise<void> => {
    while (next < total && !killed) {
      const batch = Array.from({ length: 1 + ((next + c) % 5) }, () => {
        const j = next++;
        return { user: `u${j % 20}`, item: `i${j % 30}`, id: `e${j}` };
      });
      try {
        const r = await postEvents(url, batch);
        if (r.status === 200) for (const e of r.body.events ?? []) acked.add(e.id);
      } catch {
        return; // the connection died with the server: these were not acknowledged
      }
      if (!killed && acked.size >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    }
  };
  await Promise.all([...Array.from({ length: clients }, (_, c) => client(c)), alongside(() => killed)]);
  return acked;
}

describe('crash safety', () => {
  it('kill -9 after acknowledgements loses none and repeats none after restart', async () => {
    const model = await savedModel('ials', { factors: 4, iterations: 3 });
    const data = await tempDir();
    const first = serve(model, data);
    const { url, child } = await first.ready;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // a random moment of a 10,000-event run: after 500 to 8,500 acknowledgements, 16 concurrent clients
    const killAfter = 500 + Math.floor(Math.random() * 8000);
    const acked = await postUntilKilled(url, child, 10_000, 16, killAfter);
    const ended = await first.done;
    expect(ended.signal).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThanOrEqual(killAfter);

    // the log as replayed: every acknowledged id exactly once, no id twice
    const log = await EventLog.open(data);
    const ids = log.events.map((e) => e.id ?? '');
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const id of acked) expect(counts.get(id), id).toBe(1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(log.events.map((e) => e.seq)).toEqual(Array.from({ length: log.events.length }, (_, j) => j + 1));
    const stored = log.events.length;
    await log.close();

    // restarted: the events are there, and a client retrying its acknowledged posts stores nothing new
    const second = serve(model, data);
    const again = await second.ready;
    const ready = (await (await fetch(`${again.url}/readyz`)).json()) as { events: number };
    expect(ready.events).toBe(stored);
    const retry = [...acked].slice(0, 500).map((id) => ({ user: 'u0', item: 'i0', id }));
    const r = await postEvents(again.url, retry);
    expect(r.status).toBe(200);
    expect(r.body.events?.every((e) => e.duplicate)).toBe(true);
    const after = (await (await fetch(`${again.url}/readyz`)).json()) as { events: number };
    expect(after.events).toBe(stored);
    again.child.kill('SIGTERM');
    const stop = await second.done;
    expect(stop.code).toBe(0);
  }, 180_000);

  it('kill -9 while the log is being compacted over and over: archive + live log hold every acknowledged id once', async () => {
    const model = await savedModel('ials', { factors: 4, iterations: 3 });
    const data = await tempDir();
    const first = serve(model, data);
    const { url, child } = await first.ready;
    const killAfter = 1000 + Math.floor(Math.random() * 3000);
    let compactions = 0;
    // Alongside 8 posting clients: compacts through the last stored event, again and again, until the kill.
    const compactor = async (killed: () => boolean): Promise<void> => {
      while (!killed()) {
        try {
          const { lastSeq } = (await (await fetch(`${url}/readyz`)).json()) as { lastSeq: number };
          const r = await fetch(`${url}/v1/admin/compact`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ through: lastSeq }) });
          if (r.status === 200) compactions++;
          else expect(r.status, await r.text()).toBe(200);
        } catch {
          return;
        }
      }
    };
    const acked = await postUntilKilled(url, child, 5000, 8, killAfter, compactor);
    expect((await first.done).signal).toBe('SIGKILL');
    expect(compactions).toBeGreaterThan(0);

    // Restarted: it replays the live log (removing an interrupted compaction's archive file).
    const second = serve(model, data);
    const again = await second.ready;
    const ready = (await (await fetch(`${again.url}/readyz`)).json()) as { lastSeq: number; archivedThrough: number };
    again.child.kill('SIGTERM');
    expect((await second.done).code).toBe(0);
    const state = { tornBytes: 0, archived: 0 };
    const all = [...readEventLog(data, state)];
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: ready.lastSeq }, (_, j) => j + 1));
    expect(state.archived).toBe(ready.archivedThrough);
    const counts = new Map<string, number>();
    for (const e of all) counts.set(e.id ?? '', (counts.get(e.id ?? '') ?? 0) + 1);
    for (const id of acked) expect(counts.get(id), id).toBe(1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 180_000);
});
