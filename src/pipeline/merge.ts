/** Candidate merging: several sources' lists combined under per-source quotas, each item keeping its source. */
import type { Candidate } from './types.js';

/** One source's list and how many of its items may enter the merged list. */
export interface QuotaList {
  /** Source name (for error messages; each candidate carries its own `source`). */
  name: string;
  /** Most items this source contributes. */
  quota: number;
  /** The source's candidates, best first. */
  list: readonly Candidate[];
}

/**
 * Merges the lists in the order given: each source contributes up to its quota of items not already taken by
 * an earlier source (an item found by two sources keeps the first one's source and score); a source whose list
 * runs short leaves its unused quota empty. The result is the sources' blocks in order, each best first.
 */
export function mergeCandidates(lists: readonly QuotaList[]): Candidate[] {
  const taken = new Set<number>();
  const out: Candidate[] = [];
  for (const { name, quota, list } of lists) {
    if (!(Number.isInteger(quota) && quota >= 0)) throw new RangeError(`merge: quota of source "${name}" must be an integer >= 0 (got ${quota})`);
    let n = 0;
    for (let j = 0; j < list.length && n < quota; j++) {
      const c = list[j];
      if (taken.has(c.item)) continue;
      taken.add(c.item);
      out.push({ item: c.item, score: c.score, source: c.source });
      n++;
    }
  }
  return out;
}
