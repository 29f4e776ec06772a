/** Small generated data sets for the model tests. */
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';
import { Rng } from '../../src/core/rng.js';

/** Builds an Interactions from (user, item, value) triples. */
export function fromTriples(nUsers: number, nItems: number, triples: readonly (readonly [number, number, number])[]): Interactions {
  const userIdx = Int32Array.from(triples, (t) => t[0]);
  const itemIdx = Int32Array.from(triples, (t) => t[1]);
  const values = Float32Array.from(triples, (t) => t[2]);
  return Interactions.fromCoo({ users: IdMap.range(nUsers), items: IdMap.range(nItems), userIdx, itemIdx, values }).interactions;
}

/** A random sparse matrix with values in [1, maxValue] and the given density. */
export function randomMatrix(nUsers: number, nItems: number, density: number, seed: number, maxValue = 5): Interactions {
  const rng = new Rng(seed);
  const t: [number, number, number][] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nItems; i++) if (rng.uniform() < density) t.push([u, i, 1 + Math.floor(rng.uniform() * maxValue)]);
  }
  return fromTriples(nUsers, nItems, t);
}

/**
 * Planted blocks: users and items fall into `blocks` groups; a user interacts with items of their own group
 * with probability `pIn` and with others with `pOut`. Returns train and a held-out test with the same structure.
 * Item popularity is flat inside a group, so popularity cannot find the block.
 */
export function plantedBlocks(nUsers: number, nItems: number, blocks: number, pIn: number, pOut: number, seed: number): { train: Interactions; test: Interactions; userBlock: Int32Array; itemBlock: Int32Array } {
  const rng = new Rng(seed);
  const userBlock = Int32Array.from({ length: nUsers }, (_, u) => u % blocks);
  const itemBlock = Int32Array.from({ length: nItems }, (_, i) => i % blocks);
  const tr: [number, number, number][] = [];
  const te: [number, number, number][] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nItems; i++) {
      const p = userBlock[u] === itemBlock[i] ? pIn : pOut;
      if (rng.uniform() < p) (rng.uniform() < 0.8 ? tr : te).push([u, i, 1]);
    }
  }
  return { train: fromTriples(nUsers, nItems, tr), test: fromTriples(nUsers, nItems, te), userBlock, itemBlock };
}

/** Mean binary NDCG@k of top-k rows against each user's test items (users without test items skipped). */
export function ndcgAt(items: Int32Array, k: number, users: ArrayLike<number>, test: Interactions): number {
  let total = 0;
  let n = 0;
  for (let r = 0; r < users.length; r++) {
    const rel = new Set(test.userItems(users[r]));
    if (rel.size === 0) continue;
    let dcg = 0;
    for (let j = 0; j < k; j++) if (rel.has(items[r * k + j])) dcg += 1 / Math.log2(j + 2);
    let idcg = 0;
    for (let j = 0; j < Math.min(k, rel.size); j++) idcg += 1 / Math.log2(j + 2);
    total += dcg / idcg;
    n++;
  }
  return total / n;
}

/** Solves the dense SPD system A x = b (n×n, row-major, float64) by Gaussian elimination with pivoting. */
export function denseSolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[piv * n + c])) piv = r;
    if (piv !== c) {
      for (let j = 0; j < n; j++) [m[c * n + j], m[piv * n + j]] = [m[piv * n + j], m[c * n + j]];
      [x[c], x[piv]] = [x[piv], x[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / m[c * n + c];
      for (let j = c; j < n; j++) m[r * n + j] -= f * m[c * n + j];
      x[r] -= f * x[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let j = r + 1; j < n; j++) s -= m[r * n + j] * x[j];
    x[r] = s / m[r * n + r];
  }
  return x;
}

/** Mean of a list. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}
