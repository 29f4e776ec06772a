/**
 * Item feature vectors for the content model. Every feature column is one block of the vector:
 * - multi-hot and categorical columns: the item's labels, binary, the block scaled to unit length;
 * - text columns: TF-IDF over tokens (tf = count in the item's text, idf = ln(N / df), N = items with any token
 *   in the column, tokens in fewer than `minDf` items dropped), the block scaled to unit length. Tokens: a text
 *   that is a bracket list ("[food,game]", KuaiRec's topic_tag) gives its elements; other text gives its Latin
 *   words and digit runs (lower-cased) and character n-grams of its CJK runs (KuaiRec captions are Chinese and
 *   unsegmented; a CJK run shorter than n is one token);
 * - numeric columns: z-scores (log1p first for heavy-tailed non-negative columns: max > 100), missing → 0,
 *   each divided by √(columns) so the block has unit expected squared length.
 * Blocks are weighted (√weight per block, so a dot product weighs each block's cosine by its weight) and the
 * whole vector is scaled to unit length: the dot product of two vectors is their cosine similarity.
 */
import type { EntityFeatures } from '../../data/dataset.js';
import { parseBracketList } from '../../data/features.js';

/** Items × features: a sparse part (set and text tokens) and a dense numeric part, rows of unit length. */
export interface ItemVectors {
  nItems: number;
  /** Sparse features: CSR over items, feature indices sorted within a row. */
  ptr: Int32Array;
  idx: Int32Array;
  val: Float32Array;
  /** Number of sparse features. */
  nFeatures: number;
  /** Dense numeric part, nItems × numericNames.length. */
  numeric: Float32Array;
  numericNames: string[];
  /** The blocks used, e.g. "multiHot:tags (12)", "text:caption (340 tokens)", "numeric (3)". */
  blocks: string[];
}

/** How item vectors are built. */
export interface VectorOptions {
  setWeight: number;
  textWeight: number;
  numericWeight: number;
  /** Character n-gram length for CJK runs. */
  ngram: number;
  /** Tokens occurring in fewer items are dropped. */
  minDf: number;
  /** Columns to use (names of any kind); empty: every column. */
  columns: readonly string[];
}

const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}';
const TOKEN_RE = new RegExp(`[${CJK}]+|[^\\s\\p{P}\\p{S}${CJK}]+`, 'gu');
const CJK_RE = new RegExp(`^[${CJK}]`, 'u');

/** The tokens of one text (see the module comment): bracket-list elements, or words and CJK character n-grams. */
export function tokenize(text: string, ngram: number): string[] {
  const t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) {
    const list = parseBracketList(t);
    if (list) return list.map((x) => x.toLowerCase());
  }
  const out: string[] = [];
  for (const m of t.toLowerCase().matchAll(TOKEN_RE)) {
    const run = m[0];
    if (!CJK_RE.test(run)) {
      out.push(run);
      continue;
    }
    const chars = [...run];
    if (chars.length <= ngram) out.push(run);
    else for (let s = 0; s + ngram <= chars.length; s++) out.push(chars.slice(s, s + ngram).join(''));
  }
  return out;
}

/** One block's rows before weighting: per item a map feature → value (local feature ids). */
interface Block {
  label: string;
  size: number;
  rows: Map<number, number>[];
  weight: number;
}

function unit(rows: Map<number, number>[]): void {
  for (const r of rows) {
    let s = 0;
    for (const v of r.values()) s += v * v;
    if (s > 0) {
      const f = 1 / Math.sqrt(s);
      for (const [k, v] of r) r.set(k, v * f);
    }
  }
}

/** TF-IDF rows of a text column (see the module comment), unit length. */
export function tfidfRows(texts: readonly string[], ngram: number, minDf: number): { vocabulary: string[]; rows: Map<number, number>[] } {
  const tokens = texts.map((t) => tokenize(t ?? '', ngram));
  const df = new Map<string, number>();
  let docs = 0;
  for (const ts of tokens) {
    if (ts.length > 0) docs++;
    for (const w of new Set(ts)) df.set(w, (df.get(w) ?? 0) + 1);
  }
  const vocabulary = [...df.keys()].filter((w) => (df.get(w) ?? 0) >= minDf).sort();
  const id = new Map(vocabulary.map((w, k) => [w, k]));
  const rows = tokens.map((ts) => {
    const r = new Map<number, number>();
    for (const w of ts) {
      const k = id.get(w);
      if (k !== undefined) r.set(k, (r.get(k) ?? 0) + 1);
    }
    for (const [k, tf] of r) r.set(k, tf * Math.log(docs / (df.get(vocabulary[k]) ?? 1)));
    for (const [k, v] of r) if (v === 0) r.delete(k);
    return r;
  });
  unit(rows);
  return { vocabulary, rows };
}

/** Standardised numeric columns (see the module comment), nItems × names.length. */
export function standardise(features: EntityFeatures['numeric'], names: readonly string[], n: number): Float32Array {
  const m = names.length;
  const out = new Float32Array(n * m);
  names.forEach((name, c) => {
    const col = features[name];
    let max = -Infinity;
    let min = Infinity;
    for (let i = 0; i < n; i++) if (Number.isFinite(col[i])) { max = Math.max(max, col[i]); min = Math.min(min, col[i]); }
    const log = min >= 0 && max > 100;
    const tr = (x: number): number => (log ? Math.log1p(x) : x);
    let s = 0;
    let s2 = 0;
    let k = 0;
    for (let i = 0; i < n; i++) if (Number.isFinite(col[i])) { const v = tr(col[i]); s += v; s2 += v * v; k++; }
    const mean = k ? s / k : 0;
    const std = k ? Math.sqrt(Math.max(0, s2 / k - mean * mean)) : 0;
    for (let i = 0; i < n; i++) out[i * m + c] = Number.isFinite(col[i]) && std > 0 ? (tr(col[i]) - mean) / std / Math.sqrt(m) : 0;
  });
  return out;
}

/** Builds the item vectors of `features` for `n` items; errors name the column whose length is wrong. */
export function buildItemVectors(features: EntityFeatures, n: number, o: VectorOptions): ItemVectors {
  const want = (name: string): boolean => o.columns.length === 0 || o.columns.includes(name);
  const known = [...Object.keys(features.multiHot), ...Object.keys(features.categorical), ...Object.keys(features.text), ...Object.keys(features.numeric)];
  for (const c of o.columns) if (!known.includes(c)) throw new Error(`content: item feature column "${c}" not found; the data set has: ${known.sort().join(', ') || 'none'}`);
  const blocks: Block[] = [];
  for (const name of Object.keys(features.multiHot).sort()) {
    if (!want(name) || o.setWeight === 0) continue;
    const h = features.multiHot[name];
    if (h.ptr.length !== n + 1) throw new Error(`content: multi-hot item feature "${name}" has ${h.ptr.length - 1} rows, expected ${n}`);
    const rows = Array.from({ length: n }, (_, i) => new Map(Array.from(h.idx.subarray(h.ptr[i], h.ptr[i + 1]), (f) => [f, 1] as [number, number])));
    unit(rows);
    blocks.push({ label: `multiHot:${name} (${h.names.length})`, size: h.names.length, rows, weight: o.setWeight });
  }
  for (const name of Object.keys(features.categorical).sort()) {
    if (!want(name) || o.setWeight === 0) continue;
    const c = features.categorical[name];
    if (c.codes.length !== n) throw new Error(`content: categorical item feature "${name}" has ${c.codes.length} values, expected ${n}`);
    const rows = Array.from(c.codes, (code) => new Map<number, number>(code >= 0 ? [[code, 1]] : []));
    blocks.push({ label: `categorical:${name} (${c.names.length})`, size: c.names.length, rows, weight: o.setWeight });
  }
  for (const name of Object.keys(features.text).sort()) {
    if (!want(name) || o.textWeight === 0) continue;
    const texts = features.text[name];
    if (texts.length !== n) throw new Error(`content: text item feature "${name}" has ${texts.length} values, expected ${n}`);
    const { vocabulary, rows } = tfidfRows(texts, o.ngram, o.minDf);
    if (vocabulary.length > 0) blocks.push({ label: `text:${name} (${vocabulary.length} tokens)`, size: vocabulary.length, rows, weight: o.textWeight });
  }
  const numericNames = o.numericWeight === 0 ? [] : Object.keys(features.numeric).filter(want).sort();
  for (const name of numericNames) if (features.numeric[name].length !== n) throw new Error(`content: numeric item feature "${name}" has ${features.numeric[name].length} values, expected ${n}`);
  const numeric = standardise(features.numeric, numericNames, n);
  const m = numericNames.length;
  const nw = Math.sqrt(o.numericWeight);
  for (let p = 0; p < numeric.length; p++) numeric[p] *= nw;
  // Concatenate the sparse blocks with offsets, √weight each.
  const ptr = new Int32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    let offset = 0;
    for (const b of blocks) {
      const w = Math.sqrt(b.weight);
      for (const k of [...b.rows[i].keys()].sort((x, y) => x - y)) {
        idx.push(offset + k);
        val.push(w * (b.rows[i].get(k) ?? 0));
      }
      offset += b.size;
    }
    ptr[i + 1] = idx.length;
  }
  const nFeatures = blocks.reduce((a, b) => a + b.size, 0);
  const v = Float32Array.from(val);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let p = ptr[i]; p < ptr[i + 1]; p++) s += v[p] * v[p];
    for (let c = 0; c < m; c++) s += numeric[i * m + c] ** 2;
    if (s === 0) continue;
    const f = 1 / Math.sqrt(s);
    for (let p = ptr[i]; p < ptr[i + 1]; p++) v[p] *= f;
    for (let c = 0; c < m; c++) numeric[i * m + c] *= f;
  }
  const labels = blocks.map((b) => b.label);
  if (m > 0) labels.push(`numeric (${m}: ${numericNames.join(', ')})`);
  return { nItems: n, ptr, idx: Int32Array.from(idx), val: v, nFeatures, numeric, numericNames, blocks: labels };
}
