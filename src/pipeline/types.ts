/** The values every pipeline stage passes on. Item indices are dense indices of the model's training data. */

/** One candidate item and where it came from. */
export interface Candidate {
  /** Dense item index. */
  item: number;
  /** The stage's score (retrieval score, ranker score, or the ranked score kept through exploration). */
  score: number;
  /** Name of the retrieval source that produced the item ("model", "ann", "popularity", "least-viewed"...). */
  source: string;
}

/** A candidate in a stage's output list, with its 1-based position. */
export interface RankedCandidate extends Candidate {
  rank: number;
}

/** Numbers a list 1..n in order. */
export function withRanks(list: readonly Candidate[]): RankedCandidate[] {
  return list.map((c, j) => ({ item: c.item, score: c.score, source: c.source, rank: j + 1 }));
}
