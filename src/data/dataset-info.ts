/** Loaded counts of a data set, for its description and `datasets info`. */
import type { Interactions } from './interactions.js';

/** Users and items with at least one interaction, and the density over them. */
export function activeCounts(x: Interactions): { users: number; items: number; density: number } {
  let users = 0;
  let items = 0;
  const ic = new Uint8Array(x.nItems);
  for (let u = 0; u < x.nUsers; u++) if (x.rowPtr[u + 1] > x.rowPtr[u]) users++;
  for (let p = 0; p < x.nnz; p++) ic[x.colIdx[p]] = 1;
  for (let i = 0; i < x.nItems; i++) items += ic[i];
  return { users, items, density: users * items === 0 ? 0 : x.nnz / (users * items) };
}

const n = (v: number): string => v.toLocaleString('en-US');

/** "1,000,209 ratings from 6,040 users on 3,706 movies" for the users and items that have interactions in `x`. */
export function countsPhrase(x: Interactions, events = 'interactions', items = 'items'): string {
  const a = activeCounts(x);
  return `${n(x.nnz)} ${events} from ${n(a.users)} users on ${n(a.items)} ${items}`;
}
