/**
 * `recsys demo` (what `npm start` runs): loads KuaiRec (the full data when its files are present, else the
 * embedded synthetic sample), prints the cleaning report and the EDA summary, and writes one HTML report
 * built from a list of section builders. Model training and comparison sections are added by appending
 * builders to {@link demoSectionBuilders}.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { checkOutputFile } from '../../core/safe-write.js';
import type { LoadedDataset } from '../../data/dataset.js';
import type { DatasetLoadOptions } from '../../data/datasets/registry.js';
import type { EdaStats } from '../../report/eda.js';
import { edaSections } from '../../report/eda-report.js';
import { cleaningText, edaSummaryText } from '../../report/eda-text.js';
import { type ReportSection, writeReport } from '../../report/html.js';
import { parseTimeZone, suggestedTimeZone } from '../../report/time.js';
import { interruptSignal } from '../progress.js';
import { demoModelBuilders } from './demo-models.js';
import { edaWithProgress, loadWithProgress } from './eda.js';

/** What every section builder gets. */
export interface DemoContext {
  dataset: LoadedDataset;
  eda: EdaStats;
  /** Writes one progress line for people (stderr in the CLI). */
  log: (line: string) => void;
  /** Whether builders may show progress bars. */
  progress: boolean;
  /** Fires on Ctrl-C: long builders stop at the next step. */
  signal: AbortSignal;
}

/** Produces some sections of the demo report (in order); may train models, run experiments... */
export interface SectionBuilder {
  /** Short name for log lines ("eda", "experiment"). */
  name: string;
  build(ctx: DemoContext): Promise<ReportSection[]>;
}

/**
 * The demo report's sections, in order: the EDA, then the model comparisons (demo-models.ts); append further
 * builders with `demoSectionBuilders.push(...)`.
 */
export const demoSectionBuilders: SectionBuilder[] = [{ name: 'eda', build: (ctx) => edaSections(ctx.eda) }, ...demoModelBuilders];

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Data set name; default: "kuairec" when its files are found, else "kuairec-sample". */
  dataset?: string;
  /** Report path (default out/report.html). */
  out?: string;
  /** Time zone of the time buckets (default: the data set's suggestion, UTC+8 for KuaiRec). */
  timeZone?: string;
  /** Passed to the loader (data directory, path...). */
  loadOptions?: DatasetLoadOptions;
  /** Show progress bars (default true). */
  progress?: boolean;
  /** Where the summary and progress lines go (default stderr). */
  log?: (line: string) => void;
  /** Section builders (default {@link demoSectionBuilders}). */
  builders?: SectionBuilder[];
}

/** Loads the full KuaiRec when its files are present, else the embedded sample (the message says which). */
async function loadDemoData(options: DemoOptions, progress: boolean, log: (line: string) => void): Promise<LoadedDataset> {
  const load = options.loadOptions ?? {};
  if (options.dataset) return loadWithProgress(options.dataset, load, progress);
  try {
    return await loadWithProgress('kuairec', load, progress);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!/not found/.test(message)) throw err;
    log('full KuaiRec not found (see `recsys datasets download kuairec`): using the embedded synthetic sample kuairec-sample');
    return loadWithProgress('kuairec-sample', load, progress);
  }
}

/** Runs the demo end to end and returns where the report was written. */
export async function runDemo(options: DemoOptions = {}): Promise<{ reportPath: string; sections: ReportSection[] }> {
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const progress = options.progress ?? true;
  if (options.timeZone !== undefined) parseTimeZone(options.timeZone); // a bad zone fails before the load
  const reportPath = resolve(options.out ?? 'out/report.html');
  checkOutputFile(reportPath, { what: 'report', inputs: [options.loadOptions?.path] }); // and a bad -o, not after the training
  const dataset = await loadDemoData(options, progress, log);
  log(cleaningText(dataset.report));
  const timeZone = options.timeZone ?? suggestedTimeZone(dataset.name);
  const eda = edaWithProgress(dataset, { timeZone }, progress);
  log('');
  log(edaSummaryText(eda));
  log('');

  const { signal, dispose } = interruptSignal();
  const sections: ReportSection[] = [];
  try {
    const ctx: DemoContext = { dataset, eda, log, progress, signal };
    for (const builder of options.builders ?? demoSectionBuilders) {
      if (signal.aborted) {
        log(`stopped before "${builder.name}": the report holds the sections finished so far`);
        break;
      }
      log(`building ${builder.name} sections...`);
      sections.push(...(await builder.build(ctx)));
    }
  } finally {
    dispose();
  }
  await writeReport(reportPath, {
    title: `recsys demo: ${dataset.name}`,
    subtitle: dataset.description,
    sections,
    generatedAt: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  }, { inputs: dataset.report.files });
  return { reportPath, sections };
}

/** Registers `demo`. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('end-to-end demo on KuaiRec (embedded synthetic sample when the real data is absent): cleaning, EDA, every model trained and compared, HTML report')
    .option('-o, --out <file>', 'report path', 'out/report.html')
    .option('--dataset <name>', 'data set to use instead of KuaiRec')
    .option('--tz <zone>', 'time zone of the time charts (default UTC+8 for KuaiRec)')
    .option('--data-dir <dir>', 'cache directory (default RECSYS_DATA_DIR or ~/.cache/recsys)')
    .option('--no-progress', 'hide progress bars')
    .action(async (flags: { out: string; dataset?: string; tz?: string; dataDir?: string; progress: boolean }) => {
      const { reportPath } = await runDemo({ out: flags.out, dataset: flags.dataset, timeZone: flags.tz, loadOptions: { dataDir: flags.dataDir }, progress: flags.progress });
      process.stdout.write(`report written: ${reportPath}\n`);
    });
}
