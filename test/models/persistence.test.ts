import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getKernels } from '../../src/linalg/index.js';
import { loadModel, modelEntry, openModel } from '../../src/models/index.js';
import { IalsRecommender } from '../../src/models/factorization/ials.js';
import { loadSnapshot, readManifest } from '../../src/models/persistence.js';
import { randomMatrix } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'recsys-models-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await (await getKernels()).close();
});

const train = randomMatrix(20, 15, 0.3, 17);

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

  it('rejects bad hyperparameters, an unknown model type and a missing state field, naming file and field', async () => {
    const dir = await saved('fields');
    const file = join(dir, 'model.json');
    const good = readFileSync(file, 'utf8');
    const edit = (f: (m: { modelType: string; hyperparameters: Record<string, unknown>; state: Record<string, unknown> }) => void): void => {
      const m = JSON.parse(good);
      f(m);
      writeFileSync(file, JSON.stringify(m));
    };
    edit((m) => (m.hyperparameters.solver = 'lu'));
    await expect(loadModel(dir)).rejects.toThrow(/model\.json: field "hyperparameters": ials: solver must be one of cg, cholesky \(got "lu"\)/);
    edit((m) => (m.hyperparameters.factorz = 3));
    await expect(loadModel(dir)).rejects.toThrow(/model\.json: field "hyperparameters": ials: unknown hyperparameter "factorz"/);
    edit((m) => (m.modelType = 'nope'));
    await expect(loadModel(dir)).rejects.toThrow(/model\.json: field "modelType": unknown model "nope"/);
    edit((m) => delete m.state.factors);
    await expect(loadModel(dir)).rejects.toThrow(/model\.json: state field "factors" missing/);
    writeFileSync(file, good);
    await expect(modelEntry('ease').load(dir)).rejects.toThrow(/holds a "ials" model, not "ease"/);
    const { model, manifest } = await openModel(dir);
    expect(model.name).toBe('ials');
    expect(manifest.items).toEqual(train.items.ids());
    expect(manifest.hyperparameters).toEqual({ ...modelEntry('ials').defaults, factors: 3, iterations: 2 });
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
