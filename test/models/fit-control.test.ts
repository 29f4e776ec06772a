/** Hyperparameter checking, progress reports and Ctrl-C (AbortSignal) during fits. */
import { afterAll, describe, expect, it } from 'vitest';
import { getKernels } from '../../src/linalg/index.js';
import { createModel, modelEntry } from '../../src/models/index.js';
import { coerceToDefaults, parseParamAssignments, resolveParams } from '../../src/models/params.js';
import { AbortError, type Progress } from '../../src/models/recommender.js';
import { randomMatrix } from './fixtures.js';

afterAll(async () => (await getKernels()).close());

const train = randomMatrix(30, 20, 0.3, 4);

describe('hyperparameters', () => {
  it('coerces CLI strings to the default types and rejects unknown keys, bad types and bad choices', () => {
    const d = { factors: 8, solver: 'cg', binary: true };
    expect(resolveParams('m', d, { factors: '16', binary: 'false' })).toEqual({ factors: 16, solver: 'cg', binary: false });
    expect(() => resolveParams('m', d, { factor: 3 })).toThrow(/m: unknown hyperparameter "factor"; known: binary, factors, solver/);
    expect(() => resolveParams('m', d, { factors: 'many' })).toThrow(/factors must be a number/);
    expect(() => resolveParams('m', d, { solver: 'lu' }, { solver: ['cg', 'cholesky'] })).toThrow(/solver must be one of cg, cholesky/);
    expect(parseParamAssignments(['a=1', 'b = x=y'])).toEqual({ a: '1', b: 'x=y' });
    expect(() => parseParamAssignments(['novalue'])).toThrow(/key=value/);
    expect(coerceToDefaults('m', { a: 1, b: false, c: [1, 2], d: 'x' }, { a: '2.5', b: 'true', c: '[4,5]', d: 'y', e: 'z' })).toEqual({ a: 2.5, b: true, c: [4, 5], d: 'y', e: 'z' });
    expect(() => coerceToDefaults('m', { a: 1 }, { a: 'two' })).toThrow(/m: a must be a number/);
  });

  it('model constructors validate ranges', () => {
    expect(() => createModel('ials', { factors: 0 })).toThrow(/factors must be an integer >= 1/);
    expect(() => createModel('bpr', { lr: -1 })).toThrow(/lr must be >= 0/);
    expect(() => createModel('item-knn', { weighting: 'idf' })).toThrow(/weighting must be one of none, tfidf, bm25/);
    expect(modelEntry('ease').defaults).toEqual({ reg: 500, binary: true });
  });
});

describe('progress and abort', () => {
  const cases: [string, Record<string, unknown>, string, number][] = [
    ['ials', { factors: 4, iterations: 5 }, 'iteration', 5],
    ['als', { factors: 4, iterations: 4 }, 'iteration', 4],
    ['bpr', { factors: 4, epochs: 6, threads: 2 }, 'epoch', 6],
    ['biased-mf', { factors: 4, epochs: 3 }, 'epoch', 3],
  ];
  it.each(cases)('%s reports every unit and stops at the next boundary when aborted', async (name, params, phase, total) => {
    const seen: Progress[] = [];
    await createModel(name, params).fit(train, { onProgress: (p) => seen.push(p) });
    expect(seen.filter((p) => p.phase === phase).map((p) => p.done)).toEqual(Array.from({ length: total }, (_, j) => j + 1));
    const controller = new AbortController();
    const after: number[] = [];
    const m = createModel(name, params);
    const run = m.fit(train, {
      signal: controller.signal,
      onProgress: (p) => {
        after.push(p.done);
        if (p.done === 2) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(after).toEqual([1, 2]);
    await expect(m.recommend([0], 3)).rejects.toThrow(/before fit/);
  });
});
