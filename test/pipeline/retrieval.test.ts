import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { createModel } from '../../src/models/index.js';
import { dataFingerprint } from '../../src/models/persistence.js';
import type { DenseMatrix } from '../../src/linalg/api.js';
import { ExactIndex } from '../../src/pipeline/exact.js';
import { HnswIndex } from '../../src/pipeline/hnsw.js';
import { modelSource, vectorSource } from '../../src/pipeline/sources.js';
import { vectorSpaceOf } from '../../src/pipeline/vectors.js';
import { plantedBlocks } from '../models/fixtures.js';
import { clustered, recall } from './vectors.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-retrieval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `n` vectors around `clusters` random centres (structure like real embeddings), dims `d`. */
const planted = (n: number, d: number, clusters: number, seed: number): DenseMatrix => clustered(n, d, clusters, seed, 0.3);

describe('exact retrieval', () => {
  for (const name of ['ials', 'bpr', 'pure-svd', 'biased-mf']) {
    it(`equals ${name}'s recommend (same items, same scores, seen items excluded)`, async () => {
      const { train } = plantedBlocks(40, 60, 3, 0.4, 0.05, 7);
      const params: Record<string, unknown> = name === 'pure-svd' ? { factors: 4 } : name === 'bpr' ? { factors: 4, epochs: 3, threads: 1 } : name === 'biased-mf' ? { factors: 4, epochs: 3 } : { factors: 4, iterations: 3 };
      const model = createModel(name, params);
      await model.fit(train);
      const space = await vectorSpaceOf(model);
      expect(space).not.toBeNull();
      if (!space) return;
      const source = vectorSource(new ExactIndex(space.items, space.itemBias));
      for (const u of [0, 5, 17, 39]) {
        const ref = await model.recommend([u], 10);
        const got = await source.retrieve({ userIndex: u, history: null, userVector: await space.user(u), exclude: new Set(train.userItems(u)), rng: new Rng(1) }, 10);
        expect(got.map((c) => c.item)).toEqual(Array.from(ref.items));
        got.forEach((c, j) => expect(c.score).toBeCloseTo(ref.scores[j], 4));
        expect(new Set(got.map((c) => c.source))).toEqual(new Set(['exact']));
      }
    });
  }

  it('history-based models retrieve through their own recommend (EASE, item-KNN)', async () => {
    const { train } = plantedBlocks(30, 40, 2, 0.4, 0.05, 3);
    for (const [name, params] of [['ease', { reg: 5 }], ['item-knn', { neighbors: 5 }]] as const) {
      const model = createModel(name, params);
      await model.fit(train);
      expect(await vectorSpaceOf(model)).toBeNull();
      const src = modelSource(model, train.nItems);
      const ref = await model.recommend([4], 8);
      const got = await src.retrieve({ userIndex: 4, history: null, userVector: null, exclude: new Set(train.userItems(4)), rng: new Rng(1) }, 8);
      expect(got.map((c) => c.item)).toEqual(Array.from(ref.items));
      const hist = await src.retrieve({ userIndex: null, history: { items: Int32Array.of(0, 2, 4) }, userVector: null, exclude: new Set([0, 2, 4]), rng: new Rng(1) }, 5);
      expect(hist.length).toBe(5);
      expect(hist.some((c) => [0, 2, 4].includes(c.item))).toBe(false);
    }
  });
});

describe('HNSW retrieval', () => {
  const items = planted(3000, 16, 30, 11);
  const queries = planted(50, 16, 30, 12);
  const bias = Float32Array.from({ length: items.rows }, (_, i) => (i % 7) * 0.05);

  it('recall@20 against exact retrieval is at least 0.95 on a planted set (with an item bias folded in)', async () => {
    const exact = await new ExactIndex(items, bias).search(queries, 20);
    const hnsw = HnswIndex.build(items, bias, { M: 16, efConstruction: 64, ef: 256 });
    const got = await hnsw.search(queries, 20);
    expect(recall(got.items, exact.items, 20, queries.rows)).toBeGreaterThanOrEqual(0.95);
    // Scores are u·v + b, as exact retrieval computes them.
    for (let j = 0; j < 20; j++) if (got.items[j] === exact.items[j]) expect(got.scores[j]).toBeCloseTo(exact.scores[j], 3);
    expect(got.scores[0]).toBeCloseTo(exact.scores[0], 3);
  });

  it('the plain inner-product metric ("ip") searches and scores u·v + b too', async () => {
    const exact = await new ExactIndex(items, bias).search(queries, 10);
    const got = await HnswIndex.build(items, bias, { M: 16, efConstruction: 64, ef: 256, mips: 'ip' }).search(queries, 10);
    expect(recall(got.items, exact.items, 10, queries.rows)).toBeGreaterThan(0.6);
    const v = (i: number, r: number): number => {
      let s = bias[i];
      for (let j = 0; j < 16; j++) s += items.data[i * 16 + j] * queries.data[r * 16 + j];
      return s;
    };
    for (let r = 0; r < 5; r++) expect(got.scores[r * 10]).toBeCloseTo(v(got.items[r * 10], r), 3);
  });

  it('a tiny ef loses recall (the parameter reaches the search)', async () => {
    const exact = await new ExactIndex(items).search(queries, 50);
    const wide = HnswIndex.build(items, null, { M: 4, efConstruction: 8, ef: 256 });
    const p = join(dir, 'narrow.hnsw');
    wide.save(p, 'fp');
    const narrow = HnswIndex.load(p, 'fp', { ef: 1 });
    const rWide = recall((await wide.search(queries, 50)).items, exact.items, 50, queries.rows);
    const rNarrow = recall((await narrow.search(queries, 50)).items, exact.items, 50, queries.rows);
    expect(rNarrow).toBeLessThan(rWide);
  });

  it('save and load give the same answers; another fingerprint is refused', async () => {
    const h = HnswIndex.build(items, bias, { M: 8, efConstruction: 32, ef: 40 });
    const p = join(dir, 'model.hnsw');
    h.save(p, 'abc');
    const back = HnswIndex.load(p, 'abc');
    expect(back.params).toEqual({ M: 8, efConstruction: 32, ef: 40, mips: 'augmented', quantization: 'f32' });
    const a = await h.search(queries, 10);
    const b = await back.search(queries, 10);
    expect(Array.from(b.items)).toEqual(Array.from(a.items));
    expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    expect(() => HnswIndex.load(p, 'other')).toThrow(/another training run/);
    expect(() => HnswIndex.load(join(dir, 'missing.hnsw'), 'abc')).toThrow(/no HNSW index/);
  });

  it('never returns excluded items and pads when too few remain', async () => {
    const small = planted(30, 4, 3, 5);
    const h = HnswIndex.build(small, null, { M: 4, efConstruction: 16, ef: 64 });
    const exclude = new Set(Array.from({ length: 25 }, (_, i) => i));
    const r = await h.search({ rows: 1, cols: 4, data: small.data.slice(0, 4) }, 10, exclude);
    const found = Array.from(r.items).filter((i) => i >= 0);
    expect(found.every((i) => i >= 25)).toBe(true);
    expect(found.length).toBe(5);
    expect(Array.from(r.items.subarray(5))).toEqual([-1, -1, -1, -1, -1]);
  });

  it('retrieves for a fitted factor model like its recommend (dataFingerprint tags the index)', async () => {
    const { train } = plantedBlocks(40, 60, 3, 0.4, 0.05, 9);
    const model = createModel('ials', { factors: 4, iterations: 3 });
    await model.fit(train);
    const space = await vectorSpaceOf(model);
    if (!space) throw new Error('no vectors');
    const h = HnswIndex.build(space.items, space.itemBias, { ef: 200 });
    h.save(join(dir, 'ials.hnsw'), dataFingerprint(train));
    const loaded = HnswIndex.load(join(dir, 'ials.hnsw'), dataFingerprint(train));
    const ref = await model.recommend([3], 10);
    const got = await vectorSource(loaded).retrieve({ userIndex: 3, history: null, userVector: await space.user(3), exclude: new Set(train.userItems(3)), rng: new Rng(1) }, 10);
    expect(got.map((c) => c.item)).toEqual(Array.from(ref.items));
    expect(got[0].source).toBe('ann');
  });
});

describe('two-tower item embeddings', () => {
  it('exact retrieval on the tower embeddings gives the model\'s recommend', async () => {
    const { train } = plantedBlocks(30, 40, 2, 0.4, 0.05, 5);
    const model = createModel('two-tower', { hidden: [8], dim: 4, idDim: 4, epochs: 2, batchSize: 16 });
    await model.fit(train);
    const space = await vectorSpaceOf(model);
    if (!space) throw new Error('two-tower exposes no vector space');
    const src = vectorSource(new ExactIndex(space.items, space.itemBias));
    for (const u of [0, 7]) {
      const ref = await model.recommend([u], 8);
      const got = await src.retrieve({ userIndex: u, history: null, userVector: await space.user(u), exclude: new Set(train.userItems(u)), rng: new Rng(1) }, 8);
      expect(got.map((c) => c.item)).toEqual(Array.from(ref.items));
    }
  });
});
