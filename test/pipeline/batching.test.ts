import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { getKernels } from '../../src/linalg/index.js';
import { TrackedKernels } from '../../src/nn/tracked-kernels.js';
import { BatchingIndex } from '../../src/pipeline/batching.js';
import { ExactIndex } from '../../src/pipeline/exact.js';

function vectors(n: number, d: number, seed: number): { rows: number; cols: number; data: Float32Array } {
  const rng = new Rng(seed);
  return { rows: n, cols: d, data: Float32Array.from({ length: n * d }, () => rng.normal()) };
}

describe('BatchingIndex', () => {
  const items = vectors(500, 8, 1);
  const bias = Float32Array.from({ length: 500 }, (_, i) => (i % 7) / 10);

  it('concurrent searches share one kernel call and equal searching each query alone', async () => {
    const exact = new ExactIndex(items, bias);
    const batched = new BatchingIndex(exact);
    const queries = Array.from({ length: 12 }, (_, q) => ({ rows: 1, cols: 8, data: vectors(1, 8, 100 + q).data }));
    const rng = new Rng(5);
    const excludes = queries.map((_, q) => new Set(Array.from({ length: q * 3 }, () => rng.int(500))));
    const ks = queries.map((_, q) => 1 + ((q * 7) % 40));
    const alone = await Promise.all(queries.map((q, j) => exact.search(q, ks[j], excludes[j])));
    const together = await Promise.all(queries.map((q, j) => batched.search(q, ks[j], excludes[j])));
    expect(batched.stats).toEqual({ calls: 1, queries: 12 });
    together.forEach((hits, j) => {
      expect(hits.k).toBe(ks[j]);
      expect(Array.from(hits.items)).toEqual(Array.from(alone[j].items));
      expect(Array.from(hits.scores)).toEqual(Array.from(alone[j].scores));
      for (const i of hits.items) expect(excludes[j].has(i)).toBe(false);
    });
  });

  it('the exact index packs its items once; its lists equal unpacked scoreTopK bit for bit, alone and batched', async () => {
    const base = await getKernels();
    const kn = new TrackedKernels(base);
    let packs = 0;
    kn.packItems = (v) => {
      packs++;
      return base.packItems(v);
    };
    const exact = new ExactIndex(items, bias, kn);
    const batched = new BatchingIndex(exact);
    const queries = Array.from({ length: 5 }, (_, q) => ({ rows: 1, cols: 8, data: vectors(1, 8, 400 + q).data }));
    const together = await Promise.all(queries.map((query, q) => batched.search(query, 20, new Set([q, 7]))));
    for (const [q, query] of queries.entries()) {
      const want = await base.scoreTopK(query, items, 20, { itemBias: bias, excludeAll: Int32Array.of(q, 7) });
      const alone = await exact.search(query, 20, new Set([q, 7]));
      for (const hits of [alone, together[q]]) {
        expect(Array.from(hits.items), `query ${q}, ${hits === alone ? "alone" : "batched"}`).toEqual(Array.from(want.items));
        expect(hits.scores.every((s, i) => Object.is(s, want.scores[i]))).toBe(true);
      }
    }
    expect(packs).toBe(1);
  });

  it('splits more than maxBatch queries into several calls; a lone search resolves', async () => {
    const batched = new BatchingIndex(new ExactIndex(items), { maxBatch: 4 });
    const qs = Array.from({ length: 10 }, (_, q) => ({ rows: 1, cols: 8, data: vectors(1, 8, 200 + q).data }));
    await Promise.all(qs.map((q) => batched.search(q, 5)));
    expect(batched.stats).toEqual({ calls: 3, queries: 10 });
    const one = await batched.search(qs[0], 3);
    expect(one.items).toHaveLength(3);
  });

  it('a bad query is refused at once and does not fail the others', async () => {
    const batched = new BatchingIndex(new ExactIndex(items));
    await expect(batched.search({ rows: 1, cols: 3, data: new Float32Array(3) }, 5)).rejects.toThrow(/3 dimensions, the index 8/);
    await expect(batched.search({ rows: 1, cols: 8, data: new Float32Array(8) }, 0)).rejects.toThrow(/k must be a positive integer/);
  });
});

describe('BatchingIndex over HNSW', () => {
  it('concurrent searches go to usearch as one batch and equal searching alone, exclusions per row', async () => {
    const { HnswIndex } = await import('../../src/pipeline/hnsw.js');
    const items = vectors(400, 8, 3);
    const hnsw = HnswIndex.build(items, null, { ef: 400, efConstruction: 200 });
    const batched = new BatchingIndex(hnsw);
    const queries = Array.from({ length: 6 }, (_, q) => ({ rows: 1, cols: 8, data: vectors(1, 8, 300 + q).data }));
    const excludes = queries.map((_, q) => new Set(Array.from({ length: 4 * q }, (_, j) => (j * 37 + q) % 400)));
    const alone = await Promise.all(queries.map((q, j) => hnsw.search(q, 10, excludes[j])));
    const together = await Promise.all(queries.map((q, j) => batched.search(q, 10, excludes[j])));
    expect(batched.stats.calls).toBe(1);
    together.forEach((hits, j) => {
      expect(Array.from(hits.items)).toEqual(Array.from(alone[j].items));
      for (const i of hits.items) expect(excludes[j].has(i)).toBe(false);
    });
  });
});
