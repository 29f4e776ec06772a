/** Scores of (user, item) pairs for the item–item models: Σ over the user's training items i of x_ui · w(i, item). */
import type { Interactions } from '../../data/interactions.js';
import { checkPairs } from '../skeleton.js';

/**
 * For each pair j, Σ_{i ∈ row(users[j])} x_ui · weight(i, items[j]) with x = 1 when `binary`, else the training
 * value; NaN for a pair outside the index ranges.
 */
export function pairScores(owner: string, train: Interactions, users: Int32Array, items: Int32Array, binary: boolean, weight: (i: number, t: number) => number): Float32Array {
  checkPairs(owner, users, items);
  const out = new Float32Array(users.length);
  for (let j = 0; j < users.length; j++) {
    const u = users[j];
    const t = items[j];
    if (!(u >= 0 && u < train.nUsers && t >= 0 && t < train.nItems)) {
      out[j] = NaN;
      continue;
    }
    let acc = 0;
    for (let p = train.rowPtr[u]; p < train.rowPtr[u + 1]; p++) acc += (binary ? 1 : train.values[p]) * weight(train.colIdx[p], t);
    out[j] = acc;
  }
  return out;
}
