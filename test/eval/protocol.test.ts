import { describe, expect, it } from 'vitest';
import type { EpochValidation } from '../../src/core/progress.js';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { validateConfig } from '../../src/eval/config.js';
import { validationMonitor } from '../../src/eval/early-stopping.js';
import { runExperiment } from '../../src/eval/experiment.js';
import { parseMetric } from '../../src/eval/metrics.js';
import { unionParts } from '../../src/eval/splits.js';
import { createModel } from '../../src/models/index.js';
import type { FactorModel, FactorState } from '../../src/models/factorization/factor-model.js';

/**
 * Leave-last-out with validation: latest entry → test, second latest → validation. Users 0–3 have (0, 1, 6, 7)
 * in time order: train {0, 1}, validation {6}, test {7}. User 4 has (2, 0, 1): train {2}, validation {0},
 * test {1}. Popularity on train: items 0 and 1 (4 each; ties → lower index), then 2.
 * User 4 unmasked ranks 0 (a validation item: a miss) before 1; masked, 1 is first.
 */
function planted(): LoadedDataset {
  const rows: [number, number, number][] = [];
  for (let u = 0; u < 4; u++) rows.push([u, 0, 1], [u, 1, 2], [u, 6, 3], [u, 7, 4]);
  rows.push([4, 2, 1], [4, 0, 3], [4, 1, 4]);
  const interactions = Interactions.fromCoo({
    users: IdMap.range(5), items: IdMap.range(8),
    userIdx: Int32Array.from(rows, (r) => r[0]), itemIdx: Int32Array.from(rows, (r) => r[1]),
    values: new Float32Array(rows.length).fill(1), timestamps: Float64Array.from(rows, (r) => r[2]),
  }).interactions;
  return { name: 'planted', description: '', valueKind: 'implicit', interactions, eventColumns: {}, report: { files: [], rowsRead: 0, rowsKept: 0, duplicates: { policy: 'last', merged: 0, pairs: 0 }, issues: [], notes: [] } };
}

const plantedConfig = { dataset: 'planted', split: { method: 'leave-last-out', validation: true }, metrics: ['hitrate@1', 'ndcg@2'], models: ['popularity'], bootstrap: 0 };
const load = async (): Promise<LoadedDataset> => planted();

describe('test protocol with a validation part', () => {
  it('masks train ∪ validation on test by default: a validation item ranked first is not a miss', async () => {
    const r = await runExperiment(validateConfig(plantedConfig), { loadDataset: load });
    // Only user 4's test item reaches the first slot once item 0 is masked for it.
    expect(r.models[0].metrics['hitrate@1'].mean).toBeCloseTo(1 / 5, 12);
    // ndcg@2: users 0–3 rank (2, 3) unmasked, (2, 3) masked → 0; user 4: masked (1, …) → 1.
    expect(r.models[0].metrics['ndcg@2'].mean).toBeCloseTo(1 / 5, 12);
    expect(r.protocol).toMatch(/train ∪ validation masked/);
  });

  it('excludeValidation: false ranks validation items as unknown (they take the slot and miss)', async () => {
    const r = await runExperiment(validateConfig({ ...plantedConfig, protocol: { excludeValidation: false } }), { loadDataset: load });
    expect(r.models[0].metrics['hitrate@1'].mean).toBe(0);
    // user 4 unmasked: (0, 1) → the hit at rank 2: (1/log2 3) / 1.
    expect(r.models[0].metrics['ndcg@2'].mean).toBeCloseTo(1 / Math.log2(3) / 5, 12);
    expect(r.protocol).toMatch(/not masked/);
  });

  it('refit: train+validation fits on both parts before testing', async () => {
    // Refit: train adds the validation items: item 0 gets 5, item 1 4, 6 gets 4; user 4 (train {2, 0}) ranks 1 first.
    const r = await runExperiment(validateConfig({ ...plantedConfig, protocol: { refit: 'train+validation' } }), { loadDataset: load });
    expect(r.models[0].metrics['hitrate@1'].mean).toBeCloseTo(1 / 5, 12);
    expect(r.protocol).toMatch(/refit on train ∪ validation/);
  });

  it('the sampled protocol never draws a validation item as a negative', async () => {
    // 8 items; user 4 has 2 train, 1 validation, 1 test items: 4 never-seen items remain, exactly enough for 4 negatives.
    const cfg = { ...plantedConfig, protocol: { type: 'sampled', negatives: 5 } };
    const r = await runExperiment(validateConfig(cfg), { loadDataset: load });
    expect(r.models[0].error).toMatch(/only 4 non-interacted items, fewer than 5 negatives/);
  });

  it('unionParts merges two disjoint parts row by row and refuses shared entries', () => {
    const s = planted().interactions;
    const a = s.filterEntries((_u, i) => i % 2 === 0);
    const b = s.filterEntries((_u, i) => i % 2 === 1);
    const u = unionParts(a, b);
    expect([...u.rowPtr]).toEqual([...s.rowPtr]);
    expect([...u.colIdx]).toEqual([...s.colIdx]);
    expect([...u.timestamps!]).toEqual([...s.timestamps!]);
    expect(() => unionParts(s, a)).toThrow(/user 0 has item 0 in both parts/);
  });
});

describe('early stopping', () => {
  it('the monitor reports the best unit and stops after `patience` checks without improvement', async () => {
    const validation = planted().interactions.filterEntries((_u, i) => i === 7); // users 0–3 hold item 7
    const m = validationMonitor(validation, parseMetric('hitrate@1'), 2);
    const ranks = [[3], [7], [7], [2], [2]]; // hit rate 0, 1, 1 (not strictly better), 0, 0
    const verdicts = [];
    for (const [j, items] of ranks.entries()) {
      verdicts.push(await m.check(j + 1, async (users, k) => ({ k, items: new Int32Array(users.length * k).fill(items[0]) })));
    }
    expect(verdicts.map((v) => v.best)).toEqual([true, true, false, false, false]);
    expect(verdicts.map((v) => v.stop)).toEqual([false, false, false, true, true]);
    expect(m.report).toMatchObject({ values: [0, 1, 1, 0, 0], bestUnit: 2, bestValue: 1, stopped: true });
  });

  it('rejects metrics without a cut-off or direction, in the config and the monitor', () => {
    expect(() => validateConfig({ ...plantedConfig, earlyStopping: { metric: 'roem' } })).toThrow(/earlyStopping\.metric: must be a top-k metric/);
    expect(() => validationMonitor(planted().interactions, parseMetric('auc'), 3)).toThrow(/needs a cut-off|cannot be monitored/);
    expect(validateConfig({ ...plantedConfig, earlyStopping: {} }).earlyStopping).toMatchObject({ metric: { label: 'ndcg@10' }, patience: 10 });
  });

  for (const [name, params, units] of [['bpr', { factors: 4, epochs: 9, threads: 1 }, 'epochs'], ['ials', { factors: 4, iterations: 9 }, 'iterations'], ['biased-mf', { factors: 4, epochs: 9 }, 'epochs'], ['als', { factors: 4, iterations: 9 }, 'iterations']] as const) {
    it(`${name} stops when told and ends with the parameters of the best unit`, async () => {
      const data = planted().interactions;
      const seen: number[] = [];
      const validation: EpochValidation = {
        async check(unit, rank) {
          seen.push(unit);
          const top = await rank(Int32Array.from([0, 4]), 2);
          expect(top.items).toHaveLength(4);
          return { best: unit === 2, stop: unit === 4 };
        },
      };
      const stopped = createModel(name, params) as FactorModel<Record<string, unknown>, FactorState>;
      await stopped.fit(data, { validation });
      expect(seen).toEqual([1, 2, 3, 4]);
      const two = createModel(name, { ...params, [units]: 2 }) as FactorModel<Record<string, unknown>, FactorState>;
      await two.fit(data);
      expect([...stopped.itemFactors!.data]).toEqual([...two.itemFactors!.data]);
      expect([...stopped.userFactors!.data]).toEqual([...two.userFactors!.data]);
    });
  }

  it('in an experiment, BPR stops early on validation and the evaluated model is the best epoch', async () => {
    const cfg = {
      dataset: { name: 'synthetic', users: 300, items: 120, perUser: 20, seed: 5 },
      split: { method: 'ratio', ratios: [8, 1, 1], seed: 3 },
      metrics: ['ndcg@10'], bootstrap: 0, evaluateOn: 'validation',
      models: [{ model: 'bpr', params: { factors: 8, epochs: 300, lr: 0.05, threads: 1 } }],
      earlyStopping: { metric: 'ndcg@10', patience: 3 },
    };
    const r = await runExperiment(validateConfig(cfg));
    const row = r.models[0];
    expect(row.error).toBeUndefined();
    expect(row.bestEpochs).toHaveLength(1);
    const note = row.notes.find((n) => n.startsWith('early stopping'))!;
    const [, best, ran, value] = /best epoch (\d+) of (\d+) run \(([\d.]+)\)/.exec(note)!;
    expect(Number(ran)).toBeLessThan(300);
    expect(Number(ran)).toBe(Number(best) + 3);
    expect(row.bestEpochs![0]).toBe(Number(best));
    // The validation score of the installed model is the monitor's best value.
    expect(row.metrics['ndcg@10'].mean).toBeCloseTo(Number(value), 4);
    expect(r.protocol).toMatch(/early stopping on ndcg@10 \(patience 3\)/);
  });
});
