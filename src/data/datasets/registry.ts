import type { LoadedDataset } from '../dataset.js';
import { DOWNLOADS } from '../download.js';
import { loadInteractionsFile } from './generic.js';
import { loadKuaiRec, type KuaiRecLoadOptions } from './kuairec.js';
import { loadMovieLens, MOVIELENS_LAYOUTS, type MovieLensName } from './movielens.js';
import { loadMsd, type MsdLoadOptions } from './msd.js';

/** Options accepted by {@link loadDataset} (the union of every loader's options). */
export interface DatasetLoadOptions extends KuaiRecLoadOptions, MsdLoadOptions {
  /** For "generic": the column names. */
  userCol?: string;
  itemCol?: string;
  valueCol?: string;
  timeCol?: string;
  /** For "generic": field separator of a text file. */
  delimiter?: string;
}

/** What the registry knows about a data set. */
export interface DatasetInfo {
  name: string;
  description: string;
  valueKind: LoadedDataset['valueKind'];
  /** Files the loader reads, as in the source distribution. */
  files: string[];
  /** Whether `recsys datasets download` can fetch it. */
  downloadable: boolean;
  /** Whether it ships with the repository. */
  embedded: boolean;
}

interface Entry extends DatasetInfo {
  load(options: DatasetLoadOptions): Promise<LoadedDataset>;
}

const KUAIREC_FILES = ['big_matrix.csv', 'small_matrix.csv', 'item_categories.csv', 'item_daily_features.csv', 'kuairec_caption_category.csv', 'user_features.csv', 'social_network.csv'];

const ENTRIES: Entry[] = [
  {
    name: 'kuairec-sample',
    description: 'Embedded SYNTHETIC stand-in with the KuaiRec 2.0 schema (1,000 users × 1,500 videos, 150k big_matrix rows, 200×300 fully observed small_matrix)',
    valueKind: 'watch_ratio',
    files: KUAIREC_FILES.map((f) => `${f}(.gz)`),
    downloadable: false,
    embedded: true,
    load: (o) => loadKuaiRec('kuairec-sample', o),
  },
  {
    name: 'kuairec',
    description: 'KuaiRec 2.0 (Gao et al., CIKM 2022; CC BY-SA 4.0): 7,176 users × 10,728 videos, big_matrix 12.5M rows, small_matrix 1,411 × 3,327 fully observed',
    valueKind: 'watch_ratio',
    files: KUAIREC_FILES,
    downloadable: true,
    embedded: false,
    load: (o) => loadKuaiRec('kuairec', o),
  },
  ...(Object.keys(MOVIELENS_LAYOUTS) as MovieLensName[]).map(
    (name): Entry => {
      const l = MOVIELENS_LAYOUTS[name];
      return {
        name,
        description: l.description,
        valueKind: 'rating',
        files: [l.ratings.file, l.movies.file, ...(l.users ? [l.users.file] : [])],
        downloadable: true,
        embedded: false,
        load: (o) => loadMovieLens(name, o),
      };
    },
  ),
  {
    name: 'msd-taste',
    description: 'Million Song Dataset Echo Nest Taste Profile: 48M (user, song, play count) triplets, 1M users × 384k songs',
    valueKind: 'play_count',
    files: ['train_triplets.txt', 'song_metadata.csv (optional: song_id,title,artist_name,year)'],
    downloadable: true,
    embedded: false,
    load: (o) => loadMsd('msd-taste', o),
  },
  {
    name: 'msd-taste-10k',
    description: 'Taste Profile 10000.txt subset (2M triplets): same format as train_triplets.txt',
    valueKind: 'play_count',
    files: ['10000.txt', 'song_metadata.csv (optional)'],
    downloadable: true,
    embedded: false,
    load: (o) => loadMsd('msd-taste-10k', o),
  },
  {
    name: 'generic',
    description: 'Any CSV/TSV/Parquet (gzip ok): path + userCol/itemCol[/valueCol/timeCol]',
    valueKind: 'rating',
    files: ['<your file>'],
    downloadable: false,
    embedded: false,
    load: (o) => {
      if (!o.path || !o.userCol || !o.itemCol) throw new Error('generic data set: give path, userCol and itemCol (--path, --user-col, --item-col)');
      return loadInteractionsFile(o.path, { user: o.userCol, item: o.itemCol, value: o.valueCol, time: o.timeCol }, { ...o, format: { delimiter: o.delimiter }, name: o.path });
    },
  },
];

/** Every registered data set. */
export function listDatasets(): DatasetInfo[] {
  return ENTRIES.map(({ load: _load, ...info }) => ({ ...info, downloadable: info.downloadable && info.name in DOWNLOADS }));
}

/** Loads a registered data set by name ("kuairec-sample" needs no options and no network). */
export async function loadDataset(name: string, options: DatasetLoadOptions = {}): Promise<LoadedDataset> {
  const e = ENTRIES.find((x) => x.name === name);
  if (!e) throw new Error(`unknown data set "${name}"; known: ${ENTRIES.map((x) => x.name).join(', ')}`);
  return e.load(options);
}
