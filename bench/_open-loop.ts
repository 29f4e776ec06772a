/**
 * An open-loop load generator: request i is sent at t0 + i / rate whatever happened to the earlier ones (as wrk2
 * does), over keep-alive connections, and its latency is measured from that scheduled time — so a late timer or a
 * slow server counts against the figure (no coordinated omission). autocannon's `overallRate` is not this: each
 * connection sends its per-second budget as fast as it can when the second starts, so a "1,000 req/s" run is a
 * full-speed burst followed by silence, and its latencies are those of the burst.
 *
 * The client speaks HTTP/1.1 over raw `net` sockets (one request in flight per connection, responses framed by
 * Content-Length or chunked encoding) instead of `node:http`, whose client costs about as much CPU per request as
 * the server under test: on a two-core machine the load generator's share comes out of the server's. The run
 * reports the CPU it used itself, so that share is visible.
 */
import { connect, type Socket } from 'node:net';
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
  /** Responses with status ≥ 400, and requests whose connection failed or closed before the response. */
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Requests completed per second of the run (scheduled span plus the tail of the last responses). */
  rate: number;
  /** CPU seconds the generator's process used during the run (user + system), over the run's seconds. */
  clientCpu: number;
  /** Most connections open at once. */
  connections: number;
}

/** The q-quantile of sorted values (nearest rank). */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');

/**
 * How many bytes of `buf` the first complete response takes, with its status; null while incomplete. Throws on
 * bytes that are not an HTTP/1.1 response.
 */
export function responseLength(buf: Buffer): { length: number; status: number } | null {
  const headEnd = buf.indexOf(HEADER_END);
  if (headEnd < 0) return null;
  const head = buf.toString('latin1', 0, headEnd);
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(head.slice(0, 40))}`);
  const status = Number(m[1]);
  const bodyStart = headEnd + 4;
  const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (cl) {
    const length = bodyStart + Number(cl[1]);
    return buf.length >= length ? { length, status } : null;
  }
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    // Walk the chunks: size line, data, CRLF; the zero-size chunk ends the body (no trailers are sent here).
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at, 'latin1');
      if (lineEnd < 0) return null;
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (!Number.isFinite(size)) throw new Error('bad chunk size in an HTTP response');
      if (size === 0) {
        const end = buf.indexOf(CHUNKED_END, at);
        return end === at ? { length: at + CHUNKED_END.length, status } : null;
      }
      at = lineEnd + 2 + size + 2;
      if (at > buf.length) return null;
    }
  }
  // No body (204, 304) or a response the server closes to end: only the former is expected here.
  return { length: bodyStart, status };
}

interface Conn {
  socket: Socket;
  /** Index of the request in flight, or -1 when idle. */
  current: number;
  due: number;
  buf: Buffer | null;
}

/** Sends `rate × seconds` requests on schedule to `base` (http://host:port) and measures each one. */
export function openLoop(base: string, rate: number, seconds: number, next: (i: number) => OpenLoopRequest, options: { maxConnections?: number } = {}): Promise<OpenLoopResult> {
  const url = new URL(base);
  const host = url.hostname;
  const port = Number(url.port || 80);
  const maxConnections = options.maxConnections ?? 256;
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  const interval = 1000 / rate;
  const t0 = performance.now() + 20;
  const cpu0 = process.cpuUsage();
  const idle: Conn[] = [];
  const backlog: { i: number; due: number }[] = [];
  let open = 0;
  let most = 0;
  let sent = 0;
  let done = 0;
  let errors = 0;
  let resolveRun: (r: OpenLoopResult) => void = () => {};

  const finish = (): void => {
    const end = performance.now();
    const cpu = process.cpuUsage(cpu0);
    for (const c of idle) c.socket.destroy();
    const sorted = latencies.slice().sort();
    const r = (x: number): number => Math.round(x * 100) / 100;
    const span = (end - t0) / 1000;
    resolveRun({ requests: total, errors, p50: r(quantile(sorted, 0.5)), p90: r(quantile(sorted, 0.9)), p99: r(quantile(sorted, 0.99)), max: r(sorted[sorted.length - 1] ?? NaN), rate: (total - errors) / span, clientCpu: (cpu.user + cpu.system) / 1e6 / span, connections: most });
  };
  const complete = (c: Conn, failed: boolean): void => {
    latencies[c.current] = performance.now() - c.due;
    if (failed) errors++;
    c.current = -1;
    if (++done === total) finish();
  };
  const head = (spec: OpenLoopRequest): string => {
    const hostLine = `Host: ${host}:${port}\r\n`;
    if (spec.body === undefined) return `${spec.method} ${spec.path} HTTP/1.1\r\n${hostLine}\r\n`;
    return `${spec.method} ${spec.path} HTTP/1.1\r\n${hostLine}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(spec.body)}\r\n\r\n${spec.body}`;
  };
  const dispatch = (c: Conn, i: number, due: number): void => {
    c.current = i;
    c.due = due;
    c.socket.write(head(next(i)));
  };
  const release = (c: Conn): void => {
    const queued = backlog.shift();
    if (queued) dispatch(c, queued.i, queued.due);
    else idle.push(c);
  };
  const openConn = (i: number, due: number): void => {
    const socket = connect({ host, port, noDelay: true });
    const c: Conn = { socket, current: i, due, buf: null };
    open++;
    most = Math.max(most, open);
    socket.on('connect', () => dispatch(c, c.current, c.due));
    socket.on('data', (chunk: Buffer) => {
      c.buf = c.buf ? Buffer.concat([c.buf, chunk]) : chunk;
      let r: { length: number; status: number } | null;
      try {
        r = responseLength(c.buf);
      } catch {
        socket.destroy();
        return;
      }
      if (!r || c.current < 0) return;
      c.buf = r.length < c.buf.length ? c.buf.subarray(r.length) : null;
      complete(c, r.status >= 400);
      release(c);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      open--;
      const at = idle.indexOf(c);
      if (at >= 0) idle.splice(at, 1);
      if (c.current >= 0) complete(c, true);
      // A request waiting for a connection gets a new one.
      const queued = backlog.shift();
      if (queued) openConn(queued.i, queued.due);
    });
  };
  const send = (i: number, due: number): void => {
    const c = idle.pop();
    if (c) dispatch(c, i, due);
    else if (open < maxConnections) openConn(i, due);
    else backlog.push({ i, due });
  };
  const tick = (): void => {
    const now = performance.now();
    while (sent < total && t0 + sent * interval <= now) {
      send(sent, t0 + sent * interval);
      sent++;
    }
    if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
  };
  return new Promise((resolve) => {
    resolveRun = resolve;
    if (total === 0) finish();
    else setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
}
