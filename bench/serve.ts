/**
 * `npm run bench -- serve [--requests N] [--concurrency C]`: the HTTP service on 127.0.0.1 against an iALS model
 * (32 factors) of 5,000 users × 10,000 items (generated, power-law popularity, ~20 items per user). Bounded:
 * N requests per phase (default 2,000). Phases: top-10 recommendations for trained users; single events
 * posted concurrently (durable: fsync, group commit); recommendations for users with new events (fold-in).
 * Prints p50/p99 latency and requests/s per phase, and fsyncs per event. The client runs in the same process
 * (fetch over the loopback socket), so the figures include the client's share of the 2 cores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Rng } from '../src/core/rng.js';
import { IdMap } from '../src/data/id-map.js';
import { Interactions } from '../src/data/interactions.js';
import { getKernels } from '../src/linalg/index.js';
import { createModel } from '../src/models/index.js';
import { buildService } from '../src/serve/app.js';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Runs `n` requests with `concurrency` in flight; returns latencies (ms) and wall time (s). */
async function load(n: number, concurrency: number, request: (j: number) => Promise<Response>): Promise<{ ms: number[]; seconds: number; failed: number }> {
  const ms: number[] = [];
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const j = next++;
        const t = performance.now();
        const r = await request(j);
        await r.arrayBuffer();
        if (r.status !== 200) failed++;
        ms.push(performance.now() - t);
      }
    }),
  );
  return { ms: ms.sort((a, b) => a - b), seconds: (performance.now() - t0) / 1000, failed };
}

export async function run(args: string[]): Promise<void> {
  const n = flag(args, 'requests', 2000);
  const concurrency = flag(args, 'concurrency', 16);
  const nUsers = 5000;
  const nItems = 10000;
  const rng = new Rng(7);
  const ui: number[] = [];
  const ii: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const seen = new Set<number>();
    for (let j = 0; j < 20; j++) seen.add(Math.min(nItems - 1, Math.floor(nItems * rng.uniform() ** 3)));
    for (const i of seen) {
      ui.push(u);
      ii.push(i);
    }
  }
  const train = Interactions.fromCoo({ users: IdMap.fromIds(Array.from({ length: nUsers }, (_, u) => `u${u}`)), items: IdMap.fromIds(Array.from({ length: nItems }, (_, i) => `i${i}`)), userIdx: Int32Array.from(ui), itemIdx: Int32Array.from(ii), values: new Float32Array(ui.length).fill(1) }).interactions;
  const root = mkdtempSync(join(tmpdir(), 'recsys-bench-serve-'));
  try {
    const t0 = performance.now();
    const model = createModel('ials', { factors: 32, iterations: 3 });
    await model.fit(train);
    if (!model.save) throw new Error('ials cannot be saved');
    await model.save(join(root, 'model'));
    model.dispose?.();
    process.stdout.write(`model: ials, ${nUsers} users × ${nItems} items, ${train.nnz} interactions (fit + save ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    const service = await buildService({ model: join(root, 'model'), dataDir: join(root, 'data') });
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    const address = service.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    const base = `http://127.0.0.1:${address.port}`;
    const pick = new Rng(11);
    const users = Array.from({ length: n }, () => `u${Math.floor(pick.uniform() * nUsers)}`);
    // warm-up (JIT, kernel pool)
    await load(200, concurrency, (j) => fetch(`${base}/v1/recommendations?user=${users[j]}&k=10`));
    const rows: string[][] = [];
    const report = (name: string, r: { ms: number[]; seconds: number; failed: number }, unit = 'req/s'): void => {
      rows.push([name, String(r.ms.length), quantile(r.ms, 0.5).toFixed(2), quantile(r.ms, 0.99).toFixed(2), `${(r.ms.length / r.seconds).toFixed(0)} ${unit}`, String(r.failed)]);
    };
    report('GET recommendations k=10 (trained users)', await load(n, concurrency, (j) => fetch(`${base}/v1/recommendations?user=${users[j]}&k=10`)));
    const fsync0 = service.log.fsyncCount;
    const events = await load(n, concurrency * 2, (j) =>
      fetch(`${base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: users[j], item: `i${Math.floor(pick.uniform() * nItems)}`, id: `bench-${j}` }) }),
    );
    report(`POST events (1 per request, ${concurrency * 2} in flight)`, events, 'events/s');
    const fsyncs = service.log.fsyncCount - fsync0;
    report('GET recommendations k=10 (fold-in of new events)', await load(n, concurrency, (j) => fetch(`${base}/v1/recommendations?user=${users[j]}&k=10`)));
    await service.close();
    const head = ['phase', 'requests', 'p50 ms', 'p99 ms', 'throughput', 'non-200'];
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (r: string[]): string => r.map((x, c) => x.padEnd(widths[c])).join('  ');
    process.stdout.write(`${line(head)}\n${rows.map(line).join('\n')}\n`);
    process.stdout.write(`event log: ${n} events in ${fsyncs} fsyncs (${(n / Math.max(1, fsyncs)).toFixed(1)} events per fsync); client in-process, ${concurrency} in flight\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
    await (await getKernels()).close();
  }
}
