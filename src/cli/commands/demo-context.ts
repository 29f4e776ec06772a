/**
 * What `recsys demo`'s section builders receive and promise: the shared terms of demo.ts (which runs them) and
 * demo-models.ts (the model comparisons), so that neither imports the other's internals.
 */
import type { Progress } from '../../core/progress.js';
import type { LoadedDataset } from '../../data/dataset.js';
import type { EdaStats } from '../../report/eda.js';
import type { ReportSection } from '../../report/html.js';
import type { PlannedUnit } from '../progress.js';

/**
 * `quick` (what `npm start` runs): every part of the demo with settings chosen to finish in about a minute on
 * two cores; `full` (`recsys demo --full`): the full comparison.
 */
export type DemoProfile = 'quick' | 'full';

/** Reports the progress of the running unit of a stage (one model) to the demo's overall progress line. */
export interface UnitTracker {
  /** Marks the planned unit `label` as running. */
  startUnit(label: string): void;
  /** Progress inside the running unit; `fraction` = share of the unit done (default done/total). */
  update(p: Progress, fraction?: number): void;
  /** Marks the planned unit `label` as finished. */
  finishUnit(label: string): void;
}

/** What a builder's plan may look at (the data is loaded, the EDA not yet computed). */
export interface PlanContext {
  dataset: LoadedDataset;
  profile: DemoProfile;
}

/** What every section builder gets. */
export interface DemoContext extends PlanContext {
  eda: EdaStats;
  /** Writes one line of progress or log for people (stderr in the CLI). */
  log: (line: string) => void;
  /** Writes results (tables) for the reader (stdout in the CLI). */
  print: (text: string) => void;
  /** The overall progress of the builder's stage. */
  tracker: UnitTracker;
  /** Fires on Ctrl-C: long builders stop at the next step and return what finished. */
  signal: AbortSignal;
  /** Whether the data set is synthetic: results section headings then say so. */
  synthetic: boolean;
}

/** Produces some sections of the demo report (in order); may train models, run experiments... */
export interface SectionBuilder {
  /** Stage name in the progress line and in log lines ("EDA", "ranking models"). */
  name: string;
  /** The units of work (e.g. one per model) with their expected relative cost; empty = the stage is skipped. */
  plan?(ctx: PlanContext): PlannedUnit[];
  build(ctx: DemoContext): Promise<ReportSection[]>;
}

/** A tracker that reports nowhere (tests, `--no-progress`). */
export const silentTracker: UnitTracker = { startUnit: () => {}, update: () => {}, finishUnit: () => {} };
