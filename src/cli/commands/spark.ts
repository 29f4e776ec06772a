/**
 * `recsys spark als` and `recsys spark search`: hand ALS training (one fit, or a cross-validated grid selected
 * by ROEM) to Apache Spark and bring the result back as a recsys model directory / search results. The data is
 * loaded and filtered by recsys (the same flags as `train`, the same config as `experiment`), written as
 * Parquet with DuckDB, and the PySpark job in spark/als_job.py does the rest; Spark's stages drive the progress
 * bar and Ctrl-C cancels the Spark job (nothing is written). docs/spark.md describes the design.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { parseParamAssignments } from '../../core/params.js';
import { AbortError, isAbortError, type Progress } from '../../core/progress.js';
import { checkOutputDir, checkOutputFile, writeFileSafe } from '../../core/safe-write.js';
import { formatCleaningReport } from '../../data/index.js';
import { loadConfig } from '../../eval/config.js';
import { formatSearch, searchToHtml } from '../../eval/search.js';
import { writeReport } from '../../report/html.js';
import { checkSparkEnvironment } from '../../sparkjob/environment.js';
import { fitOnSpark } from '../../spark/fit.js';
import { sparkConf } from '../../sparkjob/job.js';
import { recsysModelFor, SPARK_ALS_PARAMS, type SparkAlsParams } from '../../sparkjob/params.js';
import { publishModelDir } from '../../spark/import.js';
import { planSparkSearch, runSparkSearch } from '../../spark/search.js';
import { interruptSignal } from '../progress.js';
import { progressPrinter, searchOutcome } from './experiment.js';
import { addDataOptions, dataInputs, loadTrainingData, minValueOf, outputGuard, prepare, type DataFlags, type TrainProvenance } from './train.js';

/** Flags every Spark subcommand has. */
interface SparkFlags {
  master: string;
  driverMemory: string;
  shufflePartitions: string;
  conf: string[];
  workDir?: string;
  sparkSubmit?: string | true;
  keepWork: boolean;
  verbose: boolean;
  progress: boolean;
}

interface AlsFlags extends DataFlags, SparkFlags {
  param: string[];
  out: string;
}

interface SearchFlags extends SparkFlags {
  format: string;
  out?: string;
  report?: string;
}

const collect = (v: string, acc: string[]): string[] => [...acc, v];

/** Adds the Spark session flags to `cmd`. */
function addSparkOptions(cmd: Command): Command {
  return cmd
    .option('--master <url>', 'Spark master: local[2], local[*], spark://host:7077, yarn', 'local[2]')
    .option('--driver-memory <size>', 'spark.driver.memory', '1g')
    .option('--shuffle-partitions <n>', 'spark.sql.shuffle.partitions (small data: a few)', '4')
    .option('--conf <key=value>', 'extra Spark configuration (repeatable)', collect, [] as string[])
    .option('--work-dir <dir>', 'where the Parquet files and factors are staged (a shared file system for a cluster master; default the system temp directory)')
    .option('--spark-submit [path]', 'run the job through spark-submit (default: python3 with the pyspark package)')
    .option('--keep-work', 'keep the staging directory (Parquet in and out) for inspection', false)
    .option('--verbose', 'print Spark\'s log', false)
    .option('--progress', 'progress lines even when stderr is not a terminal', false);
}

/** The Spark session settings the flags ask for. */
function confOf(flags: SparkFlags): Record<string, string> {
  const n = Number(flags.shufflePartitions);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--shuffle-partitions must be a positive integer (got ${JSON.stringify(flags.shufflePartitions)})`);
  if (!/^\d+[kmgt]?$/i.test(flags.driverMemory)) throw new UsageError(`--driver-memory must be a size such as 512m or 2g (got ${JSON.stringify(flags.driverMemory)})`);
  const extra: Record<string, string> = {};
  for (const c of flags.conf) {
    const eq = c.indexOf('=');
    if (eq <= 0) throw new UsageError(`--conf expects key=value (got ${JSON.stringify(c)})`);
    extra[c.slice(0, eq).trim()] = c.slice(eq + 1).trim();
  }
  return sparkConf({ shufflePartitions: n, driverMemory: flags.driverMemory, extra });
}

/** A temporary staging directory under --work-dir (or the system temp directory). */
function makeWorkDir(flags: SparkFlags): string {
  const parent = flags.workDir ? resolve(flags.workDir) : tmpdir();
  try {
    return mkdtempSync(join(parent, 'recsys-spark-'));
  } catch (e) {
    throw new UsageError(`--work-dir ${parent}: cannot create a staging directory there (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** One bar per phase (Parquet writing, Spark stages, evaluation), labelled `label`: the experiment command's printer. */
function phaseBars(label: string): { onProgress: (p: Progress) => void; stop: () => void } {
  const bars = progressPrinter(true);
  return { onProgress: (p) => bars.onProgress({ ...p, phase: `${label}: ${p.phase}` }), stop: bars.stop };
}

/** How the job is launched, from the flags. */
function launchOf(flags: SparkFlags): { sparkSubmit?: string; onLog?: (line: string) => void } {
  return {
    ...(flags.sparkSubmit ? { sparkSubmit: flags.sparkSubmit === true ? 'spark-submit' : flags.sparkSubmit } : {}),
    ...(flags.verbose ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
  };
}

async function sparkAls(flags: AlsFlags): Promise<void> {
  let params: SparkAlsParams;
  try {
    params = SPARK_ALS_PARAMS.parse('spark als', parseParamAssignments(flags.param));
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
  const conf = confOf(flags);
  minValueOf(flags);
  const inputs = [flags.input, flags.path];
  checkOutputDir(flags.out, outputGuard(flags, inputs)); // before anything slow
  const env = await checkSparkEnvironment();
  const { signal, dispose } = interruptSignal();
  let workDir: string | null = null;
  const bars = phaseBars('spark');
  try {
    const { ds, provenance } = await loadTrainingData(flags, signal);
    checkOutputDir(flags.out, outputGuard(flags, [...inputs, ...dataInputs(flags, ds)]));
    process.stderr.write(`cleaning report:\n${formatCleaningReport(ds.report)}\n`);
    const full: TrainProvenance = { ...provenance, cleaning: ds.report };
    const train = prepare(ds.interactions, flags);
    if (flags.minValue !== undefined) full.minValue = Number(flags.minValue);
    if (flags.binarize) full.binarize = true;
    const { modelType } = recsysModelFor(params);
    process.stderr.write(`Spark ALS (${params.implicitPrefs ? 'implicit' : 'explicit'}) on ${flags.master} (pyspark ${env.pysparkVersion}): ${train.nUsers} users, ${train.nItems} items, ${train.nnz} interactions of ${ds.name}\n`);
    workDir = makeWorkDir(flags);
    const fit = await fitOnSpark({ train, params, master: flags.master, conf, workDir, python: env.python, signal, onProgress: bars.onProgress, provenance: full, ...launchOf(flags) });
    bars.stop();
    const target = await publishModelDir(fit.staged, flags.out, outputGuard(flags, [...inputs, ...dataInputs(flags, ds)]));
    process.stdout.write(`fitted Spark ALS in ${fit.outcome.seconds.toFixed(2)} s (Spark ${fit.outcome.sparkVersion}, ${flags.master}); saved to ${flags.out} as a ${modelType} model\n`);
    if (flags.keepWork) process.stderr.write(`staging directory kept: ${workDir} (model written to ${target})\n`);
  } catch (e) {
    if (isAbortError(e)) throw new AbortError('Spark training interrupted; the Spark job was cancelled and nothing was saved');
    throw e;
  } finally {
    bars.stop();
    dispose();
    if (workDir && !flags.keepWork) rmSync(workDir, { recursive: true, force: true });
  }
}

const FORMATS = ['text', 'json', 'html'] as const;

async function sparkSearch(configPath: string, flags: SearchFlags): Promise<void> {
  if (!(FORMATS as readonly string[]).includes(flags.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${flags.format}"`);
  const conf = confOf(flags);
  const config = loadConfig(configPath);
  const plan = planSparkSearch(config); // usage errors (no search section, unsupported keys) before Spark starts
  const inputs: (string | undefined)[] = [configPath, typeof config.datasetOptions.path === 'string' ? config.datasetOptions.path : undefined];
  for (const [what, path] of [['report', flags.report], ['table', flags.out], ['search results file', plan.search.results]] as const) {
    if (path !== undefined) checkOutputFile(path, { what, inputs });
  }
  const env = await checkSparkEnvironment();
  const { signal, dispose } = interruptSignal();
  const workDir = makeWorkDir(flags);
  const bars = phaseBars('spark search');
  try {
    const results = await runSparkSearch(config, plan, {
      master: flags.master, conf, workDir, python: env.python, signal, onProgress: bars.onProgress, inputs,
      log: (line) => process.stderr.write(`${line}\n`), ...launchOf(flags),
    });
    bars.stop();
    const html = searchToHtml(results);
    const text = flags.format === 'json' ? JSON.stringify(results, null, 2) : flags.format === 'html' ? html : formatSearch(results);
    if (flags.report) {
      await writeReport(flags.report, {
        title: `recsys spark search: ${config.name}`,
        subtitle: `config ${configPath}, Spark ${flags.master}`,
        sections: [{ id: 'results', title: 'Hyperparameter search on Spark', html }],
        generatedAt: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      }, { inputs });
    }
    process.stdout.write(`${text}\n`);
    if (flags.out) writeFileSafe(flags.out, `${text}\n`, { what: 'table', inputs });
    const outcome = searchOutcome(results);
    if (outcome) throw outcome;
  } catch (e) {
    if (isAbortError(e)) throw new AbortError('Spark search interrupted; the Spark job was cancelled (finished trials are in the results file only when the search completed)');
    throw e;
  } finally {
    bars.stop();
    dispose();
    if (!flags.keepWork) rmSync(workDir, { recursive: true, force: true });
    else process.stderr.write(`staging directory kept: ${workDir}\n`);
  }
}

/** Registers `spark als` and `spark search`. */
export function register(program: Command): void {
  const spark = program.command('spark').description('train ALS on Apache Spark (local or a cluster) and import the result as a recsys model');
  addSparkOptions(addDataOptions(spark
    .command('als')
    .description('fit pyspark.ml ALS on a data set or interactions file and save the factors as a recsys model directory (ials or als)')))
    .option('--param <key=value>', `Spark ALS parameter (repeatable): ${SPARK_ALS_PARAMS.describe().map((d) => `${d.name}=${String(d.default)}`).join(', ')}`, collect, [] as string[])
    .requiredOption('--out <dir>', 'model directory to write (a new path or an empty directory)')
    .option('--force', 'replace an existing model directory at --out', false)
    .action(sparkAls);
  addSparkOptions(spark
    .command('search')
    .description('run an experiment config\'s search section (ials/als grid or random, k-fold CV, ROEM) as Spark\'s CrossValidator')
    .argument('<config>', 'experiment config with a search section, e.g. configs/ials-grid.yaml'))
    .option('-f, --format <format>', `table format: ${FORMATS.join(', ')}`, 'text')
    .option('-o, --out <file>', 'also write the table to this file')
    .option('-r, --report <file>', 'also write a self-contained HTML report of the results')
    .action(sparkSearch);
}
