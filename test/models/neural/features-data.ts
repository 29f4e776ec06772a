/** Item and user features for the planted data: they reveal the clusters (genre, tags) plus noise columns. */
import type { EntityFeatures } from '../../../src/data/dataset.js';
import { Rng } from '../../../src/core/rng.js';
import type { Planted } from './planted.js';

/** Item genre = cluster (categorical), tags = {cluster tag, random tag} (multi-hot), random numeric duration and year. */
export function plantedItemFeatures(data: Planted, clusters = 6, seed = 9): EntityFeatures {
  const rng = new Rng(seed);
  const n = data.itemCluster.length;
  const ptr = new Int32Array(n + 1);
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    const tags = new Set([data.itemCluster[i], clusters + rng.int(4)]);
    idx.push(...Array.from(tags).sort((a, b) => a - b));
    ptr[i + 1] = idx.length;
  }
  return {
    numeric: {
      duration_ms: Float32Array.from({ length: n }, () => 10_000 + rng.uniform() * 300_000),
      year: Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? NaN : 1990 + rng.int(30))),
    },
    categorical: { genre: { names: Array.from({ length: clusters }, (_, c) => `g${c}`), codes: Int32Array.from(data.itemCluster) } },
    multiHot: { tags: { names: Array.from({ length: clusters + 4 }, (_, t) => `t${t}`), ptr, idx: Int32Array.from(idx) } },
    text: {},
  };
}

/** A user categorical "age band" that is noise, and a numeric "fans" count (heavy-tailed). */
export function plantedUserFeatures(data: Planted, seed = 10): EntityFeatures {
  const rng = new Rng(seed);
  const n = data.userCluster.length;
  return {
    numeric: { fans: Float32Array.from({ length: n }, () => Math.floor(Math.exp(rng.uniform() * 9))) },
    categorical: { age_band: { names: ['a', 'b', 'c'], codes: Int32Array.from({ length: n }, () => rng.int(4) - 1) } },
    multiHot: {},
    text: {},
  };
}
