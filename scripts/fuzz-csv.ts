/**
 * A seeded generator of malformed interaction files (CSV, TSV, `::`, gzip) and the check every load must pass:
 * either it succeeds with a report whose rows add up (read = kept + dropped + merged) and whose example lines
 * exist in the file, or it fails with a DataFileError naming the file and a line (or, for whole-file problems
 * such as an empty or binary file, the file alone). Used by test/data/fuzz.test.ts (500 cases per run) and by
 * `npm run fuzz -- --cases 20000` (scripts/fuzz.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { cleaningBalance } from '../src/data/cleaning.js';
import { loadInteractionsFile, type FileLoadOptions } from '../src/data/datasets/generic.js';
import { DuckSession } from '../src/data/duck.js';
import { DataFileError } from '../src/data/errors.js';
import type { ColumnMapping } from '../src/data/ingest.js';
import { Rng } from '../src/core/rng.js';

/** One generated file and how to load it. */
export interface FuzzCase {
  seed: number;
  /** File name (its extension decides the default separator and header). */
  name: string;
  content: Buffer;
  mapping: ColumnMapping;
  options: Pick<FileLoadOptions, 'format' | 'timeUnit' | 'idType' | 'duplicatePolicy' | 'missingTime'>;
  /** What was done to the file, for reproducing a failure. */
  mutations: string[];
}

const SEPARATORS: Array<{ sep: string; ext: string }> = [
  { sep: ',', ext: 'csv' },
  { sep: '\t', ext: 'tsv' },
  { sep: '::', ext: 'dat' },
  { sep: ';', ext: 'csv' },
  { sep: '|', ext: 'txt' },
];
const ODD_VALUES = ['1e300', '-1e300', 'NaN', 'nan', 'inf', '-inf', 'Infinity', '', ' ', '1e-50', '-0', '0x1F', '1,5', '"3"', '١', 'null', 'NA', '99999999999999999999', '1.5', '2.0', '-7'];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

function isoOf(t: number, rng: Rng): string {
  const d = new Date(t * 1000).toISOString();
  const forms = [d, d.replace('T', ' ').replace('Z', ''), d.slice(0, 19).replace('T', ' '), `${d.slice(0, 19)}+08:00`, d.slice(0, 10)];
  return pick(rng, forms);
}

/** The file and load options of case `seed` (deterministic). */
export function fuzzCase(seed: number): FuzzCase {
  const rng = new Rng(seed);
  const mutations: string[] = [];
  const { sep, ext } = pick(rng, SEPARATORS);
  const header = ext === 'dat' || ext === 'txt' ? rng.uniform() < 0.3 : rng.uniform() < 0.85;
  const hasValue = rng.uniform() < 0.8;
  const hasTime = rng.uniform() < 0.6;
  const hasExtra = rng.uniform() < 0.25;
  const names = ['user', 'item', ...(hasValue ? ['rating'] : []), ...(hasTime ? ['ts'] : []), ...(hasExtra ? ['dur'] : [])];
  const timeForm = pick(rng, ['s', 'ms', 'us', 'iso', 'mixed'] as const);
  if (hasTime) mutations.push(`times ${timeForm}`);
  const stringIds = rng.uniform() < 0.2;
  const rows = rng.int(40) + (rng.uniform() < 0.05 ? 0 : 1);
  const lines: string[][] = [];
  for (let r = 0; r < rows; r++) {
    const t = 1.5e9 + rng.int(2e8);
    const time = timeForm === 's' ? String(t) : timeForm === 'ms' ? String(t * 1000 + rng.int(1000)) : timeForm === 'us' ? String(t * 1e6) : timeForm === 'iso' ? isoOf(t, rng) : rng.uniform() < 0.5 ? String(t) : isoOf(t, rng);
    const id = (n: number): string => (stringIds ? `id_${rng.int(n)}` : String(1 + rng.int(n)));
    const row = [id(12), id(15), ...(hasValue ? [String(1 + rng.int(5))] : []), ...(hasTime ? [time] : []), ...(hasExtra ? [String(rng.int(100000))] : [])];
    lines.push(row);
  }
  // Field-level damage.
  const nOdd = rng.uniform() < 0.6 ? 1 + rng.int(4) : 0;
  for (let k = 0; k < nOdd && lines.length; k++) {
    const r = rng.int(lines.length);
    const c = rng.int(lines[r].length);
    const v = pick(rng, ODD_VALUES);
    lines[r][c] = v;
    mutations.push(`row ${r + 1} field ${c} = ${JSON.stringify(v)}`);
  }
  if (rng.uniform() < 0.15 && lines.length) {
    const r = rng.int(lines.length);
    const c = rng.int(lines[r].length);
    const inner = pick(rng, ['a\nb', 'x""y', '5\n', '\n\n', 'q"']);
    lines[r][c] = `"${inner.replace(/"(?!")/g, '""')}"`;
    mutations.push(`row ${r + 1} field ${c} quoted ${JSON.stringify(inner)}`);
  }
  if (rng.uniform() < 0.1 && lines.length) {
    const r = rng.int(lines.length);
    lines[r][0] = `"${lines[r][0]}`;
    mutations.push(`row ${r + 1} unbalanced quote`);
  }
  const headerNames = names.slice();
  if (header && rng.uniform() < 0.12) {
    const a = rng.int(headerNames.length);
    const b = rng.int(headerNames.length);
    if (a !== b) {
      headerNames[b] = rng.uniform() < 0.5 ? headerNames[a] : headerNames[a].toUpperCase();
      mutations.push(`duplicate header ${headerNames[a]} at ${a + 1} and ${b + 1}`);
    }
  }
  // Line-level damage.
  let text = lines.map((l) => l.join(rng.uniform() < 0.05 ? pick(rng, [',', '\t', ';', '::']) : sep));
  if (rng.uniform() < 0.1 && text.length) {
    const r = rng.int(text.length);
    text[r] = rng.uniform() < 0.5 ? text[r] + sep + '9' : text[r].split(sep).slice(0, -1).join(sep);
    mutations.push(`row ${r + 1} wrong field count`);
  }
  if (rng.uniform() < 0.1) {
    const r = rng.int(text.length + 1);
    text.splice(r, 0, '');
    mutations.push(`blank line before row ${r + 1}`);
  }
  if (header) text.unshift(headerNames.join(sep));
  let body = text.join('\n') + (rng.uniform() < 0.9 ? '\n' : '');
  if (rng.uniform() < 0.15) {
    body = body.replace(/\n/g, '\r\n');
    mutations.push('CRLF');
  }
  let bytes = Buffer.from(body, 'utf8');
  if (rng.uniform() < 0.1) {
    bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    mutations.push('BOM');
  }
  if (rng.uniform() < 0.12 && bytes.length > 2) {
    const at = rng.int(bytes.length);
    bytes = bytes.subarray(0, at);
    mutations.push(`truncated at byte ${at}`);
  }
  if (rng.uniform() < 0.1) {
    const n = 1 + rng.int(rng.uniform() < 0.2 ? 200 : 4);
    const junk = Buffer.from(Array.from({ length: n }, () => rng.int(256)));
    const at = rng.int(bytes.length + 1);
    bytes = Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]);
    mutations.push(`${n} random bytes at ${at}`);
  }
  let name = `case-${seed}.${ext}`;
  if (rng.uniform() < 0.1) {
    bytes = gzipSync(bytes);
    name += '.gz';
    mutations.push('gzip');
  }
  // How the file is loaded: usually the right columns (by name, or by index without header), sometimes not.
  const byIndex = !header || rng.uniform() < 0.1;
  const col = (n: string): string => (byIndex ? String(names.indexOf(n)) : n);
  const mapping: ColumnMapping = { user: col('user'), item: col('item') };
  if (hasValue) mapping.value = col('rating');
  if (hasTime) mapping.time = col('ts');
  if (hasExtra) mapping.extra = [col('dur')];
  if (rng.uniform() < 0.05) {
    mapping.item = byIndex ? '9' : 'items';
    mutations.push('wrong item column');
  }
  const options: FuzzCase['options'] = {};
  const delimiterGiven = ext === 'csv' && sep === ',' ? rng.uniform() < 0.2 : rng.uniform() < 0.85;
  const delimiter = rng.uniform() < 0.07 ? pick(rng, [',', '\t', ';']) : sep;
  if (delimiter !== sep) mutations.push(`delimiter given as ${JSON.stringify(delimiter)}`);
  if (delimiterGiven || delimiter !== sep) options.format = { delimiter };
  const defaultHeader = !(ext === 'dat' || ext === 'txt');
  if (header !== defaultHeader || rng.uniform() < 0.3) options.format = { ...options.format, header };
  if (rng.uniform() < 0.2) {
    options.timeUnit = pick(rng, ['seconds', 'milliseconds', 'microseconds', 'iso', 'auto'] as const);
    mutations.push(`timeUnit ${options.timeUnit}`);
  }
  if (rng.uniform() < 0.1) options.idType = pick(rng, ['int', 'string'] as const);
  if (rng.uniform() < 0.2) options.duplicatePolicy = pick(rng, ['first', 'sum', 'max', 'mean', 'error'] as const);
  if (rng.uniform() < 0.1) options.missingTime = 'drop';
  return { seed, name, content: bytes, mapping, options, mutations };
}

/** How one case ended. */
export type FuzzOutcome = { kind: 'loaded' } | { kind: 'rejected'; message: string } | { kind: 'violation'; message: string };

/** Counts over a fuzz run. */
export interface FuzzStats {
  cases: number;
  loaded: number;
  rejected: number;
  violations: Array<{ seed: number; name: string; mutations: string[]; problem: string }>;
  /** Rejections by their message with numbers and paths taken out, most frequent first. */
  rejections: Array<{ message: string; count: number }>;
  seconds: number;
}

/** Whole-file problems that have no line to name. */
const FILE_LEVEL = /: (empty file \(0 bytes\)|no data rows|not a text file|cannot be decompressed as gzip)/;
/** Engine messages that must never reach a user unexplained. */
const RAW = /Error when converting|Conversion Error|Invalid Input Error|INTERNAL Error|Binder Error|Parser Error|sniff/i;

/** Physical lines of a file's (decompressed) text, as an editor counts them. */
function lineCount(bytes: Buffer, gzip: boolean): number {
  let b = bytes;
  if (gzip) {
    try {
      b = gunzipSync(bytes);
    } catch {
      return Infinity;
    }
  }
  let n = 1;
  for (const x of b) if (x === 10) n++;
  return n;
}

/** Loads one case (with a shared DuckDB session) and judges the outcome. */
export async function checkCase(c: FuzzCase, folder: string, session: DuckSession): Promise<FuzzOutcome> {
  const path = join(folder, c.name);
  writeFileSync(path, c.content);
  try {
    const ds = await loadInteractionsFile(path, c.mapping, { ...c.options, session });
    const r = ds.report;
    const b = cleaningBalance(r);
    const problems: string[] = [];
    if (!b.balanced) problems.push(`rows do not add up: read ${b.read} ≠ kept ${b.kept} + dropped ${b.dropped} + merged ${b.merged}`);
    if (r.rowsKept !== ds.interactions.nnz) problems.push(`rowsKept ${r.rowsKept} ≠ nnz ${ds.interactions.nnz}`);
    const max = lineCount(c.content, c.name.endsWith('.gz'));
    for (const i of r.issues) {
      if (i.count <= 0) problems.push(`issue "${i.kind}" with count ${i.count}`);
      for (const l of i.lines) if (!(l >= 1 && l <= max)) problems.push(`issue "${i.kind}" names line ${l} of a ${max}-line file`);
    }
    const v = ds.interactions.values;
    for (let p = 0; p < v.length; p++) if (!Number.isFinite(v[p])) problems.push(`value ${v[p]} kept`);
    for (const id of [...ds.interactions.users.ids(), ...ds.interactions.items.ids()]) {
      if (typeof id === 'number' && !Number.isSafeInteger(id)) problems.push(`integer id ${id} is not an exact integer`);
    }
    return problems.length ? { kind: 'violation', message: problems.slice(0, 3).join('; ') } : { kind: 'loaded' };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!(err instanceof DataFileError)) return { kind: 'violation', message: `not a DataFileError: ${message}` };
    if (!message.startsWith(path)) return { kind: 'violation', message: `does not start with the file: ${message}` };
    if (RAW.test(message)) return { kind: 'violation', message: `raw engine message: ${message}` };
    if (err.line === undefined && !FILE_LEVEL.test(message)) return { kind: 'violation', message: `no line: ${message}` };
    if (err.line !== undefined && !new RegExp(`(line|lines \\d+ and) ${err.line}\\b`).test(message)) return { kind: 'violation', message: `line ${err.line} not in the message: ${message}` };
    if (err.line !== undefined && !(err.line >= 1 && err.line <= lineCount(c.content, c.name.endsWith('.gz')))) return { kind: 'violation', message: `names line ${err.line} beyond the file: ${message}` };
    return { kind: 'rejected', message };
  } finally {
    rmSync(path, { force: true });
  }
}

/** Runs `cases` cases from `seed` on (one DuckDB session for all of them). */
export async function runFuzz(options: { cases: number; seed?: number; onCase?: (k: number, c: FuzzCase, o: FuzzOutcome) => void }): Promise<FuzzStats> {
  const t0 = performance.now();
  const folder = mkdtempSync(join(tmpdir(), 'recsys-fuzz-'));
  const session = await DuckSession.open({ threads: 1 });
  const stats: FuzzStats = { cases: 0, loaded: 0, rejected: 0, violations: [], rejections: [], seconds: 0 };
  const shapes = new Map<string, number>();
  try {
    for (let k = 0; k < options.cases; k++) {
      const c = fuzzCase((options.seed ?? 1) + k);
      const o = await checkCase(c, folder, session);
      stats.cases++;
      if (o.kind === 'loaded') stats.loaded++;
      else if (o.kind === 'rejected') {
        stats.rejected++;
        const shape = o.message.slice(join(folder, c.name).length).replace(/\d+/g, 'N').replace(/"[^"]*"/g, '"…"').slice(0, 110);
        shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
      } else stats.violations.push({ seed: c.seed, name: c.name, mutations: c.mutations, problem: o.message });
      options.onCase?.(k, c, o);
    }
  } finally {
    session.close();
    rmSync(folder, { recursive: true, force: true });
  }
  stats.rejections = [...shapes].map(([message, count]) => ({ message, count })).sort((a, b) => b.count - a.count);
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}
