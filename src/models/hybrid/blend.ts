/**
 * The arithmetic of the hybrid: per-user normalisation of component scores, the weighted blend with the
 * cold-item switch, binary NDCG@k, and the coordinate search that learns the blend weights.
 */

/** How a component's scores are made comparable across components. */
export type Normalisation = 'zscore' | 'rank';

/**
 * Normalises one user's scores in place: z-score ((s − mean) / std over the items; std 0 → all 0) or rank
 * (1 for the best item down to 0 for the worst, ties by lower index). Non-finite scores count as the lowest
 * finite score.
 */
export function normalise(s: Float32Array, how: Normalisation): void {
  const n = s.length;
  if (n === 0) return;
  let lo = Infinity;
  for (let j = 0; j < n; j++) if (Number.isFinite(s[j]) && s[j] < lo) lo = s[j];
  if (lo === Infinity) lo = 0;
  for (let j = 0; j < n; j++) if (!Number.isFinite(s[j])) s[j] = lo;
  if (how === 'zscore') {
    let mean = 0;
    for (let j = 0; j < n; j++) mean += s[j];
    mean /= n;
    let v = 0;
    for (let j = 0; j < n; j++) v += (s[j] - mean) ** 2;
    const sd = Math.sqrt(v / n);
    for (let j = 0; j < n; j++) s[j] = sd > 0 ? (s[j] - mean) / sd : 0;
    return;
  }
  const order = Int32Array.from({ length: n }, (_, j) => j).sort((a, b) => s[b] - s[a] || a - b);
  for (let r = 0; r < n; r++) s[order[r]] = n > 1 ? 1 - r / (n - 1) : 1;
}

/**
 * The blended score of `n` items from normalised component scores `z[c]` (each n long): Σ w_c z_c / Σ |w_c|,
 * except items with `cold[i]` set, which take the cold component's score alone (when `coldComponent` >= 0).
 */
export function blendRow(z: readonly Float32Array[], w: readonly number[], out: Float32Array, cold: Uint8Array | null, coldComponent: number): void {
  const n = out.length;
  let norm = 0;
  for (const x of w) norm += Math.abs(x);
  const f = norm > 0 ? 1 / norm : 0;
  out.fill(0);
  for (let c = 0; c < z.length; c++) {
    const wc = w[c] * f;
    if (wc === 0) continue;
    const zc = z[c];
    for (let j = 0; j < n; j++) out[j] += wc * zc[j];
  }
  if (cold && coldComponent >= 0) {
    const zc = z[coldComponent];
    for (let j = 0; j < n; j++) if (cold[j]) out[j] = zc[j];
  }
}

/** Binary NDCG@k of the `k` best items of `scores` (items in `skip` left out) against `relevant`. */
export function ndcgOfScores(scores: Float32Array, k: number, relevant: ReadonlySet<number>, skip: ReadonlySet<number>): number {
  if (relevant.size === 0) return 0;
  const top: number[] = [];
  for (let j = 0; j < scores.length; j++) {
    if (skip.has(j)) continue;
    const s = scores[j];
    if (top.length === k && s <= scores[top[k - 1]]) continue;
    let p = top.length < k ? top.length : k - 1;
    if (top.length < k) top.push(j);
    while (p > 0 && scores[top[p - 1]] < s) {
      top[p] = top[p - 1];
      p--;
    }
    top[p] = j;
  }
  let dcg = 0;
  for (let r = 0; r < top.length; r++) if (relevant.has(top[r])) dcg += 1 / Math.log2(r + 2);
  let idcg = 0;
  for (let r = 0; r < Math.min(k, relevant.size); r++) idcg += 1 / Math.log2(r + 2);
  return dcg / idcg;
}

/** One validation user: normalised scores per component, relevant items, items not to rank. */
export interface ValidationUser {
  z: Float32Array[];
  relevant: Set<number>;
  skip: Set<number>;
}

/** Mean NDCG@k of the blend with weights `w` over the users. */
export function blendNdcg(users: readonly ValidationUser[], w: readonly number[], k: number, cold: Uint8Array | null, coldComponent: number, n: number): number {
  if (users.length === 0) return 0;
  const out = new Float32Array(n);
  let total = 0;
  for (const u of users) {
    blendRow(u.z, w, out, cold, coldComponent);
    total += ndcgOfScores(out, k, u.relevant, u.skip);
  }
  return total / users.length;
}

/** The outcome of {@link coordinateSearch}. */
export interface SearchResult {
  weights: number[];
  /** NDCG@k of the start (equal weights) and of the result. */
  startNdcg: number;
  ndcg: number;
  /** NDCG@k of each component alone. */
  alone: number[];
}

/**
 * Coordinate search: from equal weights, for `rounds` rounds, each weight in turn takes the grid value that
 * maximises the validation NDCG@k with the others fixed (moving only on a strict improvement; an all-zero
 * weight vector is never tried).
 */
export function coordinateSearch(users: readonly ValidationUser[], nComponents: number, grid: readonly number[], rounds: number, k: number, n: number, cold: Uint8Array | null = null, coldComponent = -1): SearchResult {
  const eval_ = (w: readonly number[]): number => blendNdcg(users, w, k, cold, coldComponent, n);
  const w = new Array<number>(nComponents).fill(1);
  const startNdcg = eval_(w);
  let best = startNdcg;
  for (let r = 0; r < rounds; r++) {
    let moved = false;
    for (let c = 0; c < nComponents; c++) {
      for (const g of grid) {
        if (g === w[c]) continue;
        const trial = w.slice();
        trial[c] = g;
        if (trial.every((x) => x === 0)) continue;
        const v = eval_(trial);
        if (v > best + 1e-12) {
          best = v;
          w[c] = g;
          moved = true;
        }
      }
    }
    if (!moved) break;
  }
  const alone = Array.from({ length: nComponents }, (_, c) => eval_(Array.from({ length: nComponents }, (_, d) => (d === c ? 1 : 0))));
  return { weights: w, startNdcg, ndcg: best, alone };
}
