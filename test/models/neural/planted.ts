/** Generated data with a planted cluster structure, shared by the neural model tests. */
import { IdMap } from '../../../src/data/id-map.js';
import { Interactions } from '../../../src/data/interactions.js';
import { Rng } from '../../../src/core/rng.js';

/** Users in `clusters` groups; each user picks `perUser` items, with probability `signal` from its group's block. */
export interface Planted {
  all: Interactions;
  train: Interactions;
  test: Interactions;
  userCluster: Int32Array;
  itemCluster: Int32Array;
}

/** Builds the data and a per-user 80/20 random split (the last 20% of each user's shuffled items go to test). */
export function planted(nUsers = 300, nItems = 120, clusters = 6, perUser = 14, signal = 0.9, seed = 3): Planted {
  const rng = new Rng(seed);
  const userCluster = Int32Array.from({ length: nUsers }, () => rng.int(clusters));
  const itemCluster = Int32Array.from({ length: nItems }, (_, i) => i % clusters);
  const block = Array.from({ length: clusters }, (_, c) => Array.from({ length: nItems }, (_, i) => i).filter((i) => itemCluster[i] === c));
  const u: number[] = [];
  const it: number[] = [];
  const ts: number[] = [];
  const testMask: number[] = [];
  for (let user = 0; user < nUsers; user++) {
    const chosen = new Set<number>();
    while (chosen.size < perUser) {
      // Popular global items get picked often as noise so popularity is a real baseline.
      const i = rng.uniform() < signal ? block[userCluster[user]][rng.int(block[userCluster[user]].length)] : Math.min(nItems - 1, Math.floor(nItems * rng.uniform() ** 3));
      chosen.add(i);
    }
    const list = rng.shuffle(Int32Array.from(chosen));
    list.forEach((i, j) => {
      u.push(user);
      it.push(i);
      ts.push(1_600_000_000 + user * 1000 + j * 3600);
      testMask.push(j >= Math.round(perUser * 0.8) ? 1 : 0);
    });
  }
  const { interactions: all } = Interactions.fromCoo({
    users: IdMap.range(nUsers),
    items: IdMap.range(nItems),
    userIdx: Int32Array.from(u),
    itemIdx: Int32Array.from(it),
    values: Float32Array.from(testMask),
    timestamps: Float64Array.from(ts),
  });
  const isTest = Uint8Array.from(all.values, (v) => (v === 1 ? 1 : 0));
  const ones = all.binarize();
  const train = ones.selectEntries(isTest.map((v) => 1 - v));
  const test = ones.selectEntries(isTest);
  return { all: ones, train, test, userCluster, itemCluster };
}
