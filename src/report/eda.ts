/**
 * Exploratory statistics of a loaded data set: one plain, JSON-ready {@link EdaStats} object from which the
 * terminal tables, the `--json` output and the HTML report are all made.
 */
import type { CleaningReport, EntityFeatures, LoadedDataset } from '../data/dataset.js';
import type { Interactions } from '../data/interactions.js';
import type { Progress } from '../core/progress.js';
import {
  type Bin,
  type ColdCounts,
  type CorrelationMatrix,
  type Summary,
  type ValueDistribution,
  coldCounts,
  correlationMatrix,
  gini,
  log2Histogram,
  rankCurve,
  summarize,
  topShare,
  valueDistribution,
} from './stats.js';
import { withUnit } from './format.js';
import { type TimeActivity, type TimeZone, UTC, activityByTime, parseTimeZone } from './time.js';

/** Options of {@link computeEda}. */
export interface EdaOptions {
  /** Zone for the hour/weekday/month buckets (a {@link TimeZone} or its text form); default UTC. */
  timeZone?: TimeZone | string;
  /** "Cold" means fewer than this many interactions (default 5). */
  coldThreshold?: number;
  /** Blocks per side of the sparsity heatmap (default 50). */
  blocks?: number;
  /** Most frequent values kept per categorical feature (default 60) and per multi-hot feature (default 25). */
  topCategorical?: number;
  topTags?: number;
  /** Events used for the correlation matrix at most (an even stride sample beyond; default 2,000,000). */
  maxCorrelationEvents?: number;
  /** Called after each step. */
  onProgress?: (p: Progress) => void;
}

/** Size and density of an interaction matrix. */
export interface MatrixOverview {
  users: number;
  items: number;
  interactions: number;
  density: number;
  /** Users / items with at least one interaction. */
  activeUsers: number;
  activeItems: number;
}

/** Item-popularity concentration. */
export interface PopularityStats {
  /** Gini coefficient of interactions per item over all items (0 = uniform). */
  gini: number;
  /** Share of interactions on the most popular 1% / 10% of items. */
  top1Share: number;
  top10Share: number;
  /** Items ranked by interactions, sampled at log-spaced ranks. */
  curve: Array<{ rank: number; count: number }>;
}

/** One block of the sparsity heatmap (users and items sorted by activity, most active first). */
export interface SparsityCell {
  row: number;
  col: number;
  nnz: number;
  density: number;
}

/** Block densities of the interaction matrix with rows and columns sorted by activity. */
export interface SparsityBlocks {
  rowBlocks: number;
  colBlocks: number;
  cells: SparsityCell[];
}

/** Items grouped by popularity rank (head = top 10% of active items, mid = next 40%, tail = the rest). */
export interface PopularityGroup {
  group: 'head' | 'mid' | 'tail';
  items: number;
  interactions: number;
  interactionShare: number;
  /** Users with at least one interaction in the group, and their share of active users. */
  usersReached: number;
  usersReachedShare: number;
  /** Mean interaction value in the group. */
  meanValue: number;
  /** Mean total activity of the users reached (do niche items reach heavy users?). */
  meanUserActivity: number;
}

/** Top values of a categorical or multi-hot feature. */
export interface ValueCount {
  value: string;
  /** Entities having the value. */
  entities: number;
  /** Interactions of those entities. */
  interactions: number;
}

/**
 * Values that stand for "no value" in real files (KuaiRec's user_active_degree "UNKNOWN", "N/A", "null", "-",
 * empty): counted as missing, not as a category.
 */
const PLACEHOLDER = /^\s*(?:unknown|n\/?a|null|none|nan|undefined|missing|-|\?)?\s*$/i;

/** Whether a categorical value is a placeholder for a missing one (see the module's PLACEHOLDER rule). */
export function isPlaceholderValue(value: string): boolean {
  return PLACEHOLDER.test(value);
}

/** Summary of one single-valued categorical feature. */
export interface CategoricalSummary {
  name: string;
  /** Distinct real values (placeholders such as "UNKNOWN" not included). */
  distinct: number;
  /** Entities without a value or with a placeholder value. */
  missing: number;
  /** The placeholder values found (counted in `missing`). */
  placeholders: string[];
  /** Most frequent values by entities, at most `topCategorical`. */
  top: ValueCount[];
  /** Entities with a value not in `top`. */
  otherEntities: number;
}

/** Summary of one multi-hot feature (tags, genres, categories); placeholder values are left out. */
export interface MultiHotSummary {
  name: string;
  vocabulary: number;
  /** The placeholder values found and left out. */
  placeholders: string[];
  /** Entities with at least one value. */
  entitiesWithAny: number;
  meanPerEntity: number;
  /** Most frequent values by interactions, at most `topTags`. */
  top: ValueCount[];
}

/** Summaries of the side features of users or items. */
export interface FeatureStats {
  entities: number;
  numeric: Array<{ name: string; unit?: string; summary: Summary }>;
  categorical: CategoricalSummary[];
  multiHot: MultiHotSummary[];
  text: Array<{ name: string; nonEmpty: number; meanLength: number }>;
}

/** Everything the EDA computes about one data set. */
export interface EdaStats {
  /** The data set's facts: `valueName` is its value column's own name ("qty", "watch_ratio"), `valueKind` what it means. */
  dataset: { name: string; description: string; valueKind: LoadedDataset['valueKind']; valueName: string; synthetic: boolean };
  /** `eventColumns`: their names, with the unit when known ("play_duration (ms)"). */
  overview: MatrixOverview & { hasTimestamps: boolean; eventColumns: string[] };
  userActivity: { summary: Summary; histogram: Bin[] };
  itemPopularity: { summary: Summary; histogram: Bin[] };
  popularity: PopularityStats;
  cold: { users: ColdCounts; items: ColdCounts };
  /** Distribution of the interaction value (rating, watch ratio...). */
  values: ValueDistribution;
  /** Distributions of the extra per-event columns (see {@link analysedEventColumns}), with their units when known. */
  eventColumns: Array<{ name: string; unit?: string; distribution: ValueDistribution }>;
  /** Pearson correlations of the value, the event columns and log user/item activity; null without columns. */
  correlation: (CorrelationMatrix & { events: number }) | null;
  /** Activity by time, null when the data has no timestamps. */
  time: TimeActivity | null;
  sparsity: SparsityBlocks;
  popularVsNiche: PopularityGroup[];
  userFeatures: FeatureStats | null;
  itemFeatures: FeatureStats | null;
  social: { links: number; usersWithLinks: number; meanDegree: number } | null;
  /** The second matrix (KuaiRec small_matrix), when the data set has one. */
  test: MatrixOverview | null;
  cleaning: CleaningReport;
}

/** Computes every EDA statistic of `dataset`. */
export function computeEda(dataset: LoadedDataset, options: EdaOptions = {}): EdaStats {
  const tz = typeof options.timeZone === 'string' ? parseTimeZone(options.timeZone) : (options.timeZone ?? UTC);
  const coldThreshold = options.coldThreshold ?? 5;
  const steps = 8;
  let step = 0;
  const progress = (phase: string): void => options.onProgress?.({ phase, done: ++step, total: steps });
  const x = dataset.interactions;
  const userCounts = x.userCounts();
  const itemCounts = x.itemCounts();
  const overview = matrixOverview(x, userCounts, itemCounts);
  progress('counts');

  const popularity: PopularityStats = {
    gini: gini(itemCounts),
    top1Share: topShare(itemCounts, 0.01),
    top10Share: topShare(itemCounts, 0.1),
    curve: rankCurve(itemCounts.filter((c) => c > 0)),
  };
  progress('popularity');
  const values = valueDistribution(x.values);
  const eventColumns = Object.entries(analysedEventColumns(dataset)).map(([name, col]) => {
    if (col.length !== x.nnz) throw new Error(`${dataset.name}: event column "${name}" has ${col.length} entries, the interactions ${x.nnz}`);
    const unit = dataset.units?.[name];
    return { name, ...(unit ? { unit } : {}), distribution: valueDistribution(col) };
  });
  progress('distributions');
  const correlation = correlations(dataset, userCounts, itemCounts, options.maxCorrelationEvents ?? 2_000_000);
  progress('correlation');
  const time = x.timestamps ? activityByTime(x.timestamps, tz) : null;
  progress('time');
  const sparsity = sparsityBlocks(x, userCounts, itemCounts, options.blocks ?? 50);
  progress('sparsity');
  const popularVsNiche = popularityGroups(x, userCounts, itemCounts);
  progress('popular vs niche');
  const topCat = options.topCategorical ?? 60;
  const topTags = options.topTags ?? 25;
  const userFeatures = dataset.userFeatures ? featureStats(dataset.userFeatures, userCounts, topCat, topTags, dataset.units) : null;
  const itemFeatures = dataset.itemFeatures ? featureStats(dataset.itemFeatures, itemCounts, topCat, topTags, dataset.units) : null;
  progress('features');

  let social: EdaStats['social'] = null;
  if (dataset.social) {
    const { rowPtr } = dataset.social;
    let usersWithLinks = 0;
    for (let u = 0; u + 1 < rowPtr.length; u++) if (rowPtr[u + 1] > rowPtr[u]) usersWithLinks++;
    const links = rowPtr[rowPtr.length - 1] ?? 0;
    social = { links, usersWithLinks, meanDegree: usersWithLinks === 0 ? 0 : links / usersWithLinks };
  }
  const test = dataset.test ? matrixOverview(dataset.test, dataset.test.userCounts(), dataset.test.itemCounts()) : null;

  return {
    dataset: { name: dataset.name, description: dataset.description, valueKind: dataset.valueKind, valueName: valueNameOf(dataset), synthetic: dataset.info?.synthetic ?? false },
    overview: { ...overview, hasTimestamps: x.timestamps !== null, eventColumns: Object.keys(dataset.eventColumns).map((c) => withUnit(c, dataset.units?.[c])) },
    userActivity: { summary: summarize(userCounts), histogram: log2Histogram(userCounts) },
    itemPopularity: { summary: summarize(itemCounts), histogram: log2Histogram(itemCounts) },
    popularity,
    cold: { users: coldCounts(userCounts, coldThreshold), items: coldCounts(itemCounts, coldThreshold) },
    values,
    eventColumns,
    correlation,
    time,
    sparsity,
    popularVsNiche,
    userFeatures,
    itemFeatures,
    social,
    test,
    cleaning: dataset.report,
  };
}

/** Calendar columns a loader may derive from the timestamps (in UTC); the time section covers them. */
const CALENDAR_COLUMNS = new Set(['hour', 'day_of_week', 'weekday', 'day', 'month', 'year']);

/**
 * The event columns whose distributions and correlations are shown: all of them, except calendar columns
 * derived from the timestamps (hour, day_of_week, month...) when the data has timestamps.
 */
export function analysedEventColumns(dataset: LoadedDataset): Record<string, Float32Array> {
  const hasTime = dataset.interactions.timestamps !== null;
  return Object.fromEntries(Object.entries(dataset.eventColumns).filter(([name]) => !(hasTime && CALENDAR_COLUMNS.has(name))));
}

/** Users, items, interactions, density and active counts of a matrix. */
export function matrixOverview(x: Interactions, userCounts: Int32Array, itemCounts: Int32Array): MatrixOverview {
  let activeUsers = 0;
  let activeItems = 0;
  for (let u = 0; u < userCounts.length; u++) if (userCounts[u] > 0) activeUsers++;
  for (let i = 0; i < itemCounts.length; i++) if (itemCounts[i] > 0) activeItems++;
  return { users: x.nUsers, items: x.nItems, interactions: x.nnz, density: x.density, activeUsers, activeItems };
}

/** Ranks of entities by count, largest first (ties by index): rank[entity] = position 0..n−1. */
function ranksByCount(counts: Int32Array): Int32Array {
  const order = Array.from({ length: counts.length }, (_, k) => k).sort((a, b) => counts[b] - counts[a] || a - b);
  const rank = new Int32Array(counts.length);
  order.forEach((entity, r) => (rank[entity] = r));
  return rank;
}

/**
 * Block densities of the matrix with users and items sorted by activity (most active first), on a grid of
 * at most `blocks`×`blocks` blocks of near-equal size. Density = entries in the block / its cells.
 */
export function sparsityBlocks(x: Interactions, userCounts: Int32Array, itemCounts: Int32Array, blocks: number): SparsityBlocks {
  const nU = x.nUsers;
  const nI = x.nItems;
  const rowBlocks = Math.max(1, Math.min(blocks, nU));
  const colBlocks = Math.max(1, Math.min(blocks, nI));
  if (nU === 0 || nI === 0) return { rowBlocks: 0, colBlocks: 0, cells: [] };
  const userRank = ranksByCount(userCounts);
  const itemRank = ranksByCount(itemCounts);
  const rowOf = (r: number): number => Math.floor((r * rowBlocks) / nU);
  const colOf = (r: number): number => Math.floor((r * colBlocks) / nI);
  const rowSize = new Float64Array(rowBlocks);
  const colSize = new Float64Array(colBlocks);
  for (let r = 0; r < nU; r++) rowSize[rowOf(r)]++;
  for (let r = 0; r < nI; r++) colSize[colOf(r)]++;
  const nnz = new Float64Array(rowBlocks * colBlocks);
  const itemBlock = new Int32Array(nI);
  for (let i = 0; i < nI; i++) itemBlock[i] = colOf(itemRank[i]);
  for (let u = 0; u < nU; u++) {
    const base = rowOf(userRank[u]) * colBlocks;
    for (let p = x.rowPtr[u]; p < x.rowPtr[u + 1]; p++) nnz[base + itemBlock[x.colIdx[p]]]++;
  }
  const cells: SparsityCell[] = [];
  for (let r = 0; r < rowBlocks; r++) {
    for (let c = 0; c < colBlocks; c++) {
      const n = nnz[r * colBlocks + c];
      cells.push({ row: r, col: c, nnz: n, density: n / (rowSize[r] * colSize[c]) });
    }
  }
  return { rowBlocks, colBlocks, cells };
}

/** Head (top 10% of active items by interactions), mid (next 40%) and tail (rest) compared. */
export function popularityGroups(x: Interactions, userCounts: Int32Array, itemCounts: Int32Array): PopularityGroup[] {
  const active: number[] = [];
  for (let i = 0; i < itemCounts.length; i++) if (itemCounts[i] > 0) active.push(i);
  active.sort((a, b) => itemCounts[b] - itemCounts[a] || a - b);
  const n = active.length;
  const headEnd = n === 0 ? 0 : Math.max(1, Math.ceil(0.1 * n - 1e-9));
  const midEnd = Math.max(headEnd, Math.ceil(0.5 * n - 1e-9));
  const groupOf = new Int8Array(x.nItems).fill(-1);
  active.forEach((item, r) => (groupOf[item] = r < headEnd ? 0 : r < midEnd ? 1 : 2));
  const names: PopularityGroup['group'][] = ['head', 'mid', 'tail'];
  const items = [headEnd, midEnd - headEnd, n - midEnd];
  const inter = [0, 0, 0];
  const valueSum = [0, 0, 0];
  const reachedMask = new Uint8Array(x.nUsers);
  for (let u = 0; u < x.nUsers; u++) {
    for (let p = x.rowPtr[u]; p < x.rowPtr[u + 1]; p++) {
      const g = groupOf[x.colIdx[p]];
      inter[g]++;
      valueSum[g] += x.values[p];
      reachedMask[u] |= 1 << g;
    }
  }
  let activeUsers = 0;
  const reached = [0, 0, 0];
  const activitySum = [0, 0, 0];
  for (let u = 0; u < x.nUsers; u++) {
    if (userCounts[u] > 0) activeUsers++;
    for (let g = 0; g < 3; g++) {
      if (reachedMask[u] & (1 << g)) {
        reached[g]++;
        activitySum[g] += userCounts[u];
      }
    }
  }
  const total = x.nnz;
  return names.map((group, g) => ({
    group,
    items: items[g],
    interactions: inter[g],
    interactionShare: total === 0 ? 0 : inter[g] / total,
    usersReached: reached[g],
    usersReachedShare: activeUsers === 0 ? 0 : reached[g] / activeUsers,
    meanValue: inter[g] === 0 ? NaN : valueSum[g] / inter[g],
    meanUserActivity: reached[g] === 0 ? NaN : activitySum[g] / reached[g],
  }));
}

/** Feature summaries; `counts[e]` is entity e's number of interactions (for interaction-weighted tops). */
export function featureStats(f: EntityFeatures, counts: Int32Array, topCategorical: number, topTags: number, units: Record<string, string> = {}): FeatureStats {
  const entities = counts.length;
  const numeric = Object.entries(f.numeric).map(([name, col]) => ({ name, ...(units[name] ? { unit: units[name] } : {}), summary: summarize(col) }));
  const categorical = Object.entries(f.categorical).map(([name, cat]): CategoricalSummary => {
    if (cat.codes.length !== entities) throw new Error(`feature "${name}": ${cat.codes.length} codes for ${entities} entities`);
    const ent = new Float64Array(cat.names.length);
    const inter = new Float64Array(cat.names.length);
    const placeholder = cat.names.map(isPlaceholderValue);
    const found = new Set<string>();
    let missing = 0;
    for (let e = 0; e < entities; e++) {
      const c = cat.codes[e];
      if (c < 0) {
        missing++;
        continue;
      }
      if (c >= cat.names.length) throw new Error(`feature "${name}": code ${c} of entity ${e} outside its ${cat.names.length} names`);
      if (placeholder[c]) {
        missing++;
        found.add(cat.names[c]);
        continue;
      }
      ent[c]++;
      inter[c] += counts[e];
    }
    const all = cat.names.map((value, c) => ({ value, entities: ent[c], interactions: inter[c] })).filter((v) => v.entities > 0);
    all.sort((a, b) => b.entities - a.entities || b.interactions - a.interactions || a.value.localeCompare(b.value));
    const top = all.slice(0, topCategorical);
    const otherEntities = all.slice(topCategorical).reduce((s, v) => s + v.entities, 0);
    return { name, distinct: all.length, missing, placeholders: [...found].sort(), top, otherEntities };
  });
  const multiHot = Object.entries(f.multiHot).map(([name, mh]): MultiHotSummary => {
    if (mh.ptr.length !== entities + 1) throw new Error(`feature "${name}": ${mh.ptr.length - 1} rows for ${entities} entities`);
    const ent = new Float64Array(mh.names.length);
    const inter = new Float64Array(mh.names.length);
    const placeholder = mh.names.map(isPlaceholderValue);
    const found = new Set<string>();
    let withAny = 0;
    let total = 0;
    for (let e = 0; e < entities; e++) {
      let any = false;
      for (let p = mh.ptr[e]; p < mh.ptr[e + 1]; p++) {
        const t = mh.idx[p];
        if (t < 0 || t >= mh.names.length) throw new Error(`feature "${name}": value ${t} of entity ${e} outside its ${mh.names.length} names`);
        if (placeholder[t]) {
          found.add(mh.names[t]);
          continue;
        }
        any = true;
        total++;
        ent[t]++;
        inter[t] += counts[e];
      }
      if (any) withAny++;
    }
    const all = mh.names.map((value, t) => ({ value, entities: ent[t], interactions: inter[t] })).filter((v) => v.entities > 0);
    all.sort((a, b) => b.interactions - a.interactions || b.entities - a.entities || a.value.localeCompare(b.value));
    const vocabulary = mh.names.length - placeholder.filter(Boolean).length;
    return { name, vocabulary, placeholders: [...found].sort(), entitiesWithAny: withAny, meanPerEntity: entities === 0 ? 0 : total / entities, top: all.slice(0, topTags) };
  });
  const text = Object.entries(f.text).map(([name, col]) => {
    let nonEmpty = 0;
    let length = 0;
    for (const s of col) {
      if (s.length > 0) {
        nonEmpty++;
        length += s.length;
      }
    }
    return { name, nonEmpty, meanLength: nonEmpty === 0 ? 0 : length / nonEmpty };
  });
  return { entities, numeric, categorical, multiHot, text };
}

/**
 * Correlations of the interaction value, the non-constant event columns and log(1 + activity) of the
 * event's user and item, on at most `maxEvents` events (an even stride sample).
 */
function correlations(dataset: LoadedDataset, userCounts: Int32Array, itemCounts: Int32Array, maxEvents: number): (CorrelationMatrix & { events: number }) | null {
  const x = dataset.interactions;
  const n = x.nnz;
  if (n < 3) return null;
  const stride = Math.max(1, Math.ceil(n / maxEvents));
  const m = Math.ceil(n / stride);
  const pick = (src: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(m);
    for (let k = 0, p = 0; p < n; p += stride, k++) out[k] = src[p];
    return out;
  };
  const rows = x.rowIndices();
  const userAct = new Float64Array(m);
  const itemPop = new Float64Array(m);
  for (let k = 0, p = 0; p < n; p += stride, k++) {
    userAct[k] = Math.log1p(userCounts[rows[p]]);
    itemPop[k] = Math.log1p(itemCounts[x.colIdx[p]]);
  }
  const valueName = valueNameOf(dataset);
  const columns: Record<string, Float64Array> = { [valueName]: pick(x.values) };
  for (const [name, col] of Object.entries(analysedEventColumns(dataset))) if (name !== valueName) columns[name] = pick(col);
  columns['log user activity'] = userAct;
  columns['log item popularity'] = itemPop;
  for (const [name, col] of Object.entries(columns)) if (isConstant(col)) delete columns[name];
  if (Object.keys(columns).length < 2) return null;
  return { ...correlationMatrix(columns), events: m };
}

/** The value column's own name (from the data set's facts), else its kind. */
function valueNameOf(dataset: LoadedDataset): string {
  return dataset.info?.valueColumn ?? dataset.valueKind;
}

function isConstant(col: Float64Array): boolean {
  let first = NaN;
  for (let k = 0; k < col.length; k++) {
    const v = col[k];
    if (Number.isNaN(v)) continue;
    if (Number.isNaN(first)) first = v;
    else if (v !== first) return false;
  }
  return true;
}
