/**
 * An OpenAPI 3.1 document built from the very route schemas fastify validates with, so the document cannot
 * drift from what the server accepts: querystring and path properties become parameters, the body schema the
 * request body, each response schema a response.
 */

/** A JSON schema as written in the route options. */
export type JsonSchema = { [key: string]: unknown };

/** The schema part of one route. */
export interface RouteSchema {
  summary?: string;
  description?: string;
  tags?: string[];
  querystring?: JsonSchema;
  params?: JsonSchema;
  body?: JsonSchema;
  response?: Record<string, JsonSchema>;
  /** The body as documented, when it differs from the validated one (e.g. a request normalised first). */
  bodyDoc?: JsonSchema;
}

/** One route as registered. */
export interface RouteDoc {
  method: string;
  url: string;
  schema: RouteSchema;
}

function propertiesOf(s: JsonSchema | undefined): { props: Record<string, JsonSchema>; required: string[] } {
  const props = (s?.properties ?? {}) as Record<string, JsonSchema>;
  const required = Array.isArray(s?.required) ? s.required.filter((r): r is string => typeof r === 'string') : [];
  return { props, required };
}

/** A response schema without the marker keys fastify's serializer reads but OpenAPI does not know. */
function contentFor(schema: JsonSchema): Record<string, unknown> {
  const type = typeof schema['x-content-type'] === 'string' ? schema['x-content-type'] : 'application/json';
  const rest = Object.fromEntries(Object.entries(schema).filter(([key]) => key !== 'x-content-type'));
  return { [type]: { schema: rest } };
}

/** The OpenAPI document of `routes`. */
export function openApiDocument(routes: readonly RouteDoc[], info: { title: string; version: string; description?: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const method = r.method.toLowerCase();
    if (method === 'head' || method === 'options') continue;
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters: Record<string, unknown>[] = [];
    for (const [where, schema] of [['query', r.schema.querystring], ['path', r.schema.params]] as const) {
      const { props, required } = propertiesOf(schema);
      for (const [name, s] of Object.entries(props)) {
        const { description, ...rest } = s;
        parameters.push({ name, in: where, required: where === 'path' || required.includes(name), ...(typeof description === 'string' ? { description } : {}), schema: rest });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [code, schema] of Object.entries(r.schema.response ?? {})) {
      responses[code] = { description: typeof schema.description === 'string' ? schema.description : `status ${code}`, content: contentFor(schema) };
    }
    paths[path] ??= {};
    paths[path][method] = {
      ...(r.schema.summary ? { summary: r.schema.summary } : {}),
      ...(r.schema.description ? { description: r.schema.description } : {}),
      ...(r.schema.tags ? { tags: r.schema.tags } : {}),
      operationId: `${method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(parameters.length ? { parameters } : {}),
      ...(r.schema.body ? { requestBody: { required: !r.schema.body.properties || propertiesOf(r.schema.body).required.length > 0, content: { 'application/json': { schema: r.schema.bodyDoc ?? r.schema.body } } } } : {}),
      responses,
    };
  }
  return { openapi: '3.1.0', info, paths };
}
