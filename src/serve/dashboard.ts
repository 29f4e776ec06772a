/**
 * The web dashboard: the single-page app built into `dist/ui` (see ui/ and docs/dashboard.md), served at `/`,
 * and the JSON it needs that the /v1 API does not give, under `/api`:
 * - `/api/info`: what is being served (model, data set, results directory);
 * - `/api/eda`: the EDA statistics of the served data set with the Vega-Lite specs of src/report, optionally
 *   over a time window;
 * - `/api/results`: the experiment results (`recsys experiment --format json -o out/NAME.json`) in a directory;
 * - `/api/items`, `/api/users`: item metadata and user/item search;
 * - `/api/embedding`: a 2-D PCA map of the model's item vectors.
 * `recsys serve` registers it on the service ({@link registerDashboard}); `recsys dashboard` serves the results
 * pages alone, without a model ({@link buildDashboard}).
 */
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { TopLevelSpec } from 'vega-lite';
import type { LoadedDataset } from '../data/dataset.js';
import { applyFilters } from '../data/filters.js';
import { repoRoot } from '../data/paths.js';
import { listResults } from '../eval/results-file.js';
import { vectorSpaceOf } from '../pipeline/vectors.js';
import { activityHistogramChart, hourChart, periodChart, popularityCurveChart, popularVsNicheChart, sparsityHeatmapChart, valueDistributionChart, weekdayChart } from '../report/charts.js';
import { computeEda, type EdaStats } from '../report/eda.js';
import { valueTitle } from '../report/eda-report.js';
import { suggestedTimeZone } from '../report/time.js';
import type { EventStore } from './event-log.js';
import type { RouteSchema } from './openapi.js';
import { itemMetadata, pca2, trainingDataset, type ItemMeta } from './dashboard-data.js';
import { lookupId, type ModelSlot, type ServedModel } from './served-model.js';

/** Options of the dashboard. */
export interface DashboardOptions {
  /** Directory of experiment results (default `out` in the working directory). */
  resultsDir?: string;
  /** The built UI (default `dist/ui` of the package). */
  uiDir?: string;
  /**
   * The data set of the served model (default: the registry data set its provenance names, loaded once per
   * model; the training matrix when it names none or the load fails). null: the training matrix.
   */
  dataset?: (served: ServedModel) => Promise<LoadedDataset | null>;
}

/** What the dashboard reads from the service. */
export interface DashboardService {
  slot: ModelSlot;
  log: EventStore;
}

/** The UI build directory of the package. */
export function defaultUiDir(): string {
  return join(repoRoot(), 'dist', 'ui');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const error = { type: 'object', properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } }, required: ['statusCode', 'error', 'message'] };
const anyObject = { type: 'object', additionalProperties: true };
const tags = ['dashboard'];

const schemas = {
  info: { summary: 'dashboard: what is served (model, data set, results directory)', tags, response: { 200: anyObject } },
  eda: {
    summary: 'dashboard: EDA statistics and Vega-Lite charts of the served data set',
    description: 'With from/to (Unix seconds): only the events in [from, to).',
    tags,
    querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'number' }, to: { type: 'number' } } },
    response: { 200: anyObject, 400: error, 503: error },
  },
  results: { summary: 'dashboard: experiment results found in the results directory', tags, response: { 200: anyObject } },
  items: {
    summary: 'dashboard: item metadata by ids, or items whose id or title contains q',
    tags,
    querystring: { type: 'object', additionalProperties: false, properties: { ids: { type: 'string', maxLength: 300_000 }, q: { type: 'string', maxLength: 256 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 } } },
    response: { 200: anyObject, 400: error, 503: error },
  },
  users: {
    summary: 'dashboard: users whose id contains q (trained users and users with events)',
    tags,
    querystring: { type: 'object', additionalProperties: false, properties: { q: { type: 'string', maxLength: 256, default: '' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 } } },
    response: { 200: anyObject, 503: error },
  },
  embedding: {
    summary: "dashboard: 2-D PCA map of the model's item vectors",
    description: 'The most popular `limit` items; 422 when the model has no item vectors.',
    tags,
    querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 20000, default: 3000 } } },
    response: { 200: anyObject, 422: error, 503: error },
  },
} satisfies Record<string, RouteSchema>;

const pageSchema: RouteSchema = { summary: 'the dashboard (single-page app; see docs/dashboard.md)', tags, response: { 200: { type: 'string', 'x-content-type': 'text/html' } } };

/** The Vega-Lite specs of the EDA charts (src/report builders), by name. */
export function edaCharts(stats: EdaStats): Record<string, TopLevelSpec> {
  const charts: Record<string, TopLevelSpec> = {
    // Scroll to zoom into the long tail, drag to pan (the report's static SVG cannot).
    popularity: { ...popularityCurveChart(stats.popularity.curve), params: [{ name: 'zoom', select: 'interval', bind: 'scales' }] },
    userActivity: activityHistogramChart(stats.userActivity.histogram, 'user'),
    itemPopularity: activityHistogramChart(stats.itemPopularity.histogram, 'item'),
    popularVsNiche: popularVsNicheChart(stats.popularVsNiche, stats.overview.activeItems),
    sparsity: sparsityHeatmapChart(stats.sparsity),
  };
  if (stats.values.summary.count > 0 && !(stats.values.kind === 'discrete' && stats.values.bins.length < 2)) charts.values = valueDistributionChart(stats.values, valueTitle(stats.dataset));
  const t = stats.time;
  if (t && t.events > 0) {
    charts.hour = hourChart(t.byHour, t.timeZone);
    charts.weekday = weekdayChart(t.byWeekday, t.timeZone);
    const period = t.byDay.length > 1 ? periodChart(t.byDay, 'day', t.timeZone) : t.byMonth.length > 1 ? periodChart(t.byMonth, 'month', t.timeZone) : null;
    // Over a time axis (more than 36 periods): a brush along x, which the Data page turns into a time range.
    if (period) charts[t.byDay.length > 1 ? 'day' : 'month'] = 'encoding' in period && period.encoding?.x && 'type' in period.encoding.x && period.encoding.x.type === 'temporal' ? { ...period, params: [{ name: 'brush', select: { type: 'interval', encodings: ['x'] } }] } : period;
  }
  return charts;
}

/** Serves `/` and `/assets/*` from `uiDir`; a missing build answers 503 with how to build it. */
function registerStatic(app: FastifyInstance, uiDir: string): void {
  const root = resolve(uiDir);
  const assets = join(root, 'assets');
  const sendFile = async (reply: FastifyReply, path: string, cache: string): Promise<FastifyReply> => {
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) return reply.status(404).type('application/json; charset=utf-8').send({ statusCode: 404, error: 'Not Found', message: 'no such file' });
    return reply
      .type(TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream')
      .header('content-length', info.size)
      .header('cache-control', cache)
      .header('x-content-type-options', 'nosniff')
      .send(createReadStream(path));
  };
  const index = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    const path = join(root, 'index.html');
    if (!existsSync(path)) {
      return reply.status(503).type('text/plain; charset=utf-8').send(`The dashboard is not built (no ${path}). Build it with \`npm run build:ui\`.\n`);
    }
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(await readFile(path));
  };
  app.get('/', { schema: pageSchema }, index);
  app.get('/index.html', index);
  app.get<{ Params: { '*': string } }>('/assets/*', async (req, reply) => {
    const name = req.params['*'];
    // Only plain relative names inside assets/: no "..", no absolute paths, no NUL, no backslashes.
    if (name === '' || name.includes('\0') || name.includes('\\') || name.split('/').some((part) => part === '..' || part === '.' || part === '')) {
      return reply.status(404).send({ statusCode: 404, error: 'Not Found', message: 'no such file' });
    }
    const path = resolve(assets, name);
    if (!path.startsWith(assets + sep)) return reply.status(404).send({ statusCode: 404, error: 'Not Found', message: 'no such file' });
    // Vite names assets by content hash: they never change under the same name.
    return sendFile(reply, path, 'public, max-age=31536000, immutable');
  });
}

/** Splits a comma-separated id list. */
function splitIds(text: string | undefined): string[] {
  return text ? text.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
}

/**
 * The registry data set a model's provenance names, with the training filters it records (`--min-value`,
 * `--binarize`) applied; null when it names none. Loaded lazily: the data layer brings DuckDB.
 */
async function provenanceDataset(served: ServedModel): Promise<LoadedDataset | null> {
  const p = served.manifest.provenance;
  if (typeof p.dataset !== 'string') return null;
  const path = typeof p.datasetPath === 'string' ? p.datasetPath : undefined;
  const { loadDataset } = await import('../data/datasets/registry.js');
  const ds = await loadDataset(p.dataset, path ? { path } : {});
  const minValue = typeof p.minValue === 'number' ? p.minValue : undefined;
  const binarize = p.binarize === true;
  if (minValue === undefined && !binarize) return ds;
  const filtered = applyFilters({ interactions: ds.interactions, eventColumns: ds.eventColumns }, { minValue, binarize });
  const how = [minValue !== undefined ? `value >= ${minValue}` : '', binarize ? 'binarized' : ''].filter((x) => x).join(', ');
  return { ...ds, ...filtered, description: `${ds.description} (as trained: ${how})` };
}

/** What is computed once per served model. */
interface ModelView {
  dataset: LoadedDataset;
  /** Why the registry data set is not used, when it is not. */
  datasetNote: string | null;
  meta: ItemMeta[];
  eda: EdaStats | null;
  embedding: Promise<{ dims: number; explained: [number, number]; x: Float64Array; y: Float64Array } | null> | null;
}

/** The results-only routes, shared by the service and `recsys dashboard`. */
function registerResults(app: FastifyInstance, resultsDir: string): void {
  app.get('/api/results', { schema: schemas.results }, async () => {
    const { runs, skipped } = await listResults(resultsDir);
    return { dir: resultsDir, runs, skipped };
  });
}

/** Registers the dashboard on the service's fastify app (before `app.ready()`). */
export function registerDashboard(app: FastifyInstance, service: DashboardService, options: DashboardOptions = {}): void {
  const resultsDir = resolve(options.resultsDir ?? 'out');
  const loadData = options.dataset ?? provenanceDataset;
  const views = new WeakMap<ServedModel, Promise<ModelView>>();

  const viewOf = (served: ServedModel): Promise<ModelView> => {
    let v = views.get(served);
    if (!v) {
      v = (async (): Promise<ModelView> => {
        let dataset: LoadedDataset | null = null;
        let datasetNote: string | null = null;
        try {
          dataset = await loadData(served);
          if (!dataset) datasetNote = 'the model records no data set: showing its training matrix';
        } catch (e) {
          datasetNote = `cannot load the model's data set (${(e as Error).message}): showing its training matrix`;
        }
        const ds = dataset ?? trainingDataset(served);
        return { dataset: ds, datasetNote, meta: itemMetadata(served, dataset ? { itemFeatures: dataset.itemFeatures, items: dataset.interactions.items } : null), eda: null, embedding: null };
      })();
      views.set(served, v);
      v.catch(() => views.delete(served));
    }
    return v;
  };

  registerStatic(app, options.uiDir ?? defaultUiDir());
  registerResults(app, resultsDir);

  // Answers at once: the data set (which may take seconds to load) is named only once it is loaded; the load starts here.
  app.get('/api/info', { schema: schemas.info }, async () => {
    const m = service.slot.served;
    const pending = viewOf(m);
    const view = await Promise.race([pending, new Promise<null>((r) => setImmediate(() => r(null)))]);
    return {
      mode: 'service',
      model: { type: m.manifest.modelType, version: m.version, generation: m.generation, users: m.users.size, items: m.items.size, similar: typeof m.model.similarItems === 'function', foldIn: typeof m.model.recommendForHistory === 'function' },
      dataset: view ? { name: view.dataset.name, description: view.dataset.description, note: view.datasetNote, hasTimestamps: view.dataset.interactions.timestamps !== null } : null,
      resultsDir,
    };
  });

  app.get<{ Querystring: { from?: number; to?: number } }>('/api/eda', { schema: schemas.eda }, async (req, reply) => {
    const { from, to } = req.query;
    const m = service.slot.served;
    const view = await viewOf(m);
    const ds = view.dataset;
    const timeZone = ds.info ? suggestedTimeZone(ds) : 'UTC';
    let stats: EdaStats;
    if (from === undefined && to === undefined) {
      view.eda ??= computeEda(ds, { timeZone });
      stats = view.eda;
    } else {
      if (!ds.interactions.timestamps) return reply.status(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/from: data set "${ds.name}" has no timestamps to filter by` });
      const lo = from ?? -Infinity;
      const hi = to ?? Infinity;
      if (!(lo < hi)) return reply.status(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/from must be before querystring/to (got ${from} and ${to})` });
      let filtered;
      try {
        filtered = applyFilters({ interactions: ds.interactions, eventColumns: ds.eventColumns }, { timeWindow: { from: lo, to: hi } });
      } catch (e) {
        return reply.status(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring: ${(e as Error).message}` });
      }
      stats = computeEda({ ...ds, ...filtered }, { timeZone });
    }
    return { dataset: { name: ds.name, description: ds.description, note: view.datasetNote }, window: from === undefined && to === undefined ? null : { from: from ?? null, to: to ?? null }, stats, charts: edaCharts(stats) };
  });

  app.get<{ Querystring: { ids?: string; q?: string; limit: number } }>('/api/items', { schema: schemas.items }, async (req, reply) => {
    const { ids, q, limit } = req.query;
    const m = service.slot.served;
    const { meta } = await viewOf(m);
    if (ids !== undefined) {
      const list = splitIds(ids);
      if (list.length > 10_000) return reply.status(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/ids lists ${list.length} items; at most 10000` });
      return { items: list.map((id) => {
        const i = lookupId(m.items, id);
        return i >= 0 ? { ...meta[i], known: true } : { id, known: false, popularity: 0, categories: [] };
      }) };
    }
    const needle = (q ?? '').trim().toLowerCase();
    const hits: ItemMeta[] = [];
    // Most popular first, so that a short query lists the items one is likely looking for.
    for (let j = 0; j < m.popular.length && hits.length < limit; j++) {
      const it = meta[m.popular[j]];
      if (needle === '' || String(it.id).toLowerCase().includes(needle) || (it.title ?? '').toLowerCase().includes(needle)) hits.push(it);
    }
    return { items: hits.map((h) => ({ ...h, known: true })) };
  });

  app.get<{ Querystring: { q: string; limit: number } }>('/api/users', { schema: schemas.users }, async (req) => {
    const { q, limit } = req.query;
    const m = service.slot.served;
    const needle = q.trim().toLowerCase();
    const counts = m.train.userCounts();
    const seen = new Set<string>();
    const users: Array<{ id: string | number; trained: boolean; items: number }> = [];
    const exact = needle === '' ? -1 : lookupId(m.users, q.trim());
    if (exact >= 0) {
      users.push({ id: m.users.idOf(exact), trained: true, items: counts[exact] });
      seen.add(String(m.users.idOf(exact)));
    }
    for (let u = 0; u < m.users.size && users.length < limit; u++) {
      const id = m.users.idOf(u);
      if (seen.has(String(id)) || (needle !== '' && !String(id).toLowerCase().includes(needle))) continue;
      seen.add(String(id));
      users.push({ id, trained: true, items: counts[u] });
    }
    for (let e = service.log.events.length - 1; e >= 0 && users.length < limit; e--) {
      const id = service.log.events[e].user;
      if (seen.has(String(id)) || (needle !== '' && !String(id).toLowerCase().includes(needle))) continue;
      seen.add(String(id));
      users.push({ id, trained: false, items: 0 });
    }
    return { users };
  });

  app.get<{ Querystring: { limit: number } }>('/api/embedding', { schema: schemas.embedding }, async (req, reply) => {
    const { limit } = req.query;
    const { served: m, release } = service.slot.acquire();
    try {
      const view = await viewOf(m);
      view.embedding ??= (async () => {
        const space = await vectorSpaceOf(m.model);
        if (!space) return null;
        const rows = space.items.rows;
        const cols = space.items.cols;
        const data = Float32Array.from(space.items.data.subarray(0, rows * cols));
        const p = pca2({ rows, cols, data });
        return { dims: cols, explained: p.explained, x: p.x, y: p.y };
      })();
      const e = await view.embedding;
      if (!e) return reply.status(422).send({ statusCode: 422, error: 'Unprocessable Entity', message: `model "${m.manifest.modelType}" has no item vectors to map (factor models such as ials, bpr or two-tower have)` });
      const { x, y } = e;
      const points = [];
      for (let j = 0; j < m.popular.length && points.length < limit; j++) {
        const i = m.popular[j];
        const it = view.meta[i];
        points.push({ id: it.id, x: Number(x[i].toPrecision(5)), y: Number(y[i].toPrecision(5)), category: it.categories[0] ?? '(none)', title: it.title ?? null, popularity: it.popularity });
      }
      return { model: m.manifest.modelType, version: m.version, dims: e.dims, explained: e.explained, items: m.items.size, points };
    } finally {
      release();
    }
  });
}

/** `recsys dashboard`: the dashboard over a results directory, without a model (the model pages say so). */
export async function buildDashboard(options: DashboardOptions & { logger?: FastifyServerOptions['logger'] } = {}): Promise<FastifyInstance> {
  const resultsDir = resolve(options.resultsDir ?? 'out');
  const app = Fastify({ logger: options.logger ?? false });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]} (this is \`recsys dashboard\`: experiment results only; \`recsys serve --model DIR\` serves the model pages)` });
  });
  registerStatic(app, options.uiDir ?? defaultUiDir());
  registerResults(app, resultsDir);
  app.get('/api/info', async () => ({ mode: 'results', model: null, dataset: null, resultsDir }));
  await app.ready();
  return app;
}
