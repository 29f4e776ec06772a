/**
 * Public entry of the data layer: data set registry and loaders, generic file loading, the matrix types,
 * features, filters, downloads and synthetic data generators.
 */
export type { CleaningIssue, CleaningReport, MultiHot, Categorical, EntityFeatures, LoadedDataset, DatasetInfo, ValueKind } from './dataset.js';
export { Interactions, type DuplicatePolicy, type DuplicateReport, type CooInput, type CscView, type EntryPredicate } from './interactions.js';
export { IdMap, type ExternalId } from './id-map.js';
export { listDatasets, loadDataset, locateDataset, type DatasetLoadOptions } from './datasets/registry.js';
export { loadInteractionsFile, type FileLoadOptions } from './datasets/generic.js';
export { loadKuaiRec, KUAIREC_OUTLIER_THRESHOLD, kuaiRecSampleDir, type KuaiRecLoadOptions } from './datasets/kuairec.js';
export { loadMovieLens, parseMovieTitle, MOVIELENS_LAYOUTS, ML1M_AGE_BUCKETS, ML1M_OCCUPATIONS, ML100K_GENRES, type MovieLensName } from './datasets/movielens.js';
export { loadMsd, type MsdLoadOptions } from './datasets/msd.js';
export type { ColumnMapping, FileFormat, StageOptions } from './ingest.js';
export { parseTimeUnit, TIME_UNITS, type TimeUnit } from './time-unit.js';
export { DataFileError } from './errors.js';
export type { LoadOptions, LoadProgress } from './load-options.js';
export { applyFilters, kCoreMask, type InteractionFilters, type InteractionsWithEvents } from './filters.js';
export { formatCleaningReport, cleaningBalance, type CleaningBalance } from './cleaning.js';
export { activeCounts } from './dataset-info.js';
export { categoricalFrom, multiHotFrom, multiHotLabels, parseBracketList } from './features.js';
export { timeFeatures } from './time-features.js';
export { stateOfZip, stateOfZipPrefix } from './zip-prefix.js';
export { DOWNLOADS, downloadDataset, type DownloadSource, type DownloadOptions } from './download.js';
export { cacheDir, candidateDirs } from './paths.js';
export { writeSyntheticKuaiRec, KUAIREC_SAMPLE_OPTIONS, KUAIREC_FULL_SIZE_OPTIONS, KUAIREC_COLUMNS, type KuaiRecSyntheticOptions } from './synthetic/kuairec.js';
export { writeSyntheticMovieLens, type MovieLensFormat, type MovieLensSyntheticOptions } from './synthetic/movielens.js';
export { writeSyntheticMsd, type MsdSyntheticOptions } from './synthetic/msd.js';
