/**
 * `recsys datasets list | download <name> | info <name>`: the data set registry (which are present and where),
 * downloads into the cache, and a summary (counts, cleaning report) of a loaded data set. Also the file options
 * (`--path`, `--user-col 0`, `--no-header`, `--time-unit`...) that `eda` shares.
 */
import type { Command } from 'commander';
import { formatCleaningReport } from '../../data/cleaning.js';
import { activeCounts } from '../../data/dataset-info.js';
import { DOWNLOADS, downloadDataset } from '../../data/download.js';
import { listDatasets, loadDataset, locateDataset, type DatasetLoadOptions } from '../../data/datasets/registry.js';
import type { LoadedDataset } from '../../data/dataset.js';
import type { InteractionFilters } from '../../data/filters.js';
import type { DuplicatePolicy } from '../../data/interactions.js';
import { cacheDir } from '../../data/paths.js';
import { parseTimeUnit } from '../../data/time-unit.js';
import { interruptSignal, ProgressBar } from '../progress.js';
import { UsageError } from '../../core/errors.js';

const POLICIES: DuplicatePolicy[] = ['last', 'first', 'sum', 'max', 'mean', 'error'];
const ID_TYPES = ['auto', 'int', 'string'] as const;

/** The flags of {@link addFileOptions}, as commander parses them. */
export interface FileFlags {
  dataDir?: string;
  path?: string;
  userCol?: string;
  itemCol?: string;
  valueCol?: string;
  timeCol?: string;
  delimiter?: string;
  /** Undefined unless --header or --no-header is given (the extension decides then). */
  header?: boolean;
  timeUnit?: string;
  idType?: string;
}

/** Registers the options that say where a data set is and how an interactions file is laid out. */
export function addFileOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'cache directory (default RECSYS_DATA_DIR or ~/.cache/recsys)')
    .option('--path <path>', 'explicit folder of the data set (or file, for "generic")')
    .option('--user-col <col>', 'generic: user column, by header name or 0-based index')
    .option('--item-col <col>', 'generic: item column, by header name or 0-based index')
    .option('--value-col <col>', 'generic: value column (name or index)')
    .option('--time-col <col>', 'generic: time column (name or index)')
    .option('--delimiter <sep>', 'generic: field separator')
    .option('--header', 'generic: line 1 is a header (default for .csv/.tsv)')
    .option('--no-header', 'generic: line 1 is data (give columns by index: --user-col 0)')
    .option('--time-unit <unit>', 'unit of the time column: s, ms, us, ns, iso or auto (default: auto for files, by magnitude or ISO text)')
    .option('--id-type <type>', `generic: id columns as ${ID_TYPES.join(', ')} (default auto: integers unless some id is not one)`);
}

/** The load options of {@link addFileOptions}'s flags, validated (a bad value throws naming the flag). */
export function fileLoadOptions(flags: FileFlags): DatasetLoadOptions {
  const o: DatasetLoadOptions = {};
  if (flags.dataDir !== undefined) o.dataDir = flags.dataDir;
  if (flags.path !== undefined) o.path = flags.path;
  if (flags.userCol !== undefined) o.userCol = flags.userCol;
  if (flags.itemCol !== undefined) o.itemCol = flags.itemCol;
  if (flags.valueCol !== undefined) o.valueCol = flags.valueCol;
  if (flags.timeCol !== undefined) o.timeCol = flags.timeCol;
  if (flags.delimiter !== undefined) o.delimiter = flags.delimiter;
  if (flags.header !== undefined) o.header = flags.header;
  if (flags.timeUnit !== undefined) {
    try {
      o.timeUnit = parseTimeUnit(flags.timeUnit);
    } catch {
      throw new Error(`--time-unit must be one of s, ms, us, ns, iso, auto (got "${flags.timeUnit}")`);
    }
  }
  if (flags.idType !== undefined) {
    const t = ID_TYPES.find((x) => x === flags.idType);
    if (!t) throw new Error(`--id-type must be one of ${ID_TYPES.join(', ')} (got "${flags.idType}")`);
    o.idType = t;
  }
  return o;
}

interface InfoFlags extends FileFlags {
  duplicates?: string;
  clip?: string;
  metadata?: string;
  minValue?: string;
  kCore?: string;
  binarize?: boolean;
  progress: boolean;
}

const pct = (x: number): string => `${(x * 100).toFixed(3)}%`;

/** Counts (of the users and items that have interactions), facts and side data of a loaded data set as text lines. */
export function describeDataset(ds: LoadedDataset): string {
  const x = ds.interactions;
  const a = activeCounts(x);
  const column = ds.info?.valueColumn;
  const value = column && column !== ds.valueKind ? `${column} (${ds.valueKind})` : ds.valueKind;
  let counts = `users ${a.users}, items ${a.items}, interactions ${x.nnz} (density ${pct(a.density)})`;
  if (a.users !== x.nUsers || a.items !== x.nItems) {
    const why = ds.report.rowsFiltered !== undefined ? 'the filters left them no interaction' : 'they have no interaction here';
    counts += `; ${x.nUsers - a.users} of ${x.nUsers} users and ${x.nItems - a.items} of ${x.nItems} items in the id maps are left out (${why})`;
  }
  const lines = [`${ds.name}: ${ds.description}`, `value: ${value}; ${counts}`, `timestamps: ${x.timestamps ? 'yes' : 'no'}; event columns: ${Object.keys(ds.eventColumns).join(', ') || 'none'}`];
  if (ds.info) lines.push(`train: ${ds.info.trainFile}${ds.info.testFile ? `; test: ${ds.info.testFile}` : ''}; time zone for hours and weekdays: ${ds.info.timeZone}${ds.info.synthetic ? '; SYNTHETIC data' : ''}`);
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

/** One line per registered data set: present (where) / downloadable / neither, then the description. */
export function datasetsListing(options: { dataDir?: string } = {}): string {
  const out: string[] = [];
  const infos = listDatasets();
  let present = 0;
  let downloadOnly = 0;
  for (const d of infos) {
    const where = d.name === 'generic' ? null : locateDataset(d.name, options);
    let status: string;
    if (d.name === 'generic') status = 'any file: --path FILE --user-col --item-col';
    else if (where) {
      present++;
      status = `present${d.embedded ? ' (embedded)' : ''}: ${where}`;
    } else if (d.downloadable) {
      downloadOnly++;
      status = `not present; downloadable: recsys datasets download ${d.name}`;
    } else status = `not present: put ${d.trainFile} in ${cacheDir(options.dataDir)}/${d.name}/`;
    out.push(`${d.name.padEnd(16)} ${d.valueKind.padEnd(12)} ${status}`);
    out.push(`${''.padEnd(16)} ${d.description}`);
  }
  out.push('');
  out.push(`${present} present, ${downloadOnly} only downloadable.`);
  out.push(`cache: ${cacheDir(options.dataDir)} (set --data-dir or RECSYS_DATA_DIR); also searched: ../shared/data/<name>/`);
  return out.join('\n');
}

/** Registers `datasets`. */
export function register(program: Command): void {
  const cmd = program.command('datasets').description('list, download and inspect data sets');
  cmd
    .command('list')
    .description('list the known data sets: which are present and where, which can be downloaded')
    .option('--data-dir <dir>', 'cache directory (default RECSYS_DATA_DIR or ~/.cache/recsys)')
    .action((flags: { dataDir?: string }) => {
      process.stdout.write(`${datasetsListing({ dataDir: flags.dataDir })}\n`);
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
        const dir = await downloadDataset(name, { dataDir: flags.dataDir, signal, onProgress: (p) => bar.update(p), onNote: (n) => process.stderr.write(`${n}\n`) });
        bar.stop();
        process.stdout.write(`${name}: files in ${dir}\n`);
      } finally {
        bar.stop();
        dispose();
      }
    });
  addFileOptions(
    cmd
      .command('info')
      .description('load a data set and print counts, side data and the cleaning report')
      .argument('<name>', 'data set name (see `datasets list`)'),
  )
    .option('--duplicates <policy>', `repeated user-item pairs: ${POLICIES.join(', ')}`)
    .option('--clip <cap>', 'cap values at this number (clipped rows are reported)')
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
      const files = fileLoadOptions(flags);
      const bar = new ProgressBar(name);
      const { signal, dispose } = interruptSignal();
      const options: DatasetLoadOptions = {
        ...files,
        filters,
        duplicatePolicy: flags.duplicates as DuplicatePolicy | undefined,
        clip,
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
