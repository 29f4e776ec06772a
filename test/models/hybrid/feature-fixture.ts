/** Small generated item features (tags, a category, captions in English and Chinese, a numeric column). */
import { categoricalFrom, emptyFeatures, multiHotFrom } from '../../../src/data/features.js';
import type { ModelFeatures } from '../../../src/models/contract.js';

const WORDS = ['food', 'cat', 'game', 'travel', 'study'];
const HAN = ['美食', '旅行', '游戏', '学习', '小猫'];

/** Features of `n` items: item i has tags {i mod 4, i mod 3 + 4}, category i mod 3, a caption and a number. */
export function itemFeatureFixture(n: number): ModelFeatures {
  const f = emptyFeatures();
  f.multiHot.tags = multiHotFrom(Array.from({ length: n }, (_, i) => [`t${i % 4}`, `t${(i % 3) + 4}`]));
  f.categorical.category = categoricalFrom(Array.from({ length: n }, (_, i) => (i % 5 === 4 ? null : `c${i % 3}`)));
  f.text.caption = Array.from({ length: n }, (_, i) => `${WORDS[i % 5]} video ${HAN[(i * 2) % 5]}${HAN[i % 5]}`);
  f.numeric.duration = Float32Array.from({ length: n }, (_, i) => (i % 6 === 5 ? NaN : 10 + ((i * 7) % 11)));
  f.numeric.play_count = Float32Array.from({ length: n }, (_, i) => (i % 7 === 6 ? NaN : 5 + ((i * 13) % 17)));
  f.numeric.like_per_play = Float32Array.from({ length: n }, (_, i) => ((i * 5) % 9) / 10);
  return { itemFeatures: f };
}

/** Social links among `n` users: user u (u mod 4 = 0) names u + 1 and u + 2 as friends; the others name none. */
export function socialFixture(n: number): NonNullable<ModelFeatures['social']> {
  const lists = Array.from({ length: n }, (_, u) => (u % 4 === 0 ? [u + 1, u + 2].filter((v) => v < n) : []));
  const rowPtr = new Int32Array(n + 1);
  lists.forEach((l, u) => (rowPtr[u + 1] = rowPtr[u] + l.length));
  return { rowPtr, colIdx: Int32Array.from(lists.flat()) };
}
