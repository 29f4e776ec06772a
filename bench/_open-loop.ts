/**
 * An open-loop load generator: request i is sent at t0 + i / rate whatever happened to the earlier ones (as wrk2
 * does), over keep-alive connections, and its latency is measured from that scheduled time — so a late timer or a
 * slow server counts against the figure (no coordinated omission). autocannon's `overallRate` is not this: each
 * connection sends its per-second budget as fast as it can when the second starts, so a "1,000 req/s" run is a
 * full-speed burst followed by silence, and its latencies are those of the burst.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One request of the schedule. */
export interface OpenLoopRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

/** What a run measured; latencies in milliseconds (0.01 ms resolution). */
export interface OpenLoopResult {
  requests: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Requests completed per second of the run (scheduled span plus the tail of the last responses). */
  rate: number;
}

/** The q-quantile of sorted values (nearest rank). */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Sends `rate × seconds` requests on schedule to `base` (http://host:port) and measures each one. */
export function openLoop(base: string, rate: number, seconds: number, next: (i: number) => OpenLoopRequest): Promise<OpenLoopResult> {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  const interval = 1000 / rate;
  const t0 = performance.now() + 20;
  let sent = 0;
  let done = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const finish = (): void => {
      const end = performance.now();
      agent.destroy();
      const sorted = latencies.slice().sort();
      const r = (x: number): number => Math.round(x * 100) / 100;
      resolve({ requests: total, errors, p50: r(quantile(sorted, 0.5)), p90: r(quantile(sorted, 0.9)), p99: r(quantile(sorted, 0.99)), max: r(sorted[sorted.length - 1] ?? NaN), rate: (total - errors) / ((end - t0) / 1000) });
    };
    const send = (i: number, due: number): void => {
      const spec = next(i);
      const headers: Record<string, string | number> = spec.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body) };
      const req = request({ agent, hostname: url.hostname, port: url.port, path: spec.path, method: spec.method, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies[i] = performance.now() - due;
          if ((res.statusCode ?? 500) >= 400) errors++;
          if (++done === total) finish();
        });
      });
      req.on('error', () => {
        latencies[i] = performance.now() - due;
        errors++;
        if (++done === total) finish();
      });
      req.end(spec.body);
    };
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && t0 + sent * interval <= now) {
        send(sent, t0 + sent * interval);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
    };
    if (total === 0) finish();
    else setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
}
