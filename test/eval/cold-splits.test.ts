/** The cold-start splits: held-out items / users, what trains, what is asked, config keys. */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/eval/config.js';
import { coldItemsSplit, coldUsersSplit } from '../../src/eval/splits.js';
import { randomMatrix } from '../models/fixtures.js';

const data = randomMatrix(30, 20, 0.4, 3);

describe('cold-items', () => {
  it('holds out whole items: no held-out item trains, every entry lands in exactly one part', () => {
    const s = coldItemsSplit(data, { testItems: 0.25, validationItems: 2, seed: 1 });
    const trainCounts = s.train.itemCounts();
    const testCounts = s.test.itemCounts();
    const validCounts = s.validation!.itemCounts();
    const test = [...testCounts.keys()].filter((i) => testCounts[i] > 0);
    const valid = [...validCounts.keys()].filter((i) => validCounts[i] > 0);
    expect(test.length).toBe(5);
    expect(valid.length).toBe(2);
    for (const i of [...test, ...valid]) expect(trainCounts[i]).toBe(0);
    for (const i of test) expect(testCounts[i]).toBe(data.itemCounts()[i]);
    expect(s.train.nnz + s.test.nnz + s.validation!.nnz).toBe(data.nnz);
    expect(s.description).toMatch(/cold items: 5 test and 2 validation items/);
    expect(coldItemsSplit(data, { testItems: 0.25, validationItems: 2, seed: 1 }).test.nnz).toBe(s.test.nnz);
    expect(() => coldItemsSplit(data, { testItems: 20, seed: 1 })).toThrow(/leave no training items/);
  });
});

describe('cold-users', () => {
  it('holds out users with exactly foldInEvents fold-in entries', () => {
    const s = coldUsersSplit(data, { testUsers: 6, foldInEvents: 2, seed: 4 });
    const held = [...s.test.userCounts().keys()].filter((u) => s.test.userCounts()[u] > 0 || s.testFoldIn!.userCounts()[u] > 0);
    expect(held.length).toBe(6);
    for (const u of held) {
      expect(s.train.userCounts()[u]).toBe(0);
      expect(s.testFoldIn!.userCounts()[u]).toBe(2);
    }
    const none = coldUsersSplit(data, { testUsers: 6, seed: 4 });
    expect(none.testFoldIn!.nnz).toBe(0);
    expect(none.test.nnz).toBeGreaterThan(0);
  });

  it('is configurable', () => {
    const c = validateConfig({ dataset: 'synthetic', split: { method: 'cold-users', testUsers: 0.1, foldInEvents: 3 }, metrics: ['ndcg@10'], models: ['popularity'] });
    expect(c.split).toMatchObject({ method: 'cold-users', testUsers: 0.1, foldInEvents: 3, seed: 42 });
    const i = validateConfig({ dataset: 'synthetic', split: { method: 'cold-items', testItems: 0.2 }, metrics: ['ndcg@10'], models: ['popularity'] });
    expect(i.split).toMatchObject({ method: 'cold-items', testItems: 0.2 });
    expect(() => validateConfig({ dataset: 'synthetic', split: { method: 'cold-items' }, metrics: ['ndcg@10'], models: ['popularity'] })).toThrow(/split.testItems: required/);
  });
});
