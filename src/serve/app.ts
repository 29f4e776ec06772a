/**
 * The HTTP service (`recsys serve`): a fastify application over a {@link ModelSlot} (the model in service,
 * swapped atomically by `/v1/admin/reload`), the durable event store ({@link EventStore}: events acknowledged only once
 * fsync'd; each user's events are applied to their next recommendations at once) and a
 * {@link RecommendSource} (the one door to recommendations). Every request is validated against the route's
 * JSON schema; user input never causes a 5xx: validation errors are 400 with the field named, unknown ids 404,
 * oversized bodies 413. `/openapi.json` is generated from the same schemas, `/metrics` is Prometheus text.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { FileHandle } from 'node:fs/promises';
import type { Progress } from '../core/progress.js';
import type { ExternalId } from '../data/id-map.js';
import { registerDashboard, type DashboardOptions } from './dashboard.js';
import type { EventInput, EventStore, LoggedEvent } from './event-log.js';
import { openEventStore } from './event-store.js';
import { Metrics } from './metrics.js';
import { openApiDocument, type JsonSchema, type RouteDoc, type RouteSchema } from './openapi.js';
import { pipelineSource, type ExploreQuery, type RecommendSource, type Recommendations, type ScoredItem } from './recommend-source.js';
import { EXPLORE_STRATEGIES, parseStrategy, type ExploreStrategy } from '../pipeline/index.js';
import { compactSchema, eventsSchema, healthSchema, historySchema, itemsSchema, LIMITS, metricsSchema, openApiSchema, readySchema, recommendationsSchema, reloadSchema, similarSchema } from './schemas.js';
import { loadServedModel, lookupId, ModelSlot, userKey, type ServedModel, type ServePipelineOptions } from './served-model.js';

/** A refusal with its HTTP status (4xx) and a message naming the field. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** What {@link buildService} needs. */
export interface ServiceOptions {
  /** Model directory, or a model already loaded. */
  model: string | ServedModel;
  /** Directory of the event log (created when missing), or a `postgres://` URL of the event table replicas share. */
  dataDir: string;
  /** Where recommendations come from (default: the model's pipeline). */
  source?: RecommendSource;
  /** How each loaded model's pipeline is assembled (ranker, feature store, ANN retrieval, candidates). */
  pipeline?: ServePipelineOptions;
  /** fastify's logger: false (tests), true (pino JSON to stdout) or pino options. */
  logger?: FastifyServerOptions['logger'];
  /** The event log's fsync (tests count calls through it). */
  fsync?: (fh: FileHandle) => Promise<void>;
  /** The file log's least time between group commits under load (`EventLogOptions.minCommitIntervalMs`). */
  commitIntervalMs?: number;
  /** Reports the replay of a large event log at start (`EventStoreOptions.progress`). */
  replayProgress?: (p: Progress) => void;
  /** Also serve the web dashboard at `/` and its `/api` routes (src/serve/dashboard.ts); off when absent. */
  dashboard?: DashboardOptions;
}

/** The running service: the fastify app and what it holds. */
export interface Service {
  app: FastifyInstance;
  slot: ModelSlot;
  log: EventStore;
  metrics: Metrics;
  /** Stops accepting requests, waits for those in flight, closes the log and releases the model. */
  close(): Promise<void>;
}

/** Ids of a comma-separated list (empty entries skipped). */
function splitIds(text: string | undefined): string[] {
  return text ? text.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
}

/**
 * Converts querystring values from text for the route's integer/number properties and its booleans (`true`,
 * `false`, `1`, `0`, or the bare name for true); bodies are not coerced.
 */
function coerceQuery(query: unknown, schema: JsonSchema | undefined): void {
  if (!schema || typeof query !== 'object' || query === null) return;
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const q = query as Record<string, unknown>;
  for (const [name, p] of Object.entries(props)) {
    const v = q[name];
    if ((p.type === 'integer' || p.type === 'number') && typeof v === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) q[name] = Number(v);
    else if (p.type === 'boolean' && (v === 'true' || v === 'false' || v === '1' || v === '0' || v === '')) q[name] = v === 'true' || v === '1' || v === '';
  }
}

/** One validation error as a sentence naming the field (e.g. `querystring/k must be <= 1000`). */
function validationMessage(errors: readonly { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[], dataVar: string): string {
  const e = errors.find((x) => x.keyword === 'anyOf') ?? errors[0];
  const where = `${dataVar}${e.instancePath}`;
  if (e.keyword === 'anyOf') return `${where} must be a string or a number`;
  if (e.keyword === 'additionalProperties') return `${where} has an unknown field "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'required') return `${where} must have the field "${String(e.params.missingProperty)}"`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

/** The recommendations route's query (as validated by its schema). */
interface RecommendationsQuery {
  user: string;
  k: number;
  exclude?: string;
  explore?: string;
  temperature?: number;
  sigma?: number;
  leastViewed?: number;
  maxViews?: number;
  seed?: number;
  stages?: boolean;
}

/** The exploration a recommendations query asks for (undefined for none). */
function exploreOf(q: RecommendationsQuery): ExploreQuery | undefined {
  const strategies: ExploreStrategy[] = [];
  for (const name of splitIds(q.explore)) {
    let s: ExploreStrategy;
    try {
      s = parseStrategy(name);
    } catch {
      throw new HttpError(400, `querystring/explore: unknown strategy ${JSON.stringify(name)}; expected a comma-separated list of ${EXPLORE_STRATEGIES.join(', ')}`);
    }
    if (!strategies.includes(s)) strategies.push(s);
  }
  const knobs: [keyof RecommendationsQuery, ExploreStrategy][] = [['temperature', 'sampling'], ['sigma', 'noise'], ['leastViewed', 'least-viewed'], ['maxViews', 'least-viewed']];
  for (const [knob, strategy] of knobs) {
    if (q[knob] !== undefined && !strategies.includes(strategy)) throw new HttpError(400, `querystring/${knob} applies to explore=${strategy}, which this request does not ask for`);
  }
  if (strategies.length === 0) return q.seed === undefined ? undefined : { strategies, settings: {}, seed: q.seed };
  const settings = { temperature: q.temperature, sigma: q.sigma, leastViewedCount: q.leastViewed, maxViews: q.maxViews };
  return { strategies, settings: Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)), seed: q.seed };
}

/** Builds the service (not listening yet: call `app.listen`, or `app.inject` in tests). */
export async function buildService(options: ServiceOptions): Promise<Service> {
  const served = typeof options.model === 'string' ? await loadServedModel(options.model, 1, options.pipeline) : options.model;
  const slot = new ModelSlot(served, options.pipeline);
  const metrics = new Metrics();
  const source = options.source ?? pipelineSource;
  const byUser = new Map<string, LoggedEvent[]>();
  const file = (events: readonly LoggedEvent[]): void => {
    for (const e of events) {
      const key = userKey(e.user);
      const list = byUser.get(key);
      if (list) list.push(e);
      else byUser.set(key, [e]);
    }
  };
  /** Drops each user's events through `through` (compacted), in turns of the event loop. */
  const prune = async (through: number): Promise<void> => {
    // Until a user's turn comes their compacted events still count, as before the compaction.
    let n = 0;
    for (const [key, list] of [...byUser]) {
      if (list[0].seq <= through) {
        const kept = list.filter((e) => e.seq > through);
        if (kept.length) byUser.set(key, kept);
        else byUser.delete(key);
      }
      if (++n % 16_384 === 0) await setImmediate();
    }
  };
  let pruning: Promise<void> = Promise.resolve();
  const compacted = (through: number): void => {
    metrics.compactions++;
    pruning = pruning.then(() => prune(through));
  };
  let log: EventStore;
  try {
    log = await openEventStore(options.dataDir, { fsync: options.fsync, minCommitIntervalMs: options.commitIntervalMs, onStored: file, onCompacted: compacted, progress: options.replayProgress, warn: (m) => process.stderr.write(`recsys serve: ${m}\n`) });
  } catch (e) {
    await slot.close();
    throw e;
  }
  file(log.events);
  let closing = false;

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: LIMITS.bodyLimit,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => new Error(validationMessage(errors, dataVar)),
  });
  const routes: RouteDoc[] = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) routes.push({ method: m, url: r.url, schema: (r.schema ?? {}) as RouteSchema });
  });
  const startedAt = new WeakMap<object, number>();
  app.addHook('onRequest', async (req) => {
    startedAt.set(req, performance.now());
  });
  app.addHook('onResponse', async (req, reply) => {
    const started = startedAt.get(req) ?? performance.now();
    metrics.observe(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, (performance.now() - started) / 1000);
  });
  app.addHook('preValidation', async (req) => {
    coerceQuery(req.query, req.routeOptions.schema?.querystring as JsonSchema | undefined);
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err instanceof HttpError ? err.statusCode : err.validation ? 400 : typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    const message = status >= 500 ? 'internal error (see the server log)' : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `body: larger than the limit of ${LIMITS.bodyLimit} bytes` : err.message;
    void reply.status(status).send({ statusCode: status, error: statusText(status), message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]} (see /openapi.json)` });
  });

  /** Runs `f` with the current model held, so that a reload cannot release it mid-request. */
  const withModel = async <T>(f: (m: ServedModel) => Promise<T>): Promise<T> => {
    const { served: m, release } = slot.acquire();
    try {
      return await f(m);
    } finally {
      release();
    }
  };

  const external = (m: ServedModel, list: readonly ScoredItem[]): Record<string, unknown>[] =>
    list.map((x) => ({ item: m.items.idOf(x.item), score: Number.isFinite(x.score) ? Number(x.score.toPrecision(7)) : null, source: x.source, rank: x.rank }));
  const respond = (m: ServedModel, key: 'user' | 'item', id: ExternalId, r: Recommendations): Record<string, unknown> => ({
    [key]: id,
    model: m.manifest.modelType,
    version: m.version,
    basis: r.basis,
    items: external(m, r.items),
    warnings: r.warnings,
    ...(r.stages ? { stages: { retrieved: external(m, r.stages.retrieved), ranked: external(m, r.stages.ranked), explored: external(m, r.stages.explored), rankedBy: r.stages.rankedBy, injected: external(m, r.stages.injected) } } : {}),
  });

  app.get<{ Querystring: RecommendationsQuery }>('/v1/recommendations', { schema: recommendationsSchema }, async (req) => {
    const { user, k, exclude } = req.query;
    const explore = exploreOf(req.query);
    return withModel(async (m) => {
      const excludeIds = splitIds(exclude);
      if (excludeIds.length > LIMITS.maxExclude) throw new HttpError(400, `querystring/exclude lists ${excludeIds.length} items; at most ${LIMITS.maxExclude}`);
      const excluded: number[] = [];
      const unknown: string[] = [];
      for (const id of excludeIds) {
        const i = lookupId(m.items, id);
        if (i >= 0) excluded.push(i);
        else unknown.push(id);
      }
      const userIndex = lookupId(m.users, user);
      const id = userIndex >= 0 ? m.users.idOf(userIndex) : user;
      const r = await source.recommend(m, { user: id, events: byUser.get(userKey(user)) ?? [], k, exclude: excluded, explore, stages: req.query.stages === true });
      if (unknown.length) r.warnings.push(`exclude: items ${unknown.map((u) => JSON.stringify(u)).join(', ')} are unknown to the model (they cannot be recommended anyway)`);
      return respond(m, 'user', id, r);
    });
  });

  app.get<{ Querystring: { item: string; k: number } }>('/v1/similar', { schema: similarSchema }, async (req) => {
    const { item, k } = req.query;
    return withModel(async (m) => {
      const i = lookupId(m.items, item);
      if (i < 0) throw new HttpError(404, `querystring/item: item ${JSON.stringify(item)} is unknown to model ${m.version} (it knows ${m.items.size} items; new items count after the next retrain)`);
      const r = await source.similar(m, i, k);
      if (!r) throw new HttpError(422, `model "${m.manifest.modelType}" has no similar-items method; serve a model that has one (e.g. ials, ease, item-knn)`);
      return respond(m, 'item', m.items.idOf(i), r);
    });
  });

  app.post<{ Body: EventInput[] }>(
    '/v1/events',
    {
      schema: eventsSchema,
      // One event or an array: a single object is wrapped before validation, so both share one schema.
      preValidation: async (req) => {
        if (typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body)) req.body = [req.body as EventInput];
      },
    },
    async (req, reply) => {
      if (closing) throw new HttpError(503, 'the server is shutting down; retry elsewhere');
      let results;
      try {
        results = await log.append(req.body);
      } catch (e) {
        req.log.error({ err: e }, 'event log write failed');
        throw new HttpError(503, `events not stored: ${(e as Error).message}; nothing of this request was stored, retry`);
      }
      const accepted = results.filter((r) => !r.duplicate).length;
      metrics.eventsAccepted += accepted;
      metrics.eventsDuplicate += results.length - accepted;
      const m = slot.served;
      const unknownUsers = new Set<string>();
      const unknownItems = new Set<string>();
      for (const e of req.body) {
        if (lookupId(m.users, e.user) < 0) unknownUsers.add(JSON.stringify(e.user));
        if (lookupId(m.items, e.item) < 0) unknownItems.add(JSON.stringify(e.item));
      }
      const warnings: string[] = [];
      if (unknownItems.size) warnings.push(`items ${[...unknownItems].join(', ')} are unknown to model ${m.version}: stored, but recommendations use them only after the next retrain`);
      if (unknownUsers.size) warnings.push(`users ${[...unknownUsers].join(', ')} are new to model ${m.version}: served by fold-in of their events${m.model.recommendForHistory ? '' : ' (this model cannot fold in: popularity fallback)'}`);
      return reply.status(200).send({ accepted, duplicates: results.length - accepted, events: results.map((r) => ({ seq: r.event.seq, id: r.event.id, duplicate: r.duplicate })), warnings });
    },
  );

  app.get<{ Params: { user: string } }>('/v1/users/:user/history', { schema: historySchema }, async (req) => {
    const { user } = req.params;
    const m = slot.served;
    const u = lookupId(m.users, user);
    const events = byUser.get(userKey(user)) ?? [];
    if (u < 0 && events.length === 0) throw new HttpError(404, `params/user: user ${JSON.stringify(user)} is unknown to model ${m.version} and has no events`);
    const training = u >= 0 ? Array.from(m.train.userItems(u), (i, j) => ({ item: m.items.idOf(i), value: m.train.userValues(u)[j] })) : [];
    return {
      user: u >= 0 ? m.users.idOf(u) : user,
      trained: u >= 0,
      training,
      events: events.map((e) => ({ seq: e.seq, item: e.item, value: e.value, time: e.time, id: e.id, known: lookupId(m.items, e.item) >= 0 })),
    };
  });

  app.get<{ Querystring: { ids: string } }>('/v1/items', { schema: itemsSchema }, async (req) => {
    const ids = splitIds(req.query.ids);
    if (ids.length === 0) throw new HttpError(400, 'querystring/ids lists no item id');
    if (ids.length > LIMITS.maxExclude) throw new HttpError(400, `querystring/ids lists ${ids.length} items; at most ${LIMITS.maxExclude}`);
    return withModel(async (m) => {
      const index = ids.map((id) => lookupId(m.items, id));
      const external = ids.map((id, j) => (index[j] >= 0 ? m.items.idOf(index[j]) : id));
      const store = m.pipeline?.store ?? null;
      const rows = store ? await store.items(external.filter((_, j) => index[j] >= 0)) : [];
      const byId = new Map(rows.filter((r) => r !== null).map((r) => [r.id, r]));
      return {
        model: m.manifest.modelType,
        version: m.version,
        items: external.map((id, j) => {
          const row = byId.get(id);
          const features = row ? Object.fromEntries(Object.entries(row).filter(([k]) => k !== 'id')) : null;
          return { item: id, known: index[j] >= 0, users: index[j] >= 0 ? m.itemUsers[index[j]] : 0, features };
        }),
      };
    });
  });

  app.post<{ Body: { model?: string } | undefined }>('/v1/admin/reload', { schema: reloadSchema }, async (req) => {
    const previous = slot.served.version;
    try {
      const m = await slot.reload(req.body?.model);
      metrics.reloads++;
      req.log.info({ model: m.version, dir: m.dir, previous }, 'model reloaded');
      return { model: m.manifest.modelType, version: m.version, generation: m.generation, dir: m.dir, previous };
    } catch (e) {
      metrics.reloadFailures++;
      req.log.warn({ err: e }, 'model reload failed; the old model stays in service');
      throw new HttpError(422, `reload failed, still serving ${previous}: ${(e as Error).message}`);
    }
  });

  app.post<{ Body: { through: number } }>('/v1/admin/compact', { schema: compactSchema }, async (req) => {
    let r;
    try {
      // The store checks `through` (a shared one against every replica's events, not only those applied here).
      r = await log.compact(req.body.through);
    } catch (e) {
      if (e instanceof RangeError) throw new HttpError(422, `body/through: ${e.message.replace(/^compact: through /, '')}`);
      req.log.error({ err: e }, 'event log compaction failed');
      throw new HttpError(503, `compaction failed: ${(e as Error).message}`);
    }
    await pruning;
    if (r.archived > 0) req.log.info({ ...r }, 'event log compacted');
    return r;
  });

  app.get('/healthz', { schema: healthSchema }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: readySchema }, async (_req, reply) => {
    if (closing) return reply.status(503).send({ statusCode: 503, error: 'Service Unavailable', message: 'shutting down' });
    return { status: 'ready', model: slot.served.version, retrieval: slot.served.pipeline?.retrieval ?? 'model', events: log.events.length, lastSeq: log.lastSeq, archivedThrough: log.archivedThrough };
  });
  app.get('/metrics', { schema: metricsSchema }, async (_req, reply) => {
    const m = slot.served;
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render({ type: m.manifest.modelType, version: m.version, generation: m.generation, dir: m.dir, retrieval: m.pipeline?.retrieval ?? 'model' }, log));
  });
  app.get('/openapi.json', { schema: openApiSchema }, async () =>
    openApiDocument(routes, { title: 'recsys service', version: '0.1.0', description: 'Recommendations, similar items and durable events over the model in service.' }),
  );
  if (options.dashboard) registerDashboard(app, { slot, log }, options.dashboard);

  await app.ready();
  return {
    app,
    slot,
    log,
    metrics,
    async close() {
      closing = true;
      await app.close();
      await log.close();
      await slot.close();
    },
  };
}

function statusText(status: number): string {
  const texts: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 500: 'Internal Server Error', 503: 'Service Unavailable' };
  return texts[status] ?? 'Error';
}
