import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import type { DenseMatrix } from '../../src/linalg/api.js';
import { ExactIndex } from '../../src/pipeline/exact.js';
import { HNSW_DEFAULTS, HnswIndex, hnswDefaultsFor, LARGE_CATALOGUE, removeHnswFiles } from '../../src/pipeline/hnsw.js';
import { clustered as vectors, csr, recall, row } from './vectors.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-hnsw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hitsOf = (items: Int32Array, r: number, k: number): number[] => Array.from(items.subarray(r * k, r * k + k));

describe('HnswIndex exclusions', () => {
  const items = vectors(2000, 8, 20, 3);
  const queries = vectors(12, 8, 20, 4);
  const exact = new ExactIndex(items);

  for (const mips of ['augmented', 'ip'] as const) {
    it(`a query whose best ${150} items are excluded (more than k) still gets k items, none excluded, close to exact (${mips})`, async () => {
      const h = HnswIndex.build(items, null, { M: 16, efConstruction: 64, ef: 200, mips });
      const k = 20;
      for (let r = 0; r < 4; r++) {
        const q = row(queries, r);
        // The 150 best items: more than k + k, so the first over-fetch (k + min(150, k) = 40) comes back all excluded.
        const top = await exact.search(q, 150);
        const ex = new Set(top.items);
        const got = await h.search(q, k, ex);
        const want = await exact.search(q, k, ex);
        const list = hitsOf(got.items, 0, k);
        expect(list.every((i) => i >= 0 && !ex.has(i))).toBe(true);
        expect(new Set(list).size).toBe(k);
        // The inner-product graph is weaker on these low-dimensional clusters (0.7 measured), the augmented one is not.
        expect(recall(got.items, want.items, k, 1)).toBeGreaterThanOrEqual(mips === 'ip' ? 0.6 : 0.9);
      }
    });
  }

  it('searchRows honours each row\'s own exclusions and equals the rows searched one by one', async () => {
    const h = HnswIndex.build(items, null, { M: 16, efConstruction: 64, ef: 128 });
    const k = 10;
    const truth = await exact.search(queries, 60);
    // Row r excludes a different slice of its exact top-60: none, a few, or all 60.
    const lists = Array.from({ length: queries.rows }, (_, r) => hitsOf(truth.items, r, 60).slice(0, [0, 5, 60][r % 3]));
    const got = await h.searchRows(queries, k, csr(lists, items.rows));
    const want = await exact.searchRows(queries, k, csr(lists, items.rows));
    for (let r = 0; r < queries.rows; r++) {
      const ex = new Set(lists[r]);
      const list = hitsOf(got.items, r, k);
      expect(list.every((i) => i >= 0 && !ex.has(i))).toBe(true);
      const alone = await h.search(row(queries, r), k, ex);
      expect(list).toEqual(hitsOf(alone.items, 0, k));
    }
    expect(recall(got.items, want.items, k, queries.rows)).toBeGreaterThanOrEqual(0.95);
  });

  it('pads with -1 / -∞ when the exclusions leave fewer than k items, and scores stay u·v', async () => {
    const small = vectors(40, 4, 3, 5);
    const h = HnswIndex.build(small, null, { M: 8, efConstruction: 32, ef: 64, mips: 'ip' });
    const ex = new Set(Array.from({ length: 36 }, (_, i) => i));
    const r = await h.search(row(small, 0), 6, ex);
    expect(hitsOf(r.items, 0, 6).slice(0, 4).sort((a, b) => a - b)).toEqual([36, 37, 38, 39]);
    expect(hitsOf(r.items, 0, 6).slice(4)).toEqual([-1, -1]);
    expect(Array.from(r.scores.subarray(4))).toEqual([-Infinity, -Infinity]);
    for (let j = 0; j < 4; j++) {
      const i = r.items[j];
      let dot = 0;
      for (let c = 0; c < 4; c++) dot += small.data[c] * small.data[i * 4 + c];
      expect(r.scores[j]).toBeCloseTo(dot, 4);
    }
  });
});

describe('HNSW defaults by catalogue size', () => {
  it('M 16 + f32 below 500,000 items, M 32 + f16 from there; a parameter given as undefined keeps its default', () => {
    expect(LARGE_CATALOGUE).toBe(500_000);
    expect(hnswDefaultsFor(499_999)).toEqual({ M: 16, efConstruction: 128, ef: 128, mips: 'augmented', quantization: 'f32' });
    expect(hnswDefaultsFor(500_000)).toEqual({ M: 32, efConstruction: 128, ef: 128, mips: 'augmented', quantization: 'f16' });
    expect(HNSW_DEFAULTS).toEqual(hnswDefaultsFor(1));
    const h = HnswIndex.build(vectors(300, 8, 5, 3), null, { M: undefined, ef: 40, quantization: undefined });
    expect(h.params).toEqual({ ...HNSW_DEFAULTS, ef: 40 });
  });
});

describe('HnswIndex recall and persistence', () => {
  const items = vectors(4000, 16, 40, 7);
  const queries = vectors(40, 16, 40, 8);

  for (const mips of ['augmented', 'ip'] as const) {
    it(`recall@50 ≥ 0.95 against exact with an item bias, and save/load keeps answers and parameters (${mips})`, async () => {
      const bias = Float32Array.from({ length: items.rows }, (_, i) => ((i * 37) % 11) * 0.1);
      const truth = await new ExactIndex(items, bias).search(queries, 50);
      const h = HnswIndex.build(items, bias, { M: 16, efConstruction: 96, ef: 200, mips });
      const got = await h.search(queries, 50);
      // The inner-product graph is a little weaker here (0.949 measured with two norm ranges).
      expect(recall(got.items, truth.items, 50, queries.rows)).toBeGreaterThanOrEqual(mips === 'ip' ? 0.9 : 0.95);
      const p = join(dir, `${mips}.hnsw`);
      h.save(p, 'fp');
      const back = HnswIndex.load(p, 'fp');
      expect(back.params).toEqual({ M: 16, efConstruction: 96, ef: 200, mips, quantization: 'f32' });
      const again = await back.search(queries, 50);
      expect(Array.from(again.items)).toEqual(Array.from(got.items));
      expect(Array.from(again.scores)).toEqual(Array.from(got.scores));
    });
  }
});

describe('HnswIndex f16 vectors', () => {
  const items = vectors(4000, 16, 40, 11);
  const queries = vectors(40, 16, 40, 12);

  it('half the bytes on disk, recall@50 ≥ 0.95 against exact, scores within rounding of u·v; the setting survives save/load', async () => {
    const truth = await new ExactIndex(items).search(queries, 50);
    const f32 = HnswIndex.build(items, null, { M: 16, efConstruction: 96, ef: 200 });
    const f16 = HnswIndex.build(items, null, { M: 16, efConstruction: 96, ef: 200, quantization: 'f16' });
    const p32 = join(dir, 'q32.hnsw');
    const p16 = join(dir, 'q16.hnsw');
    f32.save(p32, 'fp');
    f16.save(p16, 'fp');
    // 16 dims + the augmented coordinate: 68 bytes a vector in f32, 34 in f16, next to the same graph.
    expect(statSync(p32).size - statSync(p16).size).toBeGreaterThanOrEqual(items.rows * 34);
    const got = await f16.search(queries, 50);
    expect(recall(got.items, truth.items, 50, queries.rows)).toBeGreaterThanOrEqual(0.95);
    for (let r = 0; r < queries.rows; r++) {
      for (let j = 0; j < 50; j++) {
        const i = got.items[r * 50 + j];
        let dot = 0;
        let qq = 0;
        let vv = 0;
        for (let c = 0; c < 16; c++) {
          dot += queries.data[r * 16 + c] * items.data[i * 16 + c];
          qq += queries.data[r * 16 + c] ** 2;
          vv += items.data[i * 16 + c] ** 2;
        }
        // f16 keeps 11 significant bits: |error| ≲ 2⁻¹⁰ · ‖q‖ · ‖v‖.
        expect(Math.abs(got.scores[r * 50 + j] - dot)).toBeLessThan(2 ** -9 * Math.sqrt(qq * vv));
      }
    }
    const back = HnswIndex.load(p16, 'fp');
    expect(back.params.quantization).toBe('f16');
    expect(Array.from((await back.search(queries, 50)).items)).toEqual(Array.from(got.items));
    // Descriptions written before the setting existed are f32; an unknown value is refused.
    const meta = JSON.parse(readFileSync(`${p32}.json`, 'utf8')) as { params: Record<string, unknown> };
    delete meta.params.quantization;
    writeFileSync(`${p32}.json`, JSON.stringify(meta));
    expect(HnswIndex.load(p32, 'fp').params.quantization).toBe('f32');
    writeFileSync(`${p32}.json`, JSON.stringify({ ...meta, params: { ...meta.params, quantization: 'i8' } }));
    expect(() => HnswIndex.load(p32, 'fp')).toThrow(/params\.quantization/);
    // @ts-expect-error — not a quantization this index offers
    expect(() => HnswIndex.build(items, null, { quantization: 'i8' })).toThrow(/quantization must be/);
  });
});

/** Heavy-tailed norms like trained factors (popular items long, most near 0): clustered directions × log-normal lengths. */
function skewed(n: number, d: number, seed: number): DenseMatrix {
  const m = vectors(n, d, 30, seed);
  const rng = new Rng(seed + 100);
  for (let i = 0; i < n; i++) {
    const len = Math.exp(-3 + 1.5 * rng.normal());
    let s2 = 0;
    for (let j = 0; j < d; j++) s2 += m.data[i * d + j] ** 2;
    for (let j = 0; j < d; j++) m.data[i * d + j] *= len / Math.sqrt(s2);
  }
  return m;
}

describe('HnswIndex norm ranges', () => {
  const items = skewed(12000, 16, 21);
  const queries = vectors(40, 16, 30, 22);
  const exact = new ExactIndex(items);

  it('heavy-tailed item norms are cut into ranges and still give recall@50 ≥ 0.95 against exact', async () => {
    const truth = await exact.search(queries, 50);
    const h = HnswIndex.build(items, null, { M: 16, efConstruction: 64, ef: 128 });
    expect(h.ranges).toBeGreaterThan(1);
    const got = await h.search(queries, 50);
    expect(recall(got.items, truth.items, 50, queries.rows)).toBeGreaterThanOrEqual(0.95);
    // The Cauchy–Schwarz bound stops each query before the short ranges.
    expect(h.stats.queries).toBe(queries.rows);
    expect(h.stats.rangeSearches).toBeLessThan(queries.rows * (h.ranges - 1));
    // Scores are u·v, best first.
    for (let r = 0; r < 3; r++) {
      for (let j = 0; j < 50; j++) {
        const i = got.items[r * 50 + j];
        let dot = 0;
        for (let c = 0; c < 16; c++) dot += queries.data[r * 16 + c] * items.data[i * 16 + c];
        expect(got.scores[r * 50 + j]).toBeCloseTo(dot, 4);
        if (j > 0) expect(got.scores[r * 50 + j]).toBeLessThanOrEqual(got.scores[r * 50 + j - 1]);
      }
    }
  });

  it('with exclusions the ranges still fill k items, none excluded', async () => {
    const h = HnswIndex.build(items, null, { M: 16, efConstruction: 64, ef: 256 });
    for (let r = 0; r < 3; r++) {
      const q = row(queries, r);
      const ex = new Set((await exact.search(q, 80)).items);
      const got = await h.search(q, 30, ex);
      const want = await exact.search(q, 30, ex);
      expect(hitsOf(got.items, 0, 30).every((i) => i >= 0 && !ex.has(i))).toBe(true);
      expect(recall(got.items, want.items, 30, 1)).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('save/load keeps every range; a later save with fewer ranges removes the stale files; version-1 files still load', async () => {
    const h = HnswIndex.build(items, null, { M: 8, efConstruction: 32, ef: 64 });
    const p = join(dir, 'ranges.hnsw');
    h.save(p, 'fp');
    expect(existsSync(`${p}.1`)).toBe(true);
    const back = HnswIndex.load(p, 'fp');
    expect(back.ranges).toBe(h.ranges);
    const a = await h.search(queries, 20);
    const b = await back.search(queries, 20);
    expect(Array.from(b.items)).toEqual(Array.from(a.items));
    // Same path, one range now: the extra files go, the description says one range.
    const one = HnswIndex.build(vectors(500, 16, 5, 1), null, { M: 8, efConstruction: 32, ef: 64 });
    expect(one.ranges).toBe(1);
    one.save(p, 'fp2');
    expect(existsSync(`${p}.1`)).toBe(false);
    expect(HnswIndex.load(p, 'fp2').ranges).toBe(1);
    // A version-1 description (one graph, no "buckets") as written before the norm ranges.
    const meta = JSON.parse(readFileSync(`${p}.json`, 'utf8')) as Record<string, unknown>;
    delete meta.buckets;
    writeFileSync(`${p}.json`, JSON.stringify({ ...meta, version: 1 }));
    const v1 = HnswIndex.load(p, 'fp2');
    expect(Array.from((await v1.search(queries, 5)).items)).toEqual(Array.from((await one.search(queries, 5)).items));
    writeFileSync(`${p}.json`, JSON.stringify({ ...meta, version: 2, buckets: [{ phi: 1, size: 499 }] }));
    expect(() => HnswIndex.load(p, 'fp2')).toThrow(/buckets.*do not add up/);
    // removeHnswFiles takes every range's graph and the description.
    const q = join(dir, 'gone.hnsw');
    h.save(q, 'fp');
    const files = [q, `${q}.json`, ...Array.from({ length: h.ranges - 1 }, (_, j) => `${q}.${j + 1}`)];
    expect(files.every((f) => existsSync(f))).toBe(true);
    removeHnswFiles(q);
    expect(files.filter((f) => existsSync(f))).toEqual([]);
  });
});
