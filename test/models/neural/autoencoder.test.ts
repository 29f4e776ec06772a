import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateModel } from '../../../src/eval/evaluate.js';
import { parseMetric } from '../../../src/eval/metrics.js';
import { PopularityRecommender } from '../../../src/models/baselines/popularity.js';
import { AutoEncoderRecommender } from '../../../src/models/neural/autoencoder.js';
import { loadModel, modelEntry } from '../../../src/models/index.js';
import type { Progress } from '../../../src/core/progress.js';
import { planted } from './planted.js';

const data = planted();
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function ndcg10(model: { fit: unknown } & Parameters<typeof evaluateModel>[0]): Promise<number> {
  const r = await evaluateModel(model, data.train, data.test, { metrics: [parseMetric('ndcg@10')], bootstrap: 0 });
  return r.metrics['ndcg@10'].mean;
}

const small = { hidden: [48, 16], batchSize: 50, seed: 5 };

describe('autoencoders on planted clusters', () => {
  let popularity = 0;
  it('popularity baseline', async () => {
    const pop = new PopularityRecommender();
    await pop.fit(data.train);
    popularity = await ndcg10(pop);
    expect(popularity).toBeLessThan(0.2);
  });

  it('Mult-VAE learns the clusters (NDCG@10 > 0.45, well above popularity), reports progress', async () => {
    const model = new AutoEncoderRecommender('mult-vae', { ...small, epochs: 40, totalAnnealSteps: 100, lr: 3e-3 });
    const progress: Progress[] = [];
    await model.fit(data.train, { onProgress: (p) => progress.push(p) });
    const ndcg = await ndcg10(model);
    expect(ndcg).toBeGreaterThan(0.45);
    expect(ndcg).toBeGreaterThan(2 * popularity);
    expect(progress.length).toBe(40);
    expect(progress[39]).toMatchObject({ phase: 'epoch', done: 40, total: 40 });
    expect(model.history.loss[39]).toBeLessThan(model.history.loss[0]);
    // foldIn gives the 16-d mean code; recommendForHistory ranks the history's cluster first.
    const hist = data.train.userItems(0);
    expect((await model.foldIn({ items: hist })).length).toBe(16);
    const top = await model.recommendForHistory({ items: hist }, 5);
    const hits = Array.from(top.items).filter((i) => data.itemCluster[i] === data.userCluster[0]).length;
    expect(hits).toBeGreaterThanOrEqual(4);
    for (const i of top.items) expect(Array.from(hist)).not.toContain(i);
  });

  it('Mult-DAE learns the clusters and is reproducible for a seed', async () => {
    const a = new AutoEncoderRecommender('mult-dae', { ...small, epochs: 30, lr: 3e-3 });
    await a.fit(data.train);
    expect(await ndcg10(a)).toBeGreaterThan(0.45);
    const users = Int32Array.from([0, 1, 2, 3]);
    const items = Int32Array.from([5, 6, 7, 8]);
    const run = async (seed: number): Promise<number[]> => {
      const m = new AutoEncoderRecommender('mult-dae', { ...small, epochs: 3, lr: 3e-3, seed });
      await m.fit(data.train);
      return Array.from(await m.score(users, items));
    };
    const first = await run(5);
    expect(await run(5)).toEqual(first);
    expect(await run(6)).not.toEqual(first);
  });

  it('the seed deep autoencoder (BCE) learns with a usable learning rate, early-stops, and round-trips through save/load', async () => {
    const model = new AutoEncoderRecommender('deep-autoencoder', { hidden: [48, 16], batchSize: 50, epochs: 60, lr: 1e-2, dropout: 0.3, holdout: 0.3, patience: 4 });
    await model.fit(data.train);
    // Early stopping: one validation NDCG per epoch run; stopped `patience` (4) epochs after the best, whose
    // weights the model keeps.
    const h = model.history;
    expect(h.stoppedAt).not.toBeNull();
    expect(h.validation.length).toBe(h.stoppedAt);
    expect(h.validation.length).toBeLessThan(60);
    expect(h.validation[h.bestEpoch - 1]).toBe(Math.max(...h.validation));
    expect(h.stoppedAt).toBe(h.bestEpoch + 4);
    expect(await ndcg10(model)).toBeGreaterThan(0.45);
    const dir = await mkdtemp(join(tmpdir(), 'ae-'));
    dirs.push(dir);
    await model.save(join(dir, 'm'));
    const loaded = await loadModel(join(dir, 'm'));
    expect(loaded).toBeInstanceOf(AutoEncoderRecommender);
    const users = Int32Array.from([0, 10, 20]);
    expect(Array.from((await loaded.recommend(users, 10)).items)).toEqual(Array.from((await model.recommend(users, 10)).items));
    await expect(modelEntry('mult-vae').load(join(dir, 'm'))).rejects.toThrow(/holds a "deep-autoencoder" model, not "mult-vae"/);
  });

  it('Mult-VAE has its own defaults (600 → 64, lr 0.004, ≤ 30 epochs), Mult-DAE keeps its; a model saved with the former Mult-VAE defaults loads with them and predicts as before', async () => {
    expect(modelEntry('mult-vae').defaults).toMatchObject({ hidden: [600, 64], lr: 0.004, epochs: 30, weightDecay: 0, batchSize: 500, dropout: 0.5 });
    expect(modelEntry('mult-dae').defaults).toMatchObject({ hidden: [600, 200], lr: 1e-3, epochs: 50, weightDecay: 0.01, batchSize: 500, dropout: 0.5 });
    // The former defaults, as a saved model's manifest holds them (every hyperparameter is saved).
    const former = { hidden: [600, 200], lr: 1e-3, epochs: 2, weightDecay: 0, batchSize: 500, dropout: 0.5 };
    const old = new AutoEncoderRecommender('mult-vae', former);
    await old.fit(data.train);
    const dir = await mkdtemp(join(tmpdir(), 'vae-'));
    dirs.push(dir);
    await old.save(join(dir, 'm'));
    const loaded = await loadModel(join(dir, 'm'));
    expect(loaded).toBeInstanceOf(AutoEncoderRecommender);
    expect((loaded as AutoEncoderRecommender).params).toMatchObject(former);
    const users = Int32Array.from([0, 1, 2, 3]);
    const items = Int32Array.from([5, 6, 7, 8]);
    expect(Array.from(await (loaded as AutoEncoderRecommender).score(users, items))).toEqual(Array.from(await old.score(users, items)));
    expect((await (loaded as AutoEncoderRecommender).foldIn({ items: data.train.userItems(0) })).length).toBe(200);
  });

  it('stops at the next batch when the signal is aborted', async () => {
    const controller = new AbortController();
    const model = new AutoEncoderRecommender('mult-vae', { ...small, epochs: 50 });
    const done: number[] = [];
    const fit = model.fit(data.train, {
      signal: controller.signal,
      onProgress: (p) => {
        done.push(p.done);
        if (p.done === 2) controller.abort();
      },
    });
    await expect(fit).rejects.toThrow(expect.objectContaining({ name: 'AbortError' }));
    expect(done).toEqual([1, 2]);
  });

  it('rejects bad hyperparameters by name', () => {
    expect(() => new AutoEncoderRecommender('mult-vae', { hiddn: [1] })).toThrow(/unknown hyperparameter "hiddn"/);
    expect(() => new AutoEncoderRecommender('mult-vae', { lr: 'fast' })).toThrow(/mult-vae: lr must be a number > 0 \(got "fast"\)/);
    expect(new AutoEncoderRecommender('mult-vae', { lr: '0.1', hidden: '64,8' }).params).toMatchObject({ lr: 0.1, hidden: [64, 8] });
    expect(() => new AutoEncoderRecommender('mult-vae', { optimizer: 'rmsprop' })).toThrow(/optimizer must be one of adam, adamw, sgd, adagrad/);
    expect(() => new AutoEncoderRecommender('mult-dae', { dropout: 1 })).toThrow(/dropout must be a number >= 0 and < 1 \(got 1\)/);
    expect(() => new AutoEncoderRecommender('mult-dae', { hidden: [] })).toThrow(/hidden must be a list of integers >= 1 \(at least 1\)/);
    // The KL annealing belongs to mult-vae only: the other variants reject it instead of ignoring it.
    expect(new AutoEncoderRecommender('mult-vae', { annealCap: 0.5 }).params.annealCap).toBe(0.5);
    expect(() => new AutoEncoderRecommender('mult-dae', { annealCap: 0.5 })).toThrow(/mult-dae: unknown hyperparameter "annealCap"/);
  });
});
