/** The social model against a hand-computed friend score, its fallback and its save/load. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getKernels } from '../../../src/linalg/index.js';
import { loadModel } from '../../../src/models/index.js';
import { SocialRecommender } from '../../../src/models/hybrid/social.js';
import { fromTriples } from '../fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'recsys-social-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await (await getKernels()).close();
});

// Users 0..3, items 0..4. User 0's friends: 1 and 2 (named by 0; mutual with `symmetric`). User 3 has none.
const train = fromTriples(4, 5, [[0, 0, 1], [1, 1, 1], [1, 2, 1], [2, 2, 1], [2, 0, 1], [3, 4, 1], [3, 3, 1], [2, 3, 1]]);
const social = { rowPtr: Int32Array.from([0, 2, 2, 2, 2]), colIdx: Int32Array.from([1, 2]) };

describe('social', () => {
  it('scores by the friends\' interactions: equal weights by hand', async () => {
    const m = new SocialRecommender();
    m.setFeatures({ social });
    await m.fit(train);
    // S_0 = x_1 + x_2 = item 1: 1, item 2: 2, item 3: 1 (item 0 is seen). Scores 1 + S / max S.
    const r = await m.recommend([0], 4);
    expect(Array.from(r.items)).toEqual([2, 1, 3, 4]);
    expect(Array.from(r.scores.slice(0, 3))).toEqual([2, 1.5, 1.5]);
    expect(r.scores[3]).toBeLessThanOrEqual(1); // item 4: no friend touched it, the base (popularity) order
    expect(m.usersWithFriends).toBe(3); // 0, and 1 and 2 through the mutual links
    expect(m.fitNotes()[0]).toMatch(/3 of 4 users have friends/);
  });

  it('weights friends by the cosine of their rows', async () => {
    const m = new SocialRecommender({ friendWeight: 'similarity', symmetric: false });
    m.setFeatures({ social });
    await m.fit(train);
    // cos(0, 1) = 0 (no common item); cos(0, 2) = 1/√(1·3). S_0 = item 2: 1/√3, item 3: 1/√3, item 1: 0.
    const s = await m.score(Int32Array.from([0, 0, 0]), Int32Array.from([1, 2, 3]));
    expect(s[1]).toBeCloseTo(2, 6);
    expect(s[2]).toBeCloseTo(2, 6);
    expect(s[0]).toBeLessThanOrEqual(1);
    expect(m.usersWithFriends).toBe(1);
  });

  it('users without friends get the base model; saves with its base', async () => {
    const m = new SocialRecommender({ base: 'popularity' });
    m.setFeatures({ social });
    await m.fit(train);
    const r = await m.recommend([3], 3);
    // popularity: item 2 (2), item 0 (2), item 3 (2), item 1 (1); user 3 saw 3 and 4 → 0, 2, 1 (ties: lower index).
    expect(Array.from(r.items)).toEqual([0, 2, 1]);
    await m.save(join(root, 's'));
    const back = await loadModel(join(root, 's'));
    expect(Array.from((await back.recommend([0, 3], 3)).items)).toEqual(Array.from((await m.recommend([0, 3], 3)).items));
    expect(() => new SocialRecommender({ base: 'nope' })).toThrow(/base model: unknown model "nope"/);
    expect(() => new SocialRecommender({ baseParams: '[1]' })).toThrow(/JSON object/);
  });
});
