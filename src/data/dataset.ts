import type { DuplicateReport, Interactions } from './interactions.js';

/** One kind of bad or dropped row found while loading a file. */
export interface CleaningIssue {
  /** File the rows came from. */
  file: string;
  /** What was wrong, e.g. "missing timestamp", "non-numeric watch_ratio", "outlier watch_ratio > 20". */
  kind: string;
  /** The field (column) concerned, when one. */
  field?: string;
  /** Rows affected. */
  count: number;
  /** What was done: dropped, kept, clipped, imputed... */
  action: 'dropped' | 'kept' | 'clipped' | 'imputed' | 'merged';
  /** The first few 1-based line numbers in the file (header = line 1). */
  lines: number[];
}

/**
 * What a load read, kept, merged and why: nothing is dropped without a line here. For one interaction file
 * the rows balance: rowsRead = rowsKept + the `dropped` issues' counts + duplicates.merged + rowsFiltered
 * (see {@link cleaningBalance} in cleaning.ts).
 */
export interface CleaningReport {
  files: string[];
  rowsRead: number;
  rowsKept: number;
  duplicates: DuplicateReport;
  issues: CleaningIssue[];
  /** Interactions the load's filters (min value, k-core, time window) removed; absent when none ran. */
  rowsFiltered?: number;
  /** Free-form remarks (e.g. "synthetic stand-in data"). */
  notes: string[];
}

/** What the value of an interaction means ("numeric": a value column of unstated meaning, e.g. a quantity). */
export type ValueKind = 'rating' | 'watch_ratio' | 'play_count' | 'numeric' | 'implicit';

/**
 * Facts about a data set that its readers need: what the value is and what its column is called, the time zone
 * its timestamps' wall clock is read in, which file is train and which test. The registry lists one per data
 * set (file names as in the source); a loaded data set carries its own (description with the loaded counts,
 * full paths, whether the files found are generated).
 */
export interface DatasetInfo {
  /** Registry name, e.g. "kuairec-sample", "ml-1m". */
  name: string;
  description: string;
  valueKind: ValueKind;
  /** The value column as the source names it ("rating", "watch_ratio", "qty"); null when there is none (all ones). */
  valueColumn: string | null;
  /** Zone for hour and weekday statistics: an IANA name ("Asia/Shanghai") or "UTC". */
  timeZone: string;
  /** The file the interactions (train) come from. */
  trainFile: string;
  /** The file of the second, test matrix (KuaiRec small_matrix), or null. */
  testFile: string | null;
  /** Files the loader reads, as in the source distribution. */
  files: string[];
  /** Whether `recsys datasets download` can fetch it. */
  downloadable: boolean;
  /** Whether it ships with the repository. */
  embedded: boolean;
  /** Whether the data is generated: the embedded stand-in, or files next to a SYNTHETIC marker. */
  synthetic: boolean;
}

/** A multi-valued categorical feature per entity (item tags, genres): CSR over entities. */
export interface MultiHot {
  /** Vocabulary: index → name. */
  names: string[];
  /** Row pointers, length entities + 1. */
  ptr: Int32Array;
  /** Feature indices. */
  idx: Int32Array;
}

/** A single-valued categorical feature per entity. */
export interface Categorical {
  /** Vocabulary: code → name. */
  names: string[];
  /** Code per entity, -1 where missing. */
  codes: Int32Array;
}

/** Side information about users or items, aligned with the dense indices of the interactions. */
export interface EntityFeatures {
  /** Numeric columns (NaN where missing). */
  numeric: Record<string, Float32Array>;
  /** Single-valued categorical columns. */
  categorical: Record<string, Categorical>;
  /** Multi-valued categorical columns (tags, genres, categories). */
  multiHot: Record<string, MultiHot>;
  /** Free text columns (titles, captions), '' where missing. */
  text: Record<string, string[]>;
}

/** A loaded data set: interactions plus whatever side data the source has. */
export interface LoadedDataset {
  /** Registry name, e.g. "kuairec-sample", "ml-1m". */
  name: string;
  /** One line describing the source (and whether it is synthetic). */
  description: string;
  /** What the value of an interaction means. */
  valueKind: ValueKind;
  interactions: Interactions;
  /** Extra numeric columns per interaction, aligned with the CSR entries of `interactions`. */
  eventColumns: Record<string, Float32Array>;
  /** Unit of an event or feature column by name, where its name does not say it (KuaiRec: play_duration → "ms"). */
  units?: Record<string, string>;
  userFeatures?: EntityFeatures;
  itemFeatures?: EntityFeatures;
  /** Social links between users (CSR over user indices), when the source has them. */
  social?: { rowPtr: Int32Array; colIdx: Int32Array };
  /**
   * A second interaction matrix in the same user and item index spaces, for protocols that need one
   * (KuaiRec: the fully observed small_matrix; empty of users/items not in it).
   */
  test?: Interactions;
  report: CleaningReport;
  /** The data set's facts as loaded (every registry loader and loadInteractionsFile set it). */
  info?: DatasetInfo;
}
