/**
 * NDCG, the one definition in the code: the evaluation layer (`eval/metrics.ts` re-exports it) and the models'
 * validation during training (early stopping) both use it. It lives in the model layer because evaluation sits
 * above the models and may import from here, not the other way round.
 */
import type { Interactions } from '../data/interactions.js';
import type { TopK } from './contract.js';

/** Relevant items of one user → gain. */
export type Relevance = ReadonlyMap<number, number>;

/** Gain transform for NDCG: binary (1 per relevant item), linear (the gain itself) or exponential (2^g − 1). */
export type GainKind = 'binary' | 'linear' | 'exp';

function gainOf(g: number, kind: GainKind): number {
  return kind === 'binary' ? 1 : kind === 'linear' ? g : Math.pow(2, g) - 1;
}

/**
 * NDCG@k = DCG@k / IDCG@k with DCG@k = Σ_{r=1..k} gain(item_r) / log2(r + 1) and IDCG@k the DCG of the ideal
 * list: the user's min(k, |rel|) largest gains in decreasing order. 0 when the ideal DCG is 0. Padding (−1)
 * never counts.
 */
export function ndcgAt(ranked: ArrayLike<number>, rel: Relevance, k: number, kind: GainKind = 'binary'): number {
  const n = Math.min(k, ranked.length);
  let dcg = 0;
  for (let r = 0; r < n; r++) {
    const item = ranked[r];
    if (item < 0) continue;
    const g = rel.get(item);
    if (g !== undefined) dcg += gainOf(g, kind) / Math.log2(r + 2);
  }
  const gains = [...rel.values()].map((g) => gainOf(g, kind)).sort((a, b) => b - a);
  let idcg = 0;
  const m = Math.min(k, gains.length);
  for (let r = 0; r < m; r++) idcg += gains[r] / Math.log2(r + 2);
  return idcg > 0 ? dcg / idcg : 0;
}

/**
 * Mean binary {@link ndcgAt} at `top.k` of the rows of `top` (row r = user `users[r]`) against each user's items
 * in `relevant`; users without relevant items are left out (0 when none has any).
 */
export function meanNdcg(top: TopK, users: ArrayLike<number>, relevant: Interactions): number {
  const k = top.k;
  let total = 0;
  let n = 0;
  for (let r = 0; r < users.length; r++) {
    const items = relevant.userItems(users[r]);
    if (items.length === 0) continue;
    const rel = new Map<number, number>();
    for (const i of items) rel.set(i, 1);
    total += ndcgAt(top.items.subarray(r * k, (r + 1) * k), rel, k);
    n++;
  }
  return n === 0 ? 0 : total / n;
}
