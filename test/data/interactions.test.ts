import { describe, expect, it } from 'vitest';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions, type DuplicatePolicy } from '../../src/data/interactions.js';
import { applyFilters, kCoreMask } from '../../src/data/filters.js';
import { Rng } from '../../src/core/rng.js';

interface Ev {
  u: number;
  i: number;
  v: number;
  t: number;
}

function randomEvents(rng: Rng, nU: number, nI: number, n: number, withTime = true): Ev[] {
  return Array.from({ length: n }, () => ({ u: rng.int(nU), i: rng.int(nI), v: Math.round(rng.uniform() * 50) / 10, t: withTime ? (rng.uniform() < 0.1 ? NaN : rng.int(100)) : NaN }));
}

function build(evs: Ev[], nU: number, nI: number, policy: DuplicatePolicy, withTime = true): ReturnType<typeof Interactions.fromCoo> {
  return Interactions.fromCoo(
    {
      users: IdMap.range(nU),
      items: IdMap.range(nI),
      userIdx: Int32Array.from(evs.map((e) => e.u)),
      itemIdx: Int32Array.from(evs.map((e) => e.i)),
      values: Float32Array.from(evs.map((e) => e.v)),
      timestamps: withTime ? Float64Array.from(evs.map((e) => e.t)) : null,
    },
    policy,
  );
}

/** Slow reference: group events by pair in input order and merge by the policy's definition. */
function naiveMerge(evs: Ev[], policy: DuplicatePolicy, withTime: boolean): Map<string, { v: number; t: number; src: number }> {
  const groups = new Map<string, number[]>();
  evs.forEach((e, k) => {
    const key = `${e.u},${e.i}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(k);
  });
  const out = new Map<string, { v: number; t: number; src: number }>();
  for (const [key, ks] of groups) {
    const known = withTime ? ks.filter((k) => !Number.isNaN(evs[k].t)) : [];
    if (policy === 'last' || policy === 'first') {
      let pick = policy === 'last' ? ks[ks.length - 1] : ks[0];
      if (known.length) {
        const ts = known.map((k) => evs[k].t);
        const target = policy === 'last' ? Math.max(...ts) : Math.min(...ts);
        const cands = known.filter((k) => evs[k].t === target);
        pick = policy === 'last' ? cands[cands.length - 1] : cands[0];
      }
      out.set(key, { v: evs[pick].v, t: withTime ? evs[pick].t : NaN, src: pick });
    } else {
      const vs = ks.map((k) => Math.fround(evs[k].v));
      const v = policy === 'max' ? Math.max(...vs) : policy === 'sum' ? vs.reduce((a, b) => a + b, 0) : vs.reduce((a, b) => a + b, 0) / vs.length;
      const t = known.length ? Math.max(...known.map((k) => evs[k].t)) : NaN;
      // max: side columns come from the (last) largest-valued event.
      const src = policy === 'max' ? ks.filter((k) => Math.fround(evs[k].v) === v).pop()! : -1;
      out.set(key, { v, t, src });
    }
  }
  return out;
}

describe('Interactions.fromCoo', () => {
  it('builds CSR equal to a naive build, for every merging policy, with and without time', () => {
    const rng = new Rng(1);
    // grouped = events sorted by user (the fast path for files sorted by user), else random order.
    for (const [withTime, grouped] of [[true, false], [false, false], [true, true], [false, true]]) {
      for (const policy of ['last', 'first', 'sum', 'max', 'mean'] as DuplicatePolicy[]) {
        const raw = randomEvents(rng, 13, 17, 400, withTime);
        const evs = grouped ? raw.map((e, k) => ({ e, k })).sort((a, b) => a.e.u - b.e.u || a.k - b.k).map((x) => x.e) : raw;
        const { interactions: x, duplicates, source } = build(evs, 13, 17, policy, withTime);
        const ref = naiveMerge(evs, policy, withTime);
        expect(x.nnz).toBe(ref.size);
        expect(duplicates.merged).toBe(evs.length - ref.size);
        expect(duplicates.pairs).toBe([...ref.keys()].filter((k) => evs.filter((e) => `${e.u},${e.i}` === k).length > 1).length);
        for (let u = 0; u < x.nUsers; u++) {
          const items = Array.from(x.userItems(u));
          expect(items).toEqual([...items].sort((a, b) => a - b));
          expect(new Set(items).size).toBe(items.length);
          for (let p = x.rowPtr[u]; p < x.rowPtr[u + 1]; p++) {
            const r = ref.get(`${u},${x.colIdx[p]}`)!;
            expect(x.values[p]).toBeCloseTo(r.v, 4);
            if (withTime) expect(Number.isNaN(x.timestamps![p]) ? 'nan' : x.timestamps![p]).toEqual(Number.isNaN(r.t) ? 'nan' : r.t);
            if (r.src >= 0) expect(source[p]).toBe(r.src);
            const s = evs[source[p]];
            expect([s.u, s.i]).toEqual([u, x.colIdx[p]]);
          }
        }
      }
    }
  });

  it('throws on a repeated pair under the "error" policy and on out-of-range indices', () => {
    const evs = [
      { u: 0, i: 1, v: 1, t: 1 },
      { u: 0, i: 1, v: 2, t: 2 },
    ];
    expect(() => build(evs, 1, 2, 'error')).toThrow(/duplicate \(user 0, item 1\)/);
    expect(() => build([{ u: 3, i: 0, v: 1, t: 1 }], 2, 2, 'last')).toThrow(RangeError);
  });

  it('hand-computed merge of one repeated pair', () => {
    const evs = [
      { u: 0, i: 0, v: 3, t: 10 },
      { u: 0, i: 0, v: 5, t: 5 },
      { u: 0, i: 0, v: 1, t: NaN },
    ];
    const get = (p: DuplicatePolicy): [number, number] => {
      const x = build(evs, 1, 1, p).interactions;
      return [x.values[0], x.timestamps![0]];
    };
    expect(get('last')).toEqual([3, 10]);
    expect(get('first')).toEqual([5, 5]);
    expect(get('sum')).toEqual([9, 10]);
    expect(get('max')).toEqual([5, 10]);
    expect(get('mean')).toEqual([3, 10]);
  });
});

describe('CSC view and helpers', () => {
  it('CSC equals a naive transpose and csrPos points back', () => {
    const rng = new Rng(2);
    const evs = randomEvents(rng, 20, 9, 300);
    const x = build(evs, 20, 9, 'last').interactions;
    const c = x.csc();
    for (let i = 0; i < x.nItems; i++) {
      const want: number[] = [];
      for (let u = 0; u < x.nUsers; u++) if (x.find(u, i) >= 0) want.push(u);
      expect(Array.from(c.rowIdx.subarray(c.colPtr[i], c.colPtr[i + 1]))).toEqual(want);
      for (let q = c.colPtr[i]; q < c.colPtr[i + 1]; q++) {
        expect(x.colIdx[c.csrPos[q]]).toBe(i);
        expect(c.values[q]).toBe(x.values[c.csrPos[q]]);
      }
    }
    expect(x.csc()).toBe(c);
    const counts = x.itemCounts();
    for (let i = 0; i < x.nItems; i++) expect(counts[i]).toBe(c.colPtr[i + 1] - c.colPtr[i]);
  });

  it('toCoo round-trips and get/find agree', () => {
    const rng = new Rng(3);
    const x = build(randomEvents(rng, 8, 8, 60), 8, 8, 'max').interactions;
    const coo = x.toCoo();
    const y = Interactions.fromCoo({ users: x.users, items: x.items, userIdx: coo.userIdx, itemIdx: coo.itemIdx, values: coo.values, timestamps: coo.timestamps }).interactions;
    expect(Array.from(y.rowPtr)).toEqual(Array.from(x.rowPtr));
    expect(Array.from(y.colIdx)).toEqual(Array.from(x.colIdx));
    expect(Array.from(y.values)).toEqual(Array.from(x.values));
    for (let u = 0; u < 8; u++) for (let i = 0; i < 8; i++) expect(x.get(u, i)).toBe(x.find(u, i) >= 0 ? x.values[x.find(u, i)] : 0);
  });

  it('compact drops empty rows/columns and keeps external ids', () => {
    const users = IdMap.fromIds(['a', 'b', 'c']);
    const items = IdMap.fromIds([10, 20, 30]);
    const x = Interactions.fromCoo({ users, items, userIdx: Int32Array.from([0, 2]), itemIdx: Int32Array.from([2, 2]), values: Float32Array.from([1, 2]) }).interactions;
    const { interactions: y, userIndex, itemIndex } = x.compact();
    expect(y.users.ids()).toEqual(['a', 'c']);
    expect(y.items.ids()).toEqual([30]);
    expect(Array.from(userIndex)).toEqual([0, 2]);
    expect(Array.from(itemIndex)).toEqual([2]);
    expect(y.get(1, 0)).toBe(2);
  });
});

describe('filters', () => {
  it('k-core equals a naive iterative k-core and is stable', () => {
    const rng = new Rng(4);
    const x = build(randomEvents(rng, 30, 25, 220), 30, 25, 'last').interactions;
    const y = x.kCore(5, 4);
    // Naive: repeatedly delete pairs of users/items below threshold from a set.
    let pairs = new Set<string>();
    for (let u = 0; u < x.nUsers; u++) for (const i of x.userItems(u)) pairs.add(`${u},${i}`);
    for (;;) {
      const uc = new Map<number, number>();
      const ic = new Map<number, number>();
      for (const p of pairs) {
        const [u, i] = p.split(',').map(Number);
        uc.set(u, (uc.get(u) ?? 0) + 1);
        ic.set(i, (ic.get(i) ?? 0) + 1);
      }
      const next = new Set([...pairs].filter((p) => {
        const [u, i] = p.split(',').map(Number);
        return uc.get(u)! >= 5 && ic.get(i)! >= 4;
      }));
      if (next.size === pairs.size) break;
      pairs = next;
    }
    expect(y.nnz).toBe(pairs.size);
    for (let u = 0; u < y.nUsers; u++) for (const i of y.userItems(u)) expect(pairs.has(`${u},${i}`)).toBe(true);
    const mask = kCoreMask(x, 5, 4);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(pairs.size);
    expect(y.kCore(5, 4).nnz).toBe(y.nnz);
    const uc = y.userCounts();
    uc.forEach((c) => expect(c === 0 || c >= 5).toBe(true));
  });

  it('minValue, binarize and timeWindow keep the index spaces', () => {
    const evs = [
      { u: 0, i: 0, v: 1, t: 5 },
      { u: 0, i: 1, v: 4, t: 15 },
      { u: 1, i: 1, v: 3, t: NaN },
      { u: 1, i: 2, v: 5, t: 25 },
    ];
    const x = build(evs, 2, 3, 'last').interactions;
    const m = x.minValue(3);
    expect(m.nUsers).toBe(2);
    expect(m.nItems).toBe(3);
    expect(m.nnz).toBe(3);
    expect(Array.from(x.binarize().values)).toEqual([1, 1, 1, 1]);
    const w = x.timeWindow(10, 25);
    expect(w.nnz).toBe(1);
    expect(w.get(0, 1)).toBe(4);
    const noTime = build(evs, 2, 3, 'last', false).interactions;
    expect(() => noTime.timeWindow(0, 1)).toThrow(/no timestamps/);
  });

  it('applyFilters keeps event columns aligned with the entries', () => {
    const evs = [
      { u: 0, i: 0, v: 1, t: 5 },
      { u: 0, i: 1, v: 4, t: 15 },
      { u: 1, i: 1, v: 3, t: 20 },
      { u: 1, i: 2, v: 5, t: 25 },
    ];
    const x = build(evs, 2, 3, 'last').interactions;
    const eventColumns = { tag: Float32Array.from(x.values, (v) => v * 100) };
    const r = applyFilters({ interactions: x, eventColumns }, { minValue: 3, timeWindow: { from: 10, to: 30 }, binarize: true });
    expect(r.interactions.nnz).toBe(3);
    expect(Array.from(r.eventColumns.tag)).toEqual([400, 300, 500]);
    expect(Array.from(r.interactions.values)).toEqual([1, 1, 1]);
  });
});

describe('IdMap', () => {
  it('round-trips ids and indices, rejects repeats, keeps numbers and strings apart', () => {
    const m = IdMap.fromIds([5, '5', 'x', 7]);
    for (let k = 0; k < m.size; k++) expect(m.indexOf(m.idOf(k))).toBe(k);
    expect(m.indexOf(5)).toBe(0);
    expect(m.indexOf('5')).toBe(1);
    expect(m.indexOf('nope')).toBe(-1);
    expect(() => m.require('nope', 'user')).toThrow(/unknown user "nope"/);
    expect(() => IdMap.fromIds([1, 1])).toThrow(/appears twice/);
    expect(() => m.idOf(4)).toThrow(RangeError);
    const e = IdMap.empty();
    expect(e.intern('a')).toBe(0);
    expect(e.intern('b')).toBe(1);
    expect(e.intern('a')).toBe(0);
    expect(m.subset([3, 0]).ids()).toEqual([7, 5]);
    expect(JSON.parse(JSON.stringify(m))).toEqual([5, '5', 'x', 7]);
  });
});
