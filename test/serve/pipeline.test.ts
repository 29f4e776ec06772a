/**
 * The service over the pipeline: stages in the response, exploration knobs per request, ANN retrieval, a ranker
 * and extra sources, checked against the models themselves (independent of the pipeline code).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemUserCounts } from '../../src/pipeline/index.js';
import { hnswPathFor } from '../../src/pipeline/hnsw.js';
import { ivfPathFor } from '../../src/pipeline/ivf.js';
import { openModel } from '../../src/models/index.js';
import { buildService, type Service } from '../../src/serve/app.js';
import { blockData, savedModel, tempDir } from './fixtures.js';

interface Item {
  item: string;
  score: number;
  source: string;
  rank: number;
}
interface Body {
  items: Item[];
  basis: string;
  warnings: string[];
  stages?: { retrieved: Item[]; ranked: Item[]; explored: Item[]; rankedBy: string; injected: Item[] };
  message?: string;
}

let ials: string;
let ease: string;

beforeAll(async () => {
  const root = await tempDir();
  // alpha 40, reg 0.01: scores of order 1 on the tiny block data (the defaults, tuned on MovieLens, give ~1e-13)
  ials = await savedModel('ials', { factors: 4, iterations: 8, alpha: 40, reg: 0.01 }, root);
  ease = await savedModel('ease', { reg: 5 }, root);
});

async function get(s: Service, url: string): Promise<{ status: number; body: Body }> {
  const r = await s.app.inject({ url });
  return { status: r.statusCode, body: r.json() };
}

const ids = (list: Item[]): string[] => list.map((x) => x.item);

describe('recommendations through the pipeline', () => {
  let s: Service;
  beforeAll(async () => (s = await buildService({ model: ials, dataDir: await tempDir() })));
  afterAll(() => s.close());

  it('without exploration the list is the model top-k; stages=true returns every stage', async () => {
    const { model } = await openModel(ials);
    const reference = await model.recommend([3], 5);
    model.dispose?.();
    const { body } = await get(s, '/v1/recommendations?user=u3&k=5&stages=true');
    expect(ids(body.items)).toEqual(Array.from(reference.items.slice(0, 5), (i) => `i${i}`));
    const st = body.stages;
    if (!st) throw new Error('no stages');
    expect(st.rankedBy).toBe('vectors');
    expect(st.ranked).toEqual(body.items);
    expect(st.explored).toEqual(body.items);
    // 30 items, 6 seen: every other item is a candidate, from the exact index
    expect(st.retrieved).toHaveLength(24);
    expect(new Set(st.retrieved.map((x) => x.source))).toEqual(new Set(['exact']));
    const plain = (await get(s, '/v1/recommendations?user=u3&k=5')).body;
    expect(plain.stages).toBeUndefined();
  });

  it('sampling: the same seed gives the same list, other seeds reorder; a tiny temperature keeps the ranking', async () => {
    const ranked = ids((await get(s, '/v1/recommendations?user=u4&k=8')).body.items);
    const a = (await get(s, '/v1/recommendations?user=u4&k=8&explore=sampling&seed=7&stages=true')).body;
    const b = (await get(s, '/v1/recommendations?user=u4&k=8&explore=sampling&seed=7')).body;
    expect(ids(a.items)).toEqual(ids(b.items));
    expect(ids(a.stages?.ranked ?? [])).toEqual(ranked);
    const retrieved = new Set(ids(a.stages?.retrieved ?? []));
    expect(a.items.every((x) => retrieved.has(x.item))).toBe(true);
    let differs = 0;
    for (let seed = 0; seed < 10; seed++) {
      const list = ids((await get(s, `/v1/recommendations?user=u4&k=8&explore=sampling&seed=${seed}&temperature=5`)).body.items);
      if (list.join() !== ranked.join()) differs++;
    }
    expect(differs).toBeGreaterThanOrEqual(8);
    const cold = ids((await get(s, '/v1/recommendations?user=u4&k=8&explore=sampling&seed=3&temperature=0.000001')).body.items);
    expect(cold).toEqual(ranked);
  });

  it('least-viewed: the quota of rarely seen items joins the candidates with its source', async () => {
    const train = blockData();
    const counts = itemUserCounts(train);
    const maxViews = Math.min(...counts) + 1;
    // 5 candidates from the model, so that rarely seen items are not all among them already
    const few = await buildService({ model: ials, dataDir: await tempDir(), pipeline: { candidates: 5 } });
    const { body } = await get(few, `/v1/recommendations?user=u5&k=5&explore=least-viewed&leastViewed=2&maxViews=${maxViews}&stages=true`);
    // a list longer than the retrieval quota is not cut short by it
    const long = (await get(few, '/v1/recommendations?user=u5&k=12')).body;
    await few.close();
    expect(long.items).toHaveLength(12);
    const injected = body.stages?.injected ?? [];
    expect(injected.every((x) => x.source === 'least-viewed')).toBe(true);
    expect(body.stages?.retrieved.some((x) => x.source === 'least-viewed')).toBe(false);
    expect(injected.length).toBeGreaterThanOrEqual(1);
    expect(injected.length).toBeLessThanOrEqual(2);
    for (const x of injected) expect(counts[Number(x.item.slice(1))]).toBeLessThanOrEqual(maxViews);
    const seen = new Set(Array.from(train.userItems(5), (i) => `i${i}`));
    expect(body.items.some((x) => seen.has(x.item))).toBe(false);
  });

  it('noise: σ = 0 keeps the ranking, a large σ changes it', async () => {
    const ranked = ids((await get(s, '/v1/recommendations?user=u6&k=6')).body.items);
    expect(ids((await get(s, '/v1/recommendations?user=u6&k=6&explore=noise&sigma=0')).body.items)).toEqual(ranked);
    let differs = 0;
    for (let seed = 0; seed < 5; seed++) if (ids((await get(s, `/v1/recommendations?user=u6&k=6&explore=noise&sigma=10&seed=${seed}`)).body.items).join() !== ranked.join()) differs++;
    expect(differs).toBeGreaterThanOrEqual(4);
  });

  it('bad exploration parameters are 400 naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['explore=bogus', /querystring\/explore: unknown strategy "bogus"/],
      ['temperature=2', /querystring\/temperature applies to explore=sampling/],
      ['explore=sampling&temperature=0', /querystring\/temperature must be > 0/],
      ['explore=noise&sigma=-1', /querystring\/sigma must be >= 0/],
      ['explore=least-viewed&leastViewed=1.5', /querystring\/leastViewed must be integer/],
      ['stages=maybe', /querystring\/stages must be boolean/],
      ['explore=sampling&seed=-1', /querystring\/seed must be >= 0/],
    ];
    for (const [q, message] of cases) {
      const { status, body } = await get(s, `/v1/recommendations?user=u1&${q}`);
      expect([q, status]).toEqual([q, 400]);
      expect(body.message).toMatch(message);
    }
  });

  it('the fallback for an unknown user says that exploration is not applied to it', async () => {
    const { body } = await get(s, '/v1/recommendations?user=stranger&k=3&explore=sampling');
    expect(body.basis).toBe('fallback');
    expect(body.warnings.join()).toMatch(/exploration is not applied/);
  });
});

describe('serve options: ANN retrieval, a ranker, extra sources', () => {
  it('ann builds the HNSW or the IVF index next to the model and retrieves through it', async () => {
    const dir = await tempDir();
    const model = await savedModel('ials', { factors: 4, iterations: 8 }, dir);
    const exact = await buildService({ model, dataDir: await tempDir() });
    const want = ids((await get(exact, '/v1/recommendations?user=u2&k=5')).body.items);
    await exact.close();
    const s = await buildService({ model, dataDir: await tempDir(), pipeline: { ann: { index: 'hnsw', params: { ef: 64 } } } });
    try {
      expect(existsSync(hnswPathFor(model))).toBe(true);
      const { body } = await get(s, '/v1/recommendations?user=u2&k=5');
      expect(body.items.every((x) => x.source === 'ann')).toBe(true);
      // 30 items with ef 64: the graph search is exhaustive
      expect(ids(body.items)).toEqual(want);
    } finally {
      await s.close();
    }
    // The inverted file (every list probed: exhaustive too).
    const v = await buildService({ model, dataDir: await tempDir(), pipeline: { ann: { index: 'ivf', ivf: { nprobe: 4096 } } } });
    try {
      expect(existsSync(ivfPathFor(model))).toBe(true);
      expect((await v.app.inject({ url: '/readyz' })).json()).toMatchObject({ retrieval: 'ivf' });
      expect((await v.app.inject({ url: '/metrics' })).body).toMatch(/recsys_model_info\{[^}]*retrieval="ivf"\} 1/);
      const { body } = await get(v, '/v1/recommendations?user=u2&k=5');
      expect(body.items.every((x) => x.source === 'ann')).toBe(true);
      expect(ids(body.items)).toEqual(want);
    } finally {
      await v.close();
    }
  });

  it('a ranker re-scores the candidates: the ranked order is the ranker\'s score order', async () => {
    const s = await buildService({ model: ials, dataDir: await tempDir(), pipeline: { ranker: ease, popularity: 3 } });
    try {
      const { body } = await get(s, '/v1/recommendations?user=u7&k=5&stages=true');
      const st = body.stages;
      if (!st) throw new Error('no stages');
      expect(st.rankedBy).toBe('ranker');
      expect(new Set(st.retrieved.map((x) => x.source))).toEqual(new Set(['exact']));
      const { model } = await openModel(ease);
      if (!model.score) throw new Error('ease has no score');
      const candidates = st.retrieved.map((x) => Number(x.item.slice(1)));
      const scores = await model.score(new Int32Array(candidates.length).fill(7), Int32Array.from(candidates));
      model.dispose?.();
      const order = candidates.map((i, j) => ({ i, s: scores[j] })).sort((a, b) => b.s - a.s).slice(0, 5).map((x) => `i${x.i}`);
      expect(ids(body.items)).toEqual(order);
    } finally {
      await s.close();
    }
  });
});

describe('item details', () => {
  it('/v1/items: known flag, training users and the feature store row', async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { materializeFeatures } = await import('../../src/pipeline/index.js');
    const manifest = JSON.parse(await readFile(join(ials, 'model.json'), 'utf8')) as { dataFingerprint: string };
    const location = join(await tempDir(), 'features.duckdb');
    const train = blockData();
    await materializeFeatures(location, { train, dataFingerprint: manifest.dataFingerprint, modelType: 'ials' });
    const counts = itemUserCounts(train);
    const s = await buildService({ model: ials, dataDir: await tempDir(), pipeline: { store: location } });
    try {
      const r = await s.app.inject({ url: '/v1/items?ids=i3,nope' });
      expect(r.statusCode).toBe(200);
      const body = r.json() as { items: { item: string; known: boolean; users: number; features: Record<string, unknown> | null }[] };
      expect(body.items[0]).toMatchObject({ item: 'i3', known: true, users: counts[3] });
      expect(body.items[0].features).toMatchObject({ events: counts[3], value_mean: 1 });
      expect(body.items[1]).toEqual({ item: 'nope', known: false, users: 0, features: null });
      expect((await s.app.inject({ url: '/v1/items?ids=' })).statusCode).toBe(400);
    } finally {
      await s.close();
    }
    const plain = await buildService({ model: ials, dataDir: await tempDir() });
    try {
      const body = (await plain.app.inject({ url: '/v1/items?ids=i3' })).json() as { items: { features: unknown }[] };
      expect(body.items[0].features).toBeNull();
    } finally {
      await plain.close();
    }
  });
});
