import { join } from 'node:path';
import { assembleMatrix, clipValues } from '../assemble.js';
import { CleaningLog } from '../cleaning.js';
import type { DatasetInfo, EntityFeatures, LoadedDataset } from '../dataset.js';
import { activeCounts, countsPhrase } from '../dataset-info.js';
import { DOWNLOADS } from '../download.js';
import { withDuck, type DuckSession } from '../duck.js';
import { categoricalFrom, emptyFeatures, multiHotFrom, parseBracketList } from '../features.js';
import { applyFilters } from '../filters.js';
import type { IdMap } from '../id-map.js';
import { buildIdMaps, fetchEvents, stageInteractions, type ColumnMapping, type StagedEvents } from '../ingest.js';
import { throwIfAborted } from '../../core/progress.js';
import type { LoadOptions } from '../load-options.js';
import { candidateDirs, embeddedDataDir, findFile, missingDataError } from '../paths.js';
import { readSideTable } from '../side-tables.js';
import { hasSyntheticMarker, KUAIREC_COLUMNS } from '../schema.js';

/** Watch ratios above this are reported as extreme outliers (kept unless `clip` is given). */
export const KUAIREC_OUTLIER_THRESHOLD = 20;

/** KuaiRec-specific options. */
export interface KuaiRecLoadOptions extends LoadOptions {
  /** Skip the side files (features, social, daily features): interactions only. */
  interactionsOnly?: boolean;
  /** Report watch ratios above this as outliers (default {@link KUAIREC_OUTLIER_THRESHOLD}). */
  outlierThreshold?: number;
}

const MATRIX_MAPPING: ColumnMapping = {
  user: 'user_id',
  item: 'video_id',
  value: 'watch_ratio',
  time: 'timestamp',
  extra: ['play_duration', 'video_duration'],
};

/** The folder of the embedded synthetic sample. */
export function kuaiRecSampleDir(): string {
  return join(embeddedDataDir(), 'kuairec-sample');
}

const KUAIREC_FILES = ['big_matrix.csv', 'small_matrix.csv', 'item_categories.csv', 'item_daily_features.csv', 'kuairec_caption_category.csv', 'user_features.csv', 'social_network.csv'];

/** The registry's facts for "kuairec" and "kuairec-sample" (KuaiRec was logged in China: its wall clock is UTC+8). */
export function kuaiRecInfo(name: 'kuairec' | 'kuairec-sample'): DatasetInfo {
  const sample = name === 'kuairec-sample';
  return {
    name,
    description: sample
      ? 'Embedded SYNTHETIC stand-in with the KuaiRec 2.0 schema (1,000 users × 1,500 videos, 150k big_matrix rows, 200×300 fully observed small_matrix)'
      : 'KuaiRec 2.0 (Gao et al., CIKM 2022; CC BY-SA 4.0): 7,176 users × 10,728 videos, big_matrix 12.5M rows, small_matrix 1,411 × 3,327 fully observed',
    valueKind: 'watch_ratio',
    valueColumn: 'watch_ratio',
    timeZone: 'Asia/Shanghai',
    trainFile: 'big_matrix.csv',
    testFile: 'small_matrix.csv',
    files: sample ? KUAIREC_FILES.map((f) => `${f}(.gz)`) : KUAIREC_FILES,
    downloadable: !sample && name in DOWNLOADS,
    embedded: sample,
    synthetic: sample,
  };
}

const SUBDIRS = ['data', 'KuaiRec 2.0/data', 'KuaiRec/data'];

function kuaiRecDirs(name: 'kuairec' | 'kuairec-sample', options: LoadOptions): string[] {
  return name === 'kuairec-sample' ? [options.path ?? kuaiRecSampleDir()] : candidateDirs('kuairec', options);
}

/** Where the data set's big_matrix.csv is (null when it is nowhere the loader looks). */
export function locateKuaiRec(name: 'kuairec' | 'kuairec-sample', options: LoadOptions = {}): string | null {
  return findFile(kuaiRecDirs(name, options), 'big_matrix.csv', SUBDIRS);
}

/**
 * Loads KuaiRec 2.0 (or the embedded synthetic sample): interactions = big_matrix (value watch_ratio, event
 * columns play_duration / video_duration), test = small_matrix in the same index spaces, item features (tags
 * multi-hot, categories, caption text, daily-feature aggregates), user features and the social network.
 */
export async function loadKuaiRec(name: 'kuairec' | 'kuairec-sample', options: KuaiRecLoadOptions = {}): Promise<LoadedDataset> {
  const dirs = kuaiRecDirs(name, options);
  const bigPath = findFile(dirs, 'big_matrix.csv', SUBDIRS);
  if (!bigPath) throw missingDataError(name, 'big_matrix.csv', dirs, 'KuaiRec 2.0 files live in the data/ folder of the KuaiRec zip.');
  const dir = bigPath.slice(0, bigPath.lastIndexOf('/'));
  const file = (f: string): string | null => findFile([dir], f);
  const smallPath = file('small_matrix.csv');
  const log = new CleaningLog();
  const synthetic = hasSyntheticMarker(dir) || hasSyntheticMarker(join(dir, '..'));
  if (synthetic) log.note('SYNTHETIC DATA: generated stand-in with KuaiRec 2.0 schema (src/data/synthetic/kuairec.ts), not real KuaiRec interactions');
  const policy = options.duplicatePolicy ?? 'last';
  const threshold = options.outlierThreshold ?? KUAIREC_OUTLIER_THRESHOLD;
  const total = options.interactionsOnly ? 3 : 5;
  // Phases: reading, ids, [item features, user features,] matrices.
  const progress = (phase: string, done: number): void => options.onProgress?.({ phase, done, total });

  // DuckDB work first (reading, ids, side tables); the database is closed before the matrices are built so
  // its memory is released before the JS arrays peak.
  const read = await withDuck(async (db) => {
    progress('reading big_matrix', 0);
    const stage = { idType: 'int', strict: options.strict, timeUnit: options.timeUnit ?? 'seconds' } as const;
    const bigStage = await stageInteractions(db, 'big', bigPath, MATRIX_MAPPING, stage, log);
    const smallStage = smallPath ? await stageInteractions(db, 'small', smallPath, MATRIX_MAPPING, stage, log) : null;
    if (!smallPath) log.note('small_matrix.csv not found: no test matrix');
    throwIfAborted(options.signal);
    progress('factorizing ids', 1);
    const { users, items } = await buildIdMaps(db, smallStage ? [bigStage, smallStage] : [bigStage]);
    const bigEvents = await fetchEvents(db, bigStage, { users, items });
    const smallEvents = smallStage ? await fetchEvents(db, smallStage, { users, items }) : null;
    await db.exec('DROP TABLE big');
    if (smallStage) await db.exec('DROP TABLE small');
    throwIfAborted(options.signal);
    const side: Pick<LoadedDataset, 'itemFeatures' | 'userFeatures' | 'social'> = {};
    if (!options.interactionsOnly) {
      progress('item features', 2);
      side.itemFeatures = await loadItemFeatures(db, items, file, log);
      throwIfAborted(options.signal);
      progress('user features', 3);
      const uf = file('user_features.csv');
      if (uf) side.userFeatures = await loadUserFeatures(db, uf, users, log);
      else log.note('user_features.csv not found: no user features');
      const sn = file('social_network.csv');
      if (sn) side.social = await loadSocial(db, sn, users, log);
      else log.note('social_network.csv not found: no social links');
    }
    return { users, items, bigEvents, smallEvents, rowsRead: bigStage.rowsRead + (smallStage?.rowsRead ?? 0), side };
  });
  throwIfAborted(options.signal);
  progress('building matrices', total - 1);
  const { users, items, bigEvents, smallEvents } = read;
  reportOutliers(bigEvents, threshold, bigPath, log, options.clip);
  if (smallEvents && smallPath) reportOutliers(smallEvents, threshold, smallPath, log, options.clip);
  const big = await assembleMatrix(bigEvents, users, items, policy, bigPath, log);
  const small = smallEvents && smallPath ? await assembleMatrix(smallEvents, users, items, policy, smallPath, log) : null;
  const filtered = options.filters ? applyFilters(big, options.filters, log) : big;
  if (small) log.note(`rows read counts big_matrix and small_matrix; interactions kept counts big_matrix (train); small_matrix (test) has ${small.interactions.nnz} entries`);
  progress('done', total);
  const what = synthetic
    ? `KuaiRec 2.0 schema, SYNTHETIC stand-in data (generated; not the real KuaiRec; see the SYNTHETIC marker${name === 'kuairec-sample' ? ' and data/kuairec-sample/README.md' : ` in ${dir}`})`
    : 'KuaiRec 2.0 (Gao et al., CIKM 2022): Kuaishou short-video watch ratios';
  let description = `${what}; big_matrix (train): ${countsPhrase(filtered.interactions, 'watch events', 'videos')}`;
  if (small) {
    const t = activeCounts(small.interactions);
    description += `; small_matrix (test): ${small.interactions.nnz.toLocaleString('en-US')} entries, ${t.users.toLocaleString('en-US')} users × ${t.items.toLocaleString('en-US')} videos`;
  }
  return {
    name,
    description,
    valueKind: 'watch_ratio',
    interactions: filtered.interactions,
    eventColumns: filtered.eventColumns,
    units: { play_duration: 'ms', video_duration: 'ms' },
    test: small?.interactions,
    ...read.side,
    report: await log.report(read.rowsRead, filtered.interactions.nnz, big.duplicates),
    info: { ...kuaiRecInfo(name), description, trainFile: bigPath, testFile: smallPath, synthetic },
  };
}

function reportOutliers(ev: StagedEvents, threshold: number, file: string, log: CleaningLog, clip: number | undefined): void {
  const v = ev.values;
  if (!v) return;
  if (clip !== undefined) {
    clipValues(ev, clip, file, 'watch_ratio', log);
    return;
  }
  let count = 0;
  let max = 0;
  const rows: number[] = [];
  for (let e = 0; e < v.length; e++) {
    if (v[e] > threshold) {
      count++;
      if (v[e] > max) max = v[e];
      if (rows.length < 5) rows.push(ev.rows[e]);
    }
  }
  log.addAt({ file, kind: `extreme watch_ratio > ${threshold} (max ${max.toFixed(1)}; pass clip to cap)`, field: 'watch_ratio', count, action: 'kept' }, { rows }, ev.lines);
}

async function loadItemFeatures(db: DuckSession, items: IdMap, file: (f: string) => string | null, log: CleaningLog): Promise<EntityFeatures> {
  const f = emptyFeatures();
  const n = items.size;
  const cat = file('item_categories.csv');
  if (cat) {
    const t = await readSideTable(db, cat, [...KUAIREC_COLUMNS.itemCategories], log, { table: 'icat' });
    const lists: (string[] | null)[] = new Array(n).fill(null);
    let bad = 0;
    const badLines: number[] = [];
    let unknown = 0;
    t.rows.forEach((r, k) => {
      const i = items.indexOf(Number(r.video_id));
      if (i < 0) return void unknown++;
      const l = parseBracketList(r.feat);
      if (l === null) {
        bad++;
        if (badLines.length < 5) badLines.push(t.lines[k]);
      }
      lists[i] = l ?? [];
    });
    log.add({ file: cat, kind: 'malformed tag list', field: 'feat', count: bad, action: 'dropped', lines: badLines });
    if (unknown) log.note(`${cat}: ${unknown} videos without interactions ignored`);
    f.multiHot.tags = multiHotFrom(lists);
  } else log.note('item_categories.csv not found: no item tags');

  const capPath = file('kuairec_caption_category.csv');
  if (capPath) {
    const t = await readSideTable(db, capPath, [...KUAIREC_COLUMNS.captionCategory], log, { table: 'icap' });
    const text = { caption: new Array<string>(n).fill(''), manual_cover_text: new Array<string>(n).fill(''), topic_tag: new Array<string>(n).fill('') };
    const levels = ['first_level_category_name', 'second_level_category_name', 'third_level_category_name'] as const;
    const labels: Record<string, (string | null)[]> = Object.fromEntries(levels.map((l) => [l, new Array<string | null>(n).fill(null)]));
    let badId = 0;
    const badLines: number[] = [];
    for (let k = 0; k < t.rows.length; k++) {
      const r = t.rows[k];
      const id = Number(r.video_id);
      if (!Number.isInteger(id)) {
        badId++;
        if (badLines.length < 5) badLines.push(t.lines[k]);
        continue;
      }
      const i = items.indexOf(id);
      if (i < 0) continue;
      text.caption[i] = r.caption ?? '';
      text.manual_cover_text[i] = r.manual_cover_text === 'UNKNOWN' ? '' : (r.manual_cover_text ?? '');
      text.topic_tag[i] = r.topic_tag ?? '';
      for (const l of levels) labels[l][i] = r[l] === 'UNKNOWN' ? null : r[l];
    }
    log.add({ file: capPath, kind: 'malformed id', field: 'video_id', count: badId, action: 'dropped', lines: badLines });
    Object.assign(f.text, text);
    f.categorical.category1 = categoricalFrom(labels.first_level_category_name);
    f.categorical.category2 = categoricalFrom(labels.second_level_category_name);
    f.categorical.category3 = categoricalFrom(labels.third_level_category_name);
  } else log.note('kuairec_caption_category.csv not found: no captions or categories');

  const daily = file('item_daily_features.csv');
  if (daily) {
    await readSideTable(db, daily, ['video_id', 'play_cnt', 'show_cnt', 'like_cnt', 'complete_play_cnt', 'share_cnt', 'video_duration'], log, { table: 'idaily', fetchRows: false });
    const n2 = (c: string): string => `sum(TRY_CAST("${c}" AS DOUBLE))`;
    const rows = await db.rows(`SELECT TRY_CAST(video_id AS BIGINT) AS id, ${n2('show_cnt')} AS show, ${n2('play_cnt')} AS play, ${n2('like_cnt')} AS likes,
      ${n2('complete_play_cnt')} AS complete, ${n2('share_cnt')} AS share, max(TRY_CAST(video_duration AS DOUBLE)) AS dur
      FROM idaily GROUP BY 1 HAVING id IS NOT NULL`);
    const cols = ['show_count', 'play_count', 'like_per_play', 'complete_per_play', 'share_per_play', 'video_duration_ms'];
    const num: Record<string, Float32Array> = Object.fromEntries(cols.map((c) => [c, new Float32Array(n).fill(NaN)]));
    for (const r of rows) {
      const i = items.indexOf(Number(r.id));
      if (i < 0) continue;
      const play = Number(r.play);
      num.show_count[i] = Number(r.show);
      num.play_count[i] = play;
      num.like_per_play[i] = play > 0 ? Number(r.likes) / play : NaN;
      num.complete_per_play[i] = play > 0 ? Number(r.complete) / play : NaN;
      num.share_per_play[i] = play > 0 ? Number(r.share) / play : NaN;
      num.video_duration_ms[i] = r.dur === null ? NaN : Number(r.dur);
    }
    Object.assign(f.numeric, num);
    log.note(`${daily}: aggregated per video over days: show/play counts, like/play, complete/play, share/play ratios`);
  } else log.note('item_daily_features.csv not found: no daily-feature aggregates');
  return f;
}

const USER_NUMERIC = ['follow_user_num', 'fans_user_num', 'friend_user_num', 'register_days', 'is_lowactive_period', 'is_live_streamer', 'is_video_author'];
const USER_CATEGORICAL = ['user_active_degree', 'follow_user_num_range', 'fans_user_num_range', 'friend_user_num_range', 'register_days_range', ...Array.from({ length: 18 }, (_, k) => `onehot_feat${k}`)];

async function loadUserFeatures(db: DuckSession, path: string, users: IdMap, log: CleaningLog): Promise<EntityFeatures> {
  const t = await readSideTable(db, path, [...KUAIREC_COLUMNS.userFeatures], log, { table: 'ufeat' });
  const n = users.size;
  const f = emptyFeatures();
  const num: Record<string, Float32Array> = Object.fromEntries(USER_NUMERIC.map((c) => [c, new Float32Array(n).fill(NaN)]));
  const cat: Record<string, (string | null)[]> = Object.fromEntries(USER_CATEGORICAL.map((c) => [c, new Array<string | null>(n).fill(null)]));
  let badNum = 0;
  const badLines: number[] = [];
  t.rows.forEach((r, k) => {
    const u = users.indexOf(Number(r.user_id));
    if (u < 0) return;
    for (const c of USER_NUMERIC) {
      const s = r[c];
      const x = s === null || s.trim() === '' ? NaN : Number(s);
      if (s !== null && s.trim() !== '' && Number.isNaN(x)) {
        badNum++;
        if (badLines.length < 5) badLines.push(t.lines[k]);
      }
      num[c][u] = x;
    }
    for (const c of USER_CATEGORICAL) cat[c][u] = r[c];
  });
  log.add({ file: path, kind: 'non-numeric value in a numeric user feature (set to NaN)', count: badNum, action: 'kept', lines: badLines });
  f.numeric = num;
  for (const c of USER_CATEGORICAL) f.categorical[c] = categoricalFrom(cat[c]);
  return f;
}

async function loadSocial(db: DuckSession, path: string, users: IdMap, log: CleaningLog): Promise<{ rowPtr: Int32Array; colIdx: Int32Array }> {
  const t = await readSideTable(db, path, [...KUAIREC_COLUMNS.socialNetwork], log, { table: 'social' });
  const lists: number[][] = Array.from({ length: users.size }, () => []);
  let unknown = 0;
  let bad = 0;
  const badLines: number[] = [];
  t.rows.forEach((r, k) => {
    const u = users.indexOf(Number(r.user_id));
    const l = parseBracketList(r.friend_list);
    if (l === null) {
      bad++;
      if (badLines.length < 5) badLines.push(t.lines[k]);
      return;
    }
    if (u < 0) return void (unknown += l.length);
    for (const s of l) {
      const v = users.indexOf(Number(s));
      if (v < 0) unknown++;
      else lists[u].push(v);
    }
  });
  log.add({ file: path, kind: 'malformed friend list', field: 'friend_list', count: bad, action: 'dropped', lines: badLines });
  if (unknown) log.note(`${path}: ${unknown} friend links to users without interactions ignored`);
  const rowPtr = new Int32Array(users.size + 1);
  const idx: number[] = [];
  for (let u = 0; u < users.size; u++) {
    const s = [...new Set(lists[u])].sort((a, b) => a - b);
    idx.push(...s);
    rowPtr[u + 1] = idx.length;
  }
  return { rowPtr, colIdx: Int32Array.from(idx) };
}
