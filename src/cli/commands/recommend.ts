/**
 * `recsys recommend --model DIR --user ID [-k 10]`: a saved model's top items for a user (seen items left out),
 * or `--item ID`: the items most similar to an item; each line shows the item's metadata (caption/title,
 * categories, tags, genres, year) from the data set the model was trained on, when that is known and loadable.
 */
import type { Command } from 'commander';
import type { EntityFeatures } from '../../data/dataset.js';
import { loadDataset } from '../../data/datasets/registry.js';
import { IdMap, type ExternalId } from '../../data/id-map.js';
import { getKernels } from '../../linalg/index.js';
import { openModel, type TopK } from '../../models/index.js';

interface RecommendFlags {
  model: string;
  user?: string;
  item?: string;
  k: string;
  metadata: boolean;
}

/** Resolves a command-line id against an id map whose ids may be numbers or strings. */
export function resolveId(ids: IdMap, raw: string, what: string): number {
  let i = ids.indexOf(raw);
  if (i < 0 && raw.trim() !== '' && Number.isFinite(Number(raw))) i = ids.indexOf(Number(raw));
  if (i < 0) throw new Error(`unknown ${what} id ${JSON.stringify(raw)} (the model knows ${ids.size} ${what}s)`);
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

/** Formats a one-row top-k as lines "rank. item score metadata". */
export function formatTopK(top: TopK, items: IdMap, describe: ItemDescriber | null): string {
  const lines: string[] = [];
  for (let j = 0; j < top.k; j++) {
    const i = top.items[j];
    if (i < 0) break;
    const id = items.idOf(i);
    lines.push(`${String(j + 1).padStart(3)}. ${String(id).padEnd(10)} ${top.scores[j].toFixed(4).padStart(10)}  ${describe ? describe(id) : ''}`.trimEnd());
  }
  return lines.join('\n');
}

/** Registers `recommend`. */
export function register(program: Command): void {
  program
    .command('recommend')
    .description("a saved model's top items for a user (seen items excluded) or similar items for an item")
    .requiredOption('--model <dir>', 'model directory written by `recsys train`')
    .option('--user <id>', 'user id (as in the training data)')
    .option('--item <id>', 'item id: show similar items instead')
    .option('-k, --k <n>', 'how many items', '10')
    .option('--no-metadata', 'do not load the data set for item metadata')
    .action(async (flags: RecommendFlags) => {
      const k = Number(flags.k);
      if (!Number.isInteger(k) || k < 1) throw new Error(`-k must be a positive integer (got ${JSON.stringify(flags.k)})`);
      if ((flags.user === undefined) === (flags.item === undefined)) throw new Error('give exactly one of --user and --item');
      try {
        const { model, manifest } = await openModel(flags.model);
        const users = IdMap.fromIds(manifest.users);
        const items = IdMap.fromIds(manifest.items);
        let describe: ItemDescriber | null = null;
        const dataset = manifest.provenance.dataset;
        if (flags.metadata && typeof dataset === 'string') {
          try {
            const path = typeof manifest.provenance.datasetPath === 'string' ? manifest.provenance.datasetPath : undefined;
            const ds = await loadDataset(dataset, path ? { path } : {});
            if (ds.itemFeatures) describe = describerFor(ds.itemFeatures, ds.interactions.items);
          } catch (e) {
            process.stderr.write(`(no item metadata: cannot load data set "${dataset}": ${(e as Error).message})\n`);
          }
        }
        let top: TopK;
        if (flags.user !== undefined) {
          const u = resolveId(users, flags.user, 'user');
          top = await model.recommend([u], k);
          process.stdout.write(`top ${k} for user ${flags.user} (${model.name}, seen items excluded):\n`);
        } else {
          if (!model.similarItems) throw new Error(`model "${model.name}" has no similar-items method`);
          const i = resolveId(items, flags.item as string, 'item');
          top = await model.similarItems(i, k);
          process.stdout.write(`items similar to ${flags.item}${describe ? `  ${describe(items.idOf(i))}` : ''} (${model.name}):\n`);
        }
        process.stdout.write(`${formatTopK(top, items, describe)}\n`);
      } finally {
        await (await getKernels()).close();
      }
    });
}
