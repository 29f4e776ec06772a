import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/eval/config.js';
import { defaultLoadDataset, makeSplits, runExperiment } from '../../src/eval/experiment.js';

// The embedded synthetic kuairec-sample (data/kuairec-sample, KuaiRec 2.0 schema) through the unbiased protocol.
describe('KuaiRec protocol on the embedded sample', () => {
  it('tests every small-matrix user on every small-matrix item, without excluding seen items', async () => {
    const ds = await defaultLoadDataset('kuairec-sample', {});
    expect(ds.test).toBeDefined();
    const [split] = makeSplits(ds, ds.interactions, { method: 'kuairec' }, 1);
    const smallItems = new Set(ds.test!.colIdx);
    expect(new Set(split.candidates)).toEqual(smallItems);
    expect(split.excludeSeen).toBe(false);
    // no (user, item) pair is both trained on and tested
    for (let u = 0; u < ds.test!.nUsers; u++) for (const i of ds.test!.userItems(u)) expect(split.train.find(u, i)).toBe(-1);

    const config = loadConfig('configs/kuairec-baselines.yaml');
    const r = await runExperiment({ ...config, bootstrap: 0 }, { loadDataset: async () => ds });
    const smallUsers = new Set(ds.test!.rowIndices());
    let withRelevant = 0;
    for (const u of smallUsers) if ([...ds.test!.userValues(u)].some((v) => v >= 2)) withRelevant++;
    expect(r.models[0].usersEvaluated).toBe(withRelevant);
    expect(r.models[0].usersEvaluated + r.models[0].usersWithoutRelevant).toBe(smallUsers.size);
    const random = r.models.find((m) => m.label === 'random')!;
    expect(random.metrics['coverage@10'].mean).toBeGreaterThan(0.9); // ranked over the small-matrix items only
    expect(Math.abs(random.metrics.roem.mean - 0.5)).toBeLessThan(0.05);
  });
});
