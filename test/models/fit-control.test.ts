/** Hyperparameter checking, progress reports and Ctrl-C (AbortSignal) during fits. */
import { afterAll, describe, expect, it } from 'vitest';
import { getKernels } from '../../src/linalg/index.js';
import { createModel, modelEntry } from '../../src/models/index.js';
import { ParamError, parseParamAssignments } from '../../src/core/params.js';
import { AbortError, type Progress } from '../../src/core/progress.js';
import type { Recommender } from '../../src/models/contract.js';
import { IalsRecommender } from '../../src/models/factorization/ials.js';
import { SkeletonModel } from '../../src/models/skeleton.js';
import { randomMatrix } from './fixtures.js';

afterAll(async () => (await getKernels()).close());

const train = randomMatrix(30, 20, 0.3, 4);

/** The typed hyperparameters of a skeleton model. */
function paramsOf(m: Recommender): unknown {
  return m instanceof SkeletonModel ? m.params : undefined;
}

describe('hyperparameters', () => {
  it('are coerced from CLI strings through the model schema; unknown keys, bad types and bad choices are ParamErrors', () => {
    expect(paramsOf(createModel('ials', parseParamAssignments(['factors=16', 'solver=cholesky', 'alpha = 2.5'])))).toEqual({ ...modelEntry('ials').defaults, factors: 16, solver: 'cholesky', alpha: 2.5 });
    expect(paramsOf(createModel('ease', { binary: 'false' }))).toEqual({ reg: 500, binary: false });
    expect(paramsOf(createModel('pure-svd', { binary: '0' }))).toMatchObject({ binary: false });
    expect(() => createModel('ials', { factor: 3 })).toThrow(/ials: unknown hyperparameter "factor"; known: alpha, cgSteps, confidence/);
    expect(() => createModel('ials', { factors: 'many' })).toThrow(/ials: factors must be an integer >= 1 \(got "many"\)/);
    expect(() => createModel('ials', { solver: 'lu' })).toThrow(/solver must be one of cg, cholesky/);
    expect(() => createModel('bpr', { factors: '2.5' })).toThrow(ParamError);
    expect(parseParamAssignments(['a=1', 'b = x=y'])).toEqual({ a: '1', b: 'x=y' });
    expect(() => parseParamAssignments(['novalue'])).toThrow(/key=value/);
  });

  it('model constructors validate ranges', () => {
    expect(() => createModel('ials', { factors: 0 })).toThrow(/factors must be an integer >= 1/);
    expect(() => createModel('bpr', { lr: -1 })).toThrow(/lr must be a number >= 0/);
    expect(() => createModel('item-knn', { weighting: 'idf' })).toThrow(/weighting must be one of none, tfidf, bm25/);
    expect(() => createModel('ease', { reg: 0 })).toThrow(/reg must be a number > 0/);
    expect(() => createModel('popularity', { halfLifeDays: 0 })).toThrow(/halfLifeDays must be a number > 0/);
    expect(() => createModel('random', { seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => new IalsRecommender({ cgSteps: 0 })).toThrow(/ials: cgSteps must be an integer >= 1/);
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
