/**
 * `recsys train`: loads a data set (registry name or any interactions file with a column mapping), fits a
 * model with a progress bar (Ctrl-C stops after the current step), and saves it to a model directory that
 * records where the data came from (so `recsys recommend` can show item metadata).
 */
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { checkOutputDir, type OutputDirOptions } from '../../core/safe-write.js';
import { applyFilters, formatCleaningReport, loadInteractionsFile, type CleaningReport, type ColumnMapping } from '../../data/index.js';
import { loadDataset } from '../../data/datasets/registry.js';
import type { LoadedDataset } from '../../data/dataset.js';
import type { Interactions } from '../../data/interactions.js';
import { getKernels } from '../../linalg/index.js';
import { createModel, modelEntries, usesFeatures, type Recommender } from '../../models/index.js';
import { modelDirEntries } from '../../models/model-dir.js';
import { MANIFEST_FILE } from '../../models/persistence.js';
import { parseParamAssignments } from '../../core/params.js';
import { UsageError } from '../../core/errors.js';
import { AbortError, isAbortError } from '../../core/progress.js';
import { explainRunError } from '../../eval/fit-errors.js';
import { interruptSignal, ProgressBar } from '../progress.js';

/** The flags of {@link addDataOptions}: which data, its column mapping and filters (shared with `spark als`). */
export type DataFlags = Omit<TrainFlags, 'model' | 'param' | 'out' | 'progress'>;

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
  force: boolean;
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
export async function loadTrainingData(flags: DataFlags, signal: AbortSignal): Promise<{ ds: LoadedDataset; provenance: TrainProvenance }> {
  if (flags.dataset && flags.input) throw new UsageError('give either --dataset or --input, not both');
  const bar = new ProgressBar('load');
  try {
    if (flags.dataset) {
      const ds = await loadDataset(flags.dataset, { path: flags.path, signal, onProgress: (p) => bar.update(p) });
      return { ds, provenance: { dataset: flags.dataset, ...(flags.path ? { datasetPath: flags.path } : {}) } };
    }
    if (flags.input) {
      if (!flags.userCol || !flags.itemCol) throw new UsageError('--input needs --user-col and --item-col (and optionally --value-col, --time-col)');
      const columns: ColumnMapping = { user: flags.userCol, item: flags.itemCol, ...(flags.valueCol ? { value: flags.valueCol } : {}), ...(flags.timeCol ? { time: flags.timeCol } : {}) };
      const ds = await loadInteractionsFile(flags.input, columns, { signal, onProgress: (p) => bar.update(p), ...(flags.delimiter ? { format: { delimiter: flags.delimiter } } : {}) });
      return { ds, provenance: { input: flags.input, columns } };
    }
    throw new UsageError('give --dataset NAME or --input FILE');
  } finally {
    bar.stop();
  }
}

/**
 * What `--out` may be: a new path, an empty directory, or (with --force) a model directory of a known model
 * type; never the input file or data set folder, nor a directory containing or inside one.
 */
export function outputGuard(flags: DataFlags, inputs: (string | undefined)[]): OutputDirOptions {
  const known = new Set(modelEntries().map((e) => e.name));
  return {
    what: 'model directory',
    inputs,
    force: flags.force,
    forceHint: 'pass --force to replace it',
    recognize: (dir) => modelDirEntries(dir, MANIFEST_FILE, (type) => known.has(type)),
    marker: `no ${MANIFEST_FILE} with a known modelType`,
  };
}

/** The folder of a registered data set, or the file of --input or "generic", as inputs `--out` must keep clear of. */
export function dataInputs(flags: DataFlags, ds: LoadedDataset): string[] {
  return flags.dataset && flags.dataset !== 'generic' ? [...new Set(ds.report.files.map((f) => dirname(f)))] : ds.report.files;
}

/** The --min-value threshold, checked. */
export function minValueOf(flags: DataFlags): number | undefined {
  if (flags.minValue === undefined) return undefined;
  const v = Number(flags.minValue);
  if (flags.minValue.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--min-value must be a number (got ${JSON.stringify(flags.minValue)})`);
  return v;
}

/** Applies --min-value and --binarize; a threshold that keeps nothing is a usage error naming the flag. */
export function prepare(x: Interactions, flags: DataFlags): Interactions {
  const minValue = minValueOf(flags);
  try {
    return applyFilters({ interactions: x, eventColumns: {} }, { minValue, binarize: flags.binarize }).interactions;
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`--min-value ${flags.minValue}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** A model that can be written to a directory. */
type SavableModel = Recommender & Required<Pick<Recommender, 'save'>>;

function isSavable(m: Recommender): m is SavableModel {
  return typeof m.save === 'function';
}

/** The model the flags ask for; unknown types, rejected hyperparameters and unsavable types are usage errors. */
function modelFromFlags(flags: TrainFlags): { model: SavableModel; params: Record<string, unknown> } {
  try {
    const params = parseParamAssignments(flags.param);
    const model = createModel(flags.model, params);
    if (!isSavable(model)) throw new Error(`model "${flags.model}" cannot be saved, so \`train\` cannot store it`);
    return { model, params };
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
}

/** Adds the data flags (--dataset/--path or --input with its columns, --min-value, --binarize) to `cmd`. */
export function addDataOptions(cmd: Command): Command {
  return cmd
    .option('--dataset <name>', 'registered data set (see `datasets list`)')
    .option('--path <dir>', 'directory holding the data set files')
    .option('--input <file>', 'interactions file (CSV/TSV/::/Parquet, optionally .gz)')
    .option('--user-col <name>', 'user id column of --input')
    .option('--item-col <name>', 'item id column of --input')
    .option('--value-col <name>', 'value column of --input (rating, count...)')
    .option('--time-col <name>', 'time column of --input')
    .option('--delimiter <sep>', 'field separator of --input')
    .option('--min-value <x>', 'keep only interactions with value >= x (e.g. watch_ratio >= 2)')
    .option('--binarize', 'treat every kept interaction as 1');
}

/** Registers `train`. */
export function register(program: Command): void {
  addDataOptions(program
    .command('train')
    .description('fit a model on a data set or interactions file and save it to a model directory'))
    .requiredOption('--model <type>', `model type: ${modelEntries().map((e) => e.name).join(', ')} (\`recsys models\` describes each)`)
    .option('--param <key=value>', 'hyperparameter, coerced and checked by the model\'s schema (repeatable; `recsys models <type>` lists them)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .requiredOption('--out <dir>', 'model directory to write (a new path or an empty directory)')
    .option('--force', 'replace an existing model directory at --out', false)
    .option('--progress', 'progress lines even when stderr is not a terminal', false)
    .action(async (flags: TrainFlags) => {
      const { model, params } = modelFromFlags(flags);
      minValueOf(flags);
      const inputs = [flags.input, flags.path];
      checkOutputDir(flags.out, outputGuard(flags, inputs)); // before the load and the fit: fails in a second
      const { signal, dispose } = interruptSignal();
      try {
        const { ds, provenance } = await loadTrainingData(flags, signal);
        checkOutputDir(flags.out, outputGuard(flags, [...inputs, ...dataInputs(flags, ds)]));
        process.stderr.write(`cleaning report:\n${formatCleaningReport(ds.report)}\n`);
        provenance.cleaning = ds.report;
        const train = prepare(ds.interactions, flags);
        if (usesFeatures(model)) model.setFeatures(ds);
        if (flags.minValue !== undefined) provenance.minValue = Number(flags.minValue);
        if (flags.binarize) provenance.binarize = true;
        process.stderr.write(`training ${flags.model} on ${ds.name}: ${train.nUsers} users, ${train.nItems} items, ${train.nnz} interactions\n`);
        const bar = new ProgressBar(flags.model);
        const t0 = performance.now();
        try {
          await model.fit(train, { signal, onProgress: (p) => bar.update(p) });
        } catch (e) {
          throw explainRunError(e, { model: flags.model, params, nUsers: train.nUsers, nItems: train.nItems });
        } finally {
          bar.stop();
        }
        const seconds = (performance.now() - t0) / 1000;
        model.provenance = provenance;
        await model.save(flags.out);
        process.stdout.write(`fitted ${flags.model} in ${seconds.toFixed(2)} s; saved to ${flags.out}\n`);
      } catch (e) {
        if (isAbortError(e)) throw new AbortError('training interrupted; nothing saved');
        throw e;
      } finally {
        dispose();
        await (await getKernels()).close();
      }
    });
}
