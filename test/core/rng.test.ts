import { describe, expect, it } from 'vitest';
import { drawCumulative, Rng } from '../../src/core/rng.js';

describe('Rng', () => {
  it('is xoshiro128** seeded by splitmix32 (first outputs for seed 42 computed independently)', () => {
    // Reference: splitmix32 state words then xoshiro128** steps, written out in BigInt arithmetic below.
    const M = 0xffffffffn;
    let x = 42n;
    const sm = (): bigint => {
      x = (x + 0x9e3779b9n) & M;
      let z = x;
      z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M;
      z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M;
      return (z ^ (z >> 16n)) & M;
    };
    const s = [sm(), sm(), sm(), sm()];
    const rotl = (v: bigint, k: bigint): bigint => ((v << k) | (v >> (32n - k))) & M;
    const want: number[] = [];
    for (let i = 0; i < 5; i++) {
      want.push(Number((rotl((s[1] * 5n) & M, 7n) * 9n) & M));
      const t = (s[1] << 9n) & M;
      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = rotl(s[3], 11n);
    }
    const r = new Rng(42);
    expect(Array.from({ length: 5 }, () => r.nextU32())).toEqual(want);
  });

  it('forks by label: reproducible, independent of the parent position, distinct per label', () => {
    const a = new Rng(7);
    const f1 = a.fork('init').nextU32();
    a.nextU32();
    a.nextU32();
    expect(a.fork('init').nextU32()).toBe(f1);
    expect(new Rng(7).fork('split').nextU32()).not.toBe(f1);
    expect(new Rng(8).fork('init').nextU32()).not.toBe(f1);
  });

  it('draws uniform, integer, normal and sample values with the right distribution', () => {
    const r = new Rng(1);
    let sum = 0;
    let sq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      const g = r.normal();
      sum += g;
      sq += g * g;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 10000; i++) counts[r.int(5)]++;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200);
    const s = r.sample(10, 10);
    expect([...s].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => r.sample(3, 4)).toThrow(RangeError);
    expect([...r.permutation(6)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const u53 = r.uniform53();
    expect(u53 >= 0 && u53 < 1).toBe(true);
  });

  it('state and setState continue the same stream', () => {
    const a = new Rng(3);
    a.nextU32();
    const b = new Rng(99);
    b.setState(a.state());
    expect(b.nextU32()).toBe(a.nextU32());
  });

  it('drawCumulative picks the bucket holding r·total', () => {
    const cum = Float64Array.of(1, 3, 6);
    expect(drawCumulative(cum, 0)).toBe(0);
    expect(drawCumulative(cum, 0.2)).toBe(1);
    expect(drawCumulative(cum, 0.99)).toBe(2);
  });
});
