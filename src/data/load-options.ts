import type { InteractionFilters } from './filters.js';
import type { DuplicatePolicy } from './interactions.js';
import type { TimeUnit } from './time-unit.js';

/** Progress of a load, shaped like the models' `Progress` (the data layer imports nothing above it). */
export interface LoadProgress {
  phase: string;
  done: number;
  total: number;
}

/** Options every loader accepts. */
export interface LoadOptions {
  /** Explicit directory (or file, for single-file sources) holding the data set's files; searched first. */
  path?: string;
  /** Cache directory (default `RECSYS_DATA_DIR` or `~/.cache/recsys`). */
  dataDir?: string;
  /** How repeated (user, item) pairs are merged (default per data set; "last" for ratings). */
  duplicatePolicy?: DuplicatePolicy;
  /** Filters applied after loading. */
  filters?: InteractionFilters;
  /** Cap interaction values at this number (clipped rows are reported). */
  clip?: number;
  /** Throw on the first bad row instead of skipping and reporting it. */
  strict?: boolean;
  /**
   * Unit of the interaction file's time column: 'auto' (by magnitude, or ISO text; the default for files),
   * 'seconds', 'milliseconds', 'microseconds', 'nanoseconds' or 'iso'. Registered data sets default to their
   * documented unit (epoch seconds) and note when the values look like another one.
   */
  timeUnit?: TimeUnit;
  /** Called as loading proceeds (phase = file or step). */
  onProgress?: (p: LoadProgress) => void;
  /** Aborting stops the load between steps. */
  signal?: AbortSignal;
}

