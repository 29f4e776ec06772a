/**
 * `recsys pipeline --model DIR --user ID`: one user's recommendations through the whole pipeline — the
 * retrieved candidates (with their sources), the ranked top k, and the explored top k — from a saved model,
 * optionally re-ranked by a second model (`--ranker DIR`), retrieved through an approximate index saved next to
 * the model (`--ann [ivf|hnsw]`, built on first use), with item features from the feature store (`--store`, built from the
 * model's data set with `--build-store`), and an exploration report (`--explore-report FILE.html`, plus
 * FILE.json).
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { writeFileSafe } from '../../core/safe-write.js';
import { IdMap, type ExternalId } from '../../data/id-map.js';
import { getKernels } from '../../linalg/index.js';
import { openModel } from '../../models/index.js';
import { writeReport } from '../../report/html.js';
import {
  ANN_INDEXES, exploreReport, exploreReportHtml, isAnnIndex, isMips, isQuantization, openPipeline, parseStrategy,
  type FeatureRow, type HnswParams, type OpenPipelineOptions, type PipelineResult, type RankedCandidate,
} from '../../pipeline/index.js';
import { resolveId } from './recommend.js';

/** The `--ann [index]` family of flags (`recsys pipeline` and `recsys serve`). */
export interface AnnFlags {
  ann?: boolean | string;
  hnswM?: string;
  efConstruction?: string;
  hnswMips?: string;
  hnswQuant?: string;
  ef?: string;
  nprobe?: string;
  ivfLists?: string;
}

interface PipelineFlags extends AnnFlags {
  model: string;
  ranker?: string;
  user: string;
  k: string;
  candidates: string;
  explore?: string;
  json?: boolean;
  seed: string;
  temperature?: string;
  sigma?: string;
  maxViews?: string;
  leastViewed?: string;
  popularity?: string;
  rebuildAnn?: boolean;
  store?: string | boolean;
  buildStore?: boolean;
  exploreReport?: string;
  runs: string;
}

/** A non-negative integer flag. */
function intFlag(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer >= ${min} (got ${JSON.stringify(text)})`);
  return v;
}

/** A finite number flag > or >= `min`. */
function numFlag(name: string, text: string | undefined, min: number, strict: boolean): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (strict ? v <= min : v < min)) throw new UsageError(`--${name} must be a number ${strict ? '>' : '>='} ${min} (got ${JSON.stringify(text)})`);
  return v;
}

/** The value of `--hnsw-mips` (`recsys pipeline` and `recsys serve`), or undefined when not given. */
export function hnswMipsFlag(value: string | undefined): HnswParams['mips'] | undefined {
  if (value !== undefined && !isMips(value)) throw new UsageError(`--hnsw-mips must be augmented or ip (got ${JSON.stringify(value)})`);
  return value;
}

/** The value of `--hnsw-quant` (`recsys pipeline` and `recsys serve`), or undefined when not given. */
export function hnswQuantFlag(value: string | undefined): HnswParams['quantization'] | undefined {
  if (value !== undefined && !isQuantization(value)) throw new UsageError(`--hnsw-quant must be f32 or f16 (got ${JSON.stringify(value)})`);
  return value;
}

/**
 * openPipeline's `ann` from the `--ann [index]` flags (undefined without `--ann`): "ivf" or "hnsw" with that
 * index's settings; a bare `--ann` takes the index its settings belong to, else the default. A setting of the
 * other index, settings of both, or any without `--ann`, is a usage error.
 */
export function annOption(flags: AnnFlags, rebuild: boolean): OpenPipelineOptions['ann'] {
  // A bare --ann leaves the index to openPipeline (defaultAnnIndex: IVF with the native kernels, else HNSW).
  const hnswFlags = { hnswM: '--hnsw-m', efConstruction: '--ef-construction', hnswMips: '--hnsw-mips', hnswQuant: '--hnsw-quant', ef: '--ef' } as const;
  const ivfFlags = { nprobe: '--nprobe', ivfLists: '--ivf-lists' } as const;
  const given = (names: Record<string, string>): string[] => Object.entries(names).filter(([key]) => flags[key as keyof AnnFlags] !== undefined).map(([, flag]) => flag);
  if (flags.ann === undefined || flags.ann === false) {
    const stray = [...given(hnswFlags), ...given(ivfFlags)];
    if (stray.length > 0) throw new UsageError(`${stray[0]} needs --ann`);
    if (rebuild) throw new UsageError('--rebuild-ann needs --ann');
    return undefined;
  }
  const named = flags.ann === true ? undefined : flags.ann;
  if (named !== undefined && !isAnnIndex(named)) throw new UsageError(`--ann takes ${ANN_INDEXES.join(' or ')} (got ${JSON.stringify(named)})`);
  const hnswGiven = given(hnswFlags);
  const ivfGiven = given(ivfFlags);
  // Unnamed: the settings given choose the index (HNSW ones → hnsw, IVF ones → ivf), else openPipeline's default.
  const index = named ?? (hnswGiven.length > 0 && ivfGiven.length === 0 ? 'hnsw' : ivfGiven.length > 0 ? 'ivf' : undefined);
  if (index === undefined) return { rebuild };
  if (index === 'ivf') {
    if (hnswGiven.length > 0) throw new UsageError(`${hnswGiven[0]} is an HNSW setting (--ann hnsw); the IVF index takes --nprobe and --ivf-lists`);
    const nprobe = intFlag('nprobe', flags.nprobe, 1);
    const lists = intFlag('ivf-lists', flags.ivfLists, 1);
    return { index, rebuild, ivf: { ...(nprobe !== undefined ? { nprobe } : {}), ...(lists !== undefined ? { lists } : {}) } };
  }
  if (ivfGiven.length > 0) throw new UsageError(`${ivfGiven[0]} is an IVF setting (--ann ivf); HNSW takes --ef, --hnsw-m, --ef-construction, --hnsw-mips and --hnsw-quant`);
  const M = intFlag('hnsw-m', flags.hnswM, 2);
  const efConstruction = intFlag('ef-construction', flags.efConstruction, 1);
  const ef = intFlag('ef', flags.ef, 1);
  const mips = hnswMipsFlag(flags.hnswMips);
  const quantization = hnswQuantFlag(flags.hnswQuant);
  const params = Object.fromEntries(Object.entries({ M, efConstruction, ef, mips, quantization }).filter(([, v]) => v !== undefined));
  return { index, rebuild, params };
}

/** Registers `pipeline`. */
export function register(program: Command): void {
  program
    .command('pipeline')
    .description("one user's recommendations through retrieval → ranking → exploration, each stage's list with sources")
    .requiredOption('--model <dir>', 'retrieval model directory written by `recsys train`')
    .option('--ranker <dir>', 'a model that re-scores the candidates (any model with score, e.g. mlp-ranker)')
    .requiredOption('--user <id>', 'user id (as in the training data)')
    .option('-k, --k <n>', 'length of the ranked and explored lists', '10')
    .option('--candidates <n>', 'candidates from the model (its quota in the merge)', '100')
    .option('--popularity <n>', 'also merge this many popular items (source "popularity")')
    .option('--explore <list>', 'exploration strategies, comma-separated: sampling, noise, least-viewed')
    .option('--seed <n>', 'seed of the exploration', '0')
    .option('--temperature <t>', 'sampling: softmax temperature (default 1)')
    .option('--sigma <s>', 'noise: standard deviation added to the user vector (default 0.1)')
    .option('--max-views <n>', 'least-viewed: items with at most this many training users (default 1)')
    .option('--least-viewed <n>', 'least-viewed: how many such items join the candidates (default 10)')
    .option('--ann [index]', 'retrieve through an approximate index next to the model, built when missing: ivf (DIR.ivf; the default with the native kernels) or hnsw (DIR.hnsw; the default without them)')
    .option('--rebuild-ann', 'with --ann: build the index again (after changing --ivf-lists, or --hnsw-m / --ef-construction / --hnsw-mips / --hnsw-quant)')
    .option('--nprobe <n>', 'IVF lists searched per query (default about 3·√lists)')
    .option('--ivf-lists <n>', 'IVF lists (build; default about 3.2·√items)')
    .option('--hnsw-m <n>', 'HNSW graph degree M (build; default 16, 32 from 500,000 items)')
    .option('--ef-construction <n>', 'HNSW efConstruction (build; default 128)')
    .option('--hnsw-mips <reduction>', 'HNSW inner-product search (build): augmented (default) or ip — ip is faster on trained factors (docs/pipeline.md)')
    .option('--hnsw-quant <type>', 'HNSW vector storage (build): f32 (default below 500,000 items) or f16 (half the memory; the default from 500,000; docs/pipeline.md)')
    .option('--ef <n>', 'HNSW ef at search time (default 128)')
    .option('--store [location]', 'item features from the feature store: a DuckDB file (default DIR.features.duckdb) or postgres://…')
    .option('--build-store', 'with --store: (re)build the store from the model\'s data set first')
    .option('--explore-report <file.html>', 'write the exploration report (30 re-rankings; also FILE.json) for --explore')
    .option('--runs <n>', 're-rankings in the exploration report', '30')
    .option('--json', 'print the three stages as JSON')
    .action(async (flags: PipelineFlags) => {
      const k = intFlag('k', flags.k, 1) ?? 10;
      const candidates = intFlag('candidates', flags.candidates, 1) ?? 100;
      const seed = intFlag('seed', flags.seed, 0) ?? 0;
      const runs = intFlag('runs', flags.runs, 1) ?? 30;
      const strategies = (flags.explore ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
        try {
          return parseStrategy(s);
        } catch (e) {
          throw new UsageError(`--explore: ${(e as Error).message}`);
        }
      });
      if (flags.exploreReport && strategies.length === 0) throw new UsageError('--explore-report needs --explore');
      if (flags.buildStore && flags.store === undefined) throw new UsageError('--build-store needs --store');
      const explore = {
        seed,
        temperature: numFlag('temperature', flags.temperature, 0, true),
        sigma: numFlag('sigma', flags.sigma, 0, false),
        maxViews: intFlag('max-views', flags.maxViews, 0),
        leastViewedCount: intFlag('least-viewed', flags.leastViewed, 0),
      };
      const ann = annOption(flags, flags.rebuildAnn === true);
      const opened = await openModel(flags.model);
      const users = IdMap.fromIds(opened.manifest.users);
      const user = resolveId(users, flags.user, 'user');
      const log = (line: string): void => void process.stderr.write(`${line}\n`);
      const held = await openPipeline({
        model: flags.model,
        opened,
        ranker: flags.ranker,
        store: flags.store === undefined ? undefined : typeof flags.store === 'string' ? flags.store : true,
        buildStore: flags.buildStore === true,
        ann,
        candidates,
        popularity: intFlag('popularity', flags.popularity, 0),
        explore,
        log,
      });
      const { pipeline, store, train, retrieval } = held;
      const model = opened.model;
      const ranker = held.ranker;
      try {
        const result = await pipeline.recommend({ userIndex: user }, k, { explore: strategies });
        const ids = (list: RankedCandidate[]): ExternalId[] => list.map((c) => pipeline.itemId(c.item));
        const features = store ? await store.items([...new Set([...ids(result.retrieved.slice(0, 20)), ...ids(result.ranked), ...ids(result.explored)])]) : [];
        const featureOf = new Map<ExternalId, FeatureRow>(features.filter((f): f is FeatureRow => f !== null).map((f) => [f.id, f]));
        if (flags.json) {
          const stage = (list: RankedCandidate[]) => list.map((c) => ({ item: pipeline.itemId(c.item), score: Number(c.score.toPrecision(7)), source: c.source, rank: c.rank, ...(store ? { features: featureOf.get(pipeline.itemId(c.item)) ?? null } : {}) }));
          process.stdout.write(`${JSON.stringify({ user: users.idOf(user), model: model.name, ranker: ranker?.model.name ?? null, rankedBy: result.rankedBy, explore: strategies, seed, retrieval, retrieved: stage(result.retrieved), ranked: stage(result.ranked), explored: stage(result.explored) }, null, 2)}\n`);
        } else {
          process.stdout.write(pipelineText(result, users.idOf(user), pipeline.itemId, featureOf, { model: model.name, ranker: ranker?.model.name ?? null, strategies, retrieval }));
        }
        if (flags.exploreReport) {
          const report = await exploreReport(pipeline, train, { strategies, user, k, runs, maxViews: explore.maxViews ?? 1 });
          const html = flags.exploreReport;
          const json = html.replace(/\.html?$/i, '') + '.json';
          writeFileSafe(json, JSON.stringify(report, null, 2) + '\n', { what: 'explore report data', inputs: [flags.model] });
          await writeReport(html, await exploreReportHtml(report), { inputs: [flags.model] });
          process.stderr.write(`wrote ${html} and ${json}\n`);
        }
      } finally {
        await held.close();
        await (await getKernels()).close();
      }
    });
}

/** The three stages of one pipeline call as text blocks (also the demo's last section). */
export function pipelineText(r: PipelineResult, user: ExternalId, itemId: (i: number) => ExternalId, features: Map<ExternalId, FeatureRow>, info: { model: string; ranker: string | null; strategies: string[]; retrieval: string }): string {
  const describe = (id: ExternalId): string => {
    const f = features.get(id);
    if (!f) return '';
    return Object.entries(f).filter(([k, v]) => k !== 'id' && v !== null && !(Array.isArray(v) && v.length === 0)).slice(0, 6).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : typeof v === 'number' ? Number(v.toPrecision(4)) : String(v).slice(0, 40)}`).join(' ');
  };
  const block = (title: string, list: RankedCandidate[], max: number): string => {
    const lines = list.slice(0, max).map((c) => `${String(c.rank).padStart(4)}. ${String(itemId(c.item)).padEnd(10)} ${c.score.toFixed(4).padStart(10)}  ${c.source.padEnd(12)} ${describe(itemId(c.item))}`.trimEnd());
    const more = list.length > max ? `\n      … ${list.length - max} more` : '';
    return `${title}\n${lines.length ? lines.join('\n') : '  (none)'}${more}\n`;
  };
  const sources = [...new Set(r.retrieved.map((c) => c.source))].map((s) => `${s} ${r.retrieved.filter((c) => c.source === s).length}`).join(', ');
  return [
    `user ${String(user)} — model ${info.model} (${info.retrieval} retrieval)${info.ranker ? `, ranker ${info.ranker}` : ''}`,
    block(`retrieved: ${r.retrieved.length} candidates (${sources || 'none'})`, r.retrieved, 20),
    block(`ranked (by ${r.rankedBy}):`, r.ranked, r.ranked.length),
    block(info.strategies.length ? `explored (${info.strategies.join(' + ')}):` : 'explored (no exploration: same as ranked):', r.explored, r.explored.length),
  ].join('\n');
}
