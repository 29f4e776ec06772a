import { describe, expect, it } from 'vitest';
import { AbortError, type Progress } from '../../src/core/progress.js';
import { Rng } from '../../src/core/rng.js';
import { referenceKernels as K } from '../../src/linalg/index.js';
import { holdoutSplit, trainEpochs, type Validation } from '../../src/nn/trainer.js';
import { Param } from '../../src/nn/tensor.js';
import { fromTriples } from '../models/fixtures.js';
import { rejection } from '../rejection.js';


/** A run whose validation returns `values` epoch by epoch and whose single weight holds the epoch number. */
function scripted(values: number[], patience: number, mode?: 'max' | 'min'): { w: Param; validation: Validation; epochOf: () => number } {
  const w = new Param(K, 'w', 1, 1);
  let calls = 0;
  return {
    w,
    epochOf: () => w.value[0],
    validation: { metric: 'val', patience, mode, params: [w], evaluate: async () => values[calls++] },
  };
}

/** A step for one batch per epoch that writes the epoch number (1-based) into the run's weight. */
function writeEpoch(s: ReturnType<typeof scripted>): () => Promise<number> {
  let epoch = 0;
  return async () => {
    s.w.value[0] = ++epoch;
    return 0;
  };
}

describe('trainEpochs', () => {
  it('passes every example once per epoch in shuffled batches, and records the mean loss of each epoch', async () => {
    const seen: number[][] = [];
    let epoch: number[] = [];
    const progress: Progress[] = [];
    const history = await trainEpochs(
      10,
      async (batch) => {
        epoch.push(...batch);
        if (epoch.length === 10) {
          seen.push(epoch);
          epoch = [];
        }
        return batch.length;
      },
      { epochs: 3, batchSize: 4, rng: new Rng(1), onProgress: (p) => progress.push(p) },
    );
    expect(seen.length).toBe(3);
    for (const e of seen) expect([...e].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen[0]).not.toEqual(seen[1]);
    expect(seen[0]).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Batches of 4, 4, 2: the mean of the three losses.
    expect(history.loss).toEqual([10 / 3, 10 / 3, 10 / 3]);
    expect(history).toMatchObject({ validation: [], bestEpoch: 3, stoppedAt: null });
    expect(progress).toEqual([1, 2, 3].map((done) => ({ phase: 'epoch', done, total: 3, metrics: { loss: 10 / 3 } })));
  });

  it('draws the same batches for the same seed, and skips batches below minBatch', async () => {
    const run = async (seed: number, minBatch?: number): Promise<number[][]> => {
      const batches: number[][] = [];
      await trainEpochs(9, async (b) => (batches.push(Array.from(b)), 0), { epochs: 2, batchSize: 4, rng: new Rng(seed), minBatch });
      return batches;
    };
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect(await run(6)).not.toEqual(a);
    expect(a.map((b) => b.length)).toEqual([4, 4, 1, 4, 4, 1]);
    expect((await run(5, 2)).map((b) => b.length)).toEqual([4, 4, 4, 4]);
    expect(await run(5, 2)).toEqual(a.filter((b) => b.length >= 2));
  });

  it('reports the loss figures of lossMetrics and the validation metric under its name', async () => {
    const { validation } = scripted([0.25, 0.5], 3);
    const progress: Progress[] = [];
    await trainEpochs(4, async () => 2, { epochs: 2, batchSize: 4, rng: new Rng(1), validation, lossMetrics: (l) => ({ mse: 10 * l }), onProgress: (p) => progress.push(p) });
    expect(progress).toEqual([
      { phase: 'epoch', done: 1, total: 2, metrics: { mse: 20, val: 0.25 } },
      { phase: 'epoch', done: 2, total: 2, metrics: { mse: 20, val: 0.5 } },
    ]);
  });

  it('stops after `patience` epochs without improvement and restores the best epoch’s weights', async () => {
    const s = scripted([0.1, 0.3, 0.25, 0.29, 0.5, 0.6], 2);
    const progress: Progress[] = [];
    const history = await trainEpochs(3, writeEpoch(s), { epochs: 6, batchSize: 3, rng: new Rng(1), validation: s.validation, onProgress: (p) => progress.push(p) });
    // Epoch 2 is best (0.3); epochs 3 and 4 do not beat it: stop after 4, weights of epoch 2.
    expect(history).toMatchObject({ validation: [0.1, 0.3, 0.25, 0.29], bestEpoch: 2, stoppedAt: 4 });
    expect(history.loss.length).toBe(4);
    expect(s.epochOf()).toBe(2);
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 6]);
    expect(progress[4]).toEqual({ phase: 'epoch', done: 6, total: 6, metrics: { loss: 0, val: 0.29, stopped_at: 4 } });
  });

  it('keeps the best epoch’s weights when every epoch ran, and minimizes in mode min', async () => {
    const max = scripted([0.1, 0.5, 0.4], 5);
    const h = await trainEpochs(1, writeEpoch(max), { epochs: 3, batchSize: 1, rng: new Rng(1), validation: max.validation });
    expect(h).toMatchObject({ bestEpoch: 2, stoppedAt: null, validation: [0.1, 0.5, 0.4] });
    expect(max.epochOf()).toBe(2);
    const min = scripted([3, 1, 2, 0.5], 5, 'min');
    const m = await trainEpochs(1, writeEpoch(min), { epochs: 4, batchSize: 1, rng: new Rng(1), validation: min.validation });
    expect(m.bestEpoch).toBe(4);
    expect(min.epochOf()).toBe(4);
    const early = scripted([3, 1, 2, 2.5, 0.1], 2, 'min');
    const e = await trainEpochs(1, writeEpoch(early), { epochs: 5, batchSize: 1, rng: new Rng(1), validation: early.validation });
    expect(e).toMatchObject({ bestEpoch: 2, stoppedAt: 4 });
    expect(early.epochOf()).toBe(2);
  });

  it('keeps the last weights when no validation value is finite', async () => {
    const s = scripted([NaN, NaN, NaN], 5);
    const h = await trainEpochs(1, writeEpoch(s), { epochs: 3, batchSize: 1, rng: new Rng(1), validation: s.validation });
    expect(h.bestEpoch).toBe(3);
    expect(s.epochOf()).toBe(3);
  });

  it('throws AbortError at the next batch after an abort, running no further batch or validation', async () => {
    const controller = new AbortController();
    let steps = 0;
    let validations = 0;
    const progress: number[] = [];
    const w = new Param(K, 'w', 1, 1);
    const e = await rejection(
      trainEpochs(
        20,
        async () => {
          if (++steps === 3) controller.abort();
          return 0;
        },
        {
          epochs: 4,
          batchSize: 4,
          rng: new Rng(1),
          signal: controller.signal,
          onProgress: (p) => progress.push(p.done),
          validation: { metric: 'v', patience: 1, params: [w], evaluate: async () => ++validations },
        },
      ),
    );
    expect(e).toBeInstanceOf(AbortError);
    expect(steps).toBe(3);
    expect(validations).toBe(0);
    expect(progress).toEqual([]);
    // Aborted after the last batch of an epoch: no validation of the aborted epoch either.
    const late = new AbortController();
    let n = 0;
    validations = 0;
    const v = { metric: 'v', patience: 5, params: [w], evaluate: async () => ++validations };
    const e2 = await rejection(trainEpochs(8, async () => (++n === 4 ? late.abort() : undefined, 0), { epochs: 3, batchSize: 4, rng: new Rng(1), signal: late.signal, validation: v }));
    expect(e2).toBeInstanceOf(AbortError);
    expect([n, validations]).toEqual([4, 1]);
    // Aborted from a progress report: the next epoch does not start.
    const fromProgress = new AbortController();
    let m = 0;
    const e3 = await rejection(trainEpochs(8, async () => (m++, 0), { epochs: 3, batchSize: 4, rng: new Rng(1), signal: fromProgress.signal, onProgress: () => fromProgress.abort() }));
    expect(e3).toBeInstanceOf(AbortError);
    expect(m).toBe(2);
  });
});

describe('holdoutSplit', () => {
  /** Users with the given entry counts (items 0..count-1 each). */
  function rows(counts: number[]): ReturnType<typeof fromTriples> {
    const t: [number, number, number][] = [];
    counts.forEach((c, u) => {
      for (let i = 0; i < c; i++) t.push([u, i, 1 + ((u + i) % 3)]);
    });
    return fromTriples(counts.length, Math.max(...counts), t);
  }

  it('holds out 20% of a chosen user’s entries (rounded, at least one), never from users with fewer than 5', () => {
    const counts = [4, 5, 7, 8, 10, 12, 13, 20, 2, 0];
    const train = rows(counts);
    const split = holdoutSplit(train, 1, new Rng(3));
    if (!split) throw new Error('expected a split');
    // round(0.2 · n), at least 1: 5 → 1, 7 → 1, 8 → 2, 10 → 2, 12 → 2, 13 → 3, 20 → 4.
    expect(Array.from(split.users)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(split.validation.userCounts())).toEqual([0, 1, 1, 2, 2, 2, 3, 4, 0, 0]);
    expect(Array.from(split.fit.userCounts())).toEqual(counts.map((c, u) => c - [0, 1, 1, 2, 2, 2, 3, 4, 0, 0][u]));
    // Fit and validation partition the entries, values kept.
    for (let u = 0; u < counts.length; u++) {
      const all = [...split.fit.userItems(u), ...split.validation.userItems(u)].sort((a, b) => a - b);
      expect(all).toEqual(Array.from(train.userItems(u)));
      for (const i of split.validation.userItems(u)) expect(split.validation.get(u, i)).toBe(train.get(u, i));
    }
  });

  it('holds out about `fraction` of the eligible users, at most maxUsers, reproducibly from the rng', () => {
    const train = rows(Array.from({ length: 1000 }, (_, u) => (u % 4 === 0 ? 3 : 6)));
    const split = holdoutSplit(train, 0.3, new Rng(11));
    if (!split) throw new Error('expected a split');
    // 750 eligible users, p = 0.3: mean 225, sd ≈ 12.5.
    expect(split.users.length).toBeGreaterThan(180);
    expect(split.users.length).toBeLessThan(270);
    for (const u of split.users) expect(u % 4).not.toBe(0);
    expect(split.validation.nnz).toBe(split.users.length);
    const again = holdoutSplit(train, 0.3, new Rng(11));
    expect(Array.from(again?.users ?? [])).toEqual(Array.from(split.users));
    expect(Array.from(again?.validation.colIdx ?? [])).toEqual(Array.from(split.validation.colIdx));
    expect(Array.from(holdoutSplit(train, 0.3, new Rng(12))?.users ?? [])).not.toEqual(Array.from(split.users));
    expect(holdoutSplit(train, 1, new Rng(1), 50)?.users.length).toBe(50);
    expect(holdoutSplit(rows([4, 3, 2]), 1, new Rng(1))).toBeNull();
  });
});
