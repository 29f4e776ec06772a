/**
 * Reading back the experiment results the runner writes (`recsys experiment --format json -o FILE`): the JSON of
 * {@link ExperimentResults}, where non-finite numbers were written as null. {@link parseResults} checks the shape
 * and turns the nulls back into NaN; {@link listResults} finds every results file in a directory (search results
 * and other JSON files are reported as skipped, with the reason, not silently dropped).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ExperimentResults } from './experiment.js';

/** A number as written by the runner: null stands for NaN or ±Infinity. */
const num = z.number().nullable().transform((v) => (v === null ? NaN : v));
const summary = z.object({ mean: num, stderr: num, ci95: z.tuple([num, num]), n: z.number() });
const paired = z.object({ n: z.number(), meanDiff: num, statistic: num, pValue: num });

const resultsSchema = z.object({
  name: z.string(),
  dataset: z.string(),
  split: z.string(),
  protocol: z.string(),
  metrics: z.array(z.string()),
  directions: z.record(z.string(), z.enum(['higher', 'lower', 'none'])),
  models: z.array(
    z.object({
      label: z.string(),
      model: z.string(),
      params: z.record(z.string(), z.unknown()),
      fitSeconds: num,
      scoringSeconds: num,
      metrics: z.record(z.string(), summary),
      usersEvaluated: z.number(),
      usersWithoutRelevant: z.number(),
      notes: z.array(z.string()),
      bestEpochs: z.array(z.number()).optional(),
      error: z.string().optional(),
    }),
  ),
  comparisons: z.array(z.object({ metric: z.string(), model: z.string(), reference: z.string(), tTest: paired, wilcoxon: paired })),
  interrupted: z.boolean(),
  notRun: z.array(z.string()).optional(),
  startedAt: z.string(),
  notes: z.array(z.string()),
});

/** Parses the text of a results file; throws an Error naming `file` and the first field that is wrong. */
export function parseResults(text: string, file: string): ExperimentResults {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  const r = resultsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`${file}: not experiment results: field "${issue.path.join('.') || '(top level)'}": ${issue.message}`);
  }
  return r.data;
}

/** One results file found by {@link listResults}. */
export interface ResultsFile {
  /** File name inside the directory. */
  file: string;
  /** Modification time (ISO). */
  modified: string;
  results: ExperimentResults;
}

/** Every `*.json` file of `dir` (not recursive) that holds experiment results, newest first; the others with why. */
export async function listResults(dir: string): Promise<{ runs: ResultsFile[]; skipped: Array<{ file: string; reason: string }> }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { runs: [], skipped: [] };
    throw e;
  }
  const runs: ResultsFile[] = [];
  const skipped: Array<{ file: string; reason: string }> = [];
  for (const file of names) {
    const path = join(dir, file);
    try {
      const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
      runs.push({ file, modified: info.mtime.toISOString(), results: parseResults(text, file) });
    } catch (e) {
      skipped.push({ file, reason: (e as Error).message });
    }
  }
  runs.sort((a, b) => b.modified.localeCompare(a.modified) || a.file.localeCompare(b.file));
  return { runs, skipped };
}
