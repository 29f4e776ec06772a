/**
 * The model sections of `recsys demo`: every registered model trained and compared on the demo's data set,
 * in three experiments that reuse the already loaded data:
 * - top-k ranking on a per-user 80/20 holdout of the training matrix (relevant = value >= 2, e.g. watch_ratio);
 * - the KuaiRec unbiased protocol (train big_matrix, test the fully observed small_matrix), when the data set has one;
 * - rating prediction (RMSE/MAE/R²) on a random 80/20 split, values clipped at 5 (KuaiRec's watch-ratio tail).
 */
import { Interactions } from '../../data/interactions.js';
import type { LoadedDataset } from '../../data/dataset.js';
import { formatResults, resultsToHtml, runExperiment, validateConfig, type ExperimentResults } from '../../eval/index.js';
import { paragraph, type ReportSection } from '../../report/html.js';
import { ProgressBar } from '../progress.js';
import type { DemoContext, SectionBuilder } from './demo.js';

/** A model row of a demo comparison. */
export interface DemoModel {
  label: string;
  model: string;
  params: Record<string, unknown>;
}

/** Ranking models of the comparison, with the hyperparameters used on the demo data. */
export const DEMO_RANKING_MODELS: DemoModel[] = [
  { label: 'popularity', model: 'popularity', params: {} },
  { label: 'random', model: 'random', params: { seed: 42 } },
  { label: 'iALS', model: 'ials', params: { factors: 64, iterations: 15, alpha: 10, reg: 0.1, confidence: 'log' } },
  { label: 'BPR', model: 'bpr', params: { factors: 64, epochs: 30 } },
  { label: 'item-KNN', model: 'item-knn', params: { neighbors: 100 } },
  { label: 'EASE', model: 'ease', params: { reg: 500 } },
  { label: 'PureSVD', model: 'pure-svd', params: { factors: 32 } },
  { label: 'DeepAutoEncoder', model: 'deep-autoencoder', params: { lr: 0.001, epochs: 20 } },
  { label: 'Mult-DAE', model: 'mult-dae', params: { epochs: 30 } },
  { label: 'Mult-VAE', model: 'mult-vae', params: { epochs: 30, totalAnnealSteps: 200 } },
  { label: 'two-tower', model: 'two-tower', params: { epochs: 10 } },
];

/** Rating models of the comparison. */
export const DEMO_RATING_MODELS: DemoModel[] = [
  { label: 'global mean', model: 'global-mean', params: {} },
  { label: 'uniform random', model: 'rating-uniform', params: {} },
  { label: 'sampled from train', model: 'rating-sampled', params: {} },
  { label: 'majority class', model: 'rating-majority', params: {} },
  { label: 'user + item biases', model: 'biases', params: {} },
  { label: 'biased MF (SGD)', model: 'biased-mf', params: { factors: 64, epochs: 40, lr: 0.02, reg: 0.1 } },
  { label: 'ALS-WR', model: 'als', params: { factors: 16, iterations: 10, reg: 0.1 } },
  { label: 'MLP ranker', model: 'mlp-ranker', params: { epochs: 10 } },
];

const RANKING_METRICS = ['precision@10', 'recall@10', 'ndcg@10', 'map@10', 'ndcg@50', 'hitrate@10', 'coverage@10', 'novelty@10'];

/** A copy of the data set whose values are clipped at `cap` (same index spaces, aligned event columns). */
function clipped(dataset: LoadedDataset, cap: number): LoadedDataset {
  const x = dataset.interactions;
  const values = x.values.map((v) => (v > cap ? cap : v));
  const interactions = new Interactions(x.users, x.items, x.rowPtr, x.colIdx, values, x.timestamps);
  return { ...dataset, interactions };
}

/** Runs one experiment on the demo's loaded data with a progress bar, logging the text table. */
async function experiment(ctx: DemoContext, dataset: LoadedDataset, raw: Record<string, unknown>): Promise<ExperimentResults> {
  const config = validateConfig(raw, 'demo');
  const bar = ctx.progress ? new ProgressBar(String(raw.name)) : null;
  try {
    const results = await runExperiment(config, {
      loadDataset: async () => dataset,
      signal: ctx.signal,
      onProgress: bar ? (p) => bar.update(p) : undefined,
      log: ctx.log,
    });
    bar?.stop();
    ctx.log(formatResults(results, 'text'));
    return results;
  } finally {
    bar?.stop();
  }
}

function section(id: string, title: string, intro: string, results: ExperimentResults): ReportSection {
  return { id, title, html: `${paragraph(intro)}${resultsToHtml(results)}` };
}

/** Top-k ranking of `models` on a per-user 80/20 holdout. */
export const rankingBuilder = (models: DemoModel[] = DEMO_RANKING_MODELS): SectionBuilder => ({
  name: 'ranking models (per-user holdout)',
  async build(ctx) {
    const results = await experiment(ctx, ctx.dataset, {
      name: 'Ranking models — per-user 80/20 holdout',
      dataset: ctx.dataset.name,
      split: { method: 'ratio', ratios: [0.8, 0.2], order: 'random', seed: 42 },
      relevance: { threshold: 2 },
      metrics: RANKING_METRICS,
      diversityFeature: ctx.dataset.itemFeatures?.multiHot.tags ? 'tags' : undefined,
      models,
      bootstrap: 0,
      seed: 42,
    });
    const intro = 'Each user\'s interactions are split 80/20 at random; a held-out interaction is relevant when its value is at least 2 (for KuaiRec: watched at least twice through). Full ranking over all items, training items excluded. The p-values compare each model with popularity, per user.';
    return [section('models-holdout', 'Model comparison: per-user holdout', intro, results)];
  },
});

/** `models` under the KuaiRec unbiased protocol, when the data set has a fully observed test matrix. */
export const kuairecProtocolBuilder = (models: DemoModel[] = DEMO_RANKING_MODELS): SectionBuilder => ({
  name: 'ranking models (KuaiRec protocol)',
  async build(ctx) {
    if (!ctx.dataset.test) return [];
    const results = await experiment(ctx, ctx.dataset, {
      name: 'Ranking models — KuaiRec unbiased protocol',
      dataset: ctx.dataset.name,
      split: { method: 'kuairec', threshold: 2 },
      metrics: RANKING_METRICS.filter((m) => !m.startsWith('coverage')),
      models,
      bootstrap: 0,
      seed: 42,
    });
    const intro = 'Train on big_matrix, test on the fully observed small_matrix: every small-matrix item is a candidate for every small-matrix user, and a pair is relevant when watch_ratio ≥ 2.';
    return [section('models-kuairec', 'Model comparison: KuaiRec protocol (big → small matrix)', intro, results)];
  },
});

/** Rating prediction: RMSE/MAE/R² of `models` on a random split, values clipped at 5. */
export const ratingBuilder = (models: DemoModel[] = DEMO_RATING_MODELS): SectionBuilder => ({
  name: 'rating models',
  async build(ctx) {
    const cap = 5;
    const results = await experiment(ctx, clipped(ctx.dataset, cap), {
      name: 'Rating models — random 80/20 split',
      dataset: ctx.dataset.name,
      split: { method: 'random', testRatio: 0.2, seed: 42 },
      metrics: ['rmse', 'mae', 'r2'],
      models,
      bootstrap: 0,
      seed: 42,
    });
    const intro = `Predicting the interaction value (for KuaiRec: the watch ratio, clipped at ${cap} so that the extreme tail does not dominate squared errors) on a random 80/20 split of the interactions.`;
    return [section('models-rating', 'Model comparison: rating prediction', intro, results)];
  },
});

/** The model sections in report order, with every model. */
export const demoModelBuilders: SectionBuilder[] = [rankingBuilder(), kuairecProtocolBuilder(), ratingBuilder()];
