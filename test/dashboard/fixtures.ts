/**
 * A served model for the dashboard tests: iALS trained on a small generated data set (timestamps, tag
 * categories, titles added here), a results directory holding one real experiment run, and the service with the
 * dashboard on.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { validateConfig } from '../../src/eval/config.js';
import { runExperiment } from '../../src/eval/experiment.js';
import { formatResults } from '../../src/eval/format.js';
import { syntheticDataset } from '../../src/eval/synthetic.js';
import { createModel } from '../../src/models/index.js';
import { buildService, type Service } from '../../src/serve/app.js';
import type { DashboardOptions } from '../../src/serve/dashboard.js';
import { tempDir } from '../serve/fixtures.js';

/** The generated data set with a title per item ("Item 7"). */
export function dashboardData(): LoadedDataset {
  const ds = syntheticDataset({ users: 80, items: 50, perUser: 10, tags: 5, seed: 11 });
  const f = ds.itemFeatures;
  if (!f) throw new Error('synthetic data lost its item features');
  f.text.title = ds.interactions.items.ids().map((id) => `Item ${String(id)}`);
  return { ...ds, name: 'synthetic', itemFeatures: f };
}

/** The labels of the models the results file compares. */
export const RESULT_MODELS = ['random', 'popularity', 'ials'];

/** Runs a small experiment on the generated data and writes it as `dir/run.json` (what `--format json -o` writes). */
export async function writeResults(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const config = validateConfig({
    name: 'dashboard fixture',
    dataset: { name: 'synthetic', users: 80, items: 50, perUser: 10, seed: 11 },
    split: { method: 'ratio', ratios: [8, 2], seed: 1 },
    metrics: ['ndcg@10', 'recall@10', 'coverage@10'],
    models: ['random', 'popularity', { model: 'ials', params: { factors: 4, iterations: 3 } }],
    seed: 1,
  });
  const results = await runExperiment(config);
  const path = join(dir, 'run.json');
  await writeFile(path, `${formatResults(results, 'json')}\n`);
  return path;
}

/** Trains iALS on {@link dashboardData} and saves it; returns the model directory. */
export async function dashboardModel(root: string): Promise<string> {
  const m = createModel('ials', { factors: 4, iterations: 6, seed: 3 });
  await m.fit(dashboardData().interactions);
  const dir = join(root, 'ials');
  if (!m.save) throw new Error('ials cannot be saved');
  await m.save(dir);
  m.dispose?.();
  return dir;
}

/** The service over `model` with the dashboard on, its data set the generated one. */
export async function dashboardService(model: string, resultsDir: string, extra: DashboardOptions = {}): Promise<Service> {
  const ds = dashboardData();
  return buildService({ model, dataDir: await tempDir('recsys-dash-'), dashboard: { resultsDir, dataset: async () => ds, ...extra } });
}
