/**
 * `recsys train`: loads a data set (registry name or any interactions file with a column mapping), fits a
 * model with a progress bar (Ctrl-C stops after the current step), and saves it to a model directory that
 * records where the data came from (so `recsys recommend` can show item metadata).
 */
import type { Command } from 'commander';
import { formatCleaningReport, loadInteractionsFile, type CleaningReport, type ColumnMapping } from '../../data/index.js';
import { loadDataset } from '../../data/datasets/registry.js';
import type { LoadedDataset } from '../../data/dataset.js';
import type { Interactions } from '../../data/interactions.js';
import { getKernels } from '../../linalg/index.js';
import { createModel, modelEntries, modelEntry } from '../../models/index.js';
import { usesFeatures } from '../../models/neural/features.js';
import { coerceToDefaults, parseParamAssignments } from '../../models/params.js';
import { AbortError } from '../../core/progress.js';
import { interruptSignal, ProgressBar } from '../progress.js';

interface TrainFlags {
  dataset?: string;
  input?: string;
  path?: string;
  userCol?: string;
  itemCol?: string;
  valueCol?: string;
  timeCol?: string;
  delimiter?: string;
  model: string;
  param: string[];
  out: string;
  minValue?: string;
  binarize?: boolean;
  progress: boolean;
}

/** Where the training data of a saved model came from; stored as the model's provenance. */
export interface TrainProvenance {
  dataset?: string;
  datasetPath?: string;
  input?: string;
  columns?: ColumnMapping;
  minValue?: number;
  binarize?: boolean;
  /** What the load read, dropped and merged (the summary `train` prints, as `datasets info` does). */
  cleaning?: CleaningReport;
  [key: string]: unknown;
}

/** Loads the training data named by the flags. */
async function loadTrainingData(flags: TrainFlags, signal: AbortSignal): Promise<{ ds: LoadedDataset; provenance: TrainProvenance }> {
  if (flags.dataset && flags.input) throw new Error('give either --dataset or --input, not both');
  const bar = new ProgressBar('load', { force: flags.progress });
  try {
    if (flags.dataset) {
      const ds = await loadDataset(flags.dataset, { path: flags.path, signal, onProgress: (p) => bar.update(p) });
      return { ds, provenance: { dataset: flags.dataset, ...(flags.path ? { datasetPath: flags.path } : {}) } };
    }
    if (flags.input) {
      if (!flags.userCol || !flags.itemCol) throw new Error('--input needs --user-col and --item-col (and optionally --value-col, --time-col)');
      const columns: ColumnMapping = { user: flags.userCol, item: flags.itemCol, ...(flags.valueCol ? { value: flags.valueCol } : {}), ...(flags.timeCol ? { time: flags.timeCol } : {}) };
      const ds = await loadInteractionsFile(flags.input, columns, { signal, onProgress: (p) => bar.update(p), ...(flags.delimiter ? { format: { delimiter: flags.delimiter } } : {}) });
      return { ds, provenance: { input: flags.input, columns } };
    }
    throw new Error('give --dataset NAME or --input FILE');
  } finally {
    bar.stop();
  }
}

/** Applies --min-value and --binarize. */
function prepare(x: Interactions, flags: TrainFlags): Interactions {
  let out = x;
  if (flags.minValue !== undefined) {
    const v = Number(flags.minValue);
    if (!Number.isFinite(v)) throw new Error(`--min-value must be a number (got ${JSON.stringify(flags.minValue)})`);
    out = out.minValue(v);
  }
  if (flags.binarize) out = out.binarize();
  return out;
}

/** Registers `train`. */
export function register(program: Command): void {
  program
    .command('train')
    .description('fit a model on a data set or interactions file and save it to a model directory')
    .option('--dataset <name>', 'registered data set (see `datasets list`)')
    .option('--path <dir>', 'directory holding the data set files')
    .option('--input <file>', 'interactions file (CSV/TSV/::/Parquet, optionally .gz)')
    .option('--user-col <name>', 'user id column of --input')
    .option('--item-col <name>', 'item id column of --input')
    .option('--value-col <name>', 'value column of --input (rating, count...)')
    .option('--time-col <name>', 'time column of --input')
    .option('--delimiter <sep>', 'field separator of --input')
    .requiredOption('--model <type>', `model type: ${modelEntries().map((e) => e.name).sort().join(', ')}`)
    .option('--param <key=value>', 'hyperparameter (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .requiredOption('--out <dir>', 'model directory to write')
    .option('--min-value <x>', 'keep only interactions with value >= x (e.g. watch_ratio >= 2)')
    .option('--binarize', 'treat every kept interaction as 1')
    .option('--progress', 'progress lines even when stderr is not a terminal', false)
    .action(async (flags: TrainFlags) => {
      const model = createModel(flags.model, coerceToDefaults(flags.model, modelEntry(flags.model).defaults, parseParamAssignments(flags.param)));
      const { signal, dispose } = interruptSignal();
      try {
        const { ds, provenance } = await loadTrainingData(flags, signal);
        process.stderr.write(`cleaning report:\n${formatCleaningReport(ds.report)}\n`);
        provenance.cleaning = ds.report;
        const train = prepare(ds.interactions, flags);
        if (usesFeatures(model)) model.setFeatures(ds);
        if (flags.minValue !== undefined) provenance.minValue = Number(flags.minValue);
        if (flags.binarize) provenance.binarize = true;
        process.stderr.write(`training ${flags.model} on ${ds.name}: ${train.nUsers} users, ${train.nItems} items, ${train.nnz} interactions\n`);
        const bar = new ProgressBar(flags.model, { force: flags.progress });
        const t0 = performance.now();
        try {
          await model.fit(train, { signal, onProgress: (p) => bar.update(p) });
        } finally {
          bar.stop();
        }
        const seconds = (performance.now() - t0) / 1000;
        if (!model.save) throw new Error(`model "${flags.model}" cannot be saved`);
        (model as { provenance?: Record<string, unknown> }).provenance = provenance;
        await model.save(flags.out);
        process.stdout.write(`fitted ${flags.model} in ${seconds.toFixed(2)} s; saved to ${flags.out}\n`);
      } catch (e) {
        if (e instanceof AbortError) {
          process.stderr.write('training interrupted; nothing saved\n');
          process.exitCode = 130;
          return;
        }
        throw e;
      } finally {
        dispose();
        await (await getKernels()).close();
      }
    });
}
