import { describe, expect, it } from 'vitest';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import {
  kFold, kuaiRecSplit, leaveOneOut, randomSplit, ratioSplit, recboleCounts, roundHalfEven, stratifiedSplit, strongGeneralization, temporalSplit, type Split,
} from '../../src/eval/splits.js';
import { syntheticDataset } from '../../src/eval/synthetic.js';

const data = syntheticDataset({ users: 120, items: 80, perUser: 12, seed: 5 }).interactions;

/** "u,i" keys of the entries. */
function pairs(x: Interactions): Set<string> {
  const s = new Set<string>();
  for (let u = 0; u < x.nUsers; u++) for (const i of x.userItems(u)) s.add(`${u},${i}`);
  return s;
}

/** Parts are disjoint, together they are the input, and they keep the index spaces. */
function expectPartition(d: Interactions, parts: Interactions[]): void {
  const all = pairs(d);
  const seen = new Set<string>();
  for (const p of parts) {
    expect(p.nUsers).toBe(d.nUsers);
    expect(p.nItems).toBe(d.nItems);
    for (const k of pairs(p)) {
      expect(seen.has(k)).toBe(false);
      expect(all.has(k)).toBe(true);
      seen.add(k);
    }
  }
  expect(seen.size).toBe(all.size);
}

function same(a: Split, b: Split): boolean {
  return [...pairs(a.test)].join(';') === [...pairs(b.test)].join(';');
}

describe('random split by interaction', () => {
  it('partitions with the requested sizes, reproducibly per seed', () => {
    const s = randomSplit(data, { testRatio: 0.2, validationRatio: 0.1, seed: 1 });
    expectPartition(data, [s.train, s.test, s.validation!]);
    expect(s.test.nnz).toBe(Math.round(0.2 * data.nnz));
    expect(s.validation!.nnz).toBe(Math.round(0.1 * data.nnz));
    expect(same(s, randomSplit(data, { testRatio: 0.2, validationRatio: 0.1, seed: 1 }))).toBe(true);
    expect(same(s, randomSplit(data, { testRatio: 0.2, validationRatio: 0.1, seed: 2 }))).toBe(false);
    expect(() => randomSplit(data, { testRatio: 1.5, seed: 1 })).toThrow(/testRatio/);
  });
});

describe('per-user ratio holdout (RecBole)', () => {
  it('RecBole counts give small users one entry per part', () => {
    expect(recboleCounts(10, [0.8, 0.1, 0.1])).toEqual([8, 1, 1]);
    expect(recboleCounts(3, [0.8, 0.1, 0.1])).toEqual([1, 1, 1]);
    expect(recboleCounts(2, [0.8, 0.1, 0.1])).toEqual([1, 0, 1]);
    expect(recboleCounts(1, [0.8, 0.1, 0.1])).toEqual([1, 0, 0]);
    expect(recboleCounts(7, [0.8, 0.2])).toEqual([6, 1]);
  });
  it('8:1:1 per user, partition, determinism', () => {
    const s = ratioSplit(data, { ratios: [8, 1, 1], seed: 3 });
    expectPartition(data, [s.train, s.validation!, s.test]);
    const counts = data.userCounts();
    const tc = s.test.userCounts();
    const vc = s.validation!.userCounts();
    for (let u = 0; u < data.nUsers; u++) {
      const c = recboleCounts(counts[u], [0.8, 0.1, 0.1]);
      if (counts[u] === 0) continue;
      expect([vc[u], tc[u]]).toEqual([c[1], c[2]]);
    }
    expect(same(s, ratioSplit(data, { ratios: [8, 1, 1], seed: 3 }))).toBe(true);
    expect(same(s, ratioSplit(data, { ratios: [8, 1, 1], seed: 4 }))).toBe(false);
  });
  it('time order puts the latest entries in test', () => {
    const s = ratioSplit(data, { ratios: [8, 2], order: 'time', seed: 0 });
    for (let u = 0; u < data.nUsers; u++) {
      const tt = s.test.userTimes(u)!;
      const tr = s.train.userTimes(u)!;
      if (tt.length && tr.length) expect(Math.min(...tt)).toBeGreaterThanOrEqual(Math.max(...tr));
    }
  });
});

describe('leave-one-out', () => {
  it('leave-last-out takes each user\'s latest entry (and the one before for validation)', () => {
    const s = leaveOneOut(data, { by: 'time', validation: true, seed: 0 });
    expectPartition(data, [s.train, s.validation!, s.test]);
    for (let u = 0; u < data.nUsers; u++) {
      const times = [...data.userTimes(u)!].sort((a, b) => a - b);
      if (times.length < 3) continue;
      expect(s.test.userTimes(u)).toEqual(Float64Array.from([times[times.length - 1]]));
      expect(s.validation!.userTimes(u)).toEqual(Float64Array.from([times[times.length - 2]]));
    }
  });
  it('random leave-one-out holds out exactly one entry per user with >= 2, seeded', () => {
    const s = leaveOneOut(data, { by: 'random', seed: 9 });
    const c = data.userCounts();
    const tc = s.test.userCounts();
    for (let u = 0; u < data.nUsers; u++) expect(tc[u]).toBe(c[u] >= 2 ? 1 : 0);
    expect(same(s, leaveOneOut(data, { by: 'random', seed: 10 }))).toBe(false);
  });
  it('needs timestamps for leave-last-out', () => {
    const noTime = new Interactions(IdMap.range(1), IdMap.range(2), Int32Array.from([0, 2]), Int32Array.from([0, 1]), Float32Array.from([1, 1]), null);
    expect(() => leaveOneOut(noTime, { by: 'time', seed: 0 })).toThrow(/timestamps/);
  });
});

describe('global temporal cutoff', () => {
  it('everything in test is at or after everything in train', () => {
    const s = temporalSplit(data, { testRatio: 0.25, validationRatio: 0.1 });
    expectPartition(data, [s.train, s.validation!, s.test]);
    const maxTrain = Math.max(...s.train.timestamps!);
    const minVal = Math.min(...s.validation!.timestamps!);
    const minTest = Math.min(...s.test.timestamps!);
    expect(minVal).toBeGreaterThan(maxTrain);
    expect(minTest).toBeGreaterThan(Math.max(...s.validation!.timestamps!));
    expect(Math.abs(s.test.nnz - 0.25 * data.nnz)).toBeLessThanOrEqual(2);
  });
  it('an explicit cutoff', () => {
    const t = data.timestamps![10];
    const s = temporalSplit(data, { cutoff: t });
    expect(Math.min(...s.test.timestamps!)).toBeGreaterThanOrEqual(t);
    expect(Math.max(...s.train.timestamps!)).toBeLessThan(t);
  });
});

describe('k-fold', () => {
  it('by interaction: every entry is tested exactly once', () => {
    const folds = kFold(data, { k: 4, by: 'interaction', seed: 2 });
    expect(folds).toHaveLength(4);
    expectPartition(data, folds.map((f) => f.test));
    for (const f of folds) expectPartition(data, [f.train, f.test]);
  });
  it('by user: each user\'s entries are spread over the folds', () => {
    const folds = kFold(data, { k: 3, by: 'user', seed: 2 });
    expectPartition(data, folds.map((f) => f.test));
    const c = data.userCounts();
    for (let u = 0; u < data.nUsers; u++) {
      const per = folds.map((f) => f.test.userCounts()[u]);
      expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
      expect(per.reduce((a, b) => a + b, 0)).toBe(c[u]);
    }
  });
  it('by held-out user: a fold\'s test users have no training entries', () => {
    const folds = kFold(data, { k: 3, by: 'heldout-user', seed: 2 });
    for (const f of folds) {
      const tr = f.train.userCounts();
      const te = f.test.userCounts();
      const fi = f.testFoldIn!.userCounts();
      for (let u = 0; u < data.nUsers; u++) if (te[u] > 0 || fi[u] > 0) expect(tr[u]).toBe(0);
    }
  });
});

describe('stratified split (Microsoft Recommenders python_stratified_split)', () => {
  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, 4.5, 7.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, 8, 2, 3]);
  });
  it('each user keeps round(0.75·n) in train; users below minRating are dropped', () => {
    const s = stratifiedSplit(data, { ratio: 0.75, minRating: 8, seed: 1 });
    const c = data.userCounts();
    const tr = s.train.userCounts();
    const te = s.test.userCounts();
    for (let u = 0; u < data.nUsers; u++) {
      if (c[u] < 8) {
        expect(tr[u] + te[u]).toBe(0);
      } else {
        expect(tr[u]).toBe(roundHalfEven(0.75 * c[u]));
        expect(te[u]).toBe(c[u] - tr[u]);
      }
    }
    const full = stratifiedSplit(data, { seed: 1 });
    expectPartition(data, [full.train, full.test]);
  });
});

describe('strong generalization (Liang et al. 2018)', () => {
  it('holds out whole users with an 80/20 fold-in/target split', () => {
    const s = strongGeneralization(data, { testUsers: 20, validationUsers: 10, seed: 4 });
    const tr = s.train.userCounts();
    const testUsers = new Set<number>();
    for (let u = 0; u < data.nUsers; u++) if (s.testFoldIn!.userCounts()[u] > 0 || s.test.userCounts()[u] > 0) testUsers.add(u);
    expect(testUsers.size).toBe(20);
    for (const u of testUsers) {
      expect(tr[u]).toBe(0);
      // floor(0.2·n) targets, minus those dropped for being on items unseen in train
      const n = data.userCounts()[u];
      const kept = s.testFoldIn!.userCounts()[u] + s.test.userCounts()[u];
      const want = n >= 5 ? Math.floor(0.2 * n) : 0;
      expect(s.test.userCounts()[u]).toBeLessThanOrEqual(want);
      expect(s.test.userCounts()[u]).toBeGreaterThanOrEqual(want - (n - kept));
    }
    // no held-out entry on an item unseen in train, and no overlap of the parts
    const trainItems = new Set(s.train.colIdx);
    for (const i of s.test.colIdx) expect(trainItems.has(i)).toBe(true);
    const parts = [s.train, s.test, s.testFoldIn!, s.validation!, s.validationFoldIn!];
    const seen = new Set<string>();
    for (const p of parts) for (const k of pairs(p)) { expect(seen.has(k)).toBe(false); seen.add(k); }
  });
});

describe('holdout ratios, exact per user', () => {
  // 40 users with 5..20 entries each (n = 5 + u % 16) on items (3u + 7j) mod 30: every item is in many rows,
  // so held-out users lose no entry to items unseen in train and the counts are exact.
  const userIdx: number[] = [];
  const itemIdx: number[] = [];
  for (let u = 0; u < 40; u++) for (let j = 0; j < 5 + (u % 16); j++) { userIdx.push(u); itemIdx.push((3 * u + 7 * j) % 30); }
  const grid = Interactions.fromCoo({ users: IdMap.range(40), items: IdMap.range(30), userIdx: Int32Array.from(userIdx), itemIdx: Int32Array.from(itemIdx), values: new Float32Array(userIdx.length).fill(1) }).interactions;
  const n = (u: number): number => 5 + (u % 16);

  it('ratio 8:2 puts floor(n/5) of each user\'s n entries in test', () => {
    const s = ratioSplit(grid, { ratios: [8, 2], seed: 7 });
    for (let u = 0; u < 40; u++) {
      expect(s.test.userCounts()[u], `user ${u}`).toBe(Math.floor(n(u) / 5));
      expect(s.train.userCounts()[u]).toBe(n(u) - Math.floor(n(u) / 5));
    }
  });

  it('strong generalization and held-out-user k-fold: fold-in 0.8 by default, floor(n/5) targets', () => {
    const sg = strongGeneralization(grid, { testUsers: 10, seed: 7 });
    const kf = kFold(grid, { k: 4, by: 'heldout-user', seed: 7 });
    let held = 0;
    for (const s of [sg, ...kf]) {
      const target = s.test.userCounts();
      const foldIn = s.testFoldIn!.userCounts();
      for (let u = 0; u < 40; u++) {
        if (target[u] + foldIn[u] === 0) continue;
        held++;
        expect(target[u], `user ${u}`).toBe(Math.floor(n(u) / 5));
        expect(foldIn[u]).toBe(n(u) - Math.floor(n(u) / 5));
      }
    }
    expect(held).toBe(10 + 40);
  });

  it('stratified: round(0.75·n) of each user\'s entries train by default (Python rounding)', () => {
    // n = 5..20 → Python round(0.75·n), worked by hand
    const want = [4, 4, 5, 6, 7, 8, 8, 9, 10, 10, 11, 12, 13, 14, 14, 15];
    const s = stratifiedSplit(grid, { seed: 7 });
    for (let u = 0; u < 40; u++) {
      expect(s.train.userCounts()[u], `user ${u}`).toBe(want[n(u) - 5]);
      expect(s.test.userCounts()[u]).toBe(n(u) - want[n(u) - 5]);
    }
  });
});

describe('KuaiRec unbiased protocol', () => {
  it('tests on the small matrix, every small-matrix item a candidate, overlapping pairs removed from train', () => {
    const users = IdMap.range(3);
    const items = IdMap.range(5);
    const big = Interactions.fromCoo({ users, items, userIdx: Int32Array.from([0, 0, 1, 2, 2]), itemIdx: Int32Array.from([0, 1, 2, 3, 4]), values: Float32Array.from([1, 3, 0.5, 2, 1]) }).interactions;
    const small = Interactions.fromCoo({ users, items, userIdx: Int32Array.from([0, 0, 1, 1]), itemIdx: Int32Array.from([1, 2, 1, 2]), values: Float32Array.from([2.5, 0.3, 1.0, 2.0]) }).interactions;
    const ds: LoadedDataset = { name: 'kuairec-test', description: '', valueKind: 'watch_ratio', interactions: big, eventColumns: {}, test: small, report: { files: [], rowsRead: 0, rowsKept: 0, duplicates: { policy: 'last', merged: 0, pairs: 0 }, issues: [], notes: [] } };
    const s = kuaiRecSplit(ds);
    expect([...s.candidates!]).toEqual([1, 2]);
    expect(s.excludeSeen).toBe(false);
    expect(s.relevanceThreshold).toBe(2.0);
    expect(s.train.nnz).toBe(3); // (0,1) and (1,2) removed: they are small-matrix pairs
    expect(s.train.find(0, 1)).toBe(-1);
    expect(s.train.find(1, 2)).toBe(-1);
    expect(s.train.find(0, 0)).toBeGreaterThanOrEqual(0);
    expect(s.test).toBe(small);
    expect(() => kuaiRecSplit({ ...ds, test: undefined })).toThrow(/fully observed test matrix/);
  });
});
