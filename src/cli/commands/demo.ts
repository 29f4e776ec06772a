/**
 * `recsys demo` (what `npm start` runs): loads KuaiRec (the full data when its files are present, else the
 * embedded synthetic sample), prints the cleaning report, the EDA summary and every results table to stdout,
 * shows one overall progress line on stderr, and writes one HTML report built from a list of section builders
 * (the EDA, then the model comparisons of demo-models.ts).
 *
 * The default profile is `quick` (about a minute on two cores; every part of the demo, reduced model settings,
 * listed in the report); `--full` runs the full comparison. Ctrl-C stops after the current step and writes what
 * finished to `<report>.partial.html` with an "INCOMPLETE" banner, leaving the last complete report untouched.
 */
import { lstat, open, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { checkOutputFile } from '../../core/safe-write.js';
import { isAbortError } from '../../core/progress.js';
import type { LoadedDataset } from '../../data/dataset.js';
import { loadDataset, type DatasetLoadOptions } from '../../data/datasets/registry.js';
import { DatasetNotFoundError } from '../../data/paths.js';
import { computeEda } from '../../report/eda.js';
import { edaSections, isSynthetic } from '../../report/eda-report.js';
import { cleaningText, edaSummaryText } from '../../report/eda-text.js';
import { shortenPaths } from '../../report/format.js';
import { PARTIAL_REPORT_MARKER, type ReportSection, writeReport } from '../../report/html.js';
import { parseTimeZone, suggestedTimeZone } from '../../report/time.js';
import { formatClock, interruptSignal, type PlannedStage, printAbove, ProgressBar, StagedProgress, type StagePosition, type StatusStream } from '../progress.js';
import type { DemoContext, DemoProfile, SectionBuilder } from './demo-context.js';
import { demoModelBuilders } from './demo-models.js';
import { pipelineBuilder } from './demo-pipeline.js';

export type { DemoContext, DemoProfile, PlanContext, SectionBuilder, UnitTracker } from './demo-context.js';

/** The EDA sections (charts and tables of the statistics computed before the builders run). */
export const edaBuilder: SectionBuilder = {
  name: 'EDA',
  plan: () => [{ label: 'charts', weight: 1.5 }],
  build: (ctx) => {
    ctx.tracker.startUnit('charts');
    return edaSections(ctx.eda);
  },
};

/** The demo report's sections, in order: the EDA, the model comparisons (demo-models.ts), one user's pipeline (demo-pipeline.ts). */
export const demoSectionBuilders: SectionBuilder[] = [edaBuilder, ...demoModelBuilders, pipelineBuilder];

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Data set name; default: "kuairec" when its files are found, else "kuairec-sample". */
  dataset?: string;
  /** Report path (default out/report.html); an interrupted run writes `<name>.partial.html` beside it. */
  out?: string;
  /** `quick` (default) or `full`. */
  profile?: DemoProfile;
  /** Time zone of the time buckets (default: the data set's suggestion, UTC+8 for KuaiRec). */
  timeZone?: string;
  /** Passed to the loader (data directory, path...). */
  loadOptions?: DatasetLoadOptions;
  /** Show the progress line (default true). */
  progress?: boolean;
  /** Where log lines go (default stderr, above the progress line). */
  log?: (line: string) => void;
  /** Where results go: cleaning report, EDA summary, result tables (default stdout). */
  print?: (text: string) => void;
  /** Where the progress line is drawn (default stderr). */
  progressStream?: StatusStream;
  /** Section builders (default {@link demoSectionBuilders}). */
  builders?: SectionBuilder[];
  /** Stops the demo like Ctrl-C does (besides Ctrl-C itself). */
  signal?: AbortSignal;
}

/** What {@link runDemo} did. */
export interface DemoResult {
  /** The file written: the report, or the partial report when interrupted. */
  reportPath: string;
  sections: ReportSection[];
  /** True when stopped before every builder finished. */
  interrupted: boolean;
}

/** The partial report's path beside `reportPath`: out/report.html → out/report.partial.html. */
export function partialReportPath(reportPath: string): string {
  return /\.html?$/i.test(reportPath) ? reportPath.replace(/\.html?$/i, '.partial.html') : `${reportPath}.partial.html`;
}

/** Loads the full KuaiRec when its files are present, else the embedded sample (the log line says which). */
async function loadDemoData(options: DemoOptions, load: DatasetLoadOptions, log: (line: string) => void): Promise<LoadedDataset> {
  if (options.dataset) return loadDataset(options.dataset, load);
  try {
    return await loadDataset('kuairec', load);
  } catch (err) {
    if (!(err instanceof DatasetNotFoundError) || err.dataset !== 'kuairec') throw err;
    log('full KuaiRec not found (see `recsys datasets download kuairec`): using the embedded synthetic sample kuairec-sample');
    return loadDataset('kuairec-sample', load);
  }
}

/** "INCOMPLETE: interrupted after 0:41, during ranking models (Mult-VAE, model 5 of 11). Finished: EDA. …" */
export function incompleteBanner(pos: StagePosition, planned: string[], reportName: string): string {
  const during = pos.stage === null
    ? ''
    : `, during ${pos.stage} (${pos.unit ? `${pos.unit}, ${pos.unitsDone + 1} of ${pos.units}` : `after ${pos.unitsDone} of ${pos.units}`})`;
  const notRun = planned.filter((s) => !pos.finished.includes(s) && s !== pos.stage);
  return [
    `INCOMPLETE: interrupted after ${formatClock(pos.elapsedSeconds)}${during}.`,
    `Finished: ${pos.finished.length > 0 ? pos.finished.join(', ') : 'nothing'}.`,
    pos.stage ? `Partly done: ${pos.stage} (the table below holds the models that finished).` : '',
    notRun.length > 0 ? `Not run: ${notRun.join(', ')}.` : '',
    `The last complete report, if any, is ${reportName}, left as it was.`,
  ].filter((s) => s !== '').join(' ');
}

/** Removes `path` if it is a partial report this program wrote (a regular file starting with its marker). */
async function removeStalePartial(path: string): Promise<boolean> {
  try {
    const st = await lstat(path);
    if (!st.isFile()) return false;
    const fh = await open(path, 'r');
    let head: string;
    try {
      const buf = Buffer.alloc(512);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
    if (!head.includes(PARTIAL_REPORT_MARKER)) return false;
    await unlink(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs the demo end to end; see the module comment. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const startedAt = Date.now();
  const showProgress = options.progress ?? true;
  const stream = options.progressStream ?? process.stderr;
  let tracker: StagedProgress | null = null;
  const log = options.log ?? ((line: string) => (tracker ? tracker.print(line) : printAbove(line, stream)));
  const print = options.print ?? ((text: string) => (tracker ? tracker.print(text, process.stdout) : printAbove(text, process.stdout)));
  const profile = options.profile ?? 'quick';
  if (options.timeZone !== undefined) parseTimeZone(options.timeZone); // a bad zone fails before the load
  const builders = options.builders ?? demoSectionBuilders;
  const reportOut = resolve(options.out ?? 'out/report.html');
  checkOutputFile(reportOut, { what: 'report', inputs: [options.loadOptions?.path] }); // a bad -o fails now, not after the training
  checkOutputFile(partialReportPath(reportOut), { what: 'partial report', inputs: [options.loadOptions?.path] });

  const interrupt = interruptSignal();
  const signal = options.signal ? AbortSignal.any([interrupt.signal, options.signal]) : interrupt.signal;
  try {
    const loadBar = showProgress ? new ProgressBar('load', { stream }) : null;
    let dataset: LoadedDataset;
    try {
      dataset = await loadDemoData(options, { ...options.loadOptions, signal, onProgress: (p) => loadBar?.update(p) }, log);
    } finally {
      loadBar?.stop();
    }
    const loadSeconds = (Date.now() - startedAt) / 1000;
    print(cleaningText(dataset.report));

    // The stages: one per builder with work planned; the first also covers the load and the EDA statistics.
    const planCtx = { dataset, profile };
    const planned = builders
      .map((builder) => ({ builder, units: builder.plan ? builder.plan(planCtx) : [{ label: builder.name, weight: 1 }] }))
      .filter((p) => p.units.length > 0);
    const stages: PlannedStage[] = planned.map((p, k) => ({
      name: p.builder.name,
      units: k === 0 ? [{ label: 'load', weight: Math.max(0.5, loadSeconds) }, { label: 'statistics', weight: 0.5 }, ...p.units] : p.units,
    }));
    const progress = new StagedProgress(stages, { stream, visible: showProgress, startedAt });
    tracker = progress;
    if (stages.length > 0) {
      progress.startStage(stages[0].name);
      progress.startUnit('load');
      progress.startUnit('statistics');
    }

    const timeZone = options.timeZone ?? suggestedTimeZone(dataset.name);
    const eda = computeEda(dataset, { timeZone, onProgress: (p) => progress.update(p) });
    print(`\n${edaSummaryText(eda)}\n`);
    const ctx: DemoContext = { dataset, eda, profile, log, print, tracker: progress, signal, synthetic: isSynthetic(eda) };

    const sections: ReportSection[] = [];
    for (const [k, { builder }] of planned.entries()) {
      if (signal.aborted) break;
      if (k > 0) progress.startStage(builder.name);
      sections.push(...(await builder.build(ctx)));
      if (!signal.aborted) progress.finishStage();
    }
    const interrupted = signal.aborted;

    const reportPath = reportOut;
    const target = interrupted ? partialReportPath(reportPath) : reportPath;
    const banner = interrupted ? incompleteBanner(progress.position(), stages.map((s) => s.name), shortenPaths(reportPath)) : undefined;
    await writeReport(target, {
      title: `recsys demo: ${dataset.name}${interrupted ? ' (INCOMPLETE)' : ''}`,
      subtitle: `${dataset.description} · ${profile === 'quick' ? 'quick demo (npm start); recsys demo --full runs the full comparison' : 'full comparison (recsys demo --full)'}`,
      sections,
      generatedAt: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      dataLabel: ctx.synthetic ? 'SYNTHETIC' : undefined,
      dataNote: ctx.synthetic ? 'generated stand-in with the real data set\'s schema: the figures describe the generator, not real users' : undefined,
      banner,
      partial: interrupted,
    }, { inputs: dataset.report.files });
    if (interrupted) {
      progress.stop(`interrupted after ${formatClock(progress.elapsed())}: partial report written to ${target}`);
    } else {
      if (await removeStalePartial(partialReportPath(reportPath))) log(`removed the partial report of an earlier interrupted run: ${partialReportPath(reportPath)}`);
      progress.stop(`demo finished in ${formatClock(progress.elapsed())}`);
    }
    return { reportPath: target, sections, interrupted };
  } catch (err) {
    if (isAbortError(err)) log('interrupted while loading the data: no report written');
    throw err;
  } finally {
    tracker?.stop();
    interrupt.dispose();
  }
}

/** Registers `demo`. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('end-to-end demo on KuaiRec (embedded synthetic sample when the real data is absent): cleaning, EDA, every model family trained and compared, HTML report; quick settings unless --full')
    .option('-o, --out <file>', 'report path', 'out/report.html')
    .option('--full', 'the full comparison: every model with its full settings (several minutes)')
    .option('--dataset <name>', 'data set to use instead of KuaiRec')
    .option('--tz <zone>', 'time zone of the time charts (default UTC+8 for KuaiRec)')
    .option('--data-dir <dir>', 'cache directory (default RECSYS_DATA_DIR or ~/.cache/recsys)')
    .option('--no-progress', 'hide the progress line')
    .action(async (flags: { out: string; full?: boolean; dataset?: string; tz?: string; dataDir?: string; progress: boolean }) => {
      const result = await runDemo({
        out: flags.out, profile: flags.full ? 'full' : 'quick', dataset: flags.dataset, timeZone: flags.tz, loadOptions: { dataDir: flags.dataDir }, progress: flags.progress,
      });
      if (result.interrupted) {
        process.stdout.write(`partial report written: ${result.reportPath}\n`);
        process.exitCode = 130;
      } else {
        process.stdout.write(`report written: ${result.reportPath}\n`);
      }
    });
}
