/**
 * The ingest fuzz suite (issue 9): 500 seeded malformed CSV/TSV/`::` files per run (truncated lines, random
 * bytes, wrong and mixed delimiters, quotes with newlines, BOM, CRLF, huge/NaN/inf/empty values, duplicate
 * headers, ms/us/ISO timestamps, gzip). Each load either succeeds with rows that add up (read = kept + dropped
 * + merged) and example lines inside the file, or fails with a DataFileError naming the file and a line.
 * Longer runs: `npm run fuzz -- --cases 20000`.
 */
import { describe, expect, it } from 'vitest';
import { fuzzCase, runFuzz } from '../../scripts/fuzz-csv.js';

describe('ingest fuzz', () => {
  it('the generator is deterministic and covers every kind of damage', () => {
    expect(fuzzCase(42)).toEqual(fuzzCase(42));
    const all: string[] = [];
    for (let s = 1; s <= 500; s++) all.push(...fuzzCase(s).mutations);
    for (const kind of ['times ms', 'times us', 'times iso', 'times mixed', 'unbalanced quote', 'quoted', 'duplicate header', 'wrong field count', 'blank line before row', 'CRLF', 'BOM', 'truncated at byte', 'random bytes at', 'gzip', 'delimiter given as', 'timeUnit', 'wrong item column', 'field']) {
      expect(all.some((m) => m.includes(kind)), kind).toBe(true);
    }
    const odd = new Set<string>();
    for (let s = 1; s <= 500; s++) for (const m of fuzzCase(s).mutations) if (/ = /.test(m)) odd.add(m.split(' = ')[1]);
    for (const v of ['"1e300"', '"NaN"', '"inf"', '""', '"1.5"']) expect([...odd]).toContain(v);
  });

  it('500 cases: every load adds up or fails naming file and line', async () => {
    const stats = await runFuzz({ cases: 500, seed: 1 });
    const report = stats.violations.map((v) => `seed ${v.seed} (${v.mutations.join(', ')}): ${v.problem}`).join('\n');
    expect(report).toBe('');
    expect(stats.cases).toBe(500);
    expect(stats.loaded).toBeGreaterThan(200);
    expect(stats.rejected).toBeGreaterThan(50);
  }, 180_000);
});
