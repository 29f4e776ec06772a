import type { Categorical, EntityFeatures, MultiHot } from './dataset.js';

/** Empty feature containers for `n` entities. */
export function emptyFeatures(): EntityFeatures {
  return { numeric: {}, categorical: {}, multiHot: {}, text: {} };
}

/** A categorical feature from one label per entity (null/'' = missing → code -1); names sorted. */
export function categoricalFrom(labels: readonly (string | null | undefined)[]): Categorical {
  const names = [...new Set(labels.filter((l): l is string => l !== null && l !== undefined && l !== ''))].sort();
  const code = new Map(names.map((n, k) => [n, k]));
  const codes = new Int32Array(labels.length);
  for (let e = 0; e < labels.length; e++) {
    const l = labels[e];
    codes[e] = l === null || l === undefined || l === '' ? -1 : code.get(l)!;
  }
  return { names, codes };
}

/** A multi-hot feature from a list of labels per entity (duplicates within a list collapsed); names sorted. */
export function multiHotFrom(lists: readonly (readonly string[] | null | undefined)[]): MultiHot {
  const names = [...new Set(lists.flatMap((l) => l ?? []))].sort(naturalCompare);
  const code = new Map(names.map((n, k) => [n, k]));
  const ptr = new Int32Array(lists.length + 1);
  const idx: number[] = [];
  for (let e = 0; e < lists.length; e++) {
    const codes = [...new Set((lists[e] ?? []).map((l) => code.get(l)!))].sort((a, b) => a - b);
    idx.push(...codes);
    ptr[e + 1] = idx.length;
  }
  return { names, ptr, idx: Int32Array.from(idx) };
}

/** The labels of entity `e` in a multi-hot feature. */
export function multiHotLabels(m: MultiHot, e: number): string[] {
  const out: string[] = [];
  for (let p = m.ptr[e]; p < m.ptr[e + 1]; p++) out.push(m.names[m.idx[p]]);
  return out;
}

/** Numbers sort numerically, others by string. */
function naturalCompare(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parses a list written like "[27, 9]" or "[a,b]" into its elements ('' and "[]" → []); null when malformed. */
export function parseBracketList(s: string | null | undefined): string[] | null {
  if (s === null || s === undefined) return [];
  const t = s.trim();
  if (t === '' || t === '[]') return [];
  if (!t.startsWith('[') || !t.endsWith(']')) return null;
  return t
    .slice(1, -1)
    .split(',')
    .map((x) => x.trim().replace(/^['"]|['"]$/g, ''))
    .filter((x) => x !== '');
}
