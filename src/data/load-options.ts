import type { InteractionFilters } from './filters.js';
import type { DuplicatePolicy } from './interactions.js';

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
  /** Called as loading proceeds (phase = file or step). */
  onProgress?: (p: LoadProgress) => void;
  /** Aborting stops the load between steps. */
  signal?: AbortSignal;
}

