/** The content model against hand-computed answers: tokens, TF-IDF, cosine and Jaccard, cold items. */
import { afterAll, describe, expect, it } from 'vitest';
import { emptyFeatures, multiHotFrom } from '../../../src/data/features.js';
import { getKernels } from '../../../src/linalg/index.js';
import { ContentRecommender } from '../../../src/models/hybrid/content.js';
import { tfidfRows, tokenize } from '../../../src/models/hybrid/item-vectors.js';
import { fromTriples } from '../fixtures.js';

afterAll(async () => (await getKernels()).close());

describe('tokenize', () => {
  it('splits CJK runs into character n-grams, Latin text into words, bracket lists into elements', () => {
    expect(tokenize('精神小伙 ABC, x1!', 2)).toEqual(['精神', '神小', '小伙', 'abc', 'x1']);
    expect(tokenize('美 食', 2)).toEqual(['美', '食']);
    expect(tokenize('精神小伙', 3)).toEqual(['精神小', '神小伙']);
    expect(tokenize('[food, Game]', 2)).toEqual(['food', 'game']);
    expect(tokenize('', 2)).toEqual([]);
  });
});

describe('TF-IDF', () => {
  it('weighs tf · ln(N/df) and scales rows to unit length', () => {
    const { vocabulary, rows } = tfidfRows(['a b', 'a c', 'b b', ''], 2, 1);
    expect(vocabulary).toEqual(['a', 'b', 'c']);
    // N = 3 items with tokens; df a = 2, b = 2, c = 1.
    const l = Math.log(1.5);
    const n1 = Math.hypot(l, Math.log(3));
    expect(rows[0].get(0)).toBeCloseTo(Math.SQRT1_2, 6);
    expect(rows[0].get(1)).toBeCloseTo(Math.SQRT1_2, 6);
    expect(rows[1].get(0)).toBeCloseTo(l / n1, 6);
    expect(rows[1].get(2)).toBeCloseTo(Math.log(3) / n1, 6);
    expect(rows[2].get(1)).toBeCloseTo(1, 6);
    expect(rows[3].size).toBe(0);
  });

  it('drops tokens below minDf', () => {
    expect(tfidfRows(['a b', 'a c', 'b b'], 2, 2).vocabulary).toEqual(['a', 'b']);
  });
});

function textModel(params: Record<string, unknown> = {}): ContentRecommender {
  const f = emptyFeatures();
  f.text.title = ['a b', 'a c', 'b b'];
  const m = new ContentRecommender({ setWeight: 0, numericWeight: 0, minDf: 1, ...params });
  m.setFeatures({ itemFeatures: f });
  return m;
}

describe('content model', () => {
  const l = Math.log(1.5);
  const cos01 = (Math.SQRT1_2 * l) / Math.hypot(l, Math.log(3));

  it('scores by the value-weighted profile, cold items included', async () => {
    // Item 2 has no interactions at all; user 0 watched item 0 with value 2.
    const train = fromTriples(2, 3, [[0, 0, 2], [1, 1, 1]]);
    const m = textModel();
    await m.fit(train);
    const r = await m.recommend([0], 2);
    expect(Array.from(r.items)).toEqual([2, 1]);
    expect(r.scores[0]).toBeCloseTo(2 * Math.SQRT1_2, 5);
    expect(r.scores[1]).toBeCloseTo(2 * cos01, 5);
    const s = await m.score(Int32Array.from([1, 1]), Int32Array.from([0, 2]));
    expect(s[0]).toBeCloseTo(cos01, 5);
    expect(s[1]).toBeCloseTo(0, 6);
    const sim = await m.similarItems(0, 2);
    expect(Array.from(sim.items)).toEqual([2, 1]);
    expect(sim.scores[1]).toBeCloseTo(cos01, 5);
  });

  it('Jaccard neighbours: |A∩B| / |A∪B| over the label sets', async () => {
    const f = emptyFeatures();
    f.multiHot.tags = multiHotFrom([['x', 'y'], ['y', 'z'], ['x', 'y', 'z'], ['w']]);
    const m = new ContentRecommender({ similarity: 'jaccard', scoring: 'neighbors', neighbors: 2, weighting: 'binary' });
    m.setFeatures({ itemFeatures: f });
    await m.fit(fromTriples(1, 4, [[0, 0, 5]]));
    const sim = await m.similarItems(0, 3);
    expect(Array.from(sim.items)).toEqual([2, 1, 3]);
    expect(sim.scores[0]).toBeCloseTo(2 / 3, 6);
    expect(sim.scores[1]).toBeCloseTo(1 / 3, 6);
    expect(sim.scores[2]).toBe(0);
    const r = await m.recommend([0], 3);
    expect(Array.from(r.items.slice(0, 2))).toEqual([2, 1]);
    expect(r.scores[0]).toBeCloseTo(2 / 3, 6);
  });

  it('blends blocks by weight: equal weights average the block cosines', async () => {
    const f = emptyFeatures();
    f.multiHot.tags = multiHotFrom([['x'], ['x'], ['y']]);
    f.text.title = ['a b', 'a c', 'b b'];
    const m = new ContentRecommender({ numericWeight: 0, minDf: 1, weighting: 'binary' });
    m.setFeatures({ itemFeatures: f });
    await m.fit(fromTriples(1, 3, [[0, 0, 1]]));
    const s = await m.score(Int32Array.from([0, 0]), Int32Array.from([1, 2]));
    expect(s[0]).toBeCloseTo((1 + cos01) / 2, 5);
    expect(s[1]).toBeCloseTo((0 + Math.SQRT1_2) / 2, 5);
  });

  it('refuses to fit without item features, and Jaccard with profile scoring', async () => {
    await expect(new ContentRecommender().fit(fromTriples(1, 2, [[0, 0, 1]]))).rejects.toThrow(/no item features/);
    expect(() => new ContentRecommender({ similarity: 'jaccard' })).toThrow(/needs scoring "neighbors"/);
    const m = textModel({ columns: 'nope' });
    await expect(m.fit(fromTriples(1, 3, [[0, 0, 1]]))).rejects.toThrow(/column "nope" not found; the data set has: title/);
  });
});
