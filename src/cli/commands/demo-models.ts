/**
 * The model sections of `recsys demo`: every registered model family trained and compared on the demo's data
 * set, in three experiments that reuse the already loaded data:
 * - top-k ranking on a per-user 80/20 holdout of the training matrix (relevant = value >= 2, e.g. watch_ratio);
 * - the KuaiRec unbiased protocol (train big_matrix, test the fully observed small_matrix), when the data set has one;
 * - rating prediction (RMSE/MAE/R²) on a random 80/20 split, values clipped at 5 (KuaiRec's watch-ratio tail).
 *
 * Two profiles: `full` runs each model with the settings of the full comparison; `quick` (what `npm start`
 * runs) keeps every model and every protocol but trains the slow neural models for fewer epochs on smaller
 * mini-batches, and on data sets with more than {@link QUICK_MAX_USERS} users evaluates on a sample of users.
 * The report lists each model's settings and, for the quick profile, how they differ from the full ones.
 */
import type { LoadedDataset } from '../../data/dataset.js';
import { selectEventColumns } from '../../data/filters.js';
import { Interactions } from '../../data/interactions.js';
import { formatResults, resultsToHtml, runExperiment, settingsText, validateConfig, type ExperimentResults } from '../../eval/index.js';
import { formatNumber } from '../../report/format.js';
import { htmlTable, noteBox, paragraph, type ReportSection } from '../../report/html.js';
import type { PlannedUnit } from '../progress.js';
import type { DemoContext, DemoProfile, PlanContext, SectionBuilder } from './demo-context.js';

/** A model row of a demo comparison. */
export interface DemoModel {
  label: string;
  model: string;
  params: Record<string, unknown>;
  /** Expected fit + scoring seconds on the embedded sample (2 cores): weights of the overall progress's ETA. */
  cost: number;
}

/** Ranking models of the full comparison, with the hyperparameters used on the demo data. */
export const DEMO_RANKING_MODELS: DemoModel[] = [
  { label: 'popularity', model: 'popularity', params: {}, cost: 0.05 },
  { label: 'random', model: 'random', params: { seed: 42 }, cost: 0.15 },
  { label: 'iALS', model: 'ials', params: { factors: 64, iterations: 15, alpha: 10, reg: 0.1, confidence: 'log' }, cost: 0.6 },
  { label: 'BPR', model: 'bpr', params: { factors: 64, epochs: 30 }, cost: 0.4 },
  { label: 'item-KNN', model: 'item-knn', params: { neighbors: 100 }, cost: 0.25 },
  { label: 'EASE', model: 'ease', params: { reg: 500 }, cost: 0.25 },
  { label: 'PureSVD', model: 'pure-svd', params: { factors: 32 }, cost: 0.1 },
  { label: 'DeepAutoEncoder', model: 'deep-autoencoder', params: { lr: 0.001, epochs: 20 }, cost: 4.3 },
  { label: 'Mult-DAE', model: 'mult-dae', params: { epochs: 30 }, cost: 5.1 },
  { label: 'Mult-VAE', model: 'mult-vae', params: { epochs: 30, totalAnnealSteps: 200 }, cost: 5.6 },
  { label: 'two-tower', model: 'two-tower', params: { epochs: 10 }, cost: 60 },
];

/**
 * The quick profile's ranking models: the same models; the autoencoders take 3–4 epochs of 32-user
 * mini-batches (about as many updates as 30 epochs of 500, a tenth of the compute), two-tower 3 epochs of
 * 128-pair batches on the positives with value >= 2 (the relevance threshold) instead of 10 epochs on all.
 */
export const QUICK_RANKING_MODELS: DemoModel[] = DEMO_RANKING_MODELS.map((m): DemoModel => {
  switch (m.label) {
    case 'DeepAutoEncoder': return { ...m, params: { lr: 0.001, epochs: 3, batchSize: 32 }, cost: 0.8 };
    case 'Mult-DAE': return { ...m, params: { epochs: 4, batchSize: 32 }, cost: 1.3 };
    case 'Mult-VAE': return { ...m, params: { epochs: 4, batchSize: 32, totalAnnealSteps: 120 }, cost: 1.3 };
    case 'two-tower': return { ...m, params: { epochs: 3, batchSize: 128, positiveThreshold: 2 }, cost: 4 };
    default: return m;
  }
});

/** Rating models of the full comparison. */
export const DEMO_RATING_MODELS: DemoModel[] = [
  { label: 'global mean', model: 'global-mean', params: {}, cost: 0.45 },
  { label: 'uniform random', model: 'rating-uniform', params: {}, cost: 0.45 },
  { label: 'sampled from train', model: 'rating-sampled', params: {}, cost: 5.4 },
  { label: 'majority class', model: 'rating-majority', params: {}, cost: 0.2 },
  { label: 'user + item biases', model: 'biases', params: {}, cost: 0.3 },
  { label: 'biased MF (SGD)', model: 'biased-mf', params: { factors: 64, epochs: 40, lr: 0.02, reg: 0.1 }, cost: 4.3 },
  { label: 'ALS-WR', model: 'als', params: { factors: 16, iterations: 10, reg: 0.1 }, cost: 0.35 },
  { label: 'MLP ranker', model: 'mlp-ranker', params: { epochs: 10 }, cost: 49 },
];

/** The quick profile's rating models: biased MF for 15 epochs, the MLP ranker 2 epochs of a 64 → 16 network. */
export const QUICK_RATING_MODELS: DemoModel[] = DEMO_RATING_MODELS.map((m): DemoModel => {
  switch (m.label) {
    case 'biased MF (SGD)': return { ...m, params: { factors: 64, epochs: 15, lr: 0.02, reg: 0.1 }, cost: 1.6 };
    case 'MLP ranker': return { ...m, params: { epochs: 2, hidden: [64, 16] }, cost: 5 };
    default: return m;
  }
});

/** The quick profile evaluates on at most this many users (an evenly spaced sample beyond). */
export const QUICK_MAX_USERS = 1000;

/** The KuaiRec protocol trains on all of big_matrix: its fits take about this much longer than the holdout's. */
const KUAIREC_COST_FACTOR = 1.4;

const RANKING_METRICS = ['precision@10', 'recall@10', 'ndcg@10', 'map@10', 'ndcg@50', 'hitrate@10', 'coverage@10', 'novelty@10'];

/** The model list of a profile. */
export function demoModels(kind: 'ranking' | 'rating', profile: DemoProfile): DemoModel[] {
  if (kind === 'ranking') return profile === 'quick' ? QUICK_RANKING_MODELS : DEMO_RANKING_MODELS;
  return profile === 'quick' ? QUICK_RATING_MODELS : DEMO_RATING_MODELS;
}

/** A copy of the data set whose values are clipped at `cap` (same index spaces, aligned event columns). */
function clipped(dataset: LoadedDataset, cap: number): LoadedDataset {
  const x = dataset.interactions;
  const values = x.values.map((v) => (v > cap ? cap : v));
  const interactions = new Interactions(x.users, x.items, x.rowPtr, x.colIdx, values, x.timestamps);
  return { ...dataset, interactions };
}

/**
 * The data set with only `max` of its users' interactions (the others' rows emptied; same index spaces):
 * every user with a row in the test matrix, then users evenly spaced by index among the rest. Unchanged, and
 * no note, when it has at most `max` users with interactions.
 */
export function sampleUsers(dataset: LoadedDataset, max: number): { dataset: LoadedDataset; note: string | null } {
  const x = dataset.interactions;
  const counts = x.userCounts();
  const active: number[] = [];
  for (let u = 0; u < x.nUsers; u++) if (counts[u] > 0) active.push(u);
  if (active.length <= max) return { dataset, note: null };
  const testCounts = dataset.test?.userCounts();
  const keep = new Set<number>(active.filter((u) => testCounts !== undefined && testCounts[u] > 0));
  const rest = active.filter((u) => !keep.has(u));
  const want = Math.max(0, max - keep.size);
  for (let k = 0; k < want; k++) keep.add(rest[Math.floor((k * rest.length) / want)]);
  const mask = new Uint8Array(x.nnz);
  for (const u of keep) mask.fill(1, x.rowPtr[u], x.rowPtr[u + 1]);
  const interactions = x.selectEntries(mask);
  const note = `quick demo: ${formatNumber(keep.size)} of ${formatNumber(active.length)} users (${testCounts ? 'every test-matrix user, then ' : ''}evenly spaced by index), ${formatNumber(interactions.nnz)} of ${formatNumber(x.nnz)} interactions; "recsys demo --full" uses all`;
  return { dataset: { ...dataset, interactions, eventColumns: selectEventColumns(dataset.eventColumns, mask) }, note };
}

/** Runs one experiment on the demo's data, reporting each model to the overall progress, printing the table. */
async function experiment(ctx: DemoContext, dataset: LoadedDataset, raw: Record<string, unknown>, models: DemoModel[]): Promise<ExperimentResults> {
  const config = validateConfig({ ...raw, models: models.map(({ label, model, params }) => ({ label, model, params })) }, 'demo');
  const results = await runExperiment(config, {
    loadDataset: async () => dataset,
    signal: ctx.signal,
    onProgress: (p) => {
      const m = models.find((x) => p.phase.startsWith(`${x.label}: `));
      if (!m) return;
      ctx.tracker.startUnit(m.label);
      const phase = p.phase.slice(m.label.length + 2);
      const f = p.total > 0 ? p.done / p.total : 0;
      ctx.tracker.update({ ...p, phase }, phase.startsWith('scoring') ? 0.9 + 0.1 * f : 0.9 * f);
    },
    log: (line) => {
      ctx.log(line);
      // "label: fit 0.55 s, scoring 0.02 s" / "label: failed: ..." close a model.
      const done = models.find((x) => line.startsWith(`${x.label}: fit `) || line.startsWith(`${x.label}: failed`));
      if (done) ctx.tracker.finishUnit(done.label);
    },
  });
  ctx.print(`\n${results.name}${ctx.synthetic ? ' (SYNTHETIC data)' : ''}\n${formatResults(results, 'text')}\n`);
  return results;
}

/** Quick profile: the models whose settings differ from the full comparison's, side by side. */
function quickSettingsHtml(quick: DemoModel[], full: DemoModel[]): string {
  const rows = quick.flatMap((q) => {
    const f = full.find((m) => m.label === q.label);
    if (!f || settingsText(f.params) === settingsText(q.params)) return [];
    return [[q.label, settingsText(q.params), settingsText(f.params)]];
  });
  if (rows.length === 0) return '';
  return htmlTable(['model', 'settings here (quick demo)', 'settings of recsys demo --full'], rows, { caption: 'Reduced settings of the quick demo' });
}

/** Intro, notes, results table and (quick profile) the reduced settings of one experiment's section. */
function section(ctx: DemoContext, id: string, title: string, intro: string, results: ExperimentResults, models: DemoModel[], kind: 'ranking' | 'rating', notes: string[]): ReportSection {
  const quick = ctx.profile === 'quick';
  const boxes = [...notes];
  if (quick) boxes.unshift('Quick demo (npm start): every model and protocol, with the slow neural models trained for fewer epochs (see "Reduced settings" below), so their figures can be below what they reach with the full settings; "recsys demo --full" runs the full comparison.');
  const parts = [paragraph(intro), noteBox(boxes), resultsToHtml(results)];
  if (quick) parts.push(quickSettingsHtml(models, demoModels(kind, 'full')));
  return { id, title, html: parts.filter((p) => p !== '').join('\n') };
}

/** Units of a model stage for the overall progress. */
function modelUnits(models: DemoModel[], factor = 1): PlannedUnit[] {
  return models.map((m) => ({ label: m.label, weight: m.cost * factor }));
}

/** The data of a model experiment: the whole data set, or (quick profile, large data) a user sample. */
function experimentData(ctx: PlanContext, dataset: LoadedDataset): { dataset: LoadedDataset; note: string | null } {
  return ctx.profile === 'quick' ? sampleUsers(dataset, QUICK_MAX_USERS) : { dataset, note: null };
}

/** Top-k ranking of `models` (default: the profile's) on a per-user 80/20 holdout. */
export const rankingBuilder = (models?: DemoModel[]): SectionBuilder => ({
  name: 'ranking models',
  plan: (ctx) => modelUnits(models ?? demoModels('ranking', ctx.profile)),
  async build(ctx) {
    const list = models ?? demoModels('ranking', ctx.profile);
    const data = experimentData(ctx, ctx.dataset);
    const results = await experiment(ctx, data.dataset, {
      name: 'Ranking models — per-user 80/20 holdout',
      dataset: ctx.dataset.name,
      split: { method: 'ratio', ratios: [0.8, 0.2], order: 'random', seed: 42 },
      relevance: { threshold: 2 },
      metrics: RANKING_METRICS,
      diversityFeature: ctx.dataset.itemFeatures?.multiHot.tags ? 'tags' : undefined,
      bootstrap: 0,
      seed: 42,
    }, list);
    const intro = 'Each user\'s interactions are split 80/20 at random; a held-out interaction is relevant when its value is at least 2 (for KuaiRec: watched at least twice through). Full ranking over all items, training items excluded. The p-values compare each model with popularity, per user.';
    return [section(ctx, 'models-holdout', 'Model comparison: per-user holdout', intro, results, list, 'ranking', data.note ? [data.note] : [])];
  },
});

/** `models` (default: the profile's) under the KuaiRec unbiased protocol, when the data set has a fully observed test matrix. */
export const kuairecProtocolBuilder = (models?: DemoModel[]): SectionBuilder => ({
  name: 'KuaiRec protocol',
  plan: (ctx) => (ctx.dataset.test ? modelUnits(models ?? demoModels('ranking', ctx.profile), KUAIREC_COST_FACTOR) : []),
  async build(ctx) {
    if (!ctx.dataset.test) return [];
    const list = models ?? demoModels('ranking', ctx.profile);
    const data = experimentData(ctx, ctx.dataset);
    const results = await experiment(ctx, data.dataset, {
      name: 'Ranking models — KuaiRec unbiased protocol',
      dataset: ctx.dataset.name,
      split: { method: 'kuairec', threshold: 2 },
      metrics: RANKING_METRICS.filter((m) => !m.startsWith('coverage')),
      bootstrap: 0,
      seed: 42,
    }, list);
    const intro = 'Train on big_matrix, test on the fully observed small_matrix: every small-matrix item is a candidate for every small-matrix user, and a pair is relevant when watch_ratio ≥ 2.';
    return [section(ctx, 'models-kuairec', 'Model comparison: KuaiRec protocol (big → small matrix)', intro, results, list, 'ranking', data.note ? [data.note] : [])];
  },
});

/** Rating prediction: RMSE/MAE/R² of `models` (default: the profile's) on a random split, values clipped at 5. */
export const ratingBuilder = (models?: DemoModel[]): SectionBuilder => ({
  name: 'rating models',
  plan: (ctx) => modelUnits(models ?? demoModels('rating', ctx.profile)),
  async build(ctx) {
    const cap = 5;
    const list = models ?? demoModels('rating', ctx.profile);
    const data = experimentData(ctx, clipped(ctx.dataset, cap));
    const results = await experiment(ctx, data.dataset, {
      name: 'Rating models — random 80/20 split',
      dataset: ctx.dataset.name,
      split: { method: 'random', testRatio: 0.2, seed: 42 },
      metrics: ['rmse', 'mae', 'r2'],
      bootstrap: 0,
      seed: 42,
    }, list);
    const intro = `Predicting the interaction value (for KuaiRec: the watch ratio, clipped at ${cap} so that the extreme tail does not dominate squared errors) on a random 80/20 split of the interactions.`;
    return [section(ctx, 'models-rating', 'Model comparison: rating prediction', intro, results, list, 'rating', data.note ? [data.note] : [])];
  },
});

/** The model sections in report order. */
export const demoModelBuilders: SectionBuilder[] = [rankingBuilder(), kuairecProtocolBuilder(), ratingBuilder()];
