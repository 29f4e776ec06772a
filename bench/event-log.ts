/**
 * `npm run bench -- event-log [--events 8000000] [--keep 1000000] [--dir PATH]`: the file event log at scale. Writes
 * a log of `events` events (≈ 107 bytes a line, 200,000 users, ids on every event) in a temporary directory under
 * `--dir` (default the OS temp dir), then times: the replay at open and the heap it takes; a compaction through
 * `events − keep` while an append is posted every 5 ms (their acknowledgement latency and the event loop's
 * longest stall); the replay of the compacted log. The directory is removed afterwards. Heap use grows with the
 * events replayed (≈ 250 bytes each): run node with a larger `--max-old-space-size` past ≈ 10M events.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { EventLog } from '../src/serve/event-log.js';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be an integer >= 0`);
  return v;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export async function run(args: string[]): Promise<void> {
  const n = flag(args, 'events', 8_000_000);
  const keep = Math.min(n, flag(args, 'keep', 1_000_000));
  const d = args.indexOf('--dir');
  const dir = mkdtempSync(join(d >= 0 ? args[d + 1] : tmpdir(), 'recsys-event-log-bench-'));
  try {
    const path = join(dir, 'events.log');
    const fd = openSync(path, 'w');
    let text = '';
    for (let s = 1; s <= n; s++) {
      text += `${JSON.stringify({ seq: s, user: `user-${s % 200_000}`, item: `item-${(s * 7919) % 50_000}`, value: 1, time: 1_764_600_000 + s / 1000, id: `evt-${s}` })}\n`;
      if (s % 100_000 === 0) {
        writeSync(fd, text);
        text = '';
      }
    }
    writeSync(fd, text);
    closeSync(fd);
    console.log(`cpu: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; log ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB, ${n} events, in ${dir}`);
    let t = performance.now();
    const log = await EventLog.open(dir);
    console.log(`replay at open: ${seconds(performance.now() - t)}, ${log.events.length} events, heap ${(process.memoryUsage().heapUsed / 2 ** 30).toFixed(2)} GiB`);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const latencies: number[] = [];
    let done = false;
    const poster = (async () => {
      for (let j = 0; !done; j++) {
        const a = performance.now();
        await log.append([{ user: 'bench', item: j, id: `bench-${j}` }]);
        latencies.push(performance.now() - a);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    t = performance.now();
    const r = await log.compact(n - keep);
    const took = performance.now() - t;
    done = true;
    await poster;
    delay.disable();
    latencies.sort((a, b) => a - b);
    const q = (p: number): string => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(1);
    console.log(`compact through ${n - keep}: ${seconds(took)}, ${r.archived} archived, ${r.live} live`);
    console.log(`  ${latencies.length} appends meanwhile (one every 5 ms): median ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms; event-loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms, max ${(delay.max / 1e6).toFixed(1)} ms`);
    await log.close();
    t = performance.now();
    const again = await EventLog.open(dir);
    console.log(`replay after compaction: ${seconds(performance.now() - t)}, ${again.events.length} events`);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
