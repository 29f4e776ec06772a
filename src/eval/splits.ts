/**
 * Train/validation/test splits. Every split returns `Interactions` in the same user and item index spaces as its
 * input (built with `selectEntries`), is seeded, and gives the same result for the same seed. See
 * docs/evaluation.md for each protocol's exact rules.
 */
import type { LoadedDataset } from '../data/dataset.js';
import { Interactions } from '../data/interactions.js';
import { Rng } from '../core/rng.js';

/** The result of a split. All parts share the input's index spaces. */
export interface Split {
  /** What the model is fitted on. */
  train: Interactions;
  /** Held-out entries to evaluate against (for held-out-user protocols: the target part of the test users). */
  test: Interactions;
  /** Held-out entries for model selection, when the split makes them. */
  validation?: Interactions;
  /** Held-out-user protocols: the test users' fold-in histories, given to the model at evaluation time. */
  testFoldIn?: Interactions;
  /** Held-out-user protocols: the validation users' fold-in histories. */
  validationFoldIn?: Interactions;
  /** When set, only these items are ranked (KuaiRec: the small-matrix items). */
  candidates?: Int32Array;
  /** Overrides the protocol's default of excluding each user's training items from their ranking. */
  excludeSeen?: boolean;
  /** Test entries with value >= this are relevant (overrides the experiment's threshold; KuaiRec: 2.0). */
  relevanceThreshold?: number;
  /** One line saying what was done (shown in reports). */
  description: string;
}

/** Part codes used in assignment masks. */
const TRAIN = 0;
const TEST = 1;
const VALID = 2;
const TEST_FOLDIN = 3;
const VALID_FOLDIN = 4;
const DROP = 5;

/** Builds the parts of a split from a per-entry assignment. */
function fromAssignment(data: Interactions, assign: Uint8Array, description: string, withValidation: boolean): Split {
  const part = (code: number): Interactions => {
    const keep = new Uint8Array(assign.length);
    for (let p = 0; p < assign.length; p++) keep[p] = assign[p] === code ? 1 : 0;
    return data.selectEntries(keep);
  };
  const split: Split = { train: part(TRAIN), test: part(TEST), description };
  if (withValidation) split.validation = part(VALID);
  return split;
}

/**
 * The stream of one split kind, forked from the seed by a label: a split and a bootstrap, or the outer split and
 * a search's inner folds, given the same seed draw independent streams. Shuffles take positions from core's
 * 32-bit `int` (a position's probability is off by at most n/2³² relative, 0.6 % at 25M entries).
 */
function splitRng(seed: number, kind: string): Rng {
  return new Rng(seed).fork(`split:${kind}`);
}

function checkRatio(name: string, value: number, allowZero = true): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0) && value < 1)) {
    throw new Error(`split: "${name}" must be a number in ${allowZero ? '[0, 1)' : '(0, 1)'}, got ${JSON.stringify(value)}`);
  }
}

/** Options of {@link randomSplit}. */
export interface RandomSplitOptions {
  /** Share of entries in test (e.g. 0.2). */
  testRatio: number;
  /** Share of entries in validation (default 0). */
  validationRatio?: number;
  seed: number;
}

/**
 * Random split by interaction: the entries are shuffled and the first round(testRatio·nnz) go to test, the next
 * round(validationRatio·nnz) to validation, the rest to train. A user may end with no training entries.
 */
export function randomSplit(data: Interactions, options: RandomSplitOptions): Split {
  const vr = options.validationRatio ?? 0;
  checkRatio('testRatio', options.testRatio, false);
  checkRatio('validationRatio', vr);
  if (options.testRatio + vr >= 1) throw new Error('split: testRatio + validationRatio must be below 1');
  const n = data.nnz;
  const perm = splitRng(options.seed, 'random').permutation(n);
  const nTest = Math.round(options.testRatio * n);
  const nVal = Math.round(vr * n);
  const assign = new Uint8Array(n);
  for (let j = 0; j < nTest; j++) assign[perm[j]] = TEST;
  for (let j = nTest; j < nTest + nVal; j++) assign[perm[j]] = VALID;
  return fromAssignment(data, assign, `random by interaction: test ${options.testRatio}, validation ${vr}, seed ${options.seed}`, vr > 0);
}

/**
 * RecBole's per-split entry counts for one user with `total` entries and normalized `ratios`
 * (train first): cnt[i] = floor(ratio[i]·total) for i ≥ 1, train takes the rest; then, walking from the last
 * part backwards while train keeps more than one entry, a part whose share is strictly between 0 and 1 entry
 * gets one entry taken from train.
 */
export function recboleCounts(total: number, ratios: readonly number[]): number[] {
  const cnt = ratios.map((r) => Math.floor(r * total));
  cnt[0] = total - cnt.slice(1).reduce((a, b) => a + b, 0);
  for (let i = 1; i < ratios.length; i++) {
    if (cnt[0] <= 1) break;
    const r = ratios[ratios.length - i];
    if (r * total > 0 && r * total < 1) {
      cnt[ratios.length - i] += 1;
      cnt[0] -= 1;
    }
  }
  return cnt;
}

/** Options of {@link ratioSplit}. */
export interface RatioSplitOptions {
  /** Train:validation:test weights, e.g. [8, 1, 1], or train:test [8, 2]. */
  ratios: readonly number[];
  /** `random` shuffles each user's entries (RecBole RO); `time` keeps them in time order (RecBole TO). */
  order?: 'random' | 'time';
  seed: number;
}

/**
 * Per-user ratio holdout (RecBole's `RS` with `group_by: user`): each user's entries are ordered (shuffled, or by
 * time with the latest last) and cut by {@link recboleCounts}: the first part trains, then validation, then test.
 */
export function ratioSplit(data: Interactions, options: RatioSplitOptions): Split {
  const { ratios } = options;
  if (ratios.length !== 2 && ratios.length !== 3) throw new Error('split: "ratios" must have 2 (train, test) or 3 (train, validation, test) numbers');
  if (ratios.some((r) => !(typeof r === 'number' && r >= 0)) || !(ratios[0] > 0) || !(ratios[ratios.length - 1] > 0)) {
    throw new Error(`split: "ratios" must be non-negative numbers with positive train and test weights, got ${JSON.stringify(ratios)}`);
  }
  const order = options.order ?? 'random';
  if (order === 'time' && !data.timestamps) throw new Error('split: order "time" needs timestamps, and the data has none');
  const sum = ratios.reduce((a, b) => a + b, 0);
  const norm = ratios.map((r) => r / sum);
  const rng = splitRng(options.seed, 'ratio');
  const assign = new Uint8Array(data.nnz);
  const codes = norm.length === 3 ? [TRAIN, VALID, TEST] : [TRAIN, TEST];
  for (let u = 0; u < data.nUsers; u++) {
    const start = data.rowPtr[u];
    const n = data.rowPtr[u + 1] - start;
    if (n === 0) continue;
    const pos = orderedPositions(data, u, order, rng);
    const cnt = recboleCounts(n, norm);
    let j = 0;
    for (let part = 0; part < cnt.length; part++) for (let c = 0; c < cnt[part]; c++) assign[pos[j++]] = codes[part];
  }
  return fromAssignment(data, assign, `per-user ratio holdout ${ratios.join(':')} (${order} order), seed ${options.seed}`, norm.length === 3);
}

/** CSR positions of user u's entries, shuffled or in time order (stable: ties keep item order; unknown times first). */
function orderedPositions(data: Interactions, u: number, order: 'random' | 'time', rng: Rng): Int32Array {
  const start = data.rowPtr[u];
  const n = data.rowPtr[u + 1] - start;
  const pos = new Int32Array(n);
  for (let j = 0; j < n; j++) pos[j] = start + j;
  if (order === 'random') return rng.shuffle(pos);
  const ts = data.timestamps!;
  const key = (p: number): number => (Number.isNaN(ts[p]) ? -Infinity : ts[p]);
  return pos.sort((a, b) => key(a) - key(b) || a - b);
}

/** Options of {@link leaveOneOut}. */
export interface LeaveOneOutOptions {
  /** `random`: a random entry per user; `time`: the latest entry (leave-last-out). */
  by: 'random' | 'time';
  /** Also hold out one entry per user for validation (the second latest, for `time`). */
  validation?: boolean;
  seed: number;
}

/**
 * Leave-one-out: for each user with at least 2 entries (3 with validation), one entry goes to test (a random
 * one, or the latest by timestamp — ties broken by the higher CSR position) and optionally one more to
 * validation; users with fewer entries stay whole in train.
 */
export function leaveOneOut(data: Interactions, options: LeaveOneOutOptions): Split {
  if (options.by === 'time' && !data.timestamps) throw new Error('split: leave-last-out needs timestamps, and the data has none');
  const rng = splitRng(options.seed, 'leave-one-out');
  const need = options.validation ? 3 : 2;
  const assign = new Uint8Array(data.nnz);
  for (let u = 0; u < data.nUsers; u++) {
    const n = data.rowPtr[u + 1] - data.rowPtr[u];
    if (n < need) continue;
    const pos = orderedPositions(data, u, options.by === 'time' ? 'time' : 'random', rng);
    assign[pos[n - 1]] = TEST;
    if (options.validation) assign[pos[n - 2]] = VALID;
  }
  const what = options.by === 'time' ? 'leave-last-out by time' : 'leave-one-out (random)';
  return fromAssignment(data, assign, `${what}${options.validation ? ' with validation' : ''}, seed ${options.seed}`, options.validation === true);
}

/** Options of {@link temporalSplit}. */
export interface TemporalSplitOptions {
  /** Entries at or after this time (seconds) go to test. Give this or `testRatio`. */
  cutoff?: number;
  /** Choose the cutoff so that this share of timed entries is at or after it. */
  testRatio?: number;
  /** Share of timed entries, just before the test cutoff, to put in validation (default 0). */
  validationRatio?: number;
}

/**
 * Global temporal cutoff: every entry at or after the cutoff time is test, everything before trains (with an
 * optional validation window just before the cutoff). A ratio is turned into a cutoff at the quantile of the
 * sorted times, so entries sharing the cutoff time all go to the later part. Entries without a time train.
 */
export function temporalSplit(data: Interactions, options: TemporalSplitOptions): Split {
  const ts = data.timestamps;
  if (!ts) throw new Error('split: the temporal split needs timestamps, and the data has none');
  const sorted = Float64Array.from(ts.filter((t) => !Number.isNaN(t))).sort();
  if (sorted.length === 0) throw new Error('split: the temporal split needs timestamps, and every entry lacks one');
  const vr = options.validationRatio ?? 0;
  checkRatio('validationRatio', vr);
  let cutoff: number;
  if (options.cutoff !== undefined) {
    if (!Number.isFinite(options.cutoff)) throw new Error(`split: "cutoff" must be a number (seconds since the epoch), got ${JSON.stringify(options.cutoff)}`);
    cutoff = options.cutoff;
  } else if (options.testRatio !== undefined) {
    checkRatio('testRatio', options.testRatio, false);
    cutoff = sorted[Math.max(0, sorted.length - Math.round(options.testRatio * sorted.length))];
  } else {
    throw new Error('split: the temporal split needs "cutoff" or "testRatio"');
  }
  let validFrom = cutoff;
  if (vr > 0) {
    let below = 0;
    while (below < sorted.length && sorted[below] < cutoff) below++;
    validFrom = sorted[Math.max(0, below - Math.round(vr * sorted.length))];
  }
  const assign = new Uint8Array(data.nnz);
  for (let p = 0; p < ts.length; p++) {
    const t = ts[p];
    if (Number.isNaN(t)) continue;
    if (t >= cutoff) assign[p] = TEST;
    else if (vr > 0 && t >= validFrom) assign[p] = VALID;
  }
  const when = new Date(cutoff * 1000).toISOString();
  return fromAssignment(data, assign, `global temporal cutoff at ${when}${vr > 0 ? `, validation from ${new Date(validFrom * 1000).toISOString()}` : ''}`, vr > 0);
}

/** Options of {@link kFold}. */
export interface KFoldOptions {
  /** Number of folds (>= 2). */
  k: number;
  /**
   * `interaction`: entries dealt into k folds at random; `user`: each user's entries dealt into the k folds
   * (every user is in every fold's train and test when they have >= k entries); `heldout-user`: users dealt into
   * k folds, a fold's users are held out with an 80/20 fold-in/target split as in {@link strongGeneralization}.
   */
  by: 'interaction' | 'user' | 'heldout-user';
  seed: number;
  /** Fold-in share for `heldout-user` (default 0.8). */
  foldInRatio?: number;
}

/** k-fold cross-validation splits: fold f tests on part f and trains on the others. */
export function kFold(data: Interactions, options: KFoldOptions): Split[] {
  const { k } = options;
  if (!Number.isInteger(k) || k < 2) throw new Error(`split: "k" must be an integer >= 2, got ${JSON.stringify(k)}`);
  const rng = splitRng(options.seed, `kfold:${options.by}`);
  if (options.by === 'heldout-user') {
    const perm = rng.permutation(data.nUsers);
    const foldOf = new Int32Array(data.nUsers);
    for (let j = 0; j < perm.length; j++) foldOf[perm[j]] = j % k;
    const folds: Split[] = [];
    for (let f = 0; f < k; f++) {
      const assign = new Uint8Array(data.nnz);
      const held = new Uint8Array(data.nUsers);
      for (let u = 0; u < data.nUsers; u++) held[u] = foldOf[u] === f ? 1 : 0;
      assignHeldOut(data, held, TEST_FOLDIN, TEST, options.foldInRatio ?? 0.8, rng.fork(`fold ${f + 1}`), assign);
      folds.push(heldOutSplit(data, assign, `${k}-fold by held-out user, fold ${f + 1}, seed ${options.seed}`));
    }
    return folds;
  }
  const foldOfEntry = new Uint8Array(data.nnz);
  if (options.by === 'interaction') {
    const perm = rng.permutation(data.nnz);
    for (let j = 0; j < perm.length; j++) foldOfEntry[perm[j]] = j % k;
  } else if (options.by === 'user') {
    for (let u = 0; u < data.nUsers; u++) {
      const pos = orderedPositions(data, u, 'random', rng);
      const offset = rng.int(k);
      for (let j = 0; j < pos.length; j++) foldOfEntry[pos[j]] = (j + offset) % k;
    }
  } else {
    throw new Error(`split: k-fold "by" must be interaction, user or heldout-user, got ${JSON.stringify(options.by)}`);
  }
  const folds: Split[] = [];
  for (let f = 0; f < k; f++) {
    const assign = new Uint8Array(data.nnz);
    for (let p = 0; p < assign.length; p++) assign[p] = foldOfEntry[p] === f ? TEST : TRAIN;
    folds.push(fromAssignment(data, assign, `${k}-fold by ${options.by}, fold ${f + 1}, seed ${options.seed}`, false));
  }
  return folds;
}

/** Python's round(): halves go to the even neighbour (as numpy and pandas-based splitters do). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Options of {@link stratifiedSplit}. */
export interface StratifiedSplitOptions {
  /** Train share (default 0.75). */
  ratio?: number;
  /** Groups with fewer entries than this are dropped from both parts (default 1: keep all). */
  minRating?: number;
  /** Stratify by `user` (default) or by `item`. */
  filterBy?: 'user' | 'item';
  seed: number;
}

/**
 * Microsoft Recommenders' `python_stratified_split`: entries are grouped by user (or item), each group shuffled,
 * and the first round(ratio·n) of each group (Python rounding, halves to even) train, the rest test. Groups
 * with fewer than `minRating` entries are removed from both parts.
 */
export function stratifiedSplit(data: Interactions, options: StratifiedSplitOptions): Split {
  const ratio = options.ratio ?? 0.75;
  checkRatio('ratio', ratio, false);
  const minRating = options.minRating ?? 1;
  if (!Number.isInteger(minRating) || minRating < 1) throw new Error(`split: "minRating" must be an integer >= 1, got ${JSON.stringify(minRating)}`);
  const by = options.filterBy ?? 'user';
  const rng = splitRng(options.seed, 'stratified');
  const assign = new Uint8Array(data.nnz);
  const deal = (positions: Int32Array): void => {
    if (positions.length < minRating) {
      for (const p of positions) assign[p] = DROP;
      return;
    }
    rng.shuffle(positions);
    const nTrain = roundHalfEven(ratio * positions.length);
    for (let j = nTrain; j < positions.length; j++) assign[positions[j]] = TEST;
  };
  if (by === 'user') {
    for (let u = 0; u < data.nUsers; u++) deal(orderedPositions(data, u, 'random', rng));
  } else if (by === 'item') {
    const csc = data.csc();
    for (let i = 0; i < data.nItems; i++) deal(csc.csrPos.slice(csc.colPtr[i], csc.colPtr[i + 1]));
  } else {
    throw new Error(`split: "filterBy" must be user or item, got ${JSON.stringify(by)}`);
  }
  return fromAssignment(data, assign, `stratified by ${by} ${ratio}/${+(1 - ratio).toFixed(6)} (minRating ${minRating}), seed ${options.seed}`, false);
}

/** Options of {@link strongGeneralization}. */
export interface StrongGeneralizationOptions {
  /** Held-out test users: a count (>= 1) or a share of the users with entries (< 1). */
  testUsers: number;
  /** Held-out validation users, likewise (default 0). */
  validationUsers?: number;
  /** Share of a held-out user's entries given as fold-in history (default 0.8). */
  foldInRatio?: number;
  /** Held-out users with fewer entries than this keep everything as fold-in (default 5). */
  minEntries?: number;
  seed: number;
}

/**
 * Strong generalization (Liang et al. 2018, Mult-VAE): users are shuffled; test and validation users are held
 * out entirely, the rest train. A held-out user's entries are split at random into fold-in (given to the model
 * at evaluation) and target (to be predicted): floor((1 − foldInRatio)·n) targets for users with at least
 * `minEntries` entries, none otherwise. Held-out entries on items absent from train are dropped.
 */
export function strongGeneralization(data: Interactions, options: StrongGeneralizationOptions): Split {
  const rng = splitRng(options.seed, 'strong-generalization');
  const active: number[] = [];
  for (let u = 0; u < data.nUsers; u++) if (data.rowPtr[u + 1] > data.rowPtr[u]) active.push(u);
  const count = (x: number, name: string): number => {
    if (!(typeof x === 'number' && x >= 0)) throw new Error(`split: "${name}" must be a non-negative number, got ${JSON.stringify(x)}`);
    return x < 1 ? Math.round(x * active.length) : Math.floor(x);
  };
  const nTest = count(options.testUsers, 'testUsers');
  const nVal = count(options.validationUsers ?? 0, 'validationUsers');
  if (nTest < 1) throw new Error('split: strong generalization needs at least one test user');
  if (nTest + nVal >= active.length) throw new Error(`split: ${nTest} test + ${nVal} validation users leave no training users (of ${active.length})`);
  const order = rng.shuffle(Int32Array.from(active));
  const role = new Uint8Array(data.nUsers); // 0 train, 1 test, 2 validation
  for (let j = 0; j < nTest; j++) role[order[j]] = 1;
  for (let j = nTest; j < nTest + nVal; j++) role[order[j]] = 2;
  const assign = new Uint8Array(data.nnz);
  const foldIn = options.foldInRatio ?? 0.8;
  checkRatio('foldInRatio', foldIn, false);
  const minEntries = options.minEntries ?? 5;
  const testHeld = new Uint8Array(data.nUsers);
  const valHeld = new Uint8Array(data.nUsers);
  for (let u = 0; u < data.nUsers; u++) {
    testHeld[u] = role[u] === 1 ? 1 : 0;
    valHeld[u] = role[u] === 2 ? 1 : 0;
  }
  assignHeldOut(data, testHeld, TEST_FOLDIN, TEST, foldIn, rng, assign, minEntries);
  assignHeldOut(data, valHeld, VALID_FOLDIN, VALID, foldIn, rng, assign, minEntries);
  const split = heldOutSplit(data, assign, `strong generalization: ${nTest} test and ${nVal} validation users held out, fold-in ${foldIn}, seed ${options.seed}`);
  if (nVal > 0) {
    const part = (code: number): Interactions => data.filterEntries((_u, _i, _v, _t, p) => assign[p] === code);
    split.validation = part(VALID);
    split.validationFoldIn = part(VALID_FOLDIN);
  }
  return split;
}

/** Marks the entries of held-out users as fold-in or target (random, floor((1−foldIn)·n) targets when n >= minEntries). */
function assignHeldOut(data: Interactions, held: Uint8Array, foldInCode: number, targetCode: number, foldIn: number, rng: Rng, assign: Uint8Array, minEntries = 5): void {
  for (let u = 0; u < data.nUsers; u++) {
    if (!held[u]) continue;
    const pos = orderedPositions(data, u, 'random', rng);
    // Rounded to 1e-9 first so that (1 − 0.8)·15 = 2.9999999999999996 counts as 3, as int(0.2·15) does.
    const nTarget = pos.length >= minEntries ? Math.floor(Math.round((1 - foldIn) * pos.length * 1e9) / 1e9) : 0;
    for (let j = 0; j < pos.length; j++) assign[pos[j]] = j < nTarget ? targetCode : foldInCode;
  }
}

/** Builds a held-out-user split, dropping held-out entries on items that never occur in train. */
function heldOutSplit(data: Interactions, assign: Uint8Array, description: string): Split {
  const inTrain = new Uint8Array(data.nItems);
  for (let p = 0; p < assign.length; p++) if (assign[p] === TRAIN) inTrain[data.colIdx[p]] = 1;
  for (let p = 0; p < assign.length; p++) if (assign[p] !== TRAIN && !inTrain[data.colIdx[p]]) assign[p] = DROP;
  const part = (code: number): Interactions => data.filterEntries((_u, _i, _v, _t, p) => assign[p] === code);
  return { train: part(TRAIN), test: part(TEST), testFoldIn: part(TEST_FOLDIN), description };
}

/** Options of {@link kuaiRecSplit}. */
export interface KuaiRecSplitOptions {
  /** watch_ratio at or above which a small-matrix entry is relevant (default 2.0). */
  threshold?: number;
}

/**
 * KuaiRec's unbiased protocol: train on big_matrix (`dataset.interactions`), test on the fully observed
 * small_matrix (`dataset.test`). Test users are the small-matrix users, every small-matrix item is a candidate for
 * every test user (seen items are not excluded), relevance is watch_ratio >= threshold. Big-matrix entries on a
 * (user, item) pair that is also in the small matrix are removed from train so nothing leaks.
 */
export function kuaiRecSplit(dataset: LoadedDataset, options: KuaiRecSplitOptions = {}): Split {
  const test = dataset.test;
  if (!test) throw new Error(`split: the KuaiRec protocol needs a fully observed test matrix, and data set "${dataset.name}" has none`);
  const big = dataset.interactions;
  if (test.nUsers !== big.nUsers || test.nItems !== big.nItems) {
    throw new Error(`split: data set "${dataset.name}": test matrix (${test.nUsers}×${test.nItems}) is not in the training index spaces (${big.nUsers}×${big.nItems})`);
  }
  const threshold = options.threshold ?? 2.0;
  let leaked = 0;
  const train = big.filterEntries((u, i) => {
    const inTest = test.find(u, i) >= 0;
    if (inTest) leaked++;
    return !inTest;
  });
  const counts = test.itemCounts();
  const cands: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) cands.push(i);
  return {
    train,
    test,
    candidates: Int32Array.from(cands),
    excludeSeen: false,
    relevanceThreshold: threshold,
    description: `KuaiRec unbiased protocol: train big_matrix (${leaked} entries on small-matrix pairs removed), test small_matrix, ${cands.length} candidate items, relevant watch_ratio >= ${threshold}`,
  };
}

/**
 * The entries of two parts of one split (same index spaces, no shared (user, item) entry) as one matrix, e.g.
 * train ∪ validation for a refit. Throws when the parts share an entry or their index spaces differ.
 */
export function unionParts(a: Interactions, b: Interactions): Interactions {
  if (a.nUsers !== b.nUsers || a.nItems !== b.nItems) throw new Error(`unionParts: index spaces differ (${a.nUsers}×${a.nItems} vs ${b.nUsers}×${b.nItems})`);
  const n = a.nnz + b.nnz;
  const rowPtr = new Int32Array(a.nUsers + 1);
  const col = new Int32Array(n);
  const val = new Float32Array(n);
  const withTime = a.timestamps !== null || b.timestamps !== null;
  const ts = withTime ? new Float64Array(n) : null;
  let o = 0;
  const put = (m: Interactions, p: number): void => {
    col[o] = m.colIdx[p];
    val[o] = m.values[p];
    if (ts) ts[o] = m.timestamps ? m.timestamps[p] : NaN;
    o++;
  };
  for (let u = 0; u < a.nUsers; u++) {
    let p = a.rowPtr[u];
    let q = b.rowPtr[u];
    const pe = a.rowPtr[u + 1];
    const qe = b.rowPtr[u + 1];
    while (p < pe || q < qe) {
      if (q >= qe || (p < pe && a.colIdx[p] < b.colIdx[q])) put(a, p++);
      else if (p >= pe || b.colIdx[q] < a.colIdx[p]) put(b, q++);
      else throw new Error(`unionParts: user ${u} has item ${a.colIdx[p]} in both parts`);
    }
    rowPtr[u + 1] = o;
  }
  return new Interactions(a.users, a.items, rowPtr, col, val, ts);
}

/** Options of {@link coldItemsSplit}. */
export interface ColdItemsOptions {
  /** Held-out test items: a count (>= 1) or a share of the items with entries (< 1). */
  testItems: number;
  /** Held-out validation items, likewise (default 0). */
  validationItems?: number;
  seed: number;
}

/**
 * Item cold start: a seeded sample of the items with entries is held out with all their entries (test, and
 * optionally validation); everything else trains. Held-out items have no training entries, and each test user
 * ranks them among all items (their training items excluded), so only models that see item features can
 * place them.
 */
export function coldItemsSplit(data: Interactions, options: ColdItemsOptions): Split {
  const counts = data.itemCounts();
  const active: number[] = [];
  for (let i = 0; i < data.nItems; i++) if (counts[i] > 0) active.push(i);
  const nTest = heldOutCount(options.testItems, 'testItems', active.length);
  const nVal = heldOutCount(options.validationItems ?? 0, 'validationItems', active.length);
  if (nTest < 1) throw new Error('split: cold-items needs at least one test item');
  if (nTest + nVal >= active.length) throw new Error(`split: ${nTest} test + ${nVal} validation items leave no training items (of ${active.length})`);
  const order = splitRng(options.seed, 'cold-items').shuffle(Int32Array.from(active));
  const role = new Uint8Array(data.nItems);
  for (let j = 0; j < nTest; j++) role[order[j]] = TEST;
  for (let j = nTest; j < nTest + nVal; j++) role[order[j]] = VALID;
  const assign = new Uint8Array(data.nnz);
  for (let p = 0; p < assign.length; p++) assign[p] = role[data.colIdx[p]];
  return fromAssignment(data, assign, `cold items: ${nTest} test${nVal > 0 ? ` and ${nVal} validation` : ''} items held out with all their entries, seed ${options.seed}`, nVal > 0);
}

/** Options of {@link coldUsersSplit}. */
export interface ColdUsersOptions {
  /** Held-out test users: a count (>= 1) or a share of the users with entries (< 1). */
  testUsers: number;
  /** Entries of each held-out user given as fold-in history (default 0: none; the rest are targets). */
  foldInEvents?: number;
  /** `time`: the earliest entries are the fold-in (default `random`). */
  order?: 'random' | 'time';
  seed: number;
}

/**
 * User cold start: a seeded sample of users is held out; each keeps `foldInEvents` entries (random, or the
 * earliest) as the fold-in history given to the model at evaluation, the rest are targets. Held-out entries on
 * items absent from train are dropped. Users with no more entries than `foldInEvents` have no targets.
 */
export function coldUsersSplit(data: Interactions, options: ColdUsersOptions): Split {
  const foldIn = options.foldInEvents ?? 0;
  if (!Number.isInteger(foldIn) || foldIn < 0) throw new Error(`split: "foldInEvents" must be an integer >= 0, got ${JSON.stringify(foldIn)}`);
  const order = options.order ?? 'random';
  if (order === 'time' && !data.timestamps) throw new Error('split: cold-users with order "time" needs timestamps, and the data has none');
  const active: number[] = [];
  for (let u = 0; u < data.nUsers; u++) if (data.rowPtr[u + 1] > data.rowPtr[u]) active.push(u);
  const nTest = heldOutCount(options.testUsers, 'testUsers', active.length);
  if (nTest < 1) throw new Error('split: cold-users needs at least one test user');
  if (nTest >= active.length) throw new Error(`split: ${nTest} test users leave no training users (of ${active.length})`);
  const rng = splitRng(options.seed, 'cold-users');
  const chosen = rng.shuffle(Int32Array.from(active)).subarray(0, nTest);
  const assign = new Uint8Array(data.nnz);
  for (const u of chosen) {
    const pos = orderedPositions(data, u, order, rng);
    for (let j = 0; j < pos.length; j++) assign[pos[j]] = j < foldIn ? TEST_FOLDIN : TEST;
  }
  return heldOutSplit(data, assign, `cold users: ${nTest} users held out, ${foldIn} fold-in event${foldIn === 1 ? '' : 's'} each (${order}), seed ${options.seed}`);
}

/** A held-out count: `x` itself when >= 1, else round(x · of). */
function heldOutCount(x: number, name: string, of: number): number {
  if (!(typeof x === 'number' && Number.isFinite(x) && x >= 0)) throw new Error(`split: "${name}" must be a non-negative number, got ${JSON.stringify(x)}`);
  return x < 1 ? Math.round(x * of) : Math.floor(x);
}
