import { describe, expect, it } from 'vitest';
import type { LoadedDataset } from '../../src/data/dataset.js';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { computeEda } from '../../src/report/eda.js';

/**
 * 4 users × 5 items: u0 → i0,i1,i2 (values 1,2,3); u1 → i0,i1 (4,5); u2 → i0 (6); u3 nothing.
 * Item counts [3,2,1,0,0], user counts [3,2,1,0].
 */
function tiny(): LoadedDataset {
  const { interactions, duplicates } = Interactions.fromCoo({
    users: IdMap.fromIds(['a', 'b', 'c', 'd']),
    items: IdMap.range(5),
    userIdx: Int32Array.from([0, 0, 0, 1, 1, 2]),
    itemIdx: Int32Array.from([0, 1, 2, 0, 1, 0]),
    values: Float32Array.from([1, 2, 3, 4, 5, 6]),
    timestamps: Float64Array.from([0, 3600, 7200, 86400, NaN, 90000]),
  });
  const test = Interactions.fromCoo({ users: IdMap.range(4), items: IdMap.range(5), userIdx: Int32Array.from([3]), itemIdx: Int32Array.from([4]) }).interactions;
  return {
    name: 'tiny',
    description: 'hand-made',
    valueKind: 'rating',
    interactions,
    eventColumns: { dur: Float32Array.from([10, 20, 30, 40, 50, 60]), constant: new Float32Array(6).fill(7) },
    userFeatures: {
      numeric: { age: Float32Array.from([20, 30, NaN, 40]) },
      categorical: { gender: { names: ['F', 'M'], codes: Int32Array.from([0, 1, 0, -1]) } },
      multiHot: {},
      text: {},
    },
    itemFeatures: {
      numeric: {},
      categorical: {},
      multiHot: { tags: { names: ['a', 'b', 'unused'], ptr: Int32Array.from([0, 2, 3, 3, 4, 4]), idx: Int32Array.from([0, 1, 1, 0]) } },
      text: { title: ['x', '', 'abc', '', ''] },
    },
    social: { rowPtr: Int32Array.from([0, 2, 3, 3, 3]), colIdx: Int32Array.from([1, 2, 0]) },
    test,
    report: { files: ['f.csv'], rowsRead: 6, rowsKept: 6, duplicates, issues: [], notes: [] },
  };
}

describe('computeEda', () => {
  const stats = computeEda(tiny(), { coldThreshold: 2, blocks: 2 });

  it('reports sizes, density and activity', () => {
    expect(stats.overview).toMatchObject({ users: 4, items: 5, interactions: 6, density: 0.3, activeUsers: 3, activeItems: 3, hasTimestamps: true, eventColumns: ['dur', 'constant'] });
    expect(stats.userActivity.summary).toMatchObject({ min: 0, max: 3, mean: 1.5, median: 1.5 });
    expect(stats.itemPopularity.summary).toMatchObject({ min: 0, max: 3, mean: 1.2, median: 1 });
  });

  it('measures popularity concentration over all items', () => {
    expect(stats.popularity.gini).toBeCloseTo(8 / 15, 12); // [0,0,1,2,3]: 2·26/30 − 6/5
    expect(stats.popularity.top1Share).toBe(0.5);
    expect(stats.popularity.curve).toEqual([{ rank: 1, count: 3 }, { rank: 2, count: 2 }, { rank: 3, count: 1 }]);
  });

  it('counts cold users and items', () => {
    expect(stats.cold.users).toEqual({ threshold: 2, total: 4, zero: 1, below: 2 });
    expect(stats.cold.items).toEqual({ threshold: 2, total: 5, zero: 2, below: 3 });
  });

  it('computes block densities with users and items sorted by activity', () => {
    // rows {u0,u1} {u2,u3}; columns {i0,i1,i2} {i3,i4}
    const d = (r: number, c: number): number => stats.sparsity.cells.find((x) => x.row === r && x.col === c)!.density;
    expect(stats.sparsity.rowBlocks).toBe(2);
    expect(d(0, 0)).toBeCloseTo(5 / 6, 12);
    expect(d(0, 1)).toBe(0);
    expect(d(1, 0)).toBeCloseTo(1 / 6, 12);
    expect(d(1, 1)).toBe(0);
  });

  it('compares head, mid and tail items', () => {
    const [head, mid, tail] = stats.popularVsNiche;
    expect(head).toMatchObject({ group: 'head', items: 1, interactions: 3, interactionShare: 0.5, usersReached: 3, usersReachedShare: 1, meanUserActivity: 2 });
    expect(head.meanValue).toBeCloseTo(11 / 3, 6);
    expect(mid).toMatchObject({ group: 'mid', items: 1, interactions: 2, usersReached: 2, meanValue: 3.5, meanUserActivity: 2.5 });
    expect(mid.usersReachedShare).toBeCloseTo(2 / 3, 12);
    expect(tail).toMatchObject({ group: 'tail', items: 1, interactions: 1, usersReached: 1, meanValue: 3, meanUserActivity: 3 });
  });

  it('correlates the value with event columns, dropping constant ones', () => {
    const c = stats.correlation!;
    expect(c.names).toEqual(['rating', 'dur', 'log user activity', 'log item popularity']);
    expect(c.r[0][1]).toBeCloseTo(1, 6); // dur = 10 · rating
    expect(c.events).toBe(6);
  });

  it('buckets timestamps and counts the missing one', () => {
    expect(stats.time!.events).toBe(5);
    expect(stats.time!.missing).toBe(1);
    expect(stats.time!.byHour.slice(0, 3)).toEqual([2, 2, 1]); // 0h,1h,2h,0h(day 2),1h(day 2)
  });

  it('summarizes side features with interaction weights', () => {
    const g = stats.userFeatures!.categorical[0];
    expect(g).toMatchObject({ name: 'gender', distinct: 2, missing: 1, otherEntities: 0 });
    expect(g.top).toEqual([{ value: 'F', entities: 2, interactions: 4 }, { value: 'M', entities: 1, interactions: 2 }]);
    expect(stats.userFeatures!.numeric[0].summary).toMatchObject({ count: 3, missing: 1, median: 30 });
    const t = stats.itemFeatures!.multiHot[0];
    expect(t).toMatchObject({ name: 'tags', vocabulary: 3, entitiesWithAny: 3, meanPerEntity: 0.8 });
    expect(t.top).toEqual([{ value: 'b', entities: 2, interactions: 5 }, { value: 'a', entities: 2, interactions: 3 }]);
    expect(stats.itemFeatures!.text[0]).toEqual({ name: 'title', nonEmpty: 2, meanLength: 2 });
  });

  it('describes the social graph and the second matrix', () => {
    expect(stats.social).toEqual({ links: 3, usersWithLinks: 2, meanDegree: 1.5 });
    expect(stats.test).toMatchObject({ users: 4, items: 5, interactions: 1, activeUsers: 1, activeItems: 1 });
  });

  it('reports progress and survives a JSON round trip', () => {
    const phases: string[] = [];
    const s = computeEda(tiny(), { onProgress: (p) => phases.push(`${p.phase}:${p.done}/${p.total}`) });
    expect(phases[phases.length - 1]).toMatch(/8\/8$/);
    const back = JSON.parse(JSON.stringify(s)) as typeof s;
    expect(back.overview.interactions).toBe(6);
  });

  it('rejects misaligned event columns and feature codes, naming them', () => {
    const bad = tiny();
    bad.eventColumns = { dur: new Float32Array(5) };
    expect(() => computeEda(bad)).toThrow(/event column "dur" has 5 entries, the interactions 6/);
    const badCode = tiny();
    badCode.userFeatures!.categorical.gender.codes[0] = 9;
    expect(() => computeEda(badCode)).toThrow(/feature "gender": code 9/);
  });

  it('needs no timestamps', () => {
    const ds = tiny();
    const x = ds.interactions;
    ds.interactions = new Interactions(x.users, x.items, x.rowPtr, x.colIdx, x.values, null);
    const s = computeEda(ds);
    expect(s.time).toBeNull();
    expect(s.overview.hasTimestamps).toBe(false);
  });
});

describe('calendar event columns', () => {
  it('are left to the time section when the data has timestamps', () => {
    const ds = tiny();
    ds.eventColumns = { ...ds.eventColumns, hour: Float32Array.from([0, 1, 2, 0, NaN, 1]), month: new Float32Array(6).fill(1) };
    const s = computeEda(ds);
    expect(s.eventColumns.map((c) => c.name)).toEqual(['dur', 'constant']);
    expect(s.correlation!.names).not.toContain('hour');
    expect(s.overview.eventColumns).toContain('hour');
  });
});
