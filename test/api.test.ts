import { describe, expect, it } from 'vitest';
import * as recsys from '../src/index.js';

describe('public API (src/index.ts), as the README uses it', () => {
  it('loads the sample, fits a model, evaluates it under the KuaiRec protocol and recommends', async () => {
    const { loadDataset, createModel, kuaiRecSplit, evaluateModel, parseMetric } = recsys;
    const ds = await loadDataset('kuairec-sample');
    const split = kuaiRecSplit(ds, { threshold: 2 });
    const ease = createModel('ease', { reg: 500 });
    const pop = createModel('popularity');
    await ease.fit(split.train);
    await pop.fit(split.train);
    const options = { metrics: [parseMetric('ndcg@10')], candidates: split.candidates, excludeSeen: split.excludeSeen, relevanceThreshold: split.relevanceThreshold, bootstrap: 0 };
    const e = await evaluateModel(ease, split.train, split.test, options);
    const p = await evaluateModel(pop, split.train, split.test, options);
    expect(e.metrics['ndcg@10'].mean).toBeGreaterThan(p.metrics['ndcg@10'].mean);

    const top = await ease.recommend([0, 1], 5);
    expect(top.k).toBe(5);
    for (let r = 0; r < 2; r++) {
      const seen = new Set(split.train.userItems(r));
      for (let j = 0; j < 5; j++) expect(seen.has(top.items[r * 5 + j])).toBe(false);
    }
  });

  it('exposes the layers: kernels, nn and report namespaces', async () => {
    const k = await recsys.getKernels({ kind: 'reference' });
    const c = await k.gemm({ rows: 1, cols: 2, data: Float32Array.of(1, 2) }, { rows: 2, cols: 1, data: Float32Array.of(3, 4) });
    expect(c.data[0]).toBe(11);
    expect(typeof recsys.nn.Linear).toBe('function');
    expect(recsys.report.escapeHtml('<a>')).toBe('&lt;a&gt;');
  });
});
