/**
 * `recsys datasets list | download <name> | info <name>`: the data set registry, downloads into the cache,
 * and a summary (counts, cleaning report) of a loaded data set.
 */
import type { Command } from 'commander';
import { formatCleaningReport } from '../../data/cleaning.js';
import { DOWNLOADS, downloadDataset } from '../../data/download.js';
import { listDatasets, loadDataset, type DatasetLoadOptions } from '../../data/datasets/registry.js';
import type { LoadedDataset } from '../../data/dataset.js';
import type { InteractionFilters } from '../../data/filters.js';
import type { DuplicatePolicy } from '../../data/interactions.js';
import { cacheDir } from '../../data/paths.js';
import { interruptSignal, ProgressBar } from '../progress.js';
import { UsageError } from '../../core/errors.js';

const POLICIES: DuplicatePolicy[] = ['last', 'first', 'sum', 'max', 'mean', 'error'];

interface InfoFlags {
  dataDir?: string;
  path?: string;
  duplicates?: string;
  clip?: string;
  userCol?: string;
  itemCol?: string;
  valueCol?: string;
  timeCol?: string;
  delimiter?: string;
  metadata?: string;
  minValue?: string;
  kCore?: string;
  binarize?: boolean;
  progress: boolean;
}

/** Counts and side data of a loaded data set as text lines. */
export function describeDataset(ds: LoadedDataset): string {
  const x = ds.interactions;
  const lines = [
    `${ds.name}: ${ds.description}`,
    `value: ${ds.valueKind}; users ${x.nUsers}, items ${x.nItems}, interactions ${x.nnz} (density ${(x.density * 100).toFixed(3)}%)`,
    `timestamps: ${x.timestamps ? 'yes' : 'no'}; event columns: ${Object.keys(ds.eventColumns).join(', ') || 'none'}`,
  ];
  if (ds.test) lines.push(`test matrix: users with entries ${countNonEmpty(ds.test.userCounts())}, items with entries ${countNonEmpty(ds.test.itemCounts())}, interactions ${ds.test.nnz}`);
  const feats = (label: string, f: LoadedDataset['itemFeatures']): void => {
    if (!f) return;
    const parts = [
      ...Object.keys(f.numeric).map((k) => `${k} (numeric)`),
      ...Object.entries(f.categorical).map(([k, c]) => `${k} (${c.names.length} categories)`),
      ...Object.entries(f.multiHot).map(([k, m]) => `${k} (multi-hot, ${m.names.length} labels)`),
      ...Object.keys(f.text).map((k) => `${k} (text)`),
    ];
    lines.push(`${label} features: ${parts.join(', ')}`);
  };
  feats('item', ds.itemFeatures);
  feats('user', ds.userFeatures);
  if (ds.social) lines.push(`social links: ${ds.social.colIdx.length}`);
  return lines.join('\n');
}

/** The --min-value / --k-core / --binarize flags as loader filters (undefined when none is given). */
function parseFilters(flags: InfoFlags): InteractionFilters | undefined {
  const f: InteractionFilters = {};
  if (flags.minValue !== undefined) {
    const v = Number(flags.minValue);
    if (!Number.isFinite(v)) throw new UsageError(`--min-value must be a number, got "${flags.minValue}"`);
    f.minValue = v;
  }
  if (flags.kCore !== undefined) {
    const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(flags.kCore);
    if (!m) throw new UsageError(`--k-core must be "users,items" (e.g. 5,5), got "${flags.kCore}"`);
    f.kCore = { user: Number(m[1]), item: Number(m[2]) };
  }
  if (flags.binarize) f.binarize = true;
  return Object.keys(f).length ? f : undefined;
}

function countNonEmpty(c: Int32Array): number {
  let n = 0;
  for (let k = 0; k < c.length; k++) if (c[k] > 0) n++;
  return n;
}

/** Registers `datasets`. */
export function register(program: Command): void {
  const cmd = program.command('datasets').description('list, download and inspect data sets');
  cmd
    .command('list')
    .description('list the known data sets')
    .action(() => {
      for (const d of listDatasets()) {
        const flags = [d.embedded ? 'embedded' : '', d.downloadable ? 'downloadable' : ''].filter(Boolean).join(', ');
        process.stdout.write(`${d.name.padEnd(16)} ${d.valueKind.padEnd(12)} ${flags ? `[${flags}] ` : ''}${d.description}\n`);
      }
      process.stdout.write(`\ncache: ${cacheDir()} (set --data-dir or RECSYS_DATA_DIR); also searched: ../shared/data/<name>/\n`);
    });
  cmd
    .command('download')
    .description('download a data set into the cache directory')
    .argument('<name>', 'data set name (see `datasets list`)')
    .option('--data-dir <dir>', 'cache directory (default RECSYS_DATA_DIR or ~/.cache/recsys)')
    .action(async (name: string, flags: { dataDir?: string }) => {
      if (!(name in DOWNLOADS)) throw new UsageError(`no download for "${name}"; downloadable: ${Object.keys(DOWNLOADS).join(', ')}`);
      for (const s of DOWNLOADS[name]) process.stderr.write(`${s.url}\n  ${s.checksumNote}\n`);
      const bar = new ProgressBar(name);
      const { signal, dispose } = interruptSignal();
      try {
        const dir = await downloadDataset(name, { dataDir: flags.dataDir, signal, onProgress: (p) => bar.update(p) });
        bar.stop();
        process.stdout.write(`${name}: files in ${dir}\n`);
      } finally {
        bar.stop();
        dispose();
      }
    });
  cmd
    .command('info')
    .description('load a data set and print counts, side data and the cleaning report')
    .argument('<name>', 'data set name (see `datasets list`)')
    .option('--data-dir <dir>', 'cache directory')
    .option('--path <path>', 'explicit folder of the data set (or file, for "generic")')
    .option('--duplicates <policy>', `repeated user-item pairs: ${POLICIES.join(', ')}`)
    .option('--clip <cap>', 'cap values at this number (clipped rows are reported)')
    .option('--user-col <name>', 'generic: user column')
    .option('--item-col <name>', 'generic: item column')
    .option('--value-col <name>', 'generic: value column')
    .option('--time-col <name>', 'generic: time column (epoch seconds)')
    .option('--delimiter <sep>', 'generic: field separator')
    .option('--metadata <csv>', 'msd-taste: song metadata CSV (song_id,title,artist_name,year)')
    .option('--min-value <v>', 'keep interactions with value >= v')
    .option('--k-core <users,items>', 'iteratively keep users with >= users and items with >= items interactions, e.g. 5,5')
    .option('--binarize', 'set every kept value to 1')
    .option('--no-progress', 'hide the progress bar')
    .action(async (name: string, flags: InfoFlags) => {
      if (flags.duplicates && !POLICIES.includes(flags.duplicates as DuplicatePolicy)) throw new UsageError(`--duplicates must be one of ${POLICIES.join(', ')}`);
      const clip = flags.clip === undefined ? undefined : Number(flags.clip);
      if (clip !== undefined && !Number.isFinite(clip)) throw new UsageError(`--clip must be a number, got "${flags.clip}"`);
      const filters = parseFilters(flags);
      const bar = new ProgressBar(name);
      const { signal, dispose } = interruptSignal();
      const options: DatasetLoadOptions = {
        filters,
        dataDir: flags.dataDir,
        path: flags.path,
        duplicatePolicy: flags.duplicates as DuplicatePolicy | undefined,
        clip,
        userCol: flags.userCol,
        itemCol: flags.itemCol,
        valueCol: flags.valueCol,
        timeCol: flags.timeCol,
        delimiter: flags.delimiter,
        metadata: flags.metadata,
        signal,
        onProgress: flags.progress ? (p) => bar.update(p) : undefined,
      };
      try {
        const t0 = performance.now();
        const ds = await loadDataset(name, options);
        bar.stop();
        process.stdout.write(`${describeDataset(ds)}\nloaded in ${((performance.now() - t0) / 1000).toFixed(2)} s\n\ncleaning report:\n${formatCleaningReport(ds.report)}\n`);
      } finally {
        bar.stop();
        dispose();
      }
    });
}
