/**
 * `recsys recommend --model DIR`: a saved model's top items for one user (`--user ID`), for many
 * (`--users FILE|all`: one process, batched through the model's `recommend`, a progress bar on stderr), or
 * the items most similar to an item (`--item ID`). Seen items are left out. Ids are the data's external ids,
 * in and out; `--format text|csv|json|jsonl` (`--json` for short), `--out FILE` instead of stdout. Text lines
 * show the item's metadata (caption/title, categories, tags, genres, year) from the data set the model was
 * trained on, when that is known and loadable. `-k` beyond the catalogue is clamped to it. A model that only
 * predicts ratings (global mean and the like: every item scores the same) is refused, as it cannot rank.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, rename, stat, unlink, open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { checkOutputFile } from '../../core/safe-write.js';
import type { EntityFeatures } from '../../data/dataset.js';
import { loadDataset } from '../../data/datasets/registry.js';
import { IdMap, type ExternalId } from '../../data/id-map.js';
import { getKernels } from '../../linalg/index.js';
import { openModel, type Recommender, type TopK } from '../../models/index.js';
import { RATING_BASELINE_NAMES } from '../../models/baselines/rating-baselines.js';
import type { ModelManifest } from '../../models/persistence.js';
import { ProgressBar } from '../progress.js';

/** Output formats. */
export const RECOMMEND_FORMATS = ['text', 'csv', 'json', 'jsonl'] as const;
/** One output format. */
export type RecommendFormat = (typeof RECOMMEND_FORMATS)[number];

/** Users per `recommend` call when recommending for many users. */
export const USER_BATCH = 1024;

/** Model types that predict ratings but give every item the same ranking score (all but `biases`). */
export const RATING_ONLY_MODELS: ReadonlySet<string> = new Set(Object.entries(RATING_BASELINE_NAMES).filter(([kind]) => kind !== 'biases').map(([, name]) => name));

interface RecommendFlags {
  model: string;
  user?: string;
  users?: string;
  item?: string;
  k: string;
  format?: string;
  json?: boolean;
  out?: string;
  skipUnknown?: boolean;
  metadata: boolean;
  progress?: boolean;
}

/** Resolves a command-line id against an id map whose ids may be numbers or strings; unknown is a usage error. */
export function resolveId(ids: IdMap, raw: string, what: string): number {
  const i = lookupId(ids, raw);
  if (i < 0) throw new UsageError(`unknown ${what} id ${JSON.stringify(raw)} (the model knows ${ids.size} ${what}s)`);
  return i;
}

/** The index of a textual id (tried as a string, then as a number), or -1. */
function lookupId(ids: IdMap, raw: string): number {
  let i = ids.indexOf(raw);
  if (i < 0 && raw.trim() !== '' && Number.isFinite(Number(raw))) i = ids.indexOf(Number(raw));
  return i;
}

/** Item metadata lookup: external item id → a one-line description. */
export type ItemDescriber = (id: ExternalId) => string;

/** Describes items from a data set's item features (text, categorical, multi-hot labels, a `year` column). */
export function describerFor(features: EntityFeatures, items: IdMap): ItemDescriber {
  const textCol = ['title', 'caption', 'name'].find((c) => c in features.text) ?? Object.keys(features.text)[0];
  return (id) => {
    const i = items.indexOf(id);
    if (i < 0) return '';
    const parts: string[] = [];
    if (textCol && features.text[textCol][i]) parts.push(JSON.stringify(features.text[textCol][i]));
    const year = features.numeric.year?.[i];
    if (year !== undefined && !Number.isNaN(year)) parts.push(`(${year})`);
    for (const [name, c] of Object.entries(features.categorical)) if (c.codes[i] >= 0) parts.push(`${name}=${c.names[c.codes[i]]}`);
    for (const [name, m] of Object.entries(features.multiHot)) {
      const labels = Array.from(m.idx.subarray(m.ptr[i], m.ptr[i + 1]), (j) => m.names[j]);
      if (labels.length) parts.push(`${name}: ${labels.join('|')}`);
    }
    return parts.join('  ');
  };
}

/** Formats row `row` of a top-k as lines "rank. item score metadata" (stops at the padding). */
export function formatTopK(top: TopK, items: IdMap, describe: ItemDescriber | null, row = 0): string {
  const lines: string[] = [];
  for (const { rank, id, score } of rowEntries(top, items, row)) {
    lines.push(`${String(rank).padStart(3)}. ${String(id).padEnd(10)} ${score.toFixed(4).padStart(10)}  ${describe ? describe(id) : ''}`.trimEnd());
  }
  return lines.join('\n');
}

/** One recommended item. */
interface Entry {
  rank: number;
  id: ExternalId;
  score: number;
}

/** The items of row `row` of a top-k, best first, without the padding (item -1). */
function rowEntries(top: TopK, items: IdMap, row: number): Entry[] {
  const out: Entry[] = [];
  for (let j = 0; j < top.k; j++) {
    const i = top.items[row * top.k + j];
    if (i < 0) break;
    out.push({ rank: j + 1, id: items.idOf(i), score: top.scores[row * top.k + j] });
  }
  return out;
}

/** A float32 score as a short JSON number (7 significant digits). */
function jsonScore(s: number): number {
  return Number(s.toPrecision(7));
}

/** A CSV field: quoted when it holds a separator, quote or line break. */
function csvField(v: ExternalId | number): string {
  const t = String(v);
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** One user's (or item's) result as a JSON object: `{ user, items: [{ item, score }] }`, best first. */
function rowObject(key: 'user' | 'item', id: ExternalId, entries: Entry[]): Record<string, unknown> {
  return { [key]: id, items: entries.map((e) => ({ item: e.id, score: jsonScore(e.score) })) };
}

/**
 * One user's (or item's) result in `format`: CSV rows `user,rank,item,score`, one JSON object (no line
 * break; the caller separates them), or a text block.
 */
export function formatRow(format: RecommendFormat, key: 'user' | 'item', id: ExternalId, entries: Entry[], describe: ItemDescriber | null): string {
  switch (format) {
    case 'csv':
      return entries.map((e) => `${csvField(id)},${e.rank},${csvField(e.id)},${csvField(jsonScore(e.score))}\n`).join('');
    case 'json':
    case 'jsonl':
      return JSON.stringify(rowObject(key, id, entries));
    case 'text': {
      const lines = entries.map((e) => `${String(e.rank).padStart(3)}. ${String(e.id).padEnd(10)} ${e.score.toFixed(4).padStart(10)}  ${describe ? describe(e.id) : ''}`.trimEnd());
      return `${key} ${id}:\n${lines.length ? lines.join('\n') : '  (no items left to recommend)'}\n`;
    }
  }
}

/** Where results go: stdout, or a file written through a temporary file and renamed at the end. */
interface Output {
  write(text: string): Promise<void>;
  /** Finishes the output (the file appears only now). */
  commit(): Promise<void>;
  /** Drops a partial output (the temporary file is removed). */
  abort(): Promise<void>;
  /** True when the reader went away (stdout closed, e.g. `| head`). */
  readonly closed: boolean;
}

function stdoutOutput(): Output {
  let closed = false;
  let failure: Error | null = null;
  const onError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE') closed = true;
    else failure = e;
  };
  process.stdout.on('error', onError);
  return {
    async write(text) {
      if (failure) throw failure;
      if (closed) return;
      if (!process.stdout.write(text) && !closed) await once(process.stdout, 'drain');
    },
    async commit() {
      process.stdout.off('error', onError);
    },
    async abort() {
      process.stdout.off('error', onError);
    },
    get closed() {
      return closed;
    },
  };
}

/**
 * Opens `path` for streamed writing through a sibling temporary file (fsync, rename over the target, fsync of
 * the folder). The target is checked by the safe writer first: devices, FIFOs, sockets, directories and inputs
 * are refused, and a symbolic link is written through (its target replaced, the link kept).
 */
async function fileOutput(path: string, inputs: string[]): Promise<Output> {
  const target = checkOutputFile(path, { what: '--out file', inputs });
  const parent = dirname(target);
  const parentStat = await stat(parent).catch(() => null);
  if (!parentStat?.isDirectory()) throw new UsageError(`--out ${path}: the folder ${parent} does not exist`);
  const tmp = join(parent, `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh: FileHandle = await open(tmp, 'wx');
  let open_ = true;
  let pending = '';
  const flush = async (): Promise<void> => {
    if (pending) await fh.write(pending);
    pending = '';
  };
  return {
    async write(text) {
      pending += text;
      if (pending.length >= 1 << 16) await flush();
    },
    async commit() {
      await flush();
      await fh.sync();
      await fh.close();
      open_ = false;
      await rename(tmp, target);
      const dir = await open(parent, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    },
    async abort() {
      if (open_) await fh.close().catch(() => {});
      open_ = false;
      await unlink(tmp).catch(() => {});
    },
    closed: false,
  };
}

/** The user ids of a `--users` file: one per line (blank lines skipped); unknown ids with their line numbers. */
export async function readUserIds(path: string, users: IdMap): Promise<{ indices: Int32Array; ids: ExternalId[]; unknown: { line: number; id: string }[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--users ${path}: cannot read the user-id file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const indices: number[] = [];
  const ids: ExternalId[] = [];
  const unknown: { line: number; id: string }[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, j) => {
    const id = raw.trim();
    if (id === '') return;
    const i = lookupId(users, id);
    if (i < 0) unknown.push({ line: j + 1, id });
    else {
      indices.push(i);
      ids.push(users.idOf(i));
    }
  });
  return { indices: Int32Array.from(indices), ids, unknown };
}

/** "line 2: "x", line 7: "y" and 3 more". */
function listUnknown(unknown: { line: number; id: string }[]): string {
  const shown = unknown.slice(0, 10).map((u) => `line ${u.line}: ${JSON.stringify(u.id)}`).join(', ');
  return unknown.length > 10 ? `${shown} and ${unknown.length - 10} more` : shown;
}

/** The output format from --format and --json. */
function formatOf(flags: RecommendFlags): RecommendFormat {
  if (flags.json && flags.format !== undefined && flags.format !== 'json') throw new UsageError(`--json and --format ${flags.format} disagree; give one`);
  const format = flags.json ? 'json' : (flags.format ?? 'text');
  if (!(RECOMMEND_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${RECOMMEND_FORMATS.join(', ')} (got ${JSON.stringify(format)})`);
  return format as RecommendFormat;
}

/** Parses -k: a positive integer (1e9 is accepted and clamped to the catalogue later). */
function parseK(text: string): number {
  const k = Number(text);
  if (text.trim() === '' || !Number.isInteger(k) || k < 1) throw new UsageError(`-k must be a positive integer (got ${JSON.stringify(text)})`);
  return k;
}

/** The item describer from the model's training data set, when the model records one and it loads. */
async function metadataFor(manifest: ModelManifest): Promise<ItemDescriber | null> {
  const dataset = manifest.provenance.dataset;
  if (typeof dataset !== 'string') return null;
  try {
    const path = typeof manifest.provenance.datasetPath === 'string' ? manifest.provenance.datasetPath : undefined;
    const ds = await loadDataset(dataset, path ? { path } : {});
    return ds.itemFeatures ? describerFor(ds.itemFeatures, ds.interactions.items) : null;
  } catch (e) {
    process.stderr.write(`(no item metadata: cannot load data set "${dataset}": ${(e as Error).message})\n`);
    return null;
  }
}

/** Recommends for many users, batch by batch, writing each user's result as it comes. */
async function recommendMany(model: Recommender, users: Int32Array, ids: ExternalId[], items: IdMap, k: number, format: RecommendFormat, out: Output, describe: ItemDescriber | null, progress: boolean | undefined): Promise<void> {
  const bar = progress === false ? null : new ProgressBar('recommend');
  if (format === 'csv') await out.write('user,rank,item,score\n');
  if (format === 'json') await out.write('[');
  try {
    for (let start = 0; start < users.length && !out.closed; start += USER_BATCH) {
      const batch = users.subarray(start, Math.min(users.length, start + USER_BATCH));
      const top = await model.recommend(batch, k);
      let chunk = '';
      for (let r = 0; r < batch.length; r++) {
        const row = formatRow(format, 'user', ids[start + r], rowEntries(top, items, r), describe);
        if (format === 'json') chunk += `${start + r === 0 ? '\n' : ',\n'}${row}`;
        else if (format === 'jsonl') chunk += `${row}\n`;
        else chunk += format === 'text' && start + r > 0 ? `\n${row}` : row;
      }
      await out.write(chunk);
      bar?.update({ phase: 'users', done: start + batch.length, total: users.length });
    }
  } finally {
    bar?.stop();
  }
  if (format === 'json') await out.write(users.length ? '\n]\n' : ']\n');
}

/** Registers `recommend`. */
export function register(program: Command): void {
  program
    .command('recommend')
    .description("a saved model's top items for one user, for many (--users FILE|all), or similar items for an item")
    .requiredOption('--model <dir>', 'model directory written by `recsys train`')
    .option('--user <id>', 'user id (as in the training data)')
    .option('--users <file|all>', 'a file of user ids, one per line, or "all" (every user the model knows; ./all for a file so named)')
    .option('--item <id>', 'item id: show similar items instead')
    .option('-k, --k <n>', 'how many items (at most the catalogue)', '10')
    .option('-f, --format <format>', `output format: ${RECOMMEND_FORMATS.join(', ')} (default text)`)
    .option('--json', 'same as --format json')
    .option('-o, --out <file>', 'write the results to this file instead of stdout')
    .option('--skip-unknown', 'with --users FILE: report unknown ids and recommend for the others instead of stopping')
    .option('--no-metadata', 'do not load the data set for item metadata (text format)')
    .option('--progress', 'a progress bar even when stderr is not a terminal (else plain lines)')
    .action(async (flags: RecommendFlags, command: Command) => {
      const k0 = parseK(flags.k);
      const format = formatOf(flags);
      const given = [flags.user, flags.users, flags.item].filter((x) => x !== undefined).length;
      if (given !== 1) throw new UsageError('give exactly one of --user, --users and --item');
      if (flags.skipUnknown && (flags.users === undefined || flags.users === 'all')) throw new UsageError('--skip-unknown applies to --users FILE only');
      const { model, manifest } = await openModel(flags.model); // model.json read once, the directory checked
      if (flags.item === undefined && RATING_ONLY_MODELS.has(manifest.modelType)) {
        throw new UsageError(`model "${manifest.modelType}" (${flags.model}) predicts ratings only: it gives every item the same score, so it cannot rank items for a user; train a ranking model (e.g. popularity, ials, ease, item-knn) or "biases"`);
      }
      const users = IdMap.fromIds(manifest.users);
      const items = IdMap.fromIds(manifest.items);
      let k = k0;
      if (k > items.size) {
        k = items.size;
        if (command.getOptionValueSource('k') !== 'default') process.stderr.write(`(-k ${flags.k} is more than the catalogue: showing at most all ${items.size} items)\n`);
      }
      // Everything that can be refused is checked before the model is loaded and any output is opened.
      let many: Awaited<ReturnType<typeof readUserIds>> | null = null;
      if (flags.users === 'all') {
        many = { indices: Int32Array.from({ length: users.size }, (_, i) => i), ids: users.ids(), unknown: [] };
      } else if (flags.users !== undefined) {
        many = await readUserIds(flags.users, users);
        if (many.unknown.length) {
          const text = `${flags.users}: ${many.unknown.length} user id${many.unknown.length > 1 ? 's' : ''} unknown to the model (${listUnknown(many.unknown)})`;
          const header = many.unknown[0].line === 1 ? '; line 1 may be a header: remove it' : '';
          if (!flags.skipUnknown) throw new UsageError(`${text}${header}; fix them or pass --skip-unknown`);
          process.stderr.write(`skipped: ${text}\n`);
        }
        if (many.indices.length === 0) throw new UsageError(`${flags.users}: no known user ids to recommend for`);
      }
      const single = flags.user !== undefined ? resolveId(users, flags.user, 'user') : -1;
      const itemIndex = flags.item !== undefined ? resolveId(items, flags.item, 'item') : -1;
      try {
        const similarItems = model.similarItems?.bind(model);
        if (flags.item !== undefined && !similarItems) throw new UsageError(`model "${model.name}" has no similar-items method`);
        const describe = flags.metadata && format === 'text' ? await metadataFor(manifest) : null;
        const out = flags.out ? await fileOutput(flags.out, [flags.model, ...(flags.users && flags.users !== 'all' ? [flags.users] : [])]) : stdoutOutput();
        try {
          if (many) {
            await recommendMany(model, many.indices, many.ids, items, k, format, out, describe, flags.progress);
          } else {
            const key = flags.item !== undefined ? 'item' : 'user';
            const id = flags.item !== undefined ? items.idOf(itemIndex) : users.idOf(single);
            const top = similarItems && flags.item !== undefined ? await similarItems(itemIndex, k) : await model.recommend([single], k);
            const entries = rowEntries(top, items, 0);
            if (format === 'text') {
              const head = key === 'user' ? `top ${k} for user ${flags.user} (${model.name}, seen items excluded):` : `items similar to ${flags.item}${describe ? `  ${describe(id)}` : ''} (${model.name}):`;
              await out.write(`${head}\n${formatTopK(top, items, describe)}\n`);
            } else if (format === 'csv') {
              await out.write(`${key},rank,item,score\n${formatRow('csv', key, id, entries, null)}`);
            } else {
              const o = rowObject(key, id, entries);
              await out.write(`${format === 'json' ? JSON.stringify({ model: model.name, k, ...o }, null, 2) : JSON.stringify(o)}\n`);
            }
          }
          await out.commit();
        } catch (e) {
          await out.abort();
          throw e;
        }
        if (flags.out) process.stderr.write(`wrote ${flags.out}\n`);
      } finally {
        await (await getKernels()).close();
      }
    });
}
