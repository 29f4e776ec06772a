// The inverted-file index: the native search held against the reference kernel (same candidates, same lists),
// both held against brute force where the search is exhaustive, recall against exact retrieval, exclusions, the
// item bias, save/load and the refusals.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import type { IvfLists, Kernels } from '../../src/linalg/api.js';
import { referenceKernels } from '../../src/linalg/reference.js';
import { ExactIndex } from '../../src/pipeline/exact.js';
import { IvfIndex, ivfDefaultsFor } from '../../src/pipeline/ivf.js';
import { defaultAnnIndex } from '../../src/pipeline/open.js';
import { BACKENDS, backendTitle } from '../linalg/setup.js';
import { clustered as vectors, csr, recall, row } from './vectors.js';

const dir = mkdtempSync(join(tmpdir(), 'recsys-ivf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The index's kernel arrays (private to IvfIndex; the kernel tests call the kernels on them directly). */
const listsOf = (index: IvfIndex): IvfLists => (index as unknown as { lists: IvfLists }).lists;

const items = vectors(3000, 20, 30, 1);
const bias = Float32Array.from({ length: items.rows }, (_, i) => Math.sin(i) * 0.8);
const queries = vectors(40, 20, 30, 2);
const exclusions = csr(Array.from({ length: queries.rows }, (_, r) => Array.from({ length: 25 }, (_, j) => (r * 97 + j * 31) % items.rows)), items.rows);

describe('ivfSearch: the reference kernel', () => {
  it('probing every list and scoring every candidate exactly is brute force: the exact top k, exclusions honoured', async () => {
    const index = await IvfIndex.build(items, bias, { lists: 16, iterations: 4 }, { kernels: referenceKernels });
    const k = 15;
    const got = await referenceKernels.ivfSearch(queries, items, listsOf(index), k, { nprobe: 16, rerank: items.rows, itemBias: bias, exclude: exclusions });
    const want = await referenceKernels.scoreTopK(queries, items, k, { itemBias: bias, exclude: exclusions });
    expect(Array.from(got.items)).toEqual(Array.from(want.items));
    for (let j = 0; j < got.scores.length; j++) expect(got.scores[j]).toBeCloseTo(want.scores[j], 4);
  });
});

for (const backend of BACKENDS.filter((b) => b.name === 'native')) describe.skipIf(backend.skip !== undefined)(`ivfSearch: ${backendTitle(backend)} against the reference`, () => {
  let kn: Kernels;
  let index: IvfIndex;
  let plain: IvfIndex;
  beforeAll(async () => {
    kn = await backend.create(2);
    index = await IvfIndex.build(items, bias, { lists: 40, iterations: 5 }, { kernels: kn });
    plain = await IvfIndex.build(items, null, { lists: 40, iterations: 5 }, { kernels: kn });
  });
  afterAll(async () => kn.close());

  for (const nprobe of [1, 6, 40]) {
    it(`nprobe ${nprobe}: the same lists as the reference (candidates from the same code scores), scores within float rounding`, async () => {
      const k = 20;
      for (const [ix, b] of [[index, bias], [plain, undefined]] as const) {
        const options = { nprobe, rerank: 36, ...(b ? { itemBias: b } : {}), exclude: exclusions };
        const got = await kn.ivfSearch(queries, items, listsOf(ix), k, options);
        const want = await referenceKernels.ivfSearch(queries, items, listsOf(ix), k, options);
        expect(Array.from(got.items)).toEqual(Array.from(want.items));
        for (let j = 0; j < got.scores.length; j++) {
          if (want.items[j] < 0) expect(got.scores[j]).toBe(-Infinity);
          else expect(Math.abs(got.scores[j] - want.scores[j])).toBeLessThan(1e-4 * (1 + Math.abs(want.scores[j])));
        }
      }
    });
  }

  it('without the exact pass: the code scores, bit for bit as the reference computes them', async () => {
    const options = { nprobe: 6, rerank: 20, exact: false, itemBias: bias, excludeAll: Int32Array.from([5, 9, 3, 5]) };
    const got = await kn.ivfSearch(queries, items, listsOf(index), 20, options);
    const want = await referenceKernels.ivfSearch(queries, items, listsOf(index), 20, options);
    expect(Array.from(got.items)).toEqual(Array.from(want.items));
    expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
    for (const x of [3, 5, 9]) expect(got.items).not.toContain(x);
  });

  it('is the default ANN index with these kernels; without them (reference, WASM: no IVF kernel) HNSW is', async () => {
    expect(await defaultAnnIndex(kn)).toBe('ivf');
    expect(await defaultAnnIndex(referenceKernels)).toBe('hnsw');
  });

  it('one query at a time gives the rows of the batch', async () => {
    const k = 10;
    const batch = await kn.ivfSearch(queries, items, listsOf(index), k, { nprobe: 6, rerank: 26, itemBias: bias });
    for (let r = 0; r < 5; r++) {
      const one = await kn.ivfSearch(row(queries, r), items, listsOf(index), k, { nprobe: 6, rerank: 26, itemBias: bias });
      expect(Array.from(one.items)).toEqual(Array.from(batch.items.subarray(r * k, r * k + k)));
    }
  });

  it('exhaustive settings equal exact retrieval; arrays shorter than the layout are refused', async () => {
    const k = 12;
    const got = await kn.ivfSearch(queries, items, listsOf(index), k, { nprobe: 40, rerank: items.rows, itemBias: bias, exclude: exclusions });
    const want = await new ExactIndex(items, bias, kn).searchRows(queries, k, exclusions);
    expect(Array.from(got.items)).toEqual(Array.from(want.items));
    const l = listsOf(index);
    const short = { ...l, codes: l.codes.subarray(0, l.codes.length - 8) };
    await expect(kn.ivfSearch(queries, items, short, k, { nprobe: 4, rerank: 12, itemBias: bias })).rejects.toThrow(/codes hold/);
    await expect(kn.ivfSearch(queries, items, l, k, { nprobe: 4, rerank: 12 })).rejects.toThrow(/no itemBias was given/);
    await expect(kn.ivfSearch(queries, items, l, k, { nprobe: 0, rerank: 12, itemBias: bias })).rejects.toThrow(/nprobe must be a positive integer/);
  });
});

describe('IvfIndex', () => {
  const big = vectors(20000, 32, 200, 5);
  const bigQueries = vectors(60, 32, 200, 6);
  const exact = new ExactIndex(big);
  let index: IvfIndex;
  let truth: Int32Array;
  const k = 50;
  beforeAll(async () => {
    index = await IvfIndex.build(big, null);
    truth = (await exact.searchRows(bigQueries, k, null)).items;
  });

  it('defaults: about 3.2·√n lists, 3·√lists of them probed', () => {
    expect(ivfDefaultsFor(100_000)).toMatchObject({ lists: 1012, nprobe: 95, rerank: 1 });
    expect(ivfDefaultsFor(1_000_000)).toMatchObject({ lists: 3200, nprobe: 170 });
    expect(ivfDefaultsFor(3)).toMatchObject({ lists: 6, nprobe: 6 });
    expect(index.listCount).toBe(ivfDefaultsFor(20000).lists);
    expect(index.params.nprobe).toBe(Math.round(3 * Math.sqrt(index.listCount)));
    expect(index.bytes).toBeGreaterThan(20000 * 32);
  });

  it('recall@50 against exact: ≥ 0.95 at the defaults, rising with nprobe to ≥ 0.99 when every list is probed', async () => {
    const at = async (ix: IvfIndex): Promise<number> => recall((await ix.searchRows(bigQueries, k, null)).items, truth, k, bigQueries.rows);
    const few = await at(index.with({ nprobe: 2 }));
    const defaults = await at(index);
    const all = await at(index.with({ nprobe: index.listCount }));
    expect(defaults).toBeGreaterThanOrEqual(0.95);
    expect(all).toBeGreaterThanOrEqual(0.99);
    expect(few).toBeLessThan(defaults);
  });

  it('exact scores: every returned score is the item\'s inner product with the query', async () => {
    const q = row(bigQueries, 3);
    const got = await index.search(q, 10);
    for (let j = 0; j < 10; j++) {
      const i = got.items[j];
      let s = 0;
      for (let c = 0; c < 32; c++) s += q.data[c] * big.data[i * 32 + c];
      expect(got.scores[j]).toBeCloseTo(s, 4);
      if (j > 0) expect(got.scores[j]).toBeLessThanOrEqual(got.scores[j - 1]);
    }
  });

  it('a query whose best 120 items are excluded (more than k) still gets k items, none excluded', async () => {
    const q = row(bigQueries, 7);
    const top = await exact.search(q, 120);
    const ex = new Set(top.items);
    const got = await index.with({ nprobe: index.listCount }).search(q, 20, ex);
    const want = await exact.search(q, 20, ex);
    expect(got.items.every((x) => x >= 0 && !ex.has(x))).toBe(true);
    expect(recall(got.items, want.items, 20, 1)).toBeGreaterThanOrEqual(0.9);
  });

  it('searchRows excludes row r\'s items from row r only', async () => {
    const top = await exact.searchRows(bigQueries, 5, null);
    const ex = csr(Array.from({ length: bigQueries.rows }, (_, r) => Array.from(top.items.subarray(r * 5, r * 5 + 5))), big.rows);
    const got = await index.searchRows(bigQueries, 10, ex);
    for (let r = 0; r < bigQueries.rows; r++) {
      const mine = new Set(top.items.subarray(r * 5, r * 5 + 5));
      expect(Array.from(got.items.subarray(r * 10, r * 10 + 10)).some((x) => mine.has(x))).toBe(false);
    }
  });

  it('k beyond the items pads with −1 / −∞; a tiny catalogue gets one list per item at most', async () => {
    const few = vectors(5, 4, 2, 9);
    const ix = await IvfIndex.build(few, null, { lists: 50 });
    expect(ix.listCount).toBe(5);
    const got = await ix.search(row(few, 0), 8);
    expect(Array.from(got.items.subarray(5))).toEqual([-1, -1, -1]);
    expect(Array.from(got.scores.subarray(5))).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(new Set(got.items.subarray(0, 5)).size).toBe(5);
  });

  it('rerank 0: code scores (close to the exact ones), the item vectors never read', async () => {
    const approx = index.with({ rerank: 0 });
    const q = row(bigQueries, 1);
    const a = await approx.search(q, 10);
    const e = await index.search(q, 10);
    expect(recall(a.items, e.items, 10, 1)).toBeGreaterThanOrEqual(0.8);
    for (let j = 0; j < 10; j++) expect(Math.abs(a.scores[j] - e.scores[j])).toBeLessThan(0.05 * Math.abs(e.scores[0]));
  });

  it('save and load: the same lists; another training run, another shape or a damaged description are refused', async () => {
    const path = join(dir, 'model.ivf');
    index.save(path, 'fp-1');
    const loaded = IvfIndex.load(path, 'fp-1', big, null);
    expect(loaded.params).toEqual(index.params);
    const a = await index.searchRows(bigQueries, k, null);
    const b = await loaded.searchRows(bigQueries, k, null);
    expect(Array.from(b.items)).toEqual(Array.from(a.items));
    expect(IvfIndex.load(path, 'fp-1', big, null, { nprobe: 3 }).params.nprobe).toBe(3);
    expect(() => IvfIndex.load(path, 'fp-2', big, null)).toThrow(UsageError);
    expect(() => IvfIndex.load(path, 'fp-1', big, new Float32Array(big.rows))).toThrow(/rebuild it/);
    expect(() => IvfIndex.load(join(dir, 'none.ivf'), 'fp-1', big, null)).toThrow(/no IVF index here/);
    const meta = JSON.parse(readFileSync(`${path}.json`, 'utf8'));
    writeFileSync(`${path}.json`, JSON.stringify({ ...meta, sections: { ...meta.sections, codes: [0, 1e12] } }));
    expect(() => IvfIndex.load(path, 'fp-1', big, null)).toThrow(/section codes .* outside/);
    writeFileSync(`${path}.json`, JSON.stringify({ ...meta, lists: 'many' }));
    expect(() => IvfIndex.load(path, 'fp-1', big, null)).toThrow(/field "lists"/);
  });

  it('bad input: a non-finite coordinate names the item and coordinate; parameters out of range are refused', async () => {
    const bad = vectors(50, 4, 2, 3);
    bad.data[17 * 4 + 2] = Number.NaN;
    await expect(IvfIndex.build(bad, null)).rejects.toThrow(/item 17 has a non-finite coordinate 2/);
    await expect(IvfIndex.build(big, null, { lists: 0 })).rejects.toThrow(/lists must be an integer/);
    await expect(IvfIndex.build(big, null, { rerank: 0.5 })).rejects.toThrow(/rerank must be 0/);
    expect(() => index.with({ nprobe: 1.5 })).toThrow(/nprobe must be an integer/);
  });
});
