/**
 * Longer runs of the ingest fuzz suite (the CI test runs 500 cases of the same generator):
 *
 *   npm run fuzz -- --cases 20000 [--seed 1] [--keep DIR]
 *
 * Prints the counts (cases, loaded, rejected with a good error, violations) and the most frequent rejection
 * messages; with --keep, each violating file is written to DIR for a look. Exits 1 when any case violates.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFuzz } from './fuzz-csv.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
};
const int = (name: string, dflt: number): number => {
  const v = opt(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`${name} must be a positive integer, got "${v}"\n`);
    process.exit(2);
  }
  return n;
};
const cases = int('--cases', 2000);
const seed = int('--seed', 1);
const keep = opt('--keep');
if (keep) mkdirSync(keep, { recursive: true });

const stats = await runFuzz({
  cases,
  seed,
  onCase: (k, c, o) => {
    if (o.kind === 'violation' && keep) writeFileSync(join(keep, c.name), c.content);
    if ((k + 1) % 1000 === 0) process.stderr.write(`\r${k + 1}/${cases}`);
  },
});
process.stderr.write('\n');
process.stdout.write(`cases ${stats.cases}: loaded ${stats.loaded}, rejected with a good error ${stats.rejected}, violations ${stats.violations.length} (${stats.seconds.toFixed(1)} s, seeds ${seed}..${seed + cases - 1})\n`);
process.stdout.write('most frequent rejections:\n');
for (const r of stats.rejections.slice(0, 15)) process.stdout.write(`  ${String(r.count).padStart(6)}  ${r.message}\n`);
for (const v of stats.violations.slice(0, 50)) process.stdout.write(`VIOLATION seed ${v.seed} (${v.name}; ${v.mutations.join(', ')}): ${v.problem}\n`);
if (stats.violations.length) process.exitCode = 1;
