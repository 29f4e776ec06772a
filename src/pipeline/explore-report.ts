/**
 * The exploration report: how much an exploration strategy moves items and what it does to the lists.
 * - For one user, over `runs` re-rankings (seeds 0..runs−1), each candidate's mean and spread (standard
 *   deviation) of rank against its rank without exploration (the "average rank stays close to the original"
 *   check), charted with src/report's Vega-Lite helpers;
 * - over a sample of users, novelty, catalogue coverage and the share of least-viewed items in the final top-k
 *   lists, with and without exploration.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ExternalId } from '../data/id-map.js';
import type { Interactions } from '../data/interactions.js';
import { catalogCoverage, noveltyAt } from '../eval/metrics.js';
import { chartSvg } from '../report/svg.js';
import { figure, htmlTable, noteBox, paragraph, renderReport, type Report } from '../report/html.js';
import type { ExploreStrategy } from './explore.js';
import type { Pipeline } from './pipeline.js';
import { itemUserCounts } from './sources.js';

/** Options of {@link exploreReport}. */
export interface ExploreReportOptions {
  /** The strategies to measure (together). */
  strategies: readonly ExploreStrategy[];
  /** The user whose ranks are followed over the re-rankings (dense index). */
  user: number;
  /** Length of the final lists for the list metrics (default 10). */
  k?: number;
  /** Re-rankings of the followed user (default 30). */
  runs?: number;
  /** Users for the list metrics (dense indices; default up to 200 users spread over the training users). */
  users?: readonly number[];
  /** "Least viewed" = at most this many training users (default 1). */
  maxViews?: number;
}

/** One candidate of the followed user. */
export interface RankSpread {
  item: ExternalId;
  source: string;
  /** Rank without exploration (1-based, over all ranked candidates). */
  originalRank: number;
  /** Mean and standard deviation of its rank over the runs where it was in the explored list. */
  meanRank: number;
  sdRank: number;
  /** Runs in which it appeared (noise and least-viewed injection change the candidate set). */
  appearances: number;
}

/** List metrics of a set of final lists. */
export interface ListMetrics {
  /** Mean novelty@k (−log2 of the share of users who have the item). */
  novelty: number;
  /** Distinct recommended items / catalogue size. */
  coverage: number;
  /** Share of recommended items with at most `maxViews` training users. */
  leastViewedShare: number;
}

/** The report's data (also written as JSON). */
export interface ExploreReport {
  strategies: ExploreStrategy[];
  user: ExternalId;
  runs: number;
  k: number;
  maxViews: number;
  usersMeasured: number;
  items: RankSpread[];
  without: ListMetrics;
  with: ListMetrics;
}

/** Runs the measurements; the pipeline's own seed is replaced by 0..runs−1 per run. */
export async function exploreReport(pipeline: Pipeline, train: Interactions, options: ExploreReportOptions): Promise<ExploreReport> {
  const k = options.k ?? 10;
  const runs = options.runs ?? 30;
  const maxViews = options.maxViews ?? 1;
  if (!(Number.isInteger(runs) && runs >= 1)) throw new RangeError(`explore report: runs must be a positive integer (got ${runs})`);
  const strategies = [...options.strategies];
  if (strategies.length === 0) throw new RangeError('explore report: give at least one strategy');
  const all = train.nItems;
  const base = await pipeline.recommend({ userIndex: options.user }, all);
  const original = new Map(base.ranked.map((c) => [c.item, c]));
  const ranks = new Map<number, number[]>();
  for (let s = 0; s < runs; s++) {
    const r = await pipeline.recommend({ userIndex: options.user }, all, { explore: strategies, seed: s });
    for (const c of r.explored) {
      const list = ranks.get(c.item) ?? [];
      list.push(c.rank);
      ranks.set(c.item, list);
    }
  }
  const items: RankSpread[] = [];
  const sources = new Map<number, string>();
  for (const c of base.ranked) sources.set(c.item, c.source);
  for (const [item, rs] of ranks) {
    const mean = rs.reduce((a, b) => a + b, 0) / rs.length;
    const sd = Math.sqrt(rs.reduce((a, b) => a + (b - mean) * (b - mean), 0) / rs.length);
    const o = original.get(item);
    items.push({ item: pipeline.itemId(item), source: o?.source ?? 'injected', originalRank: o ? o.rank : NaN, meanRank: mean, sdRank: sd, appearances: rs.length });
  }
  items.sort((a, b) => (Number.isNaN(a.originalRank) ? Infinity : a.originalRank) - (Number.isNaN(b.originalRank) ? Infinity : b.originalRank) || a.meanRank - b.meanRank);

  const users = options.users ?? spread(train.nUsers, 200);
  const counts = itemUserCounts(train);
  let withTrain = 0;
  for (let u = 0; u < train.nUsers; u++) if (train.rowPtr[u + 1] > train.rowPtr[u]) withTrain++;
  const plain: number[][] = [];
  const explored: number[][] = [];
  for (const [j, u] of users.entries()) {
    const r = await pipeline.recommend({ userIndex: u }, k, { explore: strategies, seed: j });
    plain.push(r.ranked.map((c) => c.item));
    explored.push(r.explored.map((c) => c.item));
  }
  const metrics = (lists: number[][]): ListMetrics => {
    let nov = 0;
    let n = 0;
    let least = 0;
    let total = 0;
    for (const l of lists) {
      const v = noveltyAt(l, k, counts, Math.max(1, withTrain));
      if (!Number.isNaN(v)) {
        nov += v;
        n++;
      }
      for (const i of l) {
        total++;
        if (counts[i] <= maxViews) least++;
      }
    }
    return { novelty: n ? nov / n : NaN, coverage: catalogCoverage(lists, k, train.nItems), leastViewedShare: total ? least / total : NaN };
  };
  return { strategies, user: train.users.idOf(options.user), runs, k, maxViews, usersMeasured: users.length, items, without: metrics(plain), with: metrics(explored) };
}

/** Up to `n` indices spread evenly over [0, total). */
function spread(total: number, n: number): number[] {
  const m = Math.min(total, n);
  return Array.from({ length: m }, (_, j) => Math.floor((j * total) / m));
}

/** The mean-rank chart: mean ± sd of the explored rank against the original rank, with the diagonal. */
export function rankSpreadChart(report: ExploreReport, limit = 100): TopLevelSpec {
  const rows = report.items
    .filter((r) => !Number.isNaN(r.originalRank) && r.originalRank <= limit)
    .map((r) => ({ original: r.originalRank, mean: r.meanRank, low: r.meanRank - r.sdRank, high: r.meanRank + r.sdRank }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Rank over ${report.runs} re-rankings (${report.strategies.join(' + ')}) vs rank without exploration`,
    width: 560,
    height: 300,
    data: { values: rows },
    layer: [
      { mark: { type: 'rule', color: '#8c959f', strokeDash: [4, 4] }, encoding: { x: { datum: 1, type: 'quantitative' }, y: { datum: 1, type: 'quantitative' }, x2: { datum: limit }, y2: { datum: limit } } },
      { mark: { type: 'rule', opacity: 0.5 }, encoding: { x: { field: 'original', type: 'quantitative', title: 'original rank' }, y: { field: 'low', type: 'quantitative', title: 'mean rank ± sd' }, y2: { field: 'high' } } },
      { mark: { type: 'point', filled: true, size: 20 }, encoding: { x: { field: 'original', type: 'quantitative' }, y: { field: 'mean', type: 'quantitative' } } },
    ],
  };
}

/** The report as one self-contained HTML page. */
export async function exploreReportHtml(report: ExploreReport): Promise<string> {
  const svg = await chartSvg(rankSpreadChart(report));
  const fmt = (x: number): string => (Number.isNaN(x) ? '–' : x.toFixed(3));
  const metricRows = [
    ['novelty@k (bits)', fmt(report.without.novelty), fmt(report.with.novelty)],
    ['catalogue coverage', fmt(report.without.coverage), fmt(report.with.coverage)],
    [`share of least-viewed items (≤ ${report.maxViews} users)`, fmt(report.without.leastViewedShare), fmt(report.with.leastViewedShare)],
  ];
  const top = report.items.slice(0, 30).map((r) => [String(r.item), r.source, Number.isNaN(r.originalRank) ? '–' : String(r.originalRank), r.meanRank.toFixed(2), r.sdRank.toFixed(2), String(r.appearances)]);
  const doc: Report = {
    title: `Exploration: ${report.strategies.join(' + ')}`,
    subtitle: `user ${String(report.user)}, ${report.runs} re-rankings; list metrics over ${report.usersMeasured} users, top ${report.k}`,
    sections: [
      { id: 'ranks', title: 'Rank spread', html: figure(svg, 'Each point is a candidate: its mean rank with exploration (bar: ± one standard deviation) against its rank without; the dashed line is "unchanged".') + htmlTable(['item', 'source', 'original rank', 'mean rank', 'sd', 'runs present'], top, { numericColumns: [2, 3, 4, 5] }) },
      { id: 'lists', title: 'Final lists with and without exploration', html: htmlTable(['', 'without', 'with'], metricRows) + paragraph('Novelty is the mean −log2 of the share of training users who have the item; coverage is distinct recommended items over the catalogue.') },
      { id: 'notes', title: 'Notes', html: noteBox(['Each re-ranking uses its own seed (0, 1, …); the same seeds give the same report.']) },
    ],
  };
  return renderReport(doc);
}
