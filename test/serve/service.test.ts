import { cp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildService, type Service } from '../../src/serve/app.js';
import { LIMITS } from '../../src/serve/schemas.js';
import { blockData, savedModel, tempDir } from './fixtures.js';

interface Item {
  item: string;
  score: number;
  source: string;
  rank: number;
}

let ials: string;
let ease: string;
let bpr: string;

beforeAll(async () => {
  const root = await tempDir();
  ials = await savedModel('ials', { factors: 4, iterations: 8 }, root);
  ease = await savedModel('ease', { reg: 5 }, root);
  bpr = await savedModel('bpr', { factors: 4, epochs: 3, threads: 1 }, root);
});

async function start(model: string, extra: Partial<Parameters<typeof buildService>[0]> = {}): Promise<Service> {
  return buildService({ model, dataDir: await tempDir(), ...extra });
}

async function get(s: Service, url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await s.app.inject({ url });
  return { status: r.statusCode, body: r.json() };
}

async function post(s: Service, url: string, payload: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await s.app.inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), headers: { 'content-type': 'application/json' } });
  return { status: r.statusCode, body: r.json() };
}

const items = (body: Record<string, unknown>): Item[] => body.items as Item[];

describe('recommendations', () => {
  let s: Service;
  beforeAll(async () => (s = await start(ials)));
  afterAll(() => s.close());

  it('a trained user gets the model top-k in external ids, seen items left out', async () => {
    const { status, body } = await get(s, '/v1/recommendations?user=u1&k=5');
    expect(status).toBe(200);
    expect(body).toMatchObject({ user: 'u1', model: 'ials', basis: 'model', warnings: [] });
    const list = items(body);
    expect(list).toHaveLength(5);
    expect(list.map((x) => x.rank)).toEqual([1, 2, 3, 4, 5]);
    // the pipeline's exact retrieval on the item vectors
    expect(list.every((x) => x.source === 'exact')).toBe(true);
    const train = blockData();
    const seen = new Set(Array.from(train.userItems(1), (i) => `i${i}`));
    expect(list.some((x) => seen.has(x.item))).toBe(false);
    for (let j = 1; j < list.length; j++) expect(list[j].score).toBeLessThanOrEqual(list[j - 1].score);
  });

  it('exclude leaves items out; unknown excluded ids are a warning', async () => {
    const before = items((await get(s, '/v1/recommendations?user=u1&k=3')).body);
    const { body } = await get(s, `/v1/recommendations?user=u1&k=3&exclude=${before[0].item},nope`);
    expect(items(body).map((x) => x.item)).not.toContain(before[0].item);
    expect(items(body)[0].item).toBe(before[1].item);
    expect((body.warnings as string[]).join()).toMatch(/"nope"/);
  });

  it('an unknown user without events gets the popularity fallback, marked', async () => {
    const { body } = await get(s, '/v1/recommendations?user=stranger&k=3');
    const list = items(body);
    expect(list.map((x) => x.source)).toEqual(['fallback', 'fallback', 'fallback']);
    // independent reference: the items with most users in the training data
    const train = blockData();
    const counts = new Map<number, number>();
    for (const i of train.colIdx) counts.set(i, (counts.get(i) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 3).map(([i]) => `i${i}`);
    expect(list.map((x) => x.item)).toEqual(top);
    expect((body.warnings as string[])[0]).toMatch(/unknown to model.*popularity fallback/);
  });

  it('k beyond the catalogue is clamped; k out of range and unknown parameters are 400 naming the field', async () => {
    // 30 items, the user has 6: 24 left
    expect(items((await get(s, '/v1/recommendations?user=u1&k=1000')).body)).toHaveLength(24);
    const cases: [string, RegExp][] = [
      ['/v1/recommendations?user=u1&k=0', /querystring\/k must be >= 1/],
      [`/v1/recommendations?user=u1&k=${LIMITS.maxK + 1}`, /querystring\/k must be <= 1000/],
      ['/v1/recommendations?user=u1&k=abc', /querystring\/k must be integer/],
      ['/v1/recommendations?user=u1&k=2.5', /querystring\/k must be integer/],
      ['/v1/recommendations?user=u1&k=1&k=2', /querystring\/k must be integer/],
      ['/v1/recommendations?k=3', /querystring must have the field "user"/],
      ['/v1/recommendations?user=u1&colour=red', /querystring has an unknown field "colour"/],
    ];
    for (const [url, message] of cases) {
      const { status, body } = await get(s, url);
      expect([url, status]).toEqual([url, 400]);
      expect(body.message).toMatch(message);
    }
  });

  it('an unknown route is 404 naming it', async () => {
    const { status, body } = await get(s, '/v1/nothing');
    expect(status).toBe(404);
    expect(body.message).toMatch(/no route GET \/v1\/nothing/);
  });
});

describe('events change the next recommendations at once', () => {
  it('fold-in for a trained user: the event item is excluded and the list changes', async () => {
    const s = await start(ials);
    const before = items((await get(s, '/v1/recommendations?user=u0&k=5')).body);
    const target = before[0].item;
    const posted = await post(s, '/v1/events', { user: 'u0', item: target });
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ accepted: 1, duplicates: 0 });
    const after = (await get(s, '/v1/recommendations?user=u0&k=5')).body;
    expect(items(after).map((x) => x.item)).not.toContain(target);
    expect(after.basis).toBe('fold-in');
    expect(items(after).every((x) => x.source === 'exact')).toBe(true);
    const hist = await get(s, '/v1/users/u0/history');
    expect(hist.body.events).toEqual([expect.objectContaining({ seq: 1, item: target, value: 1, known: true })]);
    await s.close();
  });

  it('a new user arriving by events is served by fold-in, leaning to the block of their items', async () => {
    const s = await start(ials);
    // odd items belong to the odd users' block
    await post(s, '/v1/events', [{ user: 'newbie', item: 'i1' }, { user: 'newbie', item: 'i3' }, { user: 'newbie', item: 'i5' }]);
    const body = (await get(s, '/v1/recommendations?user=newbie&k=5')).body;
    const list = items(body);
    expect(body.basis).toBe('fold-in');
    expect(list.map((x) => x.item)).not.toContain('i1');
    const odd = list.filter((x) => Number(x.item.slice(1)) % 2 === 1).length;
    expect(odd).toBeGreaterThanOrEqual(4);
    await s.close();
  });

  it('history scoring for EASE; a new item is stored and reported unknown until the next retrain', async () => {
    const s = await start(ease);
    const before = items((await get(s, '/v1/recommendations?user=u2&k=4')).body);
    const r = await post(s, '/v1/events', [{ user: 'u2', item: before[0].item }, { user: 'u2', item: 'brand-new' }]);
    expect(r.body.accepted).toBe(2);
    expect((r.body.warnings as string[]).join()).toMatch(/"brand-new" are unknown to model ease@.*next retrain/);
    const after = (await get(s, '/v1/recommendations?user=u2&k=4')).body;
    expect(items(after).map((x) => x.item)).not.toContain(before[0].item);
    expect(after.basis).toBe('history');
    expect(items(after).every((x) => x.source === 'model')).toBe(true);
    expect((after.warnings as string[]).join()).toMatch(/"brand-new".*unknown/);
    await s.close();
  });

  it('a model that cannot fold in (bpr) leaves the new items out and says so', async () => {
    const s = await start(bpr);
    const before = items((await get(s, '/v1/recommendations?user=u3&k=3')).body);
    await post(s, '/v1/events', { user: 'u3', item: before[0].item });
    const after = (await get(s, '/v1/recommendations?user=u3&k=3')).body;
    expect(items(after).map((x) => x.item)).not.toContain(before[0].item);
    expect((after.warnings as string[]).join()).toMatch(/cannot fold in/);
    await s.close();
  });

  it('posting with an id twice stores one event', async () => {
    const s = await start(ials);
    const a = await post(s, '/v1/events', { user: 'u5', item: 'i2', id: 'evt-1' });
    const b = await post(s, '/v1/events', [{ user: 'u5', item: 'i2', id: 'evt-1' }, { user: 'u5', item: 'i4', id: 'evt-2' }]);
    expect(a.body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(b.body).toMatchObject({ accepted: 1, duplicates: 1, events: [{ seq: 1, id: 'evt-1', duplicate: true }, { seq: 2, id: 'evt-2', duplicate: false }] });
    expect(((await get(s, '/v1/users/u5/history')).body.events as unknown[]).length).toBe(2);
    await s.close();
  });

  it('concurrent posts are group-committed: fewer fsyncs than requests', async () => {
    let fsyncs = 0;
    const s = await start(ials, {
      fsync: async (fh) => {
        fsyncs++;
        await new Promise((r) => setTimeout(r, 5));
        await fh.sync();
      },
    });
    const posts = Array.from({ length: 40 }, (_, j) => post(s, '/v1/events', { user: `c${j}`, item: 'i1', id: `c-${j}` }));
    const results = await Promise.all(posts);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(s.log.events).toHaveLength(40);
    expect(fsyncs).toBeLessThan(10);
    await s.close();
  });
});

describe('bad events are refused whole, naming the field', () => {
  let s: Service;
  beforeAll(async () => (s = await start(ials)));
  afterAll(() => s.close());

  it.each([
    ['{bad json', 400, /not valid JSON/],
    [{ item: 'i1' }, 400, /body\/0 must have the field "user"/],
    [{ user: 'u1', item: 'i1', value: 'three' }, 400, /body\/0\/value must be number/],
    [{ user: 'u1', item: 'i1', value: true }, 400, /body\/0\/value must be number/],
    [{ user: { x: 1 }, item: 'i1' }, 400, /body\/0\/user must be a string or a number/],
    [{ user: 'u1', item: 'i1', time: -1 }, 400, /body\/0\/time must be >= 0/],
    [{ user: 'u1', item: 'i1', extra: 1 }, 400, /body\/0 has an unknown field "extra"/],
    [[{ user: 'u1', item: 'i1' }, { user: 'u1' }], 400, /body\/1 must have the field "item"/],
    [[], 400, /body must NOT have fewer than 1 items/],
    ['"just a string"', 400, /body must be array/],
    [Array.from({ length: LIMITS.maxEvents + 1 }, () => ({ user: 'u', item: 'i1' })), 400, /body must NOT have more than 1000 items/],
  ])('case %# → %i', async (payload, status, message) => {
    const r = await post(s, '/v1/events', payload);
    expect(r.status).toBe(status);
    expect(r.body.message).toMatch(message);
    expect(s.log.events).toHaveLength(0);
  });

  it('an oversized body is 413 and a non-JSON content type 415', async () => {
    const big = JSON.stringify([{ user: 'u', item: 'x'.repeat(LIMITS.bodyLimit) }]);
    const r = await s.app.inject({ method: 'POST', url: '/v1/events', payload: big, headers: { 'content-type': 'application/json' } });
    expect(r.statusCode).toBe(413);
    expect(r.json().message).toMatch(/larger than the limit/);
    const t = await s.app.inject({ method: 'POST', url: '/v1/events', payload: 'user=u', headers: { 'content-type': 'application/xml' } });
    expect(t.statusCode).toBe(415);
    expect(s.log.events).toHaveLength(0);
  });
});

describe('similar items and history', () => {
  let s: Service;
  beforeAll(async () => (s = await start(ials)));
  afterAll(() => s.close());

  it('similar items in external ids, the item itself left out; unknown item 404', async () => {
    const { status, body } = await get(s, '/v1/similar?item=i1&k=4');
    expect(status).toBe(200);
    expect(body.item).toBe('i1');
    expect(items(body)).toHaveLength(4);
    expect(items(body).map((x) => x.item)).not.toContain('i1');
    expect(items(body).every((x) => x.source === 'similar')).toBe(true);
    const missing = await get(s, '/v1/similar?item=zzz');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/querystring\/item: item "zzz" is unknown/);
  });

  it('history lists the training items; an unknown user without events is 404', async () => {
    const { body } = await get(s, '/v1/users/u4/history');
    const train = blockData();
    expect(body).toMatchObject({ user: 'u4', trained: true, events: [] });
    expect((body.training as { item: string }[]).map((x) => x.item).sort()).toEqual(Array.from(train.userItems(4), (i) => `i${i}`).sort());
    const missing = await get(s, '/v1/users/nobody/history');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/params\/user: user "nobody" is unknown/);
  });
});

describe('reload', () => {
  it('swaps atomically under concurrent requests and keeps the old model when the new directory is bad', async () => {
    const s = await start(ials);
    const bad = join(await tempDir(), 'bad');
    await cp(ease, bad, { recursive: true });
    await writeFile(join(bad, 'model.json'), '{ "truncated": ');
    const failed = await post(s, '/v1/admin/reload', { model: bad });
    expect(failed.status).toBe(422);
    expect(failed.body.message).toMatch(/reload failed, still serving ials@/);
    expect((await get(s, '/readyz')).body.model).toMatch(/^ials@/);
    const missing = await post(s, '/v1/admin/reload', { model: join(bad, 'nope') });
    expect(missing.status).toBe(422);

    // requests during the swap all succeed, each answered wholly by one model
    const during = Array.from({ length: 30 }, () => get(s, '/v1/recommendations?user=u1&k=3'));
    const swap = post(s, '/v1/admin/reload', { model: ease });
    const after = Array.from({ length: 30 }, () => get(s, '/v1/recommendations?user=u1&k=3'));
    const all = await Promise.all([...during, ...after]);
    const swapped = await swap;
    expect(swapped.status).toBe(200);
    expect(swapped.body).toMatchObject({ model: 'ease', generation: 2 });
    expect(all.every((r) => r.status === 200)).toBe(true);
    for (const r of all) expect(['ials', 'ease']).toContain(r.body.model);
    // each response is wholly one model's: its version names the same model type
    for (const r of all) expect(String(r.body.version).startsWith(`${String(r.body.model)}@`)).toBe(true);
    const now = await get(s, '/v1/recommendations?user=u1&k=3');
    expect(now.body.model).toBe('ease');
    await s.close();
    await rm(bad, { recursive: true, force: true });
  });
});

describe('event log compaction', () => {
  it('archives events through a seq: their users stop folding them in, later events stay, a restart keeps it', async () => {
    const dataDir = await tempDir();
    const s = await buildService({ model: ials, dataDir });
    await post(s, '/v1/events', [{ user: 'u0', item: 'i1' }, { user: 'newbie', item: 'i3' }, { user: 'u0', item: 'i5' }]);
    expect((await get(s, '/v1/recommendations?user=u0&k=3')).body.basis).toBe('fold-in');
    expect(await get(s, '/readyz')).toMatchObject({ body: { events: 3, lastSeq: 3, archivedThrough: 0 } });
    const bad = await post(s, '/v1/admin/compact', { through: 4 });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toMatch(/body\/through: 4 is past the last stored event \(seq 3\)/);
    expect((await post(s, '/v1/admin/compact', {})).status).toBe(400);
    expect((await post(s, '/v1/admin/compact', { through: 'x' })).body.message).toMatch(/body\/through must be integer/);
    const r = await post(s, '/v1/admin/compact', { through: 2 });
    expect(r).toMatchObject({ status: 200, body: { archivedThrough: 2, archived: 2, live: 1, archive: expect.stringMatching(/archive\/events-000000000001-000000000002\.log$/) } });
    expect((await get(s, '/v1/users/u0/history')).body.events).toEqual([expect.objectContaining({ seq: 3, item: 'i5' })]);
    // newbie's only event is archived: unknown again, served by the fallback.
    expect((await get(s, '/v1/users/newbie/history')).status).toBe(404);
    expect((await get(s, '/v1/recommendations?user=newbie&k=3')).body.basis).toBe('fallback');
    expect((await get(s, '/readyz')).body).toMatchObject({ events: 1, lastSeq: 3, archivedThrough: 2 });
    const metrics = (await s.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^recsys_event_log_compactions_total 1$/m);
    expect(metrics).toMatch(/^recsys_event_log_archived_through 2$/m);
    await s.close();
    const again = await buildService({ model: ials, dataDir });
    expect((await get(again, '/readyz')).body).toMatchObject({ events: 1, lastSeq: 3, archivedThrough: 2 });
    expect((await post(again, '/v1/events', { user: 'u0', item: 'i7' })).body.events).toEqual([{ seq: 4, id: null, duplicate: false }]);
    await again.close();
  });
});

describe('health, metrics, OpenAPI', () => {
  let s: Service;
  beforeAll(async () => (s = await start(ials)));
  afterAll(() => s.close());

  it('healthz and readyz', async () => {
    expect((await get(s, '/healthz')).body).toEqual({ status: 'ok' });
    expect((await get(s, '/readyz')).body).toMatchObject({ status: 'ready', events: 0, retrieval: 'exact' });
  });

  it('metrics parse as Prometheus text with per-route counts and histograms', async () => {
    await get(s, '/v1/recommendations?user=u1&k=2');
    await get(s, '/v1/recommendations?user=u1&k=0');
    await post(s, '/v1/events', { user: 'u1', item: 'i2' });
    const r = await s.app.inject({ url: '/metrics' });
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = new Map<string, number>();
    for (const line of r.body.split('\n')) {
      if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line);
      expect(m, line).not.toBeNull();
      if (m) samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
    }
    expect(samples.get('recsys_http_requests_total{method="GET",route="/v1/recommendations",status="200"}')).toBe(1);
    expect(samples.get('recsys_http_requests_total{method="GET",route="/v1/recommendations",status="400"}')).toBe(1);
    expect(samples.get('recsys_http_request_duration_seconds_count{method="GET",route="/v1/recommendations"}')).toBe(2);
    expect(samples.get('recsys_http_request_duration_seconds_bucket{method="GET",route="/v1/recommendations",le="+Inf"}')).toBe(2);
    expect(samples.get('recsys_events_accepted_total')).toBe(1);
    expect(samples.get('recsys_event_log_fsyncs_total')).toBe(1);
    expect([...samples.keys()].some((k) => k.startsWith('recsys_model_info{type="ials"'))).toBe(true);
  });

  it('the OpenAPI document lists every route with its parameters', async () => {
    const doc = (await get(s, '/openapi.json')).body as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown }>> };
    expect(doc.openapi).toBe('3.1.0');
    const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const registered = s.app.printRoutes({ commonPrefix: false });
    expect(listed).toEqual(
      ['GET /v1/recommendations', 'GET /v1/similar', 'GET /v1/items', 'POST /v1/events', 'GET /v1/users/{user}/history', 'POST /v1/admin/reload', 'POST /v1/admin/compact', 'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json'].sort(),
    );
    expect(registered).toContain('history');
    expect(doc.paths['/v1/recommendations'].get.parameters?.map((p) => p.name)).toEqual(['user', 'k', 'exclude', 'explore', 'temperature', 'sigma', 'leastViewed', 'maxViews', 'seed', 'stages']);
    expect(doc.paths['/v1/users/{user}/history'].get.parameters).toEqual([expect.objectContaining({ name: 'user', in: 'path', required: true })]);
    expect(doc.paths['/v1/events'].post.requestBody).toBeDefined();
  });
});
