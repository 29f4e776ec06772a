import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel, modelEntry } from '../../../src/models/index.js';
import { loadModel } from '../../../src/models/load.js';
import { readManifest } from '../../../src/models/persistence.js';
import { usesFeatures } from '../../../src/models/contract.js';
import { planted } from './planted.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('neural models in the registry', () => {
  const names = ['deep-autoencoder', 'mult-dae', 'mult-vae', 'two-tower', 'mlp-ranker'];

  it('are registered with defaults that construct a model, and reject unknown hyperparameters', () => {
    for (const name of names) {
      const e = modelEntry(name);
      expect(e.load).toBeTypeOf('function');
      expect(createModel(name, e.defaults).name).toBe(name);
      expect(() => createModel(name, { nope: 1 })).toThrow(new RegExp(`${name}: unknown hyperparameter "nope"`));
    }
    expect(usesFeatures(createModel('two-tower'))).toBe(true);
    expect(usesFeatures(createModel('mlp-ranker'))).toBe(true);
    expect(usesFeatures(createModel('mult-vae'))).toBe(false);
  });

  it('save in the persistence format and load through loadModel (as `recsys recommend` does)', async () => {
    const data = planted(60, 30, 3, 8);
    const dir = await mkdtemp(join(tmpdir(), 'reg-'));
    dirs.push(dir);
    const params: Record<string, Record<string, unknown>> = {
      'deep-autoencoder': { hidden: [8, 4], epochs: 1, batchSize: 20 },
      'mult-dae': { hidden: [8, 4], epochs: 1, batchSize: 20 },
      'mult-vae': { hidden: [8, 4], epochs: 1, batchSize: 20 },
      'two-tower': { hidden: [8], dim: 4, idDim: 4, epochs: 1, batchSize: 32 },
      'mlp-ranker': { hidden: [8, 4], epochs: 1, batchSize: 64 },
    };
    for (const name of names) {
      const m = createModel(name, params[name]);
      await m.fit(data.train);
      (m as { provenance?: Record<string, unknown> }).provenance = { dataset: 'planted' };
      await m.save!(join(dir, name));
      const manifest = await readManifest(join(dir, name));
      expect(manifest.modelType).toBe(name);
      expect(manifest.provenance).toEqual({ dataset: 'planted' });
      expect(manifest.users.length).toBe(60);
      const back = await loadModel(join(dir, name));
      expect(back.name).toBe(name);
      expect((back as { provenance?: Record<string, unknown> }).provenance).toEqual({ dataset: 'planted' });
      const users = [0, 5, 9];
      expect(Array.from((await back.recommend(users, 5)).items)).toEqual(Array.from((await m.recommend(users, 5)).items));
    }
  });
});

describe('models saved by earlier versions', () => {
  it('load the autoencoders saved with the annealing keys in every variant, which new input still may not set', async () => {
    const data = planted(60, 30, 3, 8);
    const dir = await mkdtemp(join(tmpdir(), 'old-'));
    dirs.push(dir);
    for (const name of ['mult-dae', 'deep-autoencoder']) {
      const m = createModel(name, { hidden: [8, 4], epochs: 1, batchSize: 20 });
      await m.fit(data.train);
      await m.save!(join(dir, name));
      // Before each variant had its own schema, every autoencoder saved annealCap and totalAnnealSteps.
      const file = join(dir, name, 'model.json');
      const manifest = JSON.parse(await readFile(file, 'utf8'));
      manifest.hyperparameters = { ...manifest.hyperparameters, annealCap: 0.2, totalAnnealSteps: 200000 };
      await writeFile(file, JSON.stringify(manifest));
      const back = await loadModel(join(dir, name));
      expect(Array.from((await back.recommend([0, 1], 4)).items)).toEqual(Array.from((await m.recommend([0, 1], 4)).items));
      expect(() => createModel(name, { annealCap: 0.2 })).toThrow(new RegExp(`${name}: unknown hyperparameter "annealCap"`));
    }
  });
});

describe('kernel memory', () => {
  it('refitting releases the previous fit’s kernel arrays and dispose releases everything', async () => {
    const { TrackedKernels } = await import('../../../src/nn/tracked-kernels.js');
    const { referenceKernels } = await import('../../../src/linalg/index.js');
    const { AutoEncoderRecommender } = await import('../../../src/models/neural/autoencoder.js');
    const { TwoTowerRecommender } = await import('../../../src/models/neural/two-tower.js');
    const { RankingRecommender } = await import('../../../src/models/neural/ranking.js');
    const data = planted(60, 30, 3, 8);
    const models = [
      (k: InstanceType<typeof TrackedKernels>) => new AutoEncoderRecommender('mult-vae', { hidden: [8, 4], epochs: 1, batchSize: 20 }).useKernels(k),
      (k: InstanceType<typeof TrackedKernels>) => new TwoTowerRecommender({ hidden: [8], dim: 4, idDim: 4, epochs: 1, batchSize: 32 }).useKernels(k),
      (k: InstanceType<typeof TrackedKernels>) => new RankingRecommender({ hidden: [8, 4], epochs: 1, batchSize: 64 }).useKernels(k),
    ];
    for (const make of models) {
      const outer = new TrackedKernels(referenceKernels);
      const m = make(outer);
      await m.fit(data.train);
      await m.recommend([0, 1], 3);
      const afterFirst = outer.liveArrays;
      expect(afterFirst).toBeGreaterThan(0);
      await m.fit(data.train);
      await m.recommend([0, 1], 3);
      expect(outer.liveArrays).toBe(afterFirst);
      m.dispose();
      expect(outer.liveArrays).toBe(0);
      await expect(m.recommend([0], 3)).rejects.toThrow(/before fit or load/);
    }
  });
});
