/** The service's JSON as the dashboard reads it (the subset of fields the pages use), and fetch helpers. */
import type { VisualizationSpec } from 'vega-embed';

export type Id = string | number;

/** A failed request: the HTTP status and the service's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!res.ok) {
    const message = typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string' ? body.message : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message);
  }
  return body as T;
}

/** GET a JSON route. */
export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  return parse<T>(await fetch(url, { headers: { accept: 'application/json' }, signal }));
}

/** POST a JSON body. */
export async function postJson<T>(url: string, body: unknown): Promise<T> {
  return parse<T>(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) }));
}

/** GET a text route (Prometheus metrics). */
export async function getText(url: string, signal?: AbortSignal): Promise<string> {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`);
  return res.text();
}

/** Query string of the defined entries. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface Info {
  mode: 'service' | 'results';
  model: { type: string; version: string; generation: number; users: number; items: number; similar: boolean; foldIn: boolean } | null;
  dataset: { name: string; description: string; note: string | null; hasTimestamps: boolean } | null;
  resultsDir: string;
}

export interface ScoredItem {
  item: Id;
  score: number;
  source: string;
  rank: number;
}

export interface Recommendations {
  user: Id;
  model: string;
  version: string;
  /** How the service represented the user: the trained user, a fold-in or history of their events, or the fallback. */
  basis?: 'model' | 'fold-in' | 'history' | 'fallback';
  items: ScoredItem[];
  warnings: string[];
  stages?: { retrieved: ScoredItem[]; ranked: ScoredItem[]; explored: ScoredItem[]; rankedBy?: string; injected?: ScoredItem[] };
}

export interface Similar {
  item: Id;
  model: string;
  version: string;
  items: ScoredItem[];
  warnings: string[];
}

export interface History {
  user: Id;
  trained: boolean;
  training: Array<{ item: Id; value: number }>;
  events: Array<{ seq: number; item: Id; value: number; time: number; id: string | null; known: boolean }>;
}

export interface ItemMeta {
  id: Id;
  known: boolean;
  popularity: number;
  title?: string;
  categories: string[];
  caption?: string;
}

export interface UserHit {
  id: Id;
  trained: boolean;
  items: number;
}

export interface Summary {
  count: number;
  min: number;
  median: number;
  max: number;
  mean: number;
}

export interface CleaningIssue {
  file: string;
  kind: string;
  field?: string;
  count: number;
  action: string;
  lines: number[];
}

export interface EdaResponse {
  dataset: { name: string; description: string; note: string | null };
  window: { from: number | null; to: number | null } | null;
  charts: Record<string, VisualizationSpec>;
  stats: {
    overview: { users: number; items: number; interactions: number; density: number; activeUsers: number; activeItems: number; hasTimestamps: boolean; eventColumns: string[] };
    popularity: { gini: number; top1Share: number; top10Share: number };
    userActivity: { summary: Summary };
    itemPopularity: { summary: Summary };
    cold: { users: { total: number; zero: number; below: number; threshold: number }; items: { total: number; zero: number; below: number; threshold: number } };
    time: { timeZone: string; events: number; first: string | null; last: string | null } | null;
    cleaning: { files: string[]; rowsRead: number; rowsKept: number; rowsFiltered?: number; duplicates: { policy: string; merged: number; pairs: number }; issues: CleaningIssue[]; notes: string[] };
  };
}

/** A number the runner wrote as null when it was NaN or infinite. */
export type Num = number | null;

export interface MetricSummary {
  mean: Num;
  stderr: Num;
  ci95: [Num, Num];
  n: number;
}

export interface PairedTest {
  n: number;
  meanDiff: Num;
  statistic: Num;
  pValue: Num;
}

export interface ExperimentResults {
  name: string;
  dataset: string;
  split: string;
  protocol: string;
  metrics: string[];
  directions: Record<string, 'higher' | 'lower' | 'none'>;
  models: Array<{ label: string; model: string; fitSeconds: Num; scoringSeconds: Num; metrics: Record<string, MetricSummary>; usersEvaluated: number; notes: string[]; error?: string }>;
  comparisons: Array<{ metric: string; model: string; reference: string; tTest: PairedTest; wilcoxon: PairedTest }>;
  interrupted: boolean;
  startedAt: string;
  notes: string[];
}

export interface ResultsResponse {
  dir: string;
  runs: Array<{ file: string; modified: string; results: ExperimentResults }>;
  skipped: Array<{ file: string; reason: string }>;
}

export interface Embedding {
  model: string;
  version: string;
  dims: number;
  items: number;
  explained: [number, number];
  points: Array<{ id: Id; x: number; y: number; category: string; title: string | null; popularity: number }>;
}

/** Ids per /api/items request: keeps the URL far below the server's header limit (16 KiB) for long histories. */
const META_CHUNK = 200;

/** Metadata of `ids` by id text (requests of at most {@link META_CHUNK} ids, in parallel). */
export async function itemMeta(ids: readonly Id[]): Promise<Map<string, ItemMeta>> {
  const out = new Map<string, ItemMeta>();
  const unique = [...new Set(ids.map(String))];
  const chunks: string[][] = [];
  for (let j = 0; j < unique.length; j += META_CHUNK) chunks.push(unique.slice(j, j + META_CHUNK));
  const replies = await Promise.all(chunks.map((c) => getJson<{ items: ItemMeta[] }>(`/api/items${query({ ids: c.join(',') })}`)));
  for (const r of replies) for (const m of r.items) out.set(String(m.id), m);
  return out;
}
