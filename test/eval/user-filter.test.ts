import { describe, expect, it } from 'vitest';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { validateConfig } from '../../src/eval/config.js';
import { evaluateModel } from '../../src/eval/evaluate.js';
import { runExperiment, usersWithFriends } from '../../src/eval/experiment.js';
import { parseMetric } from '../../src/eval/metrics.js';
import { syntheticDataset } from '../../src/eval/synthetic.js';
import { PopularityRecommender } from '../../src/models/baselines/popularity.js';

function matrix(nU: number, nI: number, entries: [number, number, number][]): Interactions {
  return Interactions.fromCoo({
    users: IdMap.range(nU), items: IdMap.range(nI),
    userIdx: Int32Array.from(entries.map((e) => e[0])), itemIdx: Int32Array.from(entries.map((e) => e[1])), values: Float32Array.from(entries.map((e) => e[2])),
  }).interactions;
}

/** CSR of friend lists. */
function links(lists: number[][]): { rowPtr: Int32Array; colIdx: Int32Array } {
  const rowPtr = new Int32Array(lists.length + 1);
  lists.forEach((l, u) => { rowPtr[u + 1] = rowPtr[u] + l.length; });
  return { rowPtr, colIdx: Int32Array.from(lists.flat()) };
}

describe('evaluating a subset of users', () => {
  // Popularity on train: item 0 (3 users) > item 1 (2) > item 2 (1) > item 3 (0). Users 0 and 2 find their
  // test item at the top of their unseen items, users 1 and 3 (test item 3) do not.
  const train = matrix(4, 4, [[0, 1, 1], [0, 2, 1], [1, 0, 1], [2, 0, 1], [3, 0, 1], [3, 1, 1]]);
  const test = matrix(4, 4, [[0, 0, 1], [1, 3, 1], [2, 1, 1], [3, 3, 1]]);

  it('scores only the users of the filter and counts the others', async () => {
    const model = new PopularityRecommender();
    await model.fit(train);
    const metrics = [parseMetric('hitrate@1')];
    const all = await evaluateModel(model, train, test, { metrics, bootstrap: 0 });
    expect([...all.users]).toEqual([0, 1, 2, 3]);
    expect(all.usersOutsideFilter).toBeUndefined();
    const some = await evaluateModel(model, train, test, { metrics, bootstrap: 0, onlyUsers: Uint8Array.from([1, 0, 1, 0]) });
    expect([...some.users]).toEqual([0, 2]);
    expect(some.usersOutsideFilter).toBe(2);
    // user 0: top-1 unseen is item 0 = its test item; user 2 has seen 0, its top-1 is item 1 = its test item.
    expect([...some.perUser['hitrate@1']]).toEqual([1, 1]);
    expect(some.metrics['hitrate@1'].mean).toBe(1);
    expect(all.metrics['hitrate@1'].mean).toBe(0.5);
  });

  it('users with friends: mutual links, friends need training interactions, self-links ignored', () => {
    // Train: users 0, 1, 2, 4 have entries; 3 has none.
    const t = matrix(5, 2, [[0, 0, 1], [1, 0, 1], [2, 1, 1], [4, 1, 1]]);
    const social = links([[1], [], [3], [], [4]]);
    const ds = { ...syntheticDataset({ users: 5, items: 2, perUser: 1 }), social };
    // 0↔1 both active → both; 2's only friend 3 has no training rows → not; 3's friend 2 has → yes; 4 self only → not.
    expect([...usersWithFriends(ds, t)]).toEqual([1, 1, 0, 1, 0]);
    expect(() => usersWithFriends({ ...ds, social: undefined }, t)).toThrow(/with-friends needs a data set with social links/);
  });
});

describe('protocol.users in the experiment runner', () => {
  const config = {
    dataset: 'planted',
    split: { method: 'ratio', ratios: [8, 2], seed: 1 },
    metrics: ['ndcg@10'],
    bootstrap: 0,
    models: ['popularity', 'random'],
  };
  // Users 0..10 are linked in a chain (0-1, 1-2, ..., 9-10): 11 users with friends of 60.
  const ds = syntheticDataset({ users: 60, items: 50, perUser: 10, seed: 3 });
  const withSocial = { ...ds, social: links(Array.from({ length: 60 }, (_, u) => (u < 10 ? [u + 1] : []))) };

  it('evaluates only the users with friends and says how many they are', async () => {
    const all = await runExperiment(validateConfig(config), { loadDataset: async () => withSocial });
    const r = await runExperiment(validateConfig({ ...config, protocol: { users: 'with-friends' } }), { loadDataset: async () => withSocial });
    expect(all.models[0].usersEvaluated).toBe(60);
    expect(r.models[0].usersEvaluated).toBe(11);
    expect(r.models[1].usersEvaluated).toBe(11);
    expect(r.protocol).toMatch(/only users with friends/);
    expect(r.models[0].notes).toContain('users: with-friends: 11 of 60 users with test entries have a friend with training interactions (11 evaluated)');
    expect(r.comparisons.find((c) => c.metric === 'ndcg@10')!.tTest.n).toBe(11);
  });

  it('is a usage error on a data set without social links, and an unknown value names the choices', async () => {
    await expect(runExperiment(validateConfig({ ...config, protocol: { users: 'with-friends' } }), { loadDataset: async () => ds })).rejects.toThrow(/protocol.users: with-friends needs a data set with social links; "synthetic" has none/);
    expect(() => validateConfig({ ...config, protocol: { users: 'friends' } }, 'c.yaml')).toThrow('c.yaml: protocol.users: must be "all" or "with-friends", got "friends"');
  });
});
