/**
 * The validation the neural models early-stop on: mean binary NDCG (the one definition, models/ndcg.ts) of
 * the holdout users' recommendations against their held-out entries, measured after every epoch.
 */
import { describe, expect, it } from 'vitest';
import type { EpochValidation, Progress } from '../../../src/core/progress.js';
import { parseMetric } from '../../../src/eval/metrics.js';
import { validationMonitor } from '../../../src/eval/early-stopping.js';
import { meanNdcg } from '../../../src/models/ndcg.js';
import { AutoEncoderRecommender } from '../../../src/models/neural/autoencoder.js';
import { TwoTowerRecommender } from '../../../src/models/neural/two-tower.js';
import { fromTriples } from '../fixtures.js';
import { planted } from './planted.js';

describe('meanNdcg', () => {
  it('averages binary NDCG@k over the users with relevant items, ideal DCG over min(k, |rel|)', () => {
    // users 0, 1, 2; user 1 has no relevant items and is left out.
    const relevant = fromTriples(3, 10, [[0, 2, 1], [0, 5, 1], [0, 7, 1], [2, 4, 1]]);
    const top = { k: 2, items: Int32Array.from([5, 1, 3, 4, 9, 4]), scores: new Float32Array(6) };
    // user 0: hit at rank 1 → 1 / (1 + 1/log2 3); user 2: hit at rank 2 → (1/log2 3) / 1.
    const l3 = 1 / Math.log2(3);
    expect(meanNdcg(top, [0, 1, 2], relevant)).toBeCloseTo((1 / (1 + l3) + l3) / 2, 12);
    // Padding never counts; no user with relevant items → 0.
    expect(meanNdcg({ k: 2, items: Int32Array.from([-1, 5]), scores: new Float32Array(2) }, [0], relevant)).toBeCloseTo(l3 / (1 + l3), 12);
    expect(meanNdcg(top, [1], relevant)).toBe(0);
  });
});

describe('early stopping in the models', () => {
  const data = planted(120, 60, 3, 12);

  it('reports the validation NDCG of every epoch, stops after `patience` epochs without a better one and keeps the best epoch’s weights', async () => {
    const users = Int32Array.from({ length: 120 }, (_, u) => u);
    const configs: [string, (p: Record<string, unknown>) => AutoEncoderRecommender | TwoTowerRecommender][] = [
      ['mult-dae', (p) => new AutoEncoderRecommender('mult-dae', { hidden: [16, 8], batchSize: 20, lr: 1e-2, holdout: 0.5, evalK: 5, ...p })],
      ['two-tower', (p) => new TwoTowerRecommender({ hidden: [8], dim: 8, idDim: 8, batchSize: 64, lr: 1e-2, holdout: 0.5, evalK: 5, ...p })],
    ];
    for (const [name, make] of configs) {
      const progress: Progress[] = [];
      const m = make({ epochs: 12, patience: 2 });
      await m.fit(data.train, { onProgress: (p) => progress.push(p) });
      const h = m.history;
      expect(h.stoppedAt, name).not.toBeNull();
      const run = h.stoppedAt ?? 0;
      expect(run).toBe(h.bestEpoch + 2);
      expect(h.validation.length).toBe(run);
      expect(progress.slice(0, run).map((p) => p.metrics?.['val_ndcg@5'])).toEqual(h.validation);
      expect(progress[run]).toMatchObject({ done: 12, total: 12, metrics: { stopped_at: run } });
      expect(h.validation[h.bestEpoch - 1]).toBe(Math.max(...h.validation));
      // The same fit trained for exactly the best epoch's number of epochs has the weights the model kept.
      const best = make({ epochs: h.bestEpoch, patience: 12 });
      await best.fit(data.train);
      const a = await m.recommend(users, 10);
      const b = await best.recommend(users, 10);
      expect(Array.from(a.items), name).toEqual(Array.from(b.items));
      expect(Array.from(a.scores), name).toEqual(Array.from(b.scores));
    }
  });

  it('without holdout there is no validation, and the last epoch counts', async () => {
    const m = new AutoEncoderRecommender('mult-dae', { hidden: [16, 8], epochs: 3, batchSize: 20 });
    await m.fit(data.train);
    expect(m.history).toMatchObject({ validation: [], bestEpoch: 3, stoppedAt: null });
    expect(m.history.loss.length).toBe(3);
  });

  it('with the runner’s validation (experiments, search) the monitor decides best and stop, and the best epoch’s weights are kept', async () => {
    const users = Int32Array.from({ length: 120 }, (_, u) => u);
    const configs: [string, (p: Record<string, unknown>) => AutoEncoderRecommender | TwoTowerRecommender][] = [
      ['mult-dae', (p) => new AutoEncoderRecommender('mult-dae', { hidden: [16, 8], batchSize: 20, lr: 1e-2, ...p })],
      ['mult-vae', (p) => new AutoEncoderRecommender('mult-vae', { hidden: [16, 8], batchSize: 20, lr: 1e-2, ...p })],
      ['two-tower', (p) => new TwoTowerRecommender({ hidden: [8], dim: 8, idDim: 8, batchSize: 64, lr: 1e-2, ...p })],
    ];
    for (const [name, make] of configs) {
      // A planted monitor: best at epochs 1 and 3, stop after epoch 5; it sees the model's current ranking.
      const seen: number[] = [];
      const monitor: EpochValidation = {
        async check(unit, rank) {
          const top = await rank(Int32Array.from([0, 1]), 3);
          expect(top.items.length).toBe(6);
          seen.push(unit);
          return { best: unit === 1 || unit === 3, stop: unit === 5 };
        },
      };
      // holdout is set but ignored: the runner's validation replaces it (and nothing of the training data is held out).
      const m = make({ epochs: 12, holdout: 0.5 });
      await m.fit(data.train, { validation: monitor });
      expect(seen, name).toEqual([1, 2, 3, 4, 5]);
      expect(m.history, name).toMatchObject({ bestEpoch: 3, stoppedAt: 5, validation: [] });
      const three = make({ epochs: 3 });
      await three.fit(data.train);
      const a = await m.recommend(users, 10);
      const b = await three.recommend(users, 10);
      expect(Array.from(a.items), name).toEqual(Array.from(b.items));
      expect(Array.from(a.scores), name).toEqual(Array.from(b.scores));
    }
  });

  it('an experiment-style monitor on a validation part: the model ends with the best epoch, whose NDCG it reproduces', async () => {
    const metric = parseMetric('ndcg@10');
    const monitor = validationMonitor(data.test, metric, 3);
    const m = new AutoEncoderRecommender('mult-vae', { hidden: [16, 8], batchSize: 20, lr: 1e-2, epochs: 30 });
    await m.fit(data.train, { validation: monitor });
    const r = monitor.report;
    expect(r.bestUnit).toBeGreaterThan(0);
    expect(m.history.bestEpoch).toBe(r.bestUnit);
    expect(r.values[r.bestUnit - 1]).toBe(Math.max(...r.values));
    // The kept weights score the validation part exactly as at the best epoch.
    const again = validationMonitor(data.test, metric, 3);
    await again.check(1, (u, k) => m.recommend(u, k));
    expect(again.report.values[0]).toBeCloseTo(r.bestValue, 10);
  });
});
