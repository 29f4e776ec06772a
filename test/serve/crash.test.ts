/**
 * Durability over a real socket: a child `recsys serve` takes concurrent posts, is killed with SIGKILL at a
 * random moment of a 10,000-event run, and is started again on the same data directory. Every
 * acknowledged event id must be in the log exactly once, and re-posting them stores nothing.
 */
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/serve/event-log.js';
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

describe('crash safety', () => {
  it('kill -9 after acknowledgements loses none and repeats none after restart', async () => {
    const model = await savedModel('ials', { factors: 4, iterations: 3 });
    const data = await tempDir();
    const first = serve(model, data);
    const { url, child } = await first.ready;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const acked = new Set<string>();
    // a random moment of a 10,000-event run: after 500 to 8,500 acknowledgements
    const killAfter = 500 + Math.floor(Math.random() * 8000);
    let killed = false;
    let next = 0;
    const total = 10_000;
    // 16 concurrent clients, batches of 1-5 events, until the server dies or all are sent
    const client = async (c: number): Promise<void> => {
      while (next < total && !killed) {
        const n = 1 + ((next + c) % 5);
        const batch = Array.from({ length: n }, () => {
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
    await Promise.all(Array.from({ length: 16 }, (_, c) => client(c)));
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
});
