import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getKernels } from '../../src/linalg/index.js';
import { loadModel } from '../../src/models/index.js';
import { IalsRecommender } from '../../src/models/ials.js';
import { PopularityRecommender } from '../../src/models/popularity.js';
import { RandomRecommender } from '../../src/models/random.js';
import { dataFingerprint, loadSnapshot, readManifest } from '../../src/models/persistence.js';
import { SMALL_MODELS } from './all-models.js';
import { randomMatrix } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'recsys-models-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await (await getKernels()).close();
});

const train = randomMatrix(20, 15, 0.3, 17);
const users = Int32Array.from({ length: 20 }, (_, u) => u);
const RANDOM_SCORES = ['rating-uniform', 'rating-sampled'];

describe.each(Object.keys(SMALL_MODELS))('%s save → load', (name) => {
  it('gives identical recommendations, scores and similar items', async () => {
    const m = SMALL_MODELS[name]();
    await m.fit(train);
    m.provenance = { dataset: 'generated' };
    const dir = join(root, name);
    await m.save(dir);
    const back = await loadModel(dir);
    expect(back.name).toBe(m.name);
    const a = await m.recommend(users, 6, { filterItems: [1] });
    const b = await back.recommend(users, 6, { filterItems: [1] });
    expect(Array.from(b.items)).toEqual(Array.from(a.items));
    expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    if (!RANDOM_SCORES.includes(name)) {
      const it = Int32Array.from({ length: 20 }, (_, j) => j % 15);
      expect(Array.from(await back.score!(users, it))).toEqual(Array.from(await m.score!(users, it)));
    }
    if (m.similarItems) expect(Array.from((await back.similarItems!(3, 4)).items)).toEqual(Array.from((await m.similarItems(3, 4)).items));
    const manifest = await readManifest(dir);
    expect(manifest.provenance).toEqual({ dataset: 'generated' });
    expect(manifest.dataFingerprint).toBe(dataFingerprint(train));
    expect(manifest.users).toEqual(train.users.ids());
  });
});

describe.each([
  ['popularity', () => new PopularityRecommender()],
  ['random', () => new RandomRecommender({ seed: 3 })],
] as const)('%s save → load', (name, make) => {
  it('gives identical recommendations and scores', async () => {
    const m = make();
    await m.fit(train);
    const dir = join(root, `baseline-${name}`);
    await m.save(dir);
    const back = await loadModel(dir);
    expect(back.name).toBe(name);
    expect(Array.from((await back.recommend(users, 5)).items)).toEqual(Array.from((await m.recommend(users, 5)).items));
    const it = Int32Array.from({ length: 20 }, (_, j) => j % 15);
    expect(Array.from(await back.score!(users, it))).toEqual(Array.from(await m.score(users, it)));
  });
});

describe('model directory integrity', () => {
  async function saved(name: string): Promise<string> {
    const m = new IalsRecommender({ factors: 3, iterations: 2 });
    await m.fit(train);
    const dir = join(root, name);
    await m.save(dir);
    return dir;
  }

  it('rejects a truncated array file naming the file', async () => {
    const dir = await saved('truncated');
    const file = join(dir, 'itemFactors.bin');
    truncateSync(file, statSync(file).size - 4);
    await expect(loadModel(dir)).rejects.toThrow(/itemFactors\.bin: truncated: expected 180 bytes .* found 176/);
  });

  it('rejects a corrupted array file by its sha256', async () => {
    const dir = await saved('corrupted');
    const file = join(dir, 'userFactors.bin');
    const bytes = readFileSync(file);
    bytes[5] ^= 0xff;
    writeFileSync(file, bytes);
    await expect(loadModel(dir)).rejects.toThrow(/userFactors\.bin: sha256 mismatch/);
  });

  it('rejects a truncated manifest, a wrong type and a missing directory', async () => {
    const dir = await saved('manifest');
    await expect(loadSnapshot(dir, 'ease')).rejects.toThrow(/holds a "ials" model, not "ease"/);
    const text = readFileSync(join(dir, 'model.json'), 'utf8');
    writeFileSync(join(dir, 'model.json'), text.slice(0, text.length / 2));
    await expect(loadSnapshot(dir)).rejects.toThrow(/model\.json: not valid JSON/);
    await expect(loadModel(join(root, 'nope'))).rejects.toThrow(/cannot read model manifest/);
  });

  it('rejects a manifest whose array shape disagrees with the model', async () => {
    const dir = await saved('shape');
    const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    m.state.factors = 4;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
    await expect(loadModel(dir)).rejects.toThrow(/array "userFactors" has 60 values, expected 80/);
  });

  it('replaces an existing model atomically and leaves no temporary directories', async () => {
    const dir = await saved('replace');
    const m = new IalsRecommender({ factors: 2, iterations: 1 });
    await m.fit(train);
    await m.save(dir);
    expect((await readManifest(dir)).state.factors).toBe(2);
    expect(readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(existsSync(join(dir, 'model.json'))).toBe(true);
  });
});
