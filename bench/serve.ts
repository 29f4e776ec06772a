/**
 * `npm run bench -- serve [--items N] [--users N] [--factors F] [--rate R] [--seconds S] [--event-rate E]
 * [--event-batch B] [--connections C] [--skip-ann] [--pg postgres://…]`: `recsys serve` in a child process on
 * 127.0.0.1, loaded from this process (its own event loop, so the server's figures are not shared with the
 * client's): an open-loop generator at fixed rates, autocannon at full speed.
 *
 * The model: iALS (32 factors by default) on a generated power-law matrix of 20,000 users × 20,000 items.
 * Phases, each S seconds (default 10):
 * 1. top-10 recommendations for random trained users at a fixed R req/s (default 1,000), exact retrieval;
 * 2. the same while events are posted at E events/s (default 2,000), one per request, fsync'd; then again with
 *    the events posted in batches of B per request (`--event-batch`, default 10), as a tracking pipeline would;
 * 3. events alone, as fast as they are acknowledged (C × 4 connections): durable events/s and fsyncs;
 * 4. recommendations as fast as possible (C connections): the ceiling in req/s;
 * 5. phases 1 and 4 again with IVF retrieval (`--ann ivf`), then with HNSW (`--ann hnsw`), unless --skip-ann;
 * 6. with --pg: phase 3 against a server keeping its events in that PostgreSQL database (table recsys_events,
 *    dropped first), then phase 1 on it.
 * Fixed-rate phases (1, 2, 5) are open loop (bench/_open-loop.ts: request i sent at t0 + i/R over keep-alive
 * connections, latency from its scheduled time, 0.01 ms resolution); the as-fast-as-possible phases (3, 4) are
 * autocannon's (1 ms resolution, C connections closed loop). autocannon's own fixed rate is not used: it sends
 * each connection's per-second budget at full speed when the second starts, a burst rather than a rate.
 * The open-loop client speaks HTTP/1.1 on raw sockets: node:http's client cost as much CPU as the server, and on
 * two cores the load generator's share comes out of the server's. Each row prints the CPU (in cores) the server
 * (all its threads, from /proc) and this process used during the phase.
 * The server runs with `--log-level warn` (no per-request log lines).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { openLoop, type OpenLoopResult } from './_open-loop.js';
import { Rng } from '../src/core/rng.js';
import { IdMap } from '../src/data/id-map.js';
import { Interactions } from '../src/data/interactions.js';
import { getKernels } from '../src/linalg/index.js';
import { createModel } from '../src/models/index.js';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

/** A free port on 127.0.0.1 (bound once and released). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = a && typeof a === 'object' ? a.port : 0;
      s.close(() => resolvePort(port));
    });
  });
}

/** Starts `recsys serve` and waits until /readyz answers. */
async function startServer(modelDir: string, dataDir: string, extra: string[]): Promise<{ child: ChildProcess; base: string; stderr: () => string }> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const port = await freePort();
  let err = '';
  const child = spawn(process.execPath, [join(root, 'bin', 'recsys.js'), 'serve', '--model', modelDir, '--data', dataDir, '--port', String(port), '--log-level', 'warn', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 600_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`recsys serve exited with ${child.exitCode}: ${err}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`recsys serve did not get ready: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, base, stderr: () => err };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

interface Row {
  phase: string;
  requests: number;
  p50: number;
  p90: number;
  p99: number;
  rate: string;
  errors: number;
  /** "server / load generator" CPU in cores over the phase. */
  cpu: string;
}

/** CPU seconds (user + system, all threads) of process `pid` so far, from /proc; null where there is none. */
function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in USER_HZ (100).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/** Runs one phase, measuring the CPU (in cores) of the server and of this process (the load generator) meanwhile. */
async function measured<T>(server: ChildProcess, phase: () => Promise<T>): Promise<{ result: T; cpu: string }> {
  const s0 = processCpuSeconds(server.pid);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await phase();
  const wall = (performance.now() - t0) / 1000;
  const s1 = processCpuSeconds(server.pid);
  const c = process.cpuUsage(c0);
  const serverCores = s0 !== null && s1 !== null ? ((s1 - s0) / wall).toFixed(2) : '?';
  return { result, cpu: `${serverCores} / ${((c.user + c.system) / 1e6 / wall).toFixed(2)}` };
}

function rowOf(phase: string, m: { result: autocannon.Result; cpu: string }, unit: string): Row {
  const r = m.result;
  const ok = r.requests.total - r.non2xx - r.errors;
  return { phase, requests: r.requests.total, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, rate: `${(ok / r.duration).toFixed(0)} ${unit}`, errors: r.non2xx + r.errors + r.timeouts, cpu: m.cpu };
}

function rowOfOpen(phase: string, r: OpenLoopResult, unit: string, cpu: string): Row {
  return { phase, requests: r.requests, p50: r.p50, p90: r.p90, p99: r.p99, rate: `${r.rate.toFixed(0)} ${unit}`, errors: r.errors, cpu };
}

/** The path of a top-10 request for a random trained user. */
function recommendationPath(rng: Rng, users: number): string {
  return `/v1/recommendations?user=u${rng.int(users)}&k=10`;
}

/** The body of one posted event (random user and item) with a unique id. */
function eventBody(rng: Rng, users: number, items: number, seed: number, n: number): string {
  return JSON.stringify({ user: `u${rng.int(users)}`, item: `i${rng.int(items)}`, id: `bench-${seed}-${n}` });
}

/** Open-loop GET recommendations at a fixed rate (bench/_open-loop.ts). */
function recommendationsAt(base: string, users: number, seconds: number, rate: number, seed: number): Promise<OpenLoopResult> {
  const rng = new Rng(seed);
  return openLoop(base, rate, seconds, () => ({ method: 'GET', path: recommendationPath(rng, users) }));
}

/**
 * Open-loop POST of events at `rate` events/s: one event object per request (`batch` 1), else `batch` of them as a
 * JSON array per request, i.e. rate / batch requests/s.
 */
function eventsAt(base: string, users: number, items: number, seconds: number, rate: number, batch: number, seed: number): Promise<OpenLoopResult> {
  const rng = new Rng(seed);
  const body = (n: number): string => (batch === 1 ? eventBody(rng, users, items, seed, n) : `[${Array.from({ length: batch }, (_, j) => eventBody(rng, users, items, seed, n * batch + j)).join(',')}]`);
  return openLoop(base, rate / batch, seconds, (n) => ({ method: 'POST', path: '/v1/events', body: body(n) }));
}

/** One autocannon run, as fast as possible: GET recommendations for random users. */
function recommendations(base: string, users: number, seconds: number, connections: number, seed: number): Promise<autocannon.Result> {
  const rng = new Rng(seed);
  return autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: recommendationPath(rng, users) }) }],
  });
}

/** One autocannon run, as fast as acknowledged: POST one event per request. */
function events(base: string, users: number, items: number, seconds: number, connections: number, seed: number): Promise<autocannon.Result> {
  const rng = new Rng(seed);
  let n = 0;
  return autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/v1/events',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: eventBody(rng, users, items, seed, n++) }),
      },
    ],
  });
}

/** fsyncs and events from the server's /metrics. */
async function logCounters(base: string): Promise<{ events: number; fsyncs: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string): number => {
    const m = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm'));
    return m ? Number(m[1]) : NaN;
  };
  return { events: value('recsys_events_accepted_total'), fsyncs: value('recsys_event_log_fsyncs_total') };
}

export async function run(args: string[]): Promise<void> {
  const nUsers = flag(args, 'users', 20000);
  const nItems = flag(args, 'items', 20000);
  const factors = flag(args, 'factors', 32);
  const rate = flag(args, 'rate', 1000);
  const eventRate = flag(args, 'event-rate', 2000);
  const seconds = flag(args, 'seconds', 10);
  const connections = flag(args, 'connections', 16);
  const eventBatch = flag(args, 'event-batch', 10);
  const skipAnn = args.includes('--skip-ann');
  const pgAt = args.indexOf('--pg');
  const pgUrl = pgAt >= 0 ? args[pgAt + 1] : undefined;
  if (pgAt >= 0 && !pgUrl?.startsWith('postgres')) throw new Error('--pg needs a postgres:// connection string');
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
  const rows: Row[] = [];
  let servers: ChildProcess[] = [];
  try {
    const t0 = performance.now();
    const model = createModel('ials', { factors, iterations: 3 });
    await model.fit(train);
    if (!model.save) throw new Error('ials cannot be saved');
    const modelDir = join(root, 'model');
    await model.save(modelDir);
    model.dispose?.();
    await (await getKernels()).close();
    process.stdout.write(`cpu: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    process.stdout.write(`model: ials (${factors} factors), ${nUsers} users × ${nItems} items, ${train.nnz} interactions (fit + save ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    process.stdout.write(`load: this process (open loop on raw sockets at fixed rates, autocannon at full speed), server in a child (log level warn); ${seconds} s per phase; CPU in cores (server: /proc, all threads)\n`);

    const exact = await startServer(modelDir, join(root, 'data-exact'), []);
    servers.push(exact.child);
    // Warm-up: JIT of both routes, kernel pool, the log's first writes (a cold server's first second is an outlier).
    await recommendations(exact.base, nUsers, 3, connections, 1);
    await Promise.all([recommendationsAt(exact.base, nUsers, 3, rate, 14), eventsAt(exact.base, nUsers, nItems, 3, eventRate, 1, 15)]);
    const alone = await measured(exact.child, () => recommendationsAt(exact.base, nUsers, seconds, rate, 2));
    rows.push(rowOfOpen(`GET recommendations k=10, exact, at ${rate} req/s`, alone.result, 'req/s', alone.cpu));
    const before = await logCounters(exact.base);
    const mixed = await measured(exact.child, () => Promise.all([recommendationsAt(exact.base, nUsers, seconds, rate, 3), eventsAt(exact.base, nUsers, nItems, seconds, eventRate, 1, 4)]));
    const [recs, evs] = mixed.result;
    rows.push(rowOfOpen(`  … while posting ${eventRate} events/s`, recs, 'req/s', `${mixed.cpu} (both)`));
    rows.push(rowOfOpen(`POST events at ${eventRate}/s (with the above)`, evs, 'events/s', `${mixed.cpu} (both)`));
    const batched = await measured(exact.child, () => Promise.all([recommendationsAt(exact.base, nUsers, seconds, rate, 12), eventsAt(exact.base, nUsers, nItems, seconds, eventRate, eventBatch, 13)]));
    rows.push(rowOfOpen(`  … while posting ${eventRate} events/s in batches of ${eventBatch}`, batched.result[0], 'req/s', `${batched.cpu} (both)`));
    rows.push(rowOfOpen(`POST ${eventBatch} events per request at ${eventRate} events/s (with the above)`, batched.result[1], 'req/s', `${batched.cpu} (both)`));
    const mid = await logCounters(exact.base);
    rows.push(rowOf(`POST events, as fast as acknowledged (${connections * 4} connections)`, await measured(exact.child, () => events(exact.base, nUsers, nItems, seconds, connections * 4, 5)), 'events/s'));
    const after = await logCounters(exact.base);
    rows.push(rowOf(`GET recommendations k=10, exact, max (${connections} connections)`, await measured(exact.child, () => recommendations(exact.base, nUsers, seconds, connections, 6)), 'req/s'));
    await stopServer(exact.child);
    servers = servers.filter((c) => c !== exact.child);
    const fsyncNote = `event log: ${mid.events - before.events} events in ${mid.fsyncs - before.fsyncs} fsyncs in the two phases at ${eventRate} events/s; ${after.events - mid.events} events in ${after.fsyncs - mid.fsyncs} fsyncs at full speed`;

    if (!skipAnn) {
      for (const [kind, label] of [['ivf', 'IVF'], ['hnsw', 'HNSW']] as const) {
        const t1 = performance.now();
        const ann = await startServer(modelDir, join(root, `data-${kind}`), ['--ann', kind]);
        servers.push(ann.child);
        process.stdout.write(`${label} index built and loaded in ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
        await recommendations(ann.base, nUsers, 3, connections, 7);
        const annAt = await measured(ann.child, () => recommendationsAt(ann.base, nUsers, seconds, rate, 8));
        rows.push(rowOfOpen(`GET recommendations k=10, ${label}, at ${rate} req/s`, annAt.result, 'req/s', annAt.cpu));
        rows.push(rowOf(`GET recommendations k=10, ${label}, max (${connections} connections)`, await measured(ann.child, () => recommendations(ann.base, nUsers, seconds, connections, 9)), 'req/s'));
        await stopServer(ann.child);
        servers = servers.filter((c) => c !== ann.child);
      }
    }

    let pgNote = '';
    if (pgUrl) {
      // The shared event table: a fresh table, so the phase starts from an empty log.
      const pg = (await import('pg')).default;
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      const sync = (await admin.query<{ synchronous_commit: string; fsync: string }>("SELECT current_setting('synchronous_commit') AS synchronous_commit, current_setting('fsync') AS fsync")).rows[0];
      await admin.query('DROP TABLE IF EXISTS recsys_events');
      await admin.end();
      const shared = await startServer(modelDir, pgUrl, []);
      servers.push(shared.child);
      const p0 = await logCounters(shared.base);
      rows.push(rowOf(`POST events, as fast as acknowledged, PostgreSQL table (${connections * 4} connections)`, await measured(shared.child, () => events(shared.base, nUsers, nItems, seconds, connections * 4, 10)), 'events/s'));
      const p1 = await logCounters(shared.base);
      const pgAt = await measured(shared.child, () => recommendationsAt(shared.base, nUsers, seconds, rate, 11));
      rows.push(rowOfOpen(`  GET recommendations k=10, exact, at ${rate} req/s (PostgreSQL events)`, pgAt.result, 'req/s', pgAt.cpu));
      pgNote = `\nPostgreSQL event table (synchronous_commit ${sync.synchronous_commit}, fsync ${sync.fsync}): ${p1.events - p0.events} events in ${p1.fsyncs - p0.fsyncs} commits`;
      await stopServer(shared.child);
      servers = servers.filter((c) => c !== shared.child);
    }

    const head = ['phase', 'requests', 'p50 ms', 'p90 ms', 'p99 ms', 'throughput', 'errors', 'CPU server / load'];
    const cells = rows.map((r) => [r.phase, String(r.requests), String(r.p50), String(r.p90), String(r.p99), r.rate, String(r.errors), r.cpu]);
    const widths = head.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
    const line = (r: string[]): string => r.map((x, c) => x.padEnd(widths[c])).join('  ');
    process.stdout.write(`${line(head)}\n${cells.map(line).join('\n')}\n${fsyncNote}${pgNote}\n`);
    process.stdout.write(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  } finally {
    for (const c of servers) await stopServer(c);
    rmSync(root, { recursive: true, force: true });
  }
}
