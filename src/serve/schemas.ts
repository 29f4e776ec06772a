/**
 * JSON schemas of the service's requests and responses. fastify validates requests with them (no type
 * coercion in bodies; numeric query parameters are converted from their text first), serializes responses with
 * them, and `/openapi.json` is generated from them.
 */
import type { JsonSchema, RouteSchema } from './openapi.js';

/** Limits of the request shapes. */
export const LIMITS = {
  /** Largest `k`. */
  maxK: 1000,
  /** Most events in one POST. */
  maxEvents: 1000,
  /** Longest id (user, item or event id), in characters. */
  maxIdLength: 256,
  /** Most ids in `exclude`. */
  maxExclude: 1000,
  /** Largest request body, in bytes. */
  bodyLimit: 1 << 20,
} as const;

/** A user or item id: a string or a number, as in the training data. */
const externalId: JsonSchema = { anyOf: [{ type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength }, { type: 'number' }] };

const error: JsonSchema = {
  type: 'object',
  description: 'the request was refused',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
  required: ['statusCode', 'error', 'message'],
};

const warnings: JsonSchema = { type: 'array', items: { type: 'string' }, description: 'what the caller should know: unknown items, fallbacks' };

const scoredItem: JsonSchema = {
  type: 'object',
  properties: {
    item: externalId,
    score: { type: ['number', 'null'], description: 'the ranking score (null when the ranker could not score the item)' },
    source: { type: 'string', description: 'the retrieval source that produced the item: exact, ann, model, popularity, least-viewed; fallback (popularity for an unknown user) or similar' },
    rank: { type: 'integer', minimum: 1 },
  },
  required: ['item', 'score', 'source', 'rank'],
};

const k: JsonSchema = { type: 'integer', minimum: 1, maximum: LIMITS.maxK, default: 10, description: `how many items (1..${LIMITS.maxK}; at most the catalogue)` };

const event: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    user: externalId,
    item: externalId,
    value: { type: 'number', description: 'interaction strength (default 1)' },
    time: { type: 'number', minimum: 0, description: 'Unix time in seconds (default: when the server received it)' },
    id: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength, description: 'idempotency key: an event whose id is stored is not stored again' },
  },
  required: ['user', 'item'],
};

/** The events body as validated (a single event is wrapped into an array before validation). */
export const eventsBody: JsonSchema = { type: 'array', minItems: 1, maxItems: LIMITS.maxEvents, items: event };

export const recommendationsSchema: RouteSchema = {
  summary: "a user's top items",
  description: 'Unknown users get the popularity fallback (source "fallback") until they have events; events posted are reflected at once (fold-in) and their items left out.',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      user: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength, description: 'user id' },
      k,
      exclude: { type: 'string', maxLength: LIMITS.maxExclude * (LIMITS.maxIdLength + 1), description: 'comma-separated item ids never to return' },
      explore: { type: 'string', maxLength: 64, description: 'exploration, comma-separated: sampling (Plackett–Luce), noise (on the user vector), least-viewed (injected items)' },
      temperature: { type: 'number', exclusiveMinimum: 0, maximum: 1e6, description: 'sampling: softmax temperature (default 1)' },
      sigma: { type: 'number', minimum: 0, maximum: 1e6, description: 'noise: standard deviation added to each user-vector coordinate (default 0.1)' },
      leastViewed: { type: 'integer', minimum: 0, maximum: LIMITS.maxK, description: 'least-viewed: how many such items join the candidates (default 10)' },
      maxViews: { type: 'integer', minimum: 0, maximum: 1_000_000, description: 'least-viewed: items with at most this many training users count (default 1)' },
      seed: { type: 'integer', minimum: 0, maximum: 4294967295, description: 'seed of the exploration: the same seed gives the same list' },
      stages: { type: 'boolean', description: 'also return every stage of the pipeline: retrieved, ranked, explored' },
    },
    required: ['user'],
  },
  response: {
    200: {
      type: 'object',
      properties: {
        user: externalId,
        model: { type: 'string' },
        version: { type: 'string' },
        basis: { type: 'string', enum: ['model', 'fold-in', 'history', 'fallback'], description: 'how the user was represented: the trained user, a fold-in or history of their events, or the popularity fallback' },
        items: { type: 'array', items: scoredItem },
        warnings,
        stages: {
          type: 'object',
          description: 'with stages=true: the merged candidates (retrieval scores), the ranked top k, the explored top k',
          properties: { retrieved: { type: 'array', items: scoredItem }, ranked: { type: 'array', items: scoredItem }, explored: { type: 'array', items: scoredItem }, rankedBy: { type: 'string' }, injected: { type: 'array', items: scoredItem, description: 'least-viewed items that joined the candidates (explore=least-viewed)' } },
          required: ['retrieved', 'ranked', 'explored', 'rankedBy', 'injected'],
        },
      },
      required: ['user', 'model', 'version', 'basis', 'items', 'warnings'],
    },
    400: error,
  },
};

export const similarSchema: RouteSchema = {
  summary: 'items similar to an item',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { item: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength, description: 'item id' }, k },
    required: ['item'],
  },
  response: {
    200: {
      type: 'object',
      properties: { item: externalId, model: { type: 'string' }, version: { type: 'string' }, items: { type: 'array', items: scoredItem }, warnings },
      required: ['item', 'model', 'version', 'items', 'warnings'],
    },
    400: error,
    404: error,
    422: error,
  },
};

export const eventsSchema: RouteSchema & { bodyDoc: JsonSchema } = {
  summary: 'store events (one or an array)',
  description: `Acknowledged only once on disk (fsync, group commit). At most ${LIMITS.maxEvents} events per request; nothing of a refused request is stored.`,
  body: eventsBody,
  bodyDoc: { anyOf: [event, eventsBody] },
  response: {
    200: {
      type: 'object',
      properties: {
        accepted: { type: 'integer', description: 'events stored by this request' },
        duplicates: { type: 'integer', description: 'events whose id was already stored' },
        events: {
          type: 'array',
          items: { type: 'object', properties: { seq: { type: 'integer' }, id: { type: ['string', 'null'] }, duplicate: { type: 'boolean' } }, required: ['seq', 'id', 'duplicate'] },
        },
        warnings,
      },
      required: ['accepted', 'duplicates', 'events', 'warnings'],
    },
    400: error,
    413: error,
    415: error,
    503: error,
  },
};

export const historySchema: RouteSchema = {
  summary: "a user's history: training items and events since",
  params: { type: 'object', properties: { user: { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength, description: 'user id' } }, required: ['user'] },
  response: {
    200: {
      type: 'object',
      properties: {
        user: externalId,
        trained: { type: 'boolean', description: 'whether the model was trained on this user' },
        training: { type: 'array', items: { type: 'object', properties: { item: externalId, value: { type: 'number' } }, required: ['item', 'value'] } },
        events: {
          type: 'array',
          items: {
            type: 'object',
            properties: { seq: { type: 'integer' }, item: externalId, value: { type: 'number' }, time: { type: 'number' }, id: { type: ['string', 'null'] }, known: { type: 'boolean' } },
            required: ['seq', 'item', 'value', 'time', 'id', 'known'],
          },
        },
      },
      required: ['user', 'trained', 'training', 'events'],
    },
    404: error,
  },
};

export const itemsSchema: RouteSchema = {
  summary: 'details of items: known to the model, training popularity, features from the feature store',
  description: 'Features come from the feature store given to `recsys serve --store` (null without one). Unknown ids are listed with known: false.',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { ids: { type: 'string', minLength: 1, maxLength: LIMITS.maxExclude * (LIMITS.maxIdLength + 1), description: `comma-separated item ids (at most ${LIMITS.maxExclude})` } },
    required: ['ids'],
  },
  response: {
    200: {
      type: 'object',
      properties: {
        model: { type: 'string' },
        version: { type: 'string' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              item: externalId,
              known: { type: 'boolean', description: 'whether the model was trained on this item' },
              users: { type: 'integer', description: 'distinct training users of the item' },
              features: { type: ['object', 'null'], additionalProperties: true, description: 'the feature store row (columns of the data set and event aggregates), or null' },
            },
            required: ['item', 'known', 'users', 'features'],
          },
        },
      },
      required: ['model', 'version', 'items'],
    },
    400: error,
  },
};

export const reloadSchema: RouteSchema = {
  summary: 'load a model directory and swap it in atomically',
  description: 'On failure the model in service stays and the reason is returned (422).',
  body: { type: 'object', additionalProperties: false, properties: { model: { type: 'string', minLength: 1, description: 'model directory (default: the one in service)' } } },
  response: {
    200: {
      type: 'object',
      properties: { model: { type: 'string' }, version: { type: 'string' }, generation: { type: 'integer' }, dir: { type: 'string' }, previous: { type: 'string' } },
      required: ['model', 'version', 'generation', 'dir', 'previous'],
    },
    400: error,
    422: error,
  },
};

export const compactSchema: RouteSchema = {
  summary: 'move the events a retrained model has absorbed to the archive',
  description:
    'Events 1…through leave the live log (and memory) for DIR/archive/; `recsys events export` still writes them. Compact only through the last event the model in service was trained on: those users stop folding the archived events in. Ids of archived events are forgotten (posting one again stores it again). With PostgreSQL the rows stay in the table (and their ids stored once); every replica drops them from memory. 422 when through is past the last event.',
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['through'],
    properties: { through: { type: 'integer', minimum: 0, description: 'last seq to archive (see `recsys events export`, or lastSeq in /readyz)' } },
  },
  response: {
    200: {
      type: 'object',
      properties: { archivedThrough: { type: 'integer' }, archived: { type: 'integer' }, archive: { type: ['string', 'null'] }, live: { type: 'integer' } },
      required: ['archivedThrough', 'archived', 'archive', 'live'],
    },
    400: error,
    422: error,
    503: error,
  },
};

export const healthSchema: RouteSchema = {
  summary: 'liveness',
  response: { 200: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } },
};

export const readySchema: RouteSchema = {
  summary: 'readiness: the model is loaded and the event log replayed',
  response: {
    200: {
      type: 'object',
      properties: {
        status: { type: 'string' },
        model: { type: 'string' },
        retrieval: { type: 'string', enum: ['exact', 'ivf', 'hnsw', 'model'], description: 'how candidates are retrieved: exact on the item vectors, the IVF or HNSW index (--ann), or the model\'s own ranking' },
        events: { type: 'integer', description: 'events in the live log (since the last compaction)' },
        lastSeq: { type: 'integer', description: 'seq of the last stored event' },
        archivedThrough: { type: 'integer', description: 'events 1…this are in the archive' },
      },
      required: ['status', 'model', 'retrieval', 'events', 'lastSeq', 'archivedThrough'],
    },
    503: error,
  },
};

export const metricsSchema: RouteSchema = {
  summary: 'metrics in the Prometheus text format',
  response: { 200: { type: 'string', 'x-content-type': 'text/plain; version=0.0.4' } },
};

export const openApiSchema: RouteSchema = {
  summary: 'this document',
  response: { 200: { type: 'object', additionalProperties: true } },
};
