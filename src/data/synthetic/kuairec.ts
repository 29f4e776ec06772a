import { join } from 'node:path';
import { drawCumulative, Rng } from '../../core/rng.js';
import { csvField, LineWriter } from './writer.js';
import { KUAIREC_COLUMNS, writeSyntheticMarker } from '../schema.js';

/**
 * A SYNTHETIC stand-in for KuaiRec 2.0 with the real files' exact names and columns. It is generated, not
 * sampled from the real data: structure (long-tail popularity, skewed user activity, latent-factor
 * preferences, long-tailed watch ratio with extreme outliers, repeated pairs, a fully observed small matrix,
 * missing times) imitates the published statistics so that code paths and model comparisons are exercised.
 */
export interface KuaiRecSyntheticOptions {
  users: number;
  items: number;
  /** Rows of big_matrix (repeated pairs included). */
  bigRows: number;
  /** Users and items of the fully observed small_matrix (a subset of both). */
  smallUsers: number;
  smallItems: number;
  /** small_matrix rows written with empty time/date/timestamp. */
  missingTimeRows: number;
  /** Share of big_matrix rows whose watch ratio is an extreme outlier (> 20). */
  outlierRate: number;
  /** Latent dimension of the preference model. */
  factors: number;
  seed: number;
  /** Gzip the interaction CSVs (file names get .csv.gz). */
  gzip: boolean;
  /** Write only big_matrix.csv (for the load benchmark). */
  bigMatrixOnly: boolean;
}

/** The shipped embedded sample's settings (data/kuairec-sample). */
export const KUAIREC_SAMPLE_OPTIONS: KuaiRecSyntheticOptions = {
  users: 1000,
  items: 1500,
  bigRows: 150_000,
  smallUsers: 200,
  smallItems: 300,
  missingTimeRows: 24,
  outlierRate: 0.0008,
  factors: 8,
  seed: 20220701,
  gzip: true,
  bigMatrixOnly: false,
};

/** Full KuaiRec big_matrix size (7,176 users × 10,728 items, 12.5M rows), for the load benchmark. */
export const KUAIREC_FULL_SIZE_OPTIONS: KuaiRecSyntheticOptions = {
  ...KUAIREC_SAMPLE_OPTIONS,
  users: 7176,
  items: 10728,
  bigRows: 12_530_806,
  smallUsers: 1411,
  smallItems: 3327,
  gzip: false,
  bigMatrixOnly: true,
};

export { KUAIREC_COLUMNS } from '../schema.js';

/** Number of distinct tags in item_categories.feat (KuaiRec has 31: 0..30). */
const N_TAGS = 31;
const N_CATEGORY1 = 12;
/** 2020-07-05 00:00:00 Beijing time, the start of KuaiRec's collection period, in epoch seconds. */
const START = Date.UTC(2020, 6, 4, 16) / 1000;
/** Collection period length (about two months). */
const SPAN = 62 * 86400;
const WORDS = ['funny', 'cat', 'dance', 'food', 'travel', 'game', 'music', 'daily', 'pet', 'sport', 'car', 'beauty', 'baby', 'farm', 'city', 'cook', 'news', 'movie', 'study', 'craft'];
const ACTIVE_DEGREES = ['full_active', 'high_active', 'middle_active', 'low_active', 'UNKNOWN'];

interface Model {
  userVec: Float64Array;
  itemVec: Float64Array;
  itemBias: Float64Array;
  userBias: Float64Array;
  popCum: Float64Array;
  userActivity: Float64Array;
  duration: Int32Array;
}

/** Beijing-time "YYYY-MM-DD HH:MM:SS.mmm", "YYYYMMDD" and epoch-seconds strings for epoch seconds `ts`. */
export function kuaiRecTimeFields(ts: number): { time: string; date: string; timestamp: string } {
  const iso = new Date(Math.round((ts + 8 * 3600) * 1000)).toISOString();
  return { time: `${iso.slice(0, 10)} ${iso.slice(11, 23)}`, date: iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10), timestamp: ts.toFixed(3) };
}

function buildModel(o: KuaiRecSyntheticOptions, rng: Rng): Model {
  const d = o.factors;
  const userVec = new Float64Array(o.users * d);
  const itemVec = new Float64Array(o.items * d);
  for (let k = 0; k < userVec.length; k++) userVec[k] = rng.normal();
  for (let k = 0; k < itemVec.length; k++) itemVec[k] = rng.normal();
  const itemBias = new Float64Array(o.items);
  const userBias = new Float64Array(o.users);
  for (let i = 0; i < o.items; i++) itemBias[i] = 0.25 * rng.normal();
  for (let u = 0; u < o.users; u++) userBias[u] = 0.2 * rng.normal();
  // Long-tail popularity: Zipf-like over a random permutation of the items, boosted by item quality.
  const rank = rng.sample(o.items, o.items);
  const pop = new Float64Array(o.items);
  for (let k = 0; k < o.items; k++) pop[rank[k]] = Math.pow(k + 5, -0.85) * Math.exp(1.5 * itemBias[rank[k]]);
  const popCum = new Float64Array(o.items);
  let acc = 0;
  for (let i = 0; i < o.items; i++) popCum[i] = acc += pop[i];
  const userActivity = new Float64Array(o.users);
  for (let u = 0; u < o.users; u++) userActivity[u] = rng.logNormal(0, 0.9);
  const duration = new Int32Array(o.items);
  for (let i = 0; i < o.items; i++) duration[i] = Math.max(2000, Math.round(rng.logNormal(Math.log(11000), 0.6)));
  return { userVec, itemVec, itemBias, userBias, popCum, userActivity, duration };
}

function affinity(m: Model, d: number, u: number, i: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += m.userVec[u * d + k] * m.itemVec[i * d + k];
  return s / Math.sqrt(d);
}

/** A watch ratio drawn from the latent model: log-normal around exp(affinity), with rare extreme outliers. */
function watchRatio(m: Model, o: KuaiRecSyntheticOptions, rng: Rng, u: number, i: number): number {
  const mu = -0.4 + 0.75 * affinity(m, o.factors, u, i) + 0.7 * m.itemBias[i] + m.userBias[u];
  let r = rng.logNormal(mu, 0.45);
  if (rng.uniform() < o.outlierRate) r = 20 + rng.logNormal(Math.log(40), 1.0);
  return r;
}

function matrixRow(m: Model, o: KuaiRecSyntheticOptions, rng: Rng, u: number, i: number, ts: number | null): string {
  const wr = watchRatio(m, o, rng, u, i);
  const vd = m.duration[i];
  const pd = Math.round(wr * vd);
  const ratio = pd / vd;
  if (ts === null) return `${u},${i},${pd},${vd},,,,${ratio.toPrecision(6)}`;
  const f = kuaiRecTimeFields(ts);
  return `${u},${i},${pd},${vd},${f.time},${f.date},${f.timestamp},${ratio.toPrecision(6)}`;
}

/**
 * Writes the synthetic KuaiRec files into `dir` (data/ sub-layout of the real zip is not used: files sit
 * directly in `dir`). Returns the written paths. Deterministic for a given seed.
 */
export function writeSyntheticKuaiRec(dir: string, options: Partial<KuaiRecSyntheticOptions> = {}, onProgress?: (done: number, total: number) => void): string[] {
  const o: KuaiRecSyntheticOptions = { ...KUAIREC_SAMPLE_OPTIONS, ...options };
  // One fork of the seed per purpose, so that e.g. the small matrix does not change with big_matrix's size.
  const root = new Rng(o.seed);
  const m = buildModel(o, root.fork('model'));
  const ext = o.gzip ? '.csv.gz' : '.csv';
  const written: string[] = [];
  const marked = (): string[] => {
    writeSyntheticMarker(dir, `synthetic KuaiRec 2.0-schema files from src/data/synthetic/kuairec.ts, seed ${o.seed}`);
    return written;
  };
  const smallUsers = root.fork('small users').sample(o.users, o.smallUsers).sort((a, b) => a - b);
  // Small-matrix items come from the popular half, as in KuaiRec (videos shown to all small-matrix users).
  const byPop = Array.from({ length: o.items }, (_, i) => i).sort((a, b) => (m.popCum[b] - (b ? m.popCum[b - 1] : 0)) - (m.popCum[a] - (a ? m.popCum[a - 1] : 0)));
  const smallItems = root.fork('small items').sample(Math.min(o.items, Math.max(o.smallItems * 2, 1)), o.smallItems).map((k) => byPop[k]).sort((a, b) => a - b);
  const inSmallUser = new Uint8Array(o.users);
  const inSmallItem = new Uint8Array(o.items);
  for (const u of smallUsers) inSmallUser[u] = 1;
  for (const i of smallItems) inSmallItem[i] = 1;

  // big_matrix: per user, a number of events proportional to activity; items drawn by popularity × preference.
  let rng = root.fork('big_matrix');
  const big = new LineWriter(join(dir, `big_matrix${ext}`));
  big.line(KUAIREC_COLUMNS.matrix.join(','));
  let totalAct = 0;
  for (let u = 0; u < o.users; u++) totalAct += m.userActivity[u];
  const cum = new Float64Array(o.items);
  let rowsLeft = o.bigRows;
  const seen = new Set<number>();
  for (let u = 0; u < o.users; u++) {
    const n = u === o.users - 1 ? rowsLeft : Math.min(rowsLeft, Math.max(5, Math.round((o.bigRows * m.userActivity[u]) / totalAct)));
    rowsLeft -= n;
    let acc = 0;
    for (let i = 0; i < o.items; i++) {
      const pop = m.popCum[i] - (i ? m.popCum[i - 1] : 0);
      // Small-matrix pairs are kept out of big_matrix so small_matrix can serve as a clean test set.
      const w = inSmallUser[u] && inSmallItem[i] ? 0 : pop * Math.exp(1.5 * affinity(m, o.factors, u, i));
      cum[i] = acc += w;
    }
    const times = new Float64Array(n);
    const t0 = START + rng.uniform() * SPAN * 0.3;
    for (let e = 0; e < n; e++) times[e] = t0 + rng.uniform() * (START + SPAN - t0);
    times.sort();
    let prev = -1;
    seen.clear();
    for (let e = 0; e < n; e++) {
      // Mostly new videos (redrawn when already seen); a user re-watches the previous video now and then:
      // repeated pairs, as in the real big_matrix.
      let i = prev;
      if (prev < 0 || rng.uniform() >= 0.015) {
        i = drawCumulative(cum, rng.uniform());
        for (let tries = 0; tries < 20 && seen.has(i); tries++) i = drawCumulative(cum, rng.uniform());
      }
      seen.add(i);
      prev = i;
      big.line(matrixRow(m, o, rng, u, i, times[e]));
    }
    if (onProgress && (u % 256 === 0 || u === o.users - 1)) onProgress(o.bigRows - rowsLeft, o.bigRows);
  }
  big.close();
  written.push(big.path);
  if (o.bigMatrixOnly) return marked();

  // small_matrix: every small user × every small item, a few rows without time.
  const small = new LineWriter(join(dir, `small_matrix${ext}`));
  small.line(KUAIREC_COLUMNS.matrix.join(','));
  const nSmall = smallUsers.length * smallItems.length;
  rng = root.fork('small_matrix');
  const missing = new Set(root.fork('missing times').sample(nSmall, Math.min(o.missingTimeRows, nSmall)));
  let k = 0;
  for (const u of smallUsers) {
    const t0 = START + rng.uniform() * SPAN * 0.5;
    for (const i of smallItems) {
      const ts = missing.has(k++) ? null : t0 + rng.uniform() * SPAN * 0.5;
      small.line(matrixRow(m, o, rng, u, i, ts));
    }
  }
  small.close();
  written.push(small.path);

  // item_categories: 1–4 tags, the first determined by the item's strongest latent factor.
  rng = root.fork('item_categories');
  const cat = new LineWriter(join(dir, 'item_categories.csv'));
  cat.line('video_id,feat');
  const firstTag = new Int32Array(o.items);
  for (let i = 0; i < o.items; i++) {
    let best = 0;
    for (let f = 1; f < o.factors; f++) if (m.itemVec[i * o.factors + f] > m.itemVec[i * o.factors + best]) best = f;
    const tags = new Set<number>([(best * 3 + (m.itemVec[i * o.factors] > 0 ? 1 : 0)) % N_TAGS]);
    firstTag[i] = [...tags][0];
    const extra = rng.int(4);
    for (let e = 0; e < extra; e++) tags.add(rng.int(N_TAGS));
    cat.line(`${i},"[${[...tags].join(', ')}]"`);
  }
  cat.close();
  written.push(cat.path);

  // kuairec_caption_category: caption words tied to tags, three category levels.
  rng = root.fork('kuairec_caption_category');
  const cap = new LineWriter(join(dir, 'kuairec_caption_category.csv'));
  cap.line(KUAIREC_COLUMNS.captionCategory.join(','));
  for (let i = 0; i < o.items; i++) {
    const c1 = firstTag[i] % N_CATEGORY1;
    const c2 = c1 * 4 + rng.int(4);
    const c3 = c2 * 3 + rng.int(3);
    const w1 = WORDS[firstTag[i] % WORDS.length];
    const caption = rng.uniform() < 0.05 ? '' : `${w1} ${rng.pick(WORDS)} video #${w1} #${rng.pick(WORDS)}`;
    const cover = rng.uniform() < 0.4 ? '' : `${rng.pick(WORDS)} ${w1}`;
    const topic = caption ? `[${w1},${rng.pick(WORDS)}]` : '[]';
    const third = rng.uniform() < 0.3 ? ['-124', 'UNKNOWN'] : [String(c3), `cat3_${c3}`];
    cap.line([String(i), cover, caption, topic, String(c1), `cat1_${c1}`, String(c2), `cat2_${c2}`, ...third].map(csvField).join(','));
  }
  cap.close();
  written.push(cap.path);

  // user_features.
  rng = root.fork('user_features');
  const uf = new LineWriter(join(dir, 'user_features.csv'));
  uf.line(KUAIREC_COLUMNS.userFeatures.join(','));
  const range = (x: number, cuts: number[]): string => {
    for (let c = 0; c < cuts.length; c++) if (x < cuts[c]) return c === 0 ? `[0,${cuts[0]})` : `[${cuts[c - 1]},${cuts[c]})`;
    return `${cuts[cuts.length - 1]}+`;
  };
  for (let u = 0; u < o.users; u++) {
    const act = m.userActivity[u];
    const degree = ACTIVE_DEGREES[act > 2 ? 0 : act > 1 ? 1 : act > 0.5 ? 2 : rng.uniform() < 0.9 ? 3 : 4];
    const follow = Math.round(rng.logNormal(3, 1.2));
    const fans = Math.round(rng.logNormal(1.5, 1.5));
    const friends = Math.round(rng.logNormal(0.8, 1));
    const reg = 8 + Math.round(rng.uniform() * 2000);
    const onehot = Array.from({ length: 18 }, (_, f) => (f === 0 || f === 1 ? String(rng.int(f === 0 ? 8 : 3)) : rng.uniform() < 0.03 ? '' : String(rng.int(50))));
    uf.line([u, degree, rng.uniform() < 0.1 ? 1 : 0, rng.uniform() < 0.02 ? 1 : 0, rng.uniform() < 0.3 ? 1 : 0, follow, range(follow, [10, 50, 150, 250, 500]), fans, range(fans, [10, 100, 500, 1000]), friends, range(friends, [5, 30, 60, 120, 250]), reg, range(reg, [15, 30, 60, 90, 180, 365, 730]), ...onehot].map((x) => csvField(String(x))).join(','));
  }
  uf.close();
  written.push(uf.path);

  // social_network: a minority of users with friends who share their tastes.
  rng = root.fork('social_network');
  const sn = new LineWriter(join(dir, 'social_network.csv'));
  sn.line('user_id,friend_list');
  const social = rng.sample(o.users, Math.round(o.users * 0.07)).sort((a, b) => a - b);
  for (const u of social) {
    const friends = new Set<number>();
    const nf = 1 + rng.int(3);
    while (friends.size < nf) {
      const f = rng.int(o.users);
      if (f !== u) friends.add(f);
    }
    sn.line(`${u},"[${[...friends].join(', ')}]"`);
  }
  sn.close();
  written.push(sn.path);

  // item_daily_features: a few days per video; counts driven by popularity and quality.
  rng = root.fork('item_daily_features');
  const df = new LineWriter(join(dir, `item_daily_features${ext}`));
  df.line(KUAIREC_COLUMNS.itemDailyFeatures.join(','));
  for (let i = 0; i < o.items; i++) {
    const pop = (m.popCum[i] - (i ? m.popCum[i - 1] : 0)) / m.popCum[o.items - 1];
    const quality = 1 / (1 + Math.exp(-3 * m.itemBias[i]));
    const days = 2 + rng.int(4);
    const author = rng.int(Math.max(10, o.items >> 1));
    const uploadDay = rng.int(20);
    const upload = kuaiRecTimeFields(START + uploadDay * 86400).time.slice(0, 10);
    for (let dd = 0; dd < days; dd++) {
      const date = kuaiRecTimeFields(START + (uploadDay + dd) * 86400).date;
      const show = Math.max(1, Math.round(pop * 2e6 * rng.logNormal(0, 0.4)));
      const play = Math.round(show * (0.3 + 0.4 * quality));
      const complete = Math.round(play * (0.2 + 0.5 * quality));
      const valid = Math.round(play * 0.8);
      const longp = Math.round(play * 0.3 * quality);
      const shortp = play - valid;
      const like = Math.round(play * 0.05 * quality * rng.logNormal(0, 0.3));
      const comment = Math.round(like * 0.1);
      const follow = Math.round(like * 0.05);
      const share = Math.round(play * 0.004 * quality * rng.logNormal(0, 0.4));
      const collect = Math.round(like * 0.08);
      const users = (x: number): number => Math.round(x * 0.95);
      const row = [
        i, date, author, 'NORMAL', upload, rng.pick(['ShortImport', 'Web', 'PictureSet', 'LongImport']), 'public', m.duration[i], 720, 1280,
        rng.int(5000), firstTag[i], `tag_${firstTag[i]}`, show, users(show), play, users(play), play * Math.round(m.duration[i] * 0.6), complete,
        users(complete), valid, users(valid), longp, users(longp), shortp, users(shortp), (0.3 + 0.5 * quality).toFixed(4), comment * 20000, like,
        users(like), Math.round(like * 0.9), Math.round(like * 0.1), Math.round(like * 0.02), Math.round(like * 0.02), comment, users(comment),
        Math.round(comment * 0.7), Math.round(comment * 0.3), 0, 0, comment * 2, users(comment * 2), follow, users(follow), Math.round(follow * 0.1),
        Math.round(follow * 0.1), share, users(share), Math.round(share * 0.3), users(Math.round(share * 0.3)), rng.int(3), rng.int(3), rng.int(5), rng.int(5),
        collect, users(collect), Math.round(collect * 0.05), Math.round(collect * 0.05),
      ];
      df.line(row.join(','));
    }
  }
  df.close();
  written.push(df.path);
  return marked();
}
