/**
 * The BPR-MF stochastic-gradient inner loop. It is self-contained (no imports, no inner functions, no
 * closures) because worker threads run it from its source text (`bprSteps.toString()`), updating the shared
 * factor arrays without locks (Hogwild, Niu et al. 2011).
 */

/**
 * Runs `steps` BPR updates: draw a training entry (u, i) uniformly, draw a negative j uniformly among the
 * items u has not interacted with (rejecting positives by binary search in u's sorted row, up to 32 tries),
 * then with x = p_u·(q_i − q_j) + b_i − b_j and g = σ(−x):
 * p_u += lr(g(q_i − q_j) − λp_u), q_i += lr(g·p_u − λq_i), q_j += lr(−g·p_u − λq_j), b_i += lr(g − λb_i),
 * b_j += lr(−g − λb_j). Returns [Σ ln σ(x), count] over every 16th update, for the loss report.
 */
export function bprSteps(
  userF: Float32Array,
  itemF: Float32Array,
  itemB: Float32Array,
  rowPtr: Int32Array,
  colIdx: Int32Array,
  entryUser: Int32Array,
  nItems: number,
  f: number,
  steps: number,
  lr: number,
  reg: number,
  seed: number,
): [number, number] {
  let s = seed >>> 0 || 0x9e3779b9;
  const nnz = colIdx.length;
  let logLik = 0;
  let used = 0;
  for (let step = 0; step < steps; step++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const e = (s >>> 0) % nnz;
    const u = entryUser[e];
    const i = colIdx[e];
    const lo0 = rowPtr[u];
    const hi0 = rowPtr[u + 1] - 1;
    if (hi0 - lo0 + 1 >= nItems) continue;
    let j = -1;
    for (let t = 0; t < 32; t++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const c = (s >>> 0) % nItems;
      let lo = lo0;
      let hi = hi0;
      let found = false;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const v = colIdx[mid];
        if (v === c) {
          found = true;
          break;
        }
        if (v < c) lo = mid + 1;
        else hi = mid - 1;
      }
      if (!found) {
        j = c;
        break;
      }
    }
    if (j < 0) continue;
    const pu = u * f;
    const qi = i * f;
    const qj = j * f;
    let x = itemB[i] - itemB[j];
    let c = 0;
    // Unrolled by 4 (f need not be a multiple of 4: the tail loop finishes).
    for (; c + 3 < f; c += 4) {
      x += userF[pu + c] * (itemF[qi + c] - itemF[qj + c]) + userF[pu + c + 1] * (itemF[qi + c + 1] - itemF[qj + c + 1]) + userF[pu + c + 2] * (itemF[qi + c + 2] - itemF[qj + c + 2]) + userF[pu + c + 3] * (itemF[qi + c + 3] - itemF[qj + c + 3]);
    }
    for (; c < f; c++) x += userF[pu + c] * (itemF[qi + c] - itemF[qj + c]);
    const g = 1 / (1 + Math.exp(x));
    // ln σ(x) on every 16th sample only (an unbiased estimate for the report, at 1/16 of the cost).
    if ((step & 15) === 0) {
      logLik += x > -30 ? -Math.log1p(Math.exp(-x)) : x;
      used++;
    }
    const lg = lr * g;
    const decay = 1 - lr * reg;
    for (let d = 0; d < f; d++) {
      const a = userF[pu + d];
      const bi = itemF[qi + d];
      const bj = itemF[qj + d];
      userF[pu + d] = decay * a + lg * (bi - bj);
      itemF[qi + d] = decay * bi + lg * a;
      itemF[qj + d] = decay * bj - lg * a;
    }
    itemB[i] += lr * (g - reg * itemB[i]);
    itemB[j] += lr * (-g - reg * itemB[j]);
  }
  return [logLik, used];
}
