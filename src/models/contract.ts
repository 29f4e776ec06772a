/**
 * The contract every recommender implements, and its declared capabilities. Callers (evaluation, CLI, server)
 * ask this module what a model can do — `capabilitiesOf(model)`, `usesFeatures(model)`, or the presence of an
 * optional method — never the folder a model lives in. Indices are dense indices of the training
 * `Interactions`; external ids are mapped at the edges with the model's id maps.
 */
import type { LoadedDataset } from '../data/dataset.js';
import type { Interactions } from '../data/interactions.js';
import type { FitOptions } from '../core/progress.js';

/** Options of {@link Recommender.recommend}. */
export interface RecommendOptions {
  /** Leave out the items the user has in the training data (default true). */
  excludeSeen?: boolean;
  /** Items never to recommend (dense indices). */
  filterItems?: ArrayLike<number>;
  /** When given, rank only these items (dense indices). */
  candidates?: ArrayLike<number>;
}

/** Options of {@link Recommender.recommendForHistory}: the history's own items are always excluded. */
export type HistoryOptions = Omit<RecommendOptions, 'excludeSeen'>;

/**
 * The top-k result for a batch of users: row r holds user `users[r]`'s items best first.
 * Rows with fewer than k rankable items are padded with item -1 and score -Infinity.
 */
export interface TopK {
  /** Results per row. */
  k: number;
  /** Item indices, rows × k. */
  items: Int32Array;
  /** Scores aligned with `items`. */
  scores: Float32Array;
}

/** A user's history for models that can represent unseen users. */
export interface History {
  /** Item indices in the model's item space, oldest first (models that use order read the last ones). */
  items: Int32Array;
  /** Values aligned with `items` (ones when omitted). */
  values?: Float32Array;
}

/** The side information a feature-aware model reads (e.g. a `LoadedDataset`). */
export type ModelFeatures = Pick<LoadedDataset, 'userFeatures' | 'itemFeatures' | 'social'>;

/**
 * A recommender. `fit` and `recommend` are required; every other method is a capability the model declares by
 * having it (see {@link capabilitiesOf}).
 */
export interface Recommender {
  /** Model type name as registered, e.g. "ials". */
  readonly name: string;
  /** Trains on `train`; an aborted fit throws `AbortError` and leaves the model as it was before the call. */
  fit(train: Interactions, options?: FitOptions): Promise<void>;
  /**
   * Top-k items for each user in `users`. A user outside the training data or `k < 1` is a RangeError; seen
   * items are excluded unless `excludeSeen` is false.
   */
  recommend(users: ArrayLike<number>, k: number, options?: RecommendOptions): Promise<TopK>;
  /** Predicted value for each (users[j], items[j]) pair (rating models; ranking models return their score). */
  score?(users: Int32Array, items: Int32Array): Promise<Float32Array>;
  /** Items most similar to `item`. */
  similarItems?(item: number, k: number): Promise<TopK>;
  /** A representation of a user the model has not seen, from their history. */
  foldIn?(history: History): Promise<Float32Array>;
  /** Top-k items for an unseen user's history (excludes the history's items). */
  recommendForHistory?(history: History, k: number, options?: HistoryOptions): Promise<TopK>;
  /** Gives a feature-aware model the features aligned with the training indices; call before `fit`. */
  setFeatures?(features: ModelFeatures): void;
  /** Lines on what the last fit learned (e.g. a hybrid's blend weights), shown with the experiment's results. */
  fitNotes?(): string[];
  /** Writes the model to `dir` atomically (restore it with `loadModel`). */
  save?(dir: string): Promise<void>;
  /** Where the training data came from (set by `recsys train`, saved with the model). */
  provenance?: Record<string, unknown>;
  /** Returns the model's kernel memory; the model must be fitted or loaded again before use. */
  dispose?(): void;
}

/** What a model can do beyond `fit` and `recommend`. */
export const CAPABILITIES = ['score', 'similarItems', 'foldIn', 'recommendForHistory', 'usesFeatures'] as const;

/** One capability. */
export type Capability = (typeof CAPABILITIES)[number];

/** The capabilities `model` declares, in {@link CAPABILITIES} order. */
export function capabilitiesOf(model: Recommender): Capability[] {
  const has: Record<Capability, boolean> = {
    score: typeof model.score === 'function',
    similarItems: typeof model.similarItems === 'function',
    foldIn: typeof model.foldIn === 'function',
    recommendForHistory: typeof model.recommendForHistory === 'function',
    usesFeatures: usesFeatures(model),
  };
  return CAPABILITIES.filter((c) => has[c]);
}

/** Whether `model` wants `setFeatures` called before `fit` (the CLI and the experiment runner ask this). */
export function usesFeatures(model: Recommender): model is Recommender & Required<Pick<Recommender, 'setFeatures'>> {
  return typeof model.setFeatures === 'function';
}
