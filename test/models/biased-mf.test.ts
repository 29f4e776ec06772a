/** Biased MF's SGD pass order: the ratings are shuffled as triples, in the order an index shuffle would give. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { shuffleTriples } from '../../src/models/factorization/biased-mf.js';

describe('shuffleTriples', () => {
  it('moves (user, item, rating) together, epoch after epoch in the order of shuffling an index permutation with the same draws', () => {
    const n = 70_000; // above 2^16: the shuffle's draws switch from 32 to 53 bits there
    const gen = new Rng(3);
    const users = Int32Array.from({ length: n }, () => gen.int(500));
    const items = Int32Array.from({ length: n }, () => gen.int(900));
    const ratings = Float32Array.from({ length: n }, () => 1 + gen.int(5));
    const [u0, i0, r0] = [users.slice(), items.slice(), ratings.slice()];
    const a = new Rng(11);
    const b = new Rng(11);
    const order = Int32Array.from({ length: n }, (_, j) => j);
    for (let epoch = 0; epoch < 3; epoch++) {
      shuffleTriples(users, items, ratings, a);
      b.shuffle(order);
      expect(Array.from(users)).toEqual(Array.from(order, (j) => u0[j]));
      expect(Array.from(items)).toEqual(Array.from(order, (j) => i0[j]));
      expect(Array.from(ratings)).toEqual(Array.from(order, (j) => r0[j]));
    }
    // Both generators are at the same place afterwards.
    expect(a.nextU32()).toBe(b.nextU32());
  });
});
