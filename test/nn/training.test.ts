import { describe, expect, it } from 'vitest';
import { referenceKernels as K } from '../../src/linalg/index.js';
import { gatherCsrRows, miniBatches } from '../../src/nn/batches.js';
import { EarlyStopping } from '../../src/nn/early-stopping.js';
import { Rng } from '../../src/core/rng.js';
import { Param } from '../../src/nn/tensor.js';

describe('Rng', () => {
  it('is reproducible for a seed, differs across seeds, and has sane moments', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs);
    const r = new Rng(1);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
    const p = r.permutation(50);
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('miniBatches', () => {
  it('covers every index once in batches of the given size', () => {
    const batches = miniBatches(10, 4, new Rng(1));
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(batches.flatMap((b) => Array.from(b)).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(miniBatches(3, 2, null)[0])).toEqual([0, 1]);
    expect(() => miniBatches(3, 0, null)).toThrow(/batch size/);
  });

  it('gatherCsrRows copies the chosen rows in order', () => {
    const g = gatherCsrRows(Int32Array.from([0, 2, 3, 5]), Int32Array.from([0, 4, 1, 2, 3]), Float32Array.from([1, 2, 3, 4, 5]), 6, [2, 0]);
    expect(Array.from(g.rowPtr)).toEqual([0, 2, 4]);
    expect(Array.from(g.colIdx)).toEqual([2, 3, 0, 4]);
    expect(Array.from(g.values)).toEqual([4, 5, 1, 2]);
  });
});

describe('EarlyStopping', () => {
  it('stops after `patience` evaluations without improvement and restores the best weights', () => {
    const p = new Param(K, 'w', 1, 1);
    const es = new EarlyStopping({ patience: 2 });
    const values = [0.1, 0.3, 0.25, 0.29];
    const stops = values.map((v, i) => {
      p.value[0] = i;
      return es.report(v, [p]);
    });
    expect(stops).toEqual([false, false, false, true]);
    expect(es.best).toBe(0.3);
    expect(es.bestIndex).toBe(1);
    es.restore([p]);
    expect(p.value[0]).toBe(1);
    const min = new EarlyStopping({ patience: 1, mode: 'min' });
    expect(min.report(3, [p])).toBe(false);
    expect(min.report(2, [p])).toBe(false);
    expect(min.report(2.5, [p])).toBe(true);
  });
});
