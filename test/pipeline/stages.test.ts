import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { IdMap } from '../../src/data/id-map.js';
import { createModel } from '../../src/models/index.js';
import { dataFingerprint } from '../../src/models/persistence.js';
import type { Recommender } from '../../src/models/contract.js';
import type { Interactions } from '../../src/data/interactions.js';
import { perturb, plackettLuce } from '../../src/pipeline/explore.js';
import { mergeCandidates } from '../../src/pipeline/merge.js';
import { createPipeline } from '../../src/pipeline/pipeline.js';
import { itemUserCounts, leastViewedSource, popularitySource } from '../../src/pipeline/sources.js';
import type { Candidate } from '../../src/pipeline/types.js';
import { factorizedTopKFromLists } from '../../src/eval/factorized-topk.js';
import { exploreReport, exploreReportHtml } from '../../src/pipeline/explore-report.js';
import { fromTriples, plantedBlocks } from '../models/fixtures.js';

const c = (item: number, score: number, source: string): Candidate => ({ item, score, source });

function manifestOf(train: Interactions, modelType: string) {
  return { users: train.users.ids(), items: train.items.ids(), dataFingerprint: dataFingerprint(train), modelType };
}

describe('merging', () => {
  it('takes each source up to its quota, skips items already taken, keeps the first source', () => {
    const merged = mergeCandidates([
      { name: 'a', quota: 3, list: [c(1, 9, 'a'), c(2, 8, 'a'), c(3, 7, 'a'), c(4, 6, 'a')] },
      { name: 'b', quota: 2, list: [c(2, 50, 'b'), c(5, 40, 'b'), c(1, 30, 'b'), c(6, 20, 'b')] },
      { name: 'c', quota: 4, list: [c(7, 1, 'c')] },
    ]);
    expect(merged).toEqual([c(1, 9, 'a'), c(2, 8, 'a'), c(3, 7, 'a'), c(5, 40, 'b'), c(6, 20, 'b'), c(7, 1, 'c')]);
  });

  it('quota 0 contributes nothing; a bad quota is an error naming the source', () => {
    expect(mergeCandidates([{ name: 'a', quota: 0, list: [c(1, 1, 'a')] }])).toEqual([]);
    expect(() => mergeCandidates([{ name: 'pop', quota: -1, list: [] }])).toThrow(/source "pop"/);
  });
});

describe('Plackett–Luce sampling', () => {
  const list = [c(0, 2, 'x'), c(1, 1, 'x'), c(2, 0, 'x'), c(3, -1, 'x')];
  const T = 0.8;
  const w = list.map((x) => Math.exp(x.score / T));
  const z = w.reduce((a, b) => a + b, 0);
  const p = w.map((x) => x / z);

  it('first-position frequencies match softmax(score / T); second positions match Σ p_i p_j / (1 − p_i)', () => {
    const n = 20000;
    const first = new Float64Array(4);
    const second = new Float64Array(4);
    const rng = new Rng(5);
    for (let t = 0; t < n; t++) {
      const out = plackettLuce(list, 4, T, rng);
      expect(new Set(out.map((x) => x.item)).size).toBe(4);
      first[out[0].item]++;
      second[out[1].item]++;
    }
    for (let j = 0; j < 4; j++) {
      expect(first[j] / n).toBeCloseTo(p[j], 1);
      expect(Math.abs(first[j] / n - p[j])).toBeLessThan(0.012);
      let p2 = 0;
      for (let i = 0; i < 4; i++) if (i !== j) p2 += (p[i] * p[j]) / (1 - p[i]);
      expect(Math.abs(second[j] / n - p2)).toBeLessThan(0.012);
    }
  });

  it('keeps scores and sources, is reproducible from the seed, puts −∞ last', () => {
    const withInf = [...list, c(9, -Infinity, 'y')];
    const a = plackettLuce(withInf, 5, 1, new Rng(3));
    const b = plackettLuce(withInf, 5, 1, new Rng(3));
    expect(a).toEqual(b);
    expect(a[4]).toEqual(c(9, -Infinity, 'y'));
    for (const x of a) expect(withInf).toContainEqual(x);
    expect(() => plackettLuce(list, 2, 0, new Rng(1))).toThrow(/temperature/);
  });
});

describe('noise on the user vector', () => {
  it('sigma 0 changes nothing; sigma > 0 changes the copy, never the input', () => {
    const v = Float32Array.of(1, 2, 3);
    expect(Array.from(perturb(v, 0, new Rng(1)))).toEqual([1, 2, 3]);
    const p = perturb(v, 0.5, new Rng(1));
    expect(Array.from(v)).toEqual([1, 2, 3]);
    expect(Array.from(p)).not.toEqual([1, 2, 3]);
  });
});

describe('the pipeline', () => {
  const { train } = plantedBlocks(40, 60, 3, 0.4, 0.05, 21);
  let fitted: Recommender | null = null;
  const ials = async (): Promise<Recommender> => {
    if (!fitted) {
      fitted = createModel('ials', { factors: 4, iterations: 4, alpha: 40, reg: 0.01 });
      await fitted.fit(train);
    }
    return fitted;
  };

  it('without exploration: ranked = the model\'s recommend, explored = ranked, every item carries its source', async () => {
    const model = await ials();
    const p = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train });
    const r = await p.recommend({ userIndex: 3 }, 10);
    const ref = await model.recommend([3], 10);
    expect(r.ranked.map((x) => x.item)).toEqual(Array.from(ref.items));
    expect(r.explored).toEqual(r.ranked);
    expect(r.ranked.map((x) => x.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.rankedBy).toBe('vectors');
    expect(r.retrieved.every((x) => x.source === 'exact')).toBe(true);
  });

  it('exact candidates keep the kernels\' scores through ranking: ranked = the model\'s recommend, scores bit for bit', async () => {
    const model = await ials();
    const p = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train });
    for (const u of [0, 3, 17, 39]) {
      const r = await p.recommend({ userIndex: u }, 10);
      const ref = await model.recommend([u], 10);
      expect(r.ranked.map((x) => x.item)).toEqual(Array.from(ref.items));
      expect(Float32Array.from(r.ranked, (x) => x.score)).toEqual(ref.scores);
    }
  });

  it('keepRetrieved false retrieves only k when ranking would just re-sort retrieval scores; the lists are the same', async () => {
    const model = await ials();
    const p = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, candidates: 30 });
    for (const u of [1, 8, 22]) {
      const full = await p.recommend({ userIndex: u }, 5);
      const short = await p.recommend({ userIndex: u }, 5, { keepRetrieved: false });
      expect(full.retrieved.length).toBe(30);
      expect(short.retrieved.length).toBe(5);
      expect(short.ranked).toEqual(full.ranked);
      expect(short.explored).toEqual(full.explored);
      expect(short.rankedBy).toBe('vectors');
    }
    // Exploration, a second source or a ranker need every candidate: the quota stands.
    const explored = await p.recommend({ userIndex: 1 }, 5, { keepRetrieved: false, explore: 'sampling', seed: 3 });
    expect(explored.retrieved.length).toBe(30);
    const mixed = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, sources: [{ source: p.sources[0].source, quota: 30 }, { source: popularitySource(train), quota: 3 }] });
    const m = await mixed.recommend({ userIndex: 1 }, 5, { keepRetrieved: false });
    expect(m.retrieved.length).toBe(33);
  });

  it('candidates of a source without model scores are scored again by the vectors', async () => {
    const model = await ials();
    const base = (await createPipeline({ model, manifest: manifestOf(train, 'ials'), train })).sources[0].source;
    // The same exact retrieval, but declared as scoring on other vectors (e.g. a separate retrieval tower).
    const foreign = { name: base.name, retrieve: base.retrieve.bind(base) };
    const p = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, sources: [{ source: foreign, quota: 20 }] });
    const r = await p.recommend({ userIndex: 5 }, 20);
    const space = p.vectors;
    if (!space) throw new Error('ials has vectors');
    const u = await space.user(5);
    for (const x of r.ranked) {
      let s = 0;
      for (let j = 0; j < space.items.cols; j++) s += u[j] * space.items.data[x.item * space.items.cols + j];
      expect(x.score).toBe(Math.fround(s));
    }
  });

  it('merges sources with quotas and keeps the sources through ranking', async () => {
    const model = await ials();
    const p = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, candidates: 5, sources: undefined });
    const base = p.sources[0].source;
    const q = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, sources: [{ source: base, quota: 5 }, { source: popularitySource(train), quota: 3 }] });
    const r = await q.recommend({ userIndex: 0 }, 8, { exclude: [0, 1, 2] });
    expect(r.retrieved.length).toBe(8);
    expect(r.retrieved.slice(0, 5).every((x) => x.source === 'exact')).toBe(true);
    expect(r.retrieved.slice(5).every((x) => x.source === 'popularity')).toBe(true);
    const seen = new Set([...train.userItems(0), 0, 1, 2]);
    expect(r.retrieved.some((x) => seen.has(x.item))).toBe(false);
    const sources = new Map(r.retrieved.map((x) => [x.item, x.source]));
    for (const x of r.ranked) expect(x.source).toBe(sources.get(x.item));
    // Ranked by the model's u·v: descending scores.
    for (let j = 1; j < r.ranked.length; j++) expect(r.ranked[j].score).toBeLessThanOrEqual(r.ranked[j - 1].score);
  });

  it('noise with sigma 0 equals no exploration; noise changes the list for some user; the model is untouched', async () => {
    const model = await ials();
    const before = 'userFactors' in model && model.userFactors && typeof model.userFactors === 'object' && 'data' in model.userFactors ? Float32Array.from(model.userFactors.data as Float32Array) : null;
    const off = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, explore: { sigma: 0 } });
    const on = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, explore: { sigma: 2, seed: 4 } });
    let changed = 0;
    for (let u = 0; u < 10; u++) {
      const a = await off.recommend({ userIndex: u }, 10, { explore: 'noise' });
      expect(a.explored).toEqual(a.ranked);
      const b = await on.recommend({ userIndex: u }, 10, { explore: 'noise' });
      expect(b.ranked).toEqual(a.ranked);
      if (JSON.stringify(b.explored.map((x) => x.item)) !== JSON.stringify(a.ranked.map((x) => x.item))) changed++;
      const again = await on.recommend({ userIndex: u }, 10, { explore: 'noise' });
      expect(again.explored).toEqual(b.explored);
    }
    expect(changed).toBeGreaterThan(0);
    const after = 'userFactors' in model && model.userFactors && typeof model.userFactors === 'object' && 'data' in model.userFactors ? (model.userFactors.data as Float32Array) : null;
    expect(after && before ? Array.from(after) : null).toEqual(before ? Array.from(before) : null);
  });

  it('least-viewed injection: items with <= n views join the candidates, labelled, and are ranked with the rest', async () => {
    // Items 20..29 are seen by exactly one user each.
    const t: [number, number, number][] = [];
    for (let u = 0; u < 20; u++) for (let i = 0; i < 20; i++) if ((u + i) % 3 !== 0) t.push([u, i, 1]);
    for (let i = 20; i < 30; i++) t.push([i - 20, i, 1]);
    const data = fromTriples(20, 30, t);
    const model = createModel('ials', { factors: 3, iterations: 3 });
    await model.fit(data);
    const counts = itemUserCounts(data);
    const p = await createPipeline({ model, manifest: manifestOf(data, 'ials'), train: data, candidates: 5, explore: { maxViews: 1, leastViewedCount: 4 } });
    const r = await p.recommend({ userIndex: 15 }, 9, { explore: 'least-viewed' });
    const injected = r.explored.filter((x) => x.source === 'least-viewed');
    expect(injected.length).toBe(4);
    for (const x of injected) expect(counts[x.item]).toBeLessThanOrEqual(1);
    expect(r.ranked.some((x) => x.source === 'least-viewed')).toBe(false);
    for (let j = 1; j < r.explored.length; j++) expect(r.explored[j].score).toBeLessThanOrEqual(r.explored[j - 1].score);
  });

  it('the least-viewed source samples only items at or under the view limit, never excluded ones', async () => {
    const s = leastViewedSource(train, 12);
    const counts = itemUserCounts(train);
    const got = await s.retrieve({ userIndex: null, history: null, userVector: null, exclude: new Set([0]), rng: new Rng(2) }, 500);
    expect(got.length).toBe(Array.from(counts).filter((x, i) => x <= 12 && i !== 0).length);
    for (const x of got) expect(counts[x.item]).toBeLessThanOrEqual(12);
  });

  it('sampling reorders the ranked candidates reproducibly with the seed', async () => {
    const model = await ials();
    const p = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, explore: { temperature: 5 } });
    const a = await p.recommend({ userIndex: 2 }, 10, { explore: 'sampling', seed: 1 });
    const b = await p.recommend({ userIndex: 2 }, 10, { explore: 'sampling', seed: 1 });
    const d = await p.recommend({ userIndex: 2 }, 10, { explore: 'sampling', seed: 2 });
    expect(a.explored).toEqual(b.explored);
    expect(a.explored).not.toEqual(d.explored);
    const cand = new Set(a.retrieved.map((x) => x.item));
    for (const x of a.explored) expect(cand.has(x.item)).toBe(true);
  });

  it('a ranker re-scores the candidates; users it does not know fall back to the model', async () => {
    const model = await ials();
    const ranker = createModel('popularity', {});
    await ranker.fit(train);
    const p = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, ranker: { model: ranker, manifest: manifestOf(train, 'popularity') } });
    const r = await p.recommend({ userIndex: 1 }, 10);
    expect(r.rankedBy).toBe('ranker');
    const counts = itemUserCounts(train);
    for (let j = 1; j < r.ranked.length; j++) expect(counts[r.ranked[j].item]).toBeLessThanOrEqual(counts[r.ranked[j - 1].item]);
    const h = await p.recommend({ history: { items: Int32Array.of(0, 3) } }, 5);
    expect(h.rankedBy).toBe('vectors');
    expect(h.ranked.some((x) => x.item === 0 || x.item === 3)).toBe(false);
  });

  it('history-based models (EASE) run the pipeline through their own recommend and score', async () => {
    const model = createModel('ease', { reg: 5 });
    await model.fit(train);
    const p = await createPipeline({ model, manifest: manifestOf(train, 'ease'), train });
    const r = await p.recommend({ userIndex: 4 }, 6);
    expect(r.ranked.map((x) => x.item)).toEqual(Array.from((await model.recommend([4], 6)).items));
    expect(r.retrieved[0].source).toBe('model');
    expect(r.rankedBy).toBe('model-score');
  });

  it('explore report: a near-zero temperature keeps every rank (sd 0); a high one spreads them and changes the lists', async () => {
    const model = await ials();
    const cold = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, candidates: 20, explore: { temperature: 1e-4 } });
    const a = await exploreReport(cold, train, { strategies: ['sampling'], user: 2, k: 5, runs: 6, users: [0, 1, 2, 3] });
    expect(a.items.length).toBe(20);
    // Near-ties (float32 scores within ~T of each other) may still swap: that is Plackett–Luce, not an error.
    for (const r of a.items) {
      expect(Math.abs(r.meanRank - r.originalRank)).toBeLessThanOrEqual(1);
      expect(r.appearances).toBe(6);
    }
    expect(a.items.filter((r) => r.sdRank === 0).length).toBeGreaterThanOrEqual(16);
    const hot = await createPipeline({ model, manifest: manifestOf(train, 'ials'), train, candidates: 20, explore: { temperature: 100 } });
    const b = await exploreReport(hot, train, { strategies: ['sampling'], user: 2, k: 5, runs: 30, users: [0, 1, 2, 3, 4, 5] });
    expect(b.items.some((r) => r.sdRank > 1)).toBe(true);
    expect(b.items[0].meanRank).toBeGreaterThan(1);
    expect(b.with).not.toEqual(b.without);
    expect(await exploreReportHtml(b)).toMatch(/<svg[\s\S]*novelty/);
  });

  it('bad input is an error naming the field', async () => {
    const p = await createPipeline({ model: await ials(), manifest: manifestOf(train, 'ials'), train });
    await expect(p.recommend({ userIndex: 400 }, 5)).rejects.toThrow(/user index 400/);
    await expect(p.recommend({ userIndex: 1 }, 0)).rejects.toThrow(/k must be/);
    await expect(p.recommend({ userIndex: 1 }, 5, { exclude: [999] })).rejects.toThrow(/excluded item 999/);
    await expect(createPipeline({ model: await ials(), manifest: { ...manifestOf(train, 'ials'), items: IdMap.range(3).ids() }, train })).rejects.toThrow(/manifest names/);
  });
});

describe('FactorizedTopK', () => {
  it('top-k categorical accuracy over test events, by hand', () => {
    // user 0 test items {2, 5}; user 1 test item {1}; user 2 none.
    const test = fromTriples(3, 6, [[0, 2, 1], [0, 5, 1], [1, 1, 1]]);
    const lists: Record<number, number[]> = { 0: [2, 0, 1, 5, 3, 4], 1: [0, 3, 4, 2, 5, 1], 2: [0, 1, 2, 3, 4, 5] };
    const r = factorizedTopKFromLists(test, [1, 2, 4, 6], (u) => lists[u]);
    // hits: k=1 → {item 2 of user 0} = 1/3; k=2 → 1/3; k=4 → items 2 and 5 of user 0 → 2/3; k=6 → 3/3.
    expect(r.events).toBe(3);
    expect(r.accuracy).toEqual([{ k: 1, accuracy: 1 / 3 }, { k: 2, accuracy: 1 / 3 }, { k: 4, accuracy: 2 / 3 }, { k: 6, accuracy: 1 }]);
  });

  it('does not exclude training items (a test item the user also trained on still counts)', async () => {
    const { factorizedTopK } = await import('../../src/eval/factorized-topk.js');
    const train = fromTriples(2, 4, [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 2, 1], [0, 3, 1]]);
    const model = createModel('popularity', {});
    await model.fit(train);
    // item 0 is the most popular; user 0 trained on it; as a test event it is a hit at k = 1.
    const r = await factorizedTopK(model, fromTriples(2, 4, [[0, 0, 1]]), [1]);
    expect(r.accuracy[0].accuracy).toBe(1);
    expect(() => factorizedTopKFromLists(train, [0], () => [])).toThrow(/positive integer/);
  });
});
