/** Scores of (user, item) pairs for the item–item models: Σ over the user's training items i of x_ui · w(i, item). */
import type { Interactions } from '../../data/interactions.js';
import { scorePairs } from '../skeleton.js';

/**
 * For each pair j, Σ_{i ∈ row(users[j])} x_ui · weight(i, items[j]) with x = 1 when `binary`, else the training
 * value; NaN for a pair outside the index ranges.
 */
export function pairScores(owner: string, train: Interactions, users: Int32Array, items: Int32Array, binary: boolean, weight: (i: number, t: number) => number): Float32Array {
  return scorePairs(owner, users, items, train.nUsers, train.nItems, (u, t) => {
    let acc = 0;
    for (let p = train.rowPtr[u]; p < train.rowPtr[u + 1]; p++) acc += (binary ? 1 : train.values[p]) * weight(train.colIdx[p], t);
    return acc;
  });
}
