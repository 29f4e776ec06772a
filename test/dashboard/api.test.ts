/** The dashboard's server side: static files (types, 404, no traversal) and the /api routes, through fastify's inject. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { loadDataset } from '../../src/data/datasets/registry.js';
import { parseResults } from '../../src/eval/results-file.js';
import { createModel } from '../../src/models/index.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { buildDashboard } from '../../src/serve/dashboard.js';
import { pca2 } from '../../src/serve/dashboard-data.js';
import { blockData, savedModel, tempDir } from '../serve/fixtures.js';
import { dashboardData, dashboardModel, dashboardService, RESULT_MODELS, writeResults } from './fixtures.js';

let root: string;
let model: string;
let results: string;
let ui: string;
let ds: LoadedDataset;

/** A fake UI build: index.html, three assets, and files outside assets/ that must never be served. */
async function fakeUi(dir: string): Promise<void> {
  await mkdir(join(dir, 'assets', 'sub'), { recursive: true });
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title><div id="app"></div>');
  await writeFile(join(dir, 'assets', 'app-1.js'), 'console.log(1);');
  await writeFile(join(dir, 'assets', 'app-1.css'), 'body{}');
  await writeFile(join(dir, 'assets', 'sub', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(dir, 'secret.txt'), 'SECRET-INSIDE-UI');
  await writeFile(join(dir, '..', 'secret.txt'), 'SECRET-OUTSIDE-UI');
}

beforeAll(async () => {
  root = await tempDir('recsys-dash-api-');
  model = await dashboardModel(root);
  results = join(root, 'out');
  await writeResults(results);
  ui = join(root, 'ui');
  await fakeUi(ui);
  ds = dashboardData();
});

async function json(s: Service, url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await s.app.inject({ url });
  return { status: r.statusCode, body: r.json() as Record<string, unknown> };
}

describe('static files', () => {
  let s: Service;
  beforeAll(async () => (s = await dashboardService(model, results, { uiDir: ui })));
  afterAll(async () => s.close());

  it('serves index.html at / and the assets with their content types', async () => {
    const index = await s.app.inject({ url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.body).toContain('<div id="app">');
    const cases: Array<[string, string, string]> = [
      ['/assets/app-1.js', 'text/javascript; charset=utf-8', 'console.log(1);'],
      ['/assets/app-1.css', 'text/css; charset=utf-8', 'body{}'],
      ['/assets/sub/logo.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"/>'],
    ];
    for (const [url, type, body] of cases) {
      const r = await s.app.inject({ url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toBe(type);
      expect(r.headers['content-length'], url).toBe(String(Buffer.byteLength(body)));
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.body).toBe(body);
    }
  });

  it('answers 404 for missing files and for every path that leaves assets/', async () => {
    const urls = [
      '/assets/nope.js',
      '/assets/',
      '/assets/sub',
      '/assets/%2e%2e/secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/..%5csecret.txt',
      '/assets/sub/%2e%2e/%2e%2e/secret.txt',
      '/assets/%2fetc%2fpasswd',
      '/assets//etc/passwd',
      '/assets/app-1.js%00.png',
      '/secret.txt',
    ];
    for (const url of urls) {
      const r = await s.app.inject({ url });
      expect(r.statusCode, url).toBe(404);
      expect(r.body, url).not.toContain('SECRET');
      expect(r.body, url).not.toContain('root:');
    }
  });

  it('without a build, / answers 503 saying how to build the UI', async () => {
    const t = await dashboardService(model, results, { uiDir: join(root, 'no-ui') });
    try {
      const r = await t.app.inject({ url: '/' });
      expect(r.statusCode).toBe(503);
      expect(r.body).toContain('npm run build:ui');
    } finally {
      await t.close();
    }
  });

  it('a service without the dashboard option has no / route (existing behaviour)', async () => {
    const t = await buildService({ model, dataDir: await tempDir() });
    try {
      expect((await t.app.inject({ url: '/' })).statusCode).toBe(404);
      expect((await t.app.inject({ url: '/api/info' })).statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('/api routes', () => {
  let s: Service;
  beforeAll(async () => (s = await dashboardService(model, results, { uiDir: ui })));
  afterAll(async () => s.close());

  it('/api/info names the model at once, and the data set once it is loaded', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = await dashboardService(model, results, { uiDir: ui, dataset: async () => (await gate, ds) });
    try {
      const early = await json(slow, '/api/info');
      expect(early.body).toMatchObject({ mode: 'service', model: { type: 'ials' }, dataset: null });
      release();
      await json(slow, '/api/eda');
      expect((await json(slow, '/api/info')).body.dataset).toMatchObject({ name: 'synthetic' });
    } finally {
      await slow.close();
    }
    await json(s, '/api/eda');
    const { status, body } = await json(s, '/api/info');
    expect(status).toBe(200);
    expect(body).toMatchObject({ mode: 'service', model: { type: 'ials', users: 80, items: 50, similar: true, foldIn: true }, dataset: { name: 'synthetic', hasTimestamps: true, note: null }, resultsDir: results });
  });

  it('/api/eda: the statistics of the served data set, its Vega-Lite charts, and a time window', async () => {
    const all = await json(s, '/api/eda');
    expect(all.status).toBe(200);
    const stats = all.body.stats as { overview: { interactions: number; users: number }; cleaning: { rowsKept: number } };
    expect(stats.overview.interactions).toBe(ds.interactions.nnz);
    expect(stats.cleaning.rowsKept).toBe(ds.report.rowsKept);
    const charts = all.body.charts as Record<string, { $schema: string }>;
    expect(Object.keys(charts)).toEqual(expect.arrayContaining(['popularity', 'userActivity', 'itemPopularity', 'popularVsNiche', 'sparsity', 'values', 'hour', 'weekday']));
    expect(charts.popularity.$schema).toContain('vega-lite');
    // The window [from, to): counted by hand from the timestamps.
    const ts = ds.interactions.timestamps;
    if (!ts) throw new Error('no timestamps');
    const sorted = Float64Array.from(ts).sort();
    const from = sorted[Math.floor(sorted.length / 4)];
    const to = sorted[Math.floor((3 * sorted.length) / 4)];
    const expected = Array.from(ts).filter((t) => t >= from && t < to).length;
    const win = await json(s, `/api/eda?from=${from}&to=${to}`);
    expect(win.status).toBe(200);
    expect((win.body.stats as typeof stats).overview.interactions).toBe(expected);
    expect(win.body.window).toEqual({ from, to });
    expect(expected).toBeLessThan(ds.interactions.nnz);
    const bad = await json(s, `/api/eda?from=${to}&to=${from}`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('from must be before');
    const empty = await json(s, '/api/eda?from=1&to=2');
    expect(empty.status).toBe(400);
    expect(empty.body.message).toContain('removes all');
    expect((await json(s, '/api/eda?from=abc')).status).toBe(400);
  });

  it('/api/eda falls back to the training matrix when the model records no data set, and says so', async () => {
    const t = await buildService({ model, dataDir: await tempDir(), dashboard: { resultsDir: results, uiDir: ui } });
    try {
      const r = await json(t, '/api/eda');
      expect(r.status).toBe(200);
      expect((r.body.dataset as { note: string }).note).toContain('records no data set');
      expect((r.body.stats as { overview: { interactions: number } }).overview.interactions).toBe(ds.interactions.nnz);
      const info = await json(t, '/api/items?ids=7');
      expect((info.body.items as Array<{ title?: string; popularity: number }>)[0]).toEqual({ id: 7, known: true, popularity: ds.interactions.itemCounts()[ds.interactions.items.indexOf(7)], categories: [] });
    } finally {
      await t.close();
    }
  });

  it('/api/eda loads the registry data set the model records, filtered as it was trained', async () => {
    const m = createModel('popularity', {});
    await m.fit(blockData());
    m.provenance = { dataset: 'kuairec-sample', minValue: 2 };
    const dir = join(root, 'pop-kuairec');
    if (!m.save) throw new Error('cannot save');
    await m.save(dir);
    const t = await buildService({ model: dir, dataDir: await tempDir(), dashboard: { resultsDir: results, uiDir: ui } });
    try {
      const r = await json(t, '/api/eda');
      expect(r.status).toBe(200);
      const kuairec = await loadDataset('kuairec-sample');
      const kept = Array.from(kuairec.interactions.values).filter((v) => v >= 2).length;
      expect(r.body.dataset).toMatchObject({ name: 'kuairec-sample', note: null });
      expect((r.body.dataset as { description: string }).description).toContain('(as trained: value >= 2)');
      expect((r.body.stats as { overview: { interactions: number } }).overview.interactions).toBe(kept);
      expect(kept).toBeLessThan(kuairec.interactions.nnz);
    } finally {
      await t.close();
    }
  });

  it('/api/results: the runs of the results directory; other JSON files are listed as skipped with the reason', async () => {
    await writeFile(join(results, 'notes.json'), '{"hello": 1}');
    await writeFile(join(results, 'broken.json'), '{');
    try {
      const { status, body } = await json(s, '/api/results');
      expect(status).toBe(200);
      const runs = body.runs as Array<{ file: string; results: { models: Array<{ label: string; metrics: Record<string, { mean: number | null }> }>; comparisons: unknown[] } }>;
      expect(runs.map((r) => r.file)).toEqual(['run.json']);
      expect(runs[0].results.models.map((m) => m.label)).toEqual(RESULT_MODELS);
      // Paired tests for the per-user metrics (ndcg, recall), not for the global coverage.
      expect(runs[0].results.comparisons.length).toBe((RESULT_MODELS.length - 1) * 2);
      const skipped = body.skipped as Array<{ file: string; reason: string }>;
      expect(skipped.map((x) => x.file).sort()).toEqual(['broken.json', 'notes.json']);
      expect(skipped.find((x) => x.file === 'broken.json')?.reason).toMatch(/^broken\.json: not JSON/);
      expect(skipped.find((x) => x.file === 'notes.json')?.reason).toMatch(/^notes\.json: not experiment results: field "name"/);
    } finally {
      const { rm } = await import('node:fs/promises');
      await rm(join(results, 'notes.json'));
      await rm(join(results, 'broken.json'));
    }
  });

  it('/api/items: metadata from the data set by id, search by id or title, most popular first', async () => {
    const { body } = await json(s, '/api/items?ids=7,nope,3');
    const items = body.items as Array<{ id: number | string; known: boolean; title?: string; categories: string[]; popularity: number }>;
    const f = ds.itemFeatures;
    if (!f) throw new Error('no features');
    const j = ds.interactions.items.indexOf(7);
    const tags = f.multiHot.tags;
    expect(items[0]).toEqual({ id: 7, known: true, title: 'Item 7', categories: Array.from(tags.idx.subarray(tags.ptr[j], tags.ptr[j + 1]), (t) => tags.names[t]), popularity: ds.interactions.itemCounts()[j] });
    expect(items[1]).toEqual({ id: 'nope', known: false, popularity: 0, categories: [] });
    expect(items[2].id).toBe(3);
    const search = (await json(s, '/api/items?q=item%204&limit=50')).body.items as typeof items;
    expect(search.map((x) => x.id).sort((a, b) => Number(a) - Number(b))).toEqual([4, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
    const pops = search.map((x) => x.popularity);
    expect(pops).toEqual([...pops].sort((a, b) => b - a));
    expect((await json(s, '/api/items?limit=5')).body.items).toHaveLength(5);
  });

  it('/api/users: users whose id contains the query, then users known only from events', async () => {
    const r = (await json(s, '/api/users?q=7&limit=100')).body.users as Array<{ id: number | string; trained: boolean; items: number }>;
    expect(r.map((u) => u.id)).toEqual([7, 17, 27, 37, 47, 57, 67, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79]);
    expect(r[0]).toEqual({ id: 7, trained: true, items: ds.interactions.userCounts()[ds.interactions.users.indexOf(7)] });
    await s.app.inject({ method: 'POST', url: '/v1/events', payload: { user: 'newbie-7', item: 3 } });
    const after = (await json(s, '/api/users?q=newbie')).body.users;
    expect(after).toEqual([{ id: 'newbie-7', trained: false, items: 0 }]);
    expect(((await json(s, '/api/users?limit=3')).body.users as unknown[]).length).toBe(3);
  });

  it('/api/embedding: a PCA map of the item vectors, most popular items first; 422 for a model without vectors', async () => {
    const { status, body } = await json(s, '/api/embedding?limit=10');
    expect(status).toBe(200);
    expect(body).toMatchObject({ model: 'ials', dims: 4, items: 50 });
    const points = body.points as Array<{ id: number; x: number; y: number; popularity: number; category: string; title: string }>;
    expect(points).toHaveLength(10);
    expect(points.map((p) => p.popularity)).toEqual([...points.map((p) => p.popularity)].sort((a, b) => b - a));
    expect(points.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.title === `Item ${p.id}`)).toBe(true);
    const explained = body.explained as [number, number];
    expect(explained[0]).toBeGreaterThanOrEqual(explained[1]);
    expect(explained[0] + explained[1]).toBeLessThanOrEqual(1 + 1e-9);
    const ease = await savedModel('ease', { reg: 5 }, root);
    const t = await buildService({ model: ease, dataDir: await tempDir(), dashboard: { resultsDir: results, uiDir: ui } });
    try {
      const r = await json(t, '/api/embedding');
      expect(r.status).toBe(422);
      expect(r.body.message).toContain('has no item vectors');
    } finally {
      await t.close();
    }
  });
});

describe('pca2', () => {
  it('recovers the two axes of a planted 3-D cloud, with the variance shares', () => {
    // Rows t·a + s·b with orthonormal a, b (so the components are exactly t and s, centred), var(t) ≫ var(s).
    const a = [1 / Math.sqrt(2), 1 / Math.sqrt(2), 0];
    const b = [0, 0, 1];
    const t = [-3, -1, 0, 1, 3, -2, 2];
    const s = [0.3, -0.3, 0, -0.3, 0.3, 0, 0]; // centred and orthogonal to t, so the sample covariance is diagonal in (a, b)
    const data = new Float32Array(t.length * 3);
    for (let r = 0; r < t.length; r++) for (let c = 0; c < 3; c++) data[r * 3 + c] = t[r] * a[c] + s[r] * b[c] + 10; // offset: centring matters
    const p = pca2({ rows: t.length, cols: 3, data });
    const sign = (u: ArrayLike<number>, v: number[]): number => Math.sign(Array.from(u).reduce((acc, x, k) => acc + x * v[k], 0));
    const sx = sign(p.x, t);
    const sy = sign(p.y, s);
    for (let r = 0; r < t.length; r++) {
      expect(p.x[r] * sx).toBeCloseTo(t[r], 4);
      expect(p.y[r] * sy).toBeCloseTo(s[r], 4);
    }
    const vt = t.reduce((acc, x) => acc + x * x, 0);
    const vs = s.reduce((acc, x) => acc + x * x, 0);
    expect(p.explained[0]).toBeCloseTo(vt / (vt + vs), 5);
    expect(p.explained[1]).toBeCloseTo(vs / (vt + vs), 5);
  });
});

describe('parseResults', () => {
  it('turns the nulls the runner writes for NaN back into NaN and names the wrong field', async () => {
    const text = (await import('node:fs/promises')).readFile(join(results, 'run.json'), 'utf8');
    const raw = JSON.parse(await text) as { models: Array<{ metrics: Record<string, { ci95: [number | null, number | null] }> }> };
    const metric = Object.keys(raw.models[0].metrics)[0];
    raw.models[0].metrics[metric].ci95 = [null, null];
    const r = parseResults(JSON.stringify(raw), 'x.json');
    expect(r.models[0].metrics[metric].ci95.every(Number.isNaN)).toBe(true);
    raw.models[0].metrics[metric].ci95 = [1, 'high' as unknown as number];
    expect(() => parseResults(JSON.stringify(raw), 'x.json')).toThrow(`x.json: not experiment results: field "models.0.metrics.${metric}.ci95.1"`);
  });
});

describe('recsys dashboard (results only)', () => {
  it('serves the results and the UI, and refuses the model routes naming `recsys serve`', async () => {
    const app = await buildDashboard({ resultsDir: results, uiDir: ui });
    try {
      expect((await app.inject({ url: '/api/info' })).json()).toEqual({ mode: 'results', model: null, dataset: null, resultsDir: results });
      expect(((await app.inject({ url: '/api/results' })).json() as { runs: unknown[] }).runs).toHaveLength(1);
      expect((await app.inject({ url: '/' })).headers['content-type']).toBe('text/html; charset=utf-8');
      const r = await app.inject({ url: '/v1/recommendations?user=1' });
      expect(r.statusCode).toBe(404);
      expect(r.body).toContain('recsys serve --model DIR');
      expect((await app.inject({ url: '/assets/%2e%2e/secret.txt' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
