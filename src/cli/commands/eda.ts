/**
 * `recsys eda <dataset>`: loads a data set, prints the EDA summary tables (or the statistics as JSON with
 * `--json`) and writes one self-contained HTML report.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { checkOutputFile } from '../../core/safe-write.js';
import type { LoadedDataset } from '../../data/dataset.js';
import { loadDataset, type DatasetLoadOptions } from '../../data/datasets/registry.js';
import { computeEda, type EdaStats } from '../../report/eda.js';
import { edaSections } from '../../report/eda-report.js';
import { cleaningText, edaSummaryText } from '../../report/eda-text.js';
import { writeReport } from '../../report/html.js';
import { parseTimeZone, suggestedTimeZone } from '../../report/time.js';
import { interruptSignal, ProgressBar } from '../progress.js';
import { UsageError } from '../../core/errors.js';
import { addFileOptions, fileLoadOptions, type FileFlags } from './datasets.js';

interface EdaFlags extends FileFlags {
  out?: string;
  html: boolean;
  json: boolean;
  tz?: string;
  cold: string;
  blocks: string;
  progress: boolean;
}

/** Loads a registered data set with a progress bar on stderr (hidden when `progress` is false); Ctrl-C stops it. */
export async function loadWithProgress(name: string, options: DatasetLoadOptions, progress: boolean): Promise<LoadedDataset> {
  const bar = progress ? new ProgressBar(`load ${name}`) : null;
  const { signal, dispose } = interruptSignal();
  try {
    return await loadDataset(name, { ...options, signal, onProgress: (p) => bar?.update(p) });
  } finally {
    bar?.stop();
    dispose();
  }
}

/** Computes the EDA statistics with a progress bar on stderr when `progress` is set. */
export function edaWithProgress(ds: LoadedDataset, options: { timeZone: string; coldThreshold?: number; blocks?: number }, progress: boolean): EdaStats {
  const bar = progress ? new ProgressBar('eda') : null;
  try {
    return computeEda(ds, { ...options, onProgress: (p) => bar?.update(p) });
  } finally {
    bar?.stop();
  }
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

/** Registers `eda`. */
export function register(program: Command): void {
  addFileOptions(
    program
      .command('eda')
      .description('exploratory data analysis: summary tables and a self-contained HTML report')
      .argument('<dataset>', 'data set name (see `recsys datasets list`), e.g. kuairec-sample, ml-1m')
      .option('-o, --out <file>', 'HTML report path (default out/eda-<dataset>.html)')
      .option('--no-html', 'do not write the HTML report')
      .option('--json', 'print the statistics as JSON instead of tables')
      .option('--tz <zone>', "time zone for hour/day buckets: UTC, +08:00, Asia/Shanghai... (default: the data set's own, e.g. Asia/Shanghai for KuaiRec; UTC for files)")
      .option('--cold <n>', 'users/items with fewer interactions count as cold', '5')
      .option('--blocks <n>', 'blocks per side of the sparsity heatmap', '50'),
  )
    .option('--no-progress', 'hide progress bars')
    .action(async (name: string, flags: EdaFlags) => {
      const cold = positiveInt(flags.cold, '--cold');
      const blocks = positiveInt(flags.blocks, '--blocks');
      if (flags.tz !== undefined) parseTimeZone(flags.tz); // a bad zone fails before the load
      const out = resolve(flags.out ?? `out/eda-${name}.html`);
      if (flags.html) checkOutputFile(out, { what: 'report', inputs: [flags.path] }); // a bad -o fails before the load too
      const ds = await loadWithProgress(name, fileLoadOptions(flags), flags.progress);
      const timeZone = flags.tz ?? suggestedTimeZone(ds);
      const stats = edaWithProgress(ds, { timeZone, coldThreshold: cold, blocks }, flags.progress);
      if (flags.json) process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      else process.stdout.write(`${cleaningText(ds.report)}\n\n${edaSummaryText(stats)}\n`);
      if (flags.html) {
        const sections = await edaSections(stats);
        await writeReport(out, { title: `EDA: ${ds.name}`, subtitle: ds.description, sections, generatedAt: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC' }, { inputs: ds.report.files });
        process.stderr.write(`report: ${out}\n`);
      }
    });
}
