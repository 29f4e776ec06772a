/** A filter that removes every interaction is a usage error naming the filter, not an empty data set. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { applyFilters } from '../../src/data/filters.js';
import { CleaningLog } from '../../src/data/cleaning.js';

// 3 users × 3 items, values 1..5, timestamps 100..600 (seconds).
const x = Interactions.fromCoo({
  users: IdMap.range(3), items: IdMap.range(3),
  userIdx: Int32Array.from([0, 0, 1, 1, 2, 2]), itemIdx: Int32Array.from([0, 1, 1, 2, 0, 2]),
  values: Float32Array.from([1, 2, 3, 4, 5, 5]), timestamps: Float64Array.from([100, 200, 300, 400, 500, 600]),
}).interactions;
const data = { interactions: x, eventColumns: { watch: Float32Array.from([1, 2, 3, 4, 5, 6]) } };

describe('applyFilters leaving nothing', () => {
  it('names the filter that removed everything', () => {
    const cases: [Parameters<typeof applyFilters>[1], RegExp][] = [
      [{ minValue: 100 }, /^filter value >= 100 removes all 6 interactions; nothing is left \(check the threshold against the value column's range\)$/],
      [{ timeWindow: { from: 1e9, to: 2e9 } }, /^filter time in \[1000000000, 2000000000\) removes all 6 interactions; .*time range and unit/],
      [{ kCore: { user: 5, item: 1 } }, /^filter 5\/1-core \(users\/items\) removes all 6 interactions; nothing is left \(lower the minimum counts\)$/],
      [{ minValue: 5, kCore: { user: 2, item: 2 } }, /^filter 2\/2-core .* removes all 2 interactions/],
    ];
    for (const [filters, pattern] of cases) {
      let err: unknown = null;
      try {
        applyFilters(data, filters);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(pattern);
    }
  });

  it('keeps working when something is left, and on data that was empty to begin with', () => {
    const log = new CleaningLog();
    const r = applyFilters(data, { minValue: 4 }, log);
    expect(r.interactions.nnz).toBe(3);
    expect(Array.from(r.eventColumns.watch)).toEqual([4, 5, 6]);
    const empty = x.selectEntries(new Uint8Array(x.nnz));
    expect(applyFilters({ interactions: empty, eventColumns: {} }, { minValue: 100 }).interactions.nnz).toBe(0);
  });
});
