import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLoop, responseLength } from '../../bench/_open-loop.js';

describe('responseLength (the load generator\'s response framing)', () => {
  const b = (s: string): Buffer => Buffer.from(s, 'latin1');

  it('frames by Content-Length, waiting for the whole body', () => {
    const full = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}';
    expect(responseLength(b(full))).toEqual({ length: full.length, status: 200 });
    expect(responseLength(b(full.slice(0, -1)))).toBeNull();
    expect(responseLength(b(full.slice(0, 20)))).toBeNull();
    // A second response behind the first is not part of it.
    expect(responseLength(b(full + full))).toEqual({ length: full.length, status: 200 });
  });

  it('frames chunked bodies up to the zero chunk, and bodiless responses', () => {
    const chunked = 'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n';
    expect(responseLength(b(chunked))).toEqual({ length: chunked.length, status: 404 });
    expect(responseLength(b(chunked.slice(0, -2)))).toBeNull();
    expect(responseLength(b(chunked.slice(0, chunked.indexOf('abc'))))).toBeNull();
    const empty = 'HTTP/1.1 204 No Content\r\nX: y\r\n\r\n';
    expect(responseLength(b(empty))).toEqual({ length: empty.length, status: 204 });
  });

  it('refuses bytes that are not an HTTP response', () => {
    expect(() => responseLength(b('SSH-2.0-OpenSSH\r\n\r\n'))).toThrow(/not an HTTP response/);
  });
});

describe('openLoop against a real server on loopback', () => {
  let server: Server;
  let base = '';
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        const n = Number(req.url?.split('/')[1] ?? 0);
        if (n % 10 === 3) {
          res.statusCode = 404;
          res.end('missing'); // content-length
        } else if (n % 10 === 5) {
          res.write('chunk one;'); // chunked
          res.end('chunk two');
        } else if (n % 10 === 7) {
          req.socket.destroy(); // connection dropped before any response
        } else {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ n, body }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    base = `http://127.0.0.1:${a && typeof a === 'object' ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends every scheduled request once, with its body, and counts 4xx and dropped connections as errors', async () => {
    const r = await openLoop(base, 400, 0.5, (i) => (i % 2 ? { method: 'POST', path: `/${i}`, body: JSON.stringify({ i }) } : { method: 'GET', path: `/${i}` }));
    expect(r.requests).toBe(200);
    // i % 10 of 3 (404) and 7 (dropped): 40 of 200.
    expect(r.errors).toBe(40);
    const got = seen.map((s) => s.split(' ')[1]).sort();
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => `/${i}`).sort());
    for (const s of seen) {
      const i = Number(s.split(' ')[1].slice(1));
      expect(s).toBe(i % 2 ? `POST /${i} {"i":${i}}` : `GET /${i} `);
    }
    expect(r.p50).toBeGreaterThan(0);
    expect(r.max).toBeGreaterThanOrEqual(r.p99);
    expect(r.connections).toBeGreaterThanOrEqual(1);
    expect(r.clientCpu).toBeGreaterThan(0);
  });

  it('a server that is not there: every request is an error, and the run still ends', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const a = probe.address();
    const port = a && typeof a === 'object' ? a.port : 0;
    await new Promise<void>((r) => probe.close(() => r()));
    const r = await openLoop(`http://127.0.0.1:${port}`, 200, 0.1, () => ({ method: 'GET', path: '/' }), { maxConnections: 4 });
    expect(r.requests).toBe(20);
    expect(r.errors).toBe(20);
  });
});
