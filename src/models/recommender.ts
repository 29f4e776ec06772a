import type { Interactions } from '../data/interactions.js';

import type { FitOptions } from '../core/progress.js';

export { AbortError, throwIfAborted, type FitOptions, type Progress } from '../core/progress.js';

/** Options of {@link Recommender.recommend}. */
export interface RecommendOptions {
  /** Leave out the items the user has in the training data (default true). */
  excludeSeen?: boolean;
  /** Items never to recommend (dense indices). */
  filterItems?: ArrayLike<number>;
  /** When given, rank only these items (dense indices). */
  candidates?: ArrayLike<number>;
}

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
  /** Item indices in the model's item space. */
  items: Int32Array;
  /** Values aligned with `items` (ones when omitted). */
  values?: Float32Array;
}

/**
 * The contract every recommender implements. Indices are dense indices of the training `Interactions`;
 * external ids are mapped at the edges (CLI, server) with the model's id maps.
 */
export interface Recommender {
  /** Model type name as registered, e.g. "ials". */
  readonly name: string;
  /** Trains on `train`. */
  fit(train: Interactions, options?: FitOptions): Promise<void>;
  /** Top-k items for each user in `users`. */
  recommend(users: ArrayLike<number>, k: number, options?: RecommendOptions): Promise<TopK>;
  /** Predicted value for each (users[j], items[j]) pair (rating models; ranking models return their score). */
  score?(users: Int32Array, items: Int32Array): Promise<Float32Array>;
  /** Items most similar to `item`. */
  similarItems?(item: number, k: number): Promise<TopK>;
  /** A representation of a user the model has not seen, from their history. */
  foldIn?(history: History): Promise<Float32Array>;
  /** Top-k items for an unseen user's history (excludes the history's items). */
  recommendForHistory?(history: History, k: number, options?: Omit<RecommendOptions, 'excludeSeen'>): Promise<TopK>;
  /** Writes the model to `dir` atomically. */
  save?(dir: string): Promise<void>;
}

/** A model class: constructed from hyperparameters. */
export type RecommenderFactory = (params: Record<string, unknown>) => Recommender;
