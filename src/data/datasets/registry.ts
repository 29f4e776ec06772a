import type { DatasetInfo, LoadedDataset } from '../dataset.js';
import type { LoadOptions } from '../load-options.js';
import type { TimeUnit } from '../time-unit.js';
import { GENERIC_INFO, loadInteractionsFile } from './generic.js';
import { kuaiRecInfo, loadKuaiRec, locateKuaiRec, type KuaiRecLoadOptions } from './kuairec.js';
import { loadMovieLens, locateMovieLens, movieLensInfo, MOVIELENS_LAYOUTS, type MovieLensName } from './movielens.js';
import { loadMsd, locateMsd, msdInfo, type MsdLoadOptions } from './msd.js';

export type { DatasetInfo } from '../dataset.js';

/** Options accepted by {@link loadDataset} (the union of every loader's options). */
export interface DatasetLoadOptions extends KuaiRecLoadOptions, MsdLoadOptions {
  /** For "generic": the columns, by header name or 0-based index ("0"). */
  userCol?: string;
  itemCol?: string;
  valueCol?: string;
  timeCol?: string;
  /** For "generic": field separator of a text file. */
  delimiter?: string;
  /** For "generic": whether line 1 is a header (default true for .csv/.tsv). */
  header?: boolean;
  /** For "generic": id column type (default: sniffed). */
  idType?: 'auto' | 'int' | 'string';
  /** Unit of the time column (see {@link LoadOptions.timeUnit}). */
  timeUnit?: TimeUnit;
}

interface Entry {
  info: DatasetInfo;
  load(options: DatasetLoadOptions): Promise<LoadedDataset>;
  /** The main file as found by the loader's lookup, or null. */
  locate(options: LoadOptions): string | null;
}

const ENTRIES: Entry[] = [
  ...(['kuairec-sample', 'kuairec'] as const).map((name): Entry => ({ info: kuaiRecInfo(name), load: (o) => loadKuaiRec(name, o), locate: (o) => locateKuaiRec(name, o) })),
  ...(Object.keys(MOVIELENS_LAYOUTS) as MovieLensName[]).map((name): Entry => ({ info: movieLensInfo(name), load: (o) => loadMovieLens(name, o), locate: (o) => locateMovieLens(name, o) })),
  ...(['msd-taste', 'msd-taste-10k'] as const).map((name): Entry => ({ info: msdInfo(name), load: (o) => loadMsd(name, o), locate: (o) => locateMsd(name, o) })),
  {
    info: GENERIC_INFO,
    load: (o) => {
      if (!o.path || !o.userCol || !o.itemCol) throw new Error('generic data set: give path, userCol and itemCol (--path, --user-col, --item-col)');
      const mapping = { user: o.userCol, item: o.itemCol, value: o.valueCol, time: o.timeCol };
      return loadInteractionsFile(o.path, mapping, { ...o, format: { delimiter: o.delimiter, header: o.header }, name: o.path });
    },
    locate: () => null,
  },
];

/** Every registered data set. */
export function listDatasets(): DatasetInfo[] {
  return ENTRIES.map((e) => ({ ...e.info }));
}

/** The file a registered data set would be loaded from (its interactions), or null when it is not present. */
export function locateDataset(name: string, options: LoadOptions = {}): string | null {
  return entry(name).locate(options);
}

function entry(name: string): Entry {
  const e = ENTRIES.find((x) => x.info.name === name);
  if (!e) throw new Error(`unknown data set "${name}"; known: ${ENTRIES.map((x) => x.info.name).join(', ')}`);
  return e;
}

/** Loads a registered data set by name ("kuairec-sample" needs no options and no network). */
export async function loadDataset(name: string, options: DatasetLoadOptions = {}): Promise<LoadedDataset> {
  return entry(name).load(options);
}
