/**
 * Generated data sets with a known structure, for tests, demos and the `synthetic` data set of experiment
 * configs: item popularity follows a Zipf law, each user draws items in proportion to it, so a popularity model
 * must beat a random one. Values are ratings 1–5 (higher for more popular items), timestamps increase per user,
 * and every item carries 1–3 tags from a small vocabulary.
 */
import { drawCumulative, Rng } from '../core/rng.js';
import type { EntityFeatures, LoadedDataset } from '../data/dataset.js';
import { IdMap } from '../data/id-map.js';
import { Interactions } from '../data/interactions.js';

/** Shape of a generated data set. */
export interface SyntheticOptions {
  /** Users (default 300). */
  users?: number;
  /** Items (default 200). */
  items?: number;
  /** Mean interactions per user (default 20; each user gets between half and 1.5 times this). */
  perUser?: number;
  /** Zipf exponent of item popularity (default 1). */
  zipf?: number;
  /** Tags vocabulary size (default 8). */
  tags?: number;
  seed?: number;
}

/** Generates a data set as described in the module comment; deterministic for a seed. */
export function syntheticDataset(options: SyntheticOptions = {}): LoadedDataset {
  const nU = options.users ?? 300;
  const nI = options.items ?? 200;
  const per = options.perUser ?? 20;
  const s = options.zipf ?? 1;
  const nTags = options.tags ?? 8;
  const rng = new Rng(options.seed ?? 7);
  // Item i has popularity weight 1/(rank+1)^s, with ranks a random permutation so popularity is not item order.
  const rankOf = rng.permutation(nI);
  const cum = new Float64Array(nI);
  let acc = 0;
  for (let i = 0; i < nI; i++) {
    acc += 1 / Math.pow(rankOf[i] + 1, s);
    cum[i] = acc;
  }
  const draw = (): number => drawCumulative(cum, rng.uniform());
  const us: number[] = [];
  const is: number[] = [];
  const vs: number[] = [];
  const ts: number[] = [];
  const t0 = 1_600_000_000;
  for (let u = 0; u < nU; u++) {
    const n = Math.min(nI, Math.max(1, Math.round(per * (0.5 + rng.uniform()))));
    const chosen = new Set<number>();
    let guard = 0;
    while (chosen.size < n && guard++ < n * 50) chosen.add(draw());
    let t = t0 + rng.int(86400 * 30);
    for (const i of chosen) {
      t += 60 + rng.int(86400);
      us.push(u);
      is.push(i);
      const base = 5 - (4 * rankOf[i]) / nI;
      vs.push(Math.max(1, Math.min(5, Math.round(base + (rng.uniform() - 0.5) * 2))));
      ts.push(t);
    }
  }
  const { interactions, duplicates } = Interactions.fromCoo({
    users: IdMap.range(nU),
    items: IdMap.range(nI),
    userIdx: Int32Array.from(us),
    itemIdx: Int32Array.from(is),
    values: Float32Array.from(vs),
    timestamps: Float64Array.from(ts),
  });
  const ptr = new Int32Array(nI + 1);
  const idx: number[] = [];
  for (let i = 0; i < nI; i++) {
    const m = 1 + rng.int(3);
    const set = new Set<number>();
    while (set.size < Math.min(m, nTags)) set.add(rng.int(nTags));
    idx.push(...[...set].sort((a, b) => a - b));
    ptr[i + 1] = idx.length;
  }
  const itemFeatures: EntityFeatures = {
    numeric: {},
    categorical: {},
    multiHot: { tags: { names: Array.from({ length: nTags }, (_, j) => `tag${j}`), ptr, idx: Int32Array.from(idx) } },
    text: {},
  };
  return {
    name: 'synthetic',
    description: `synthetic: ${nU} users, ${nI} items, Zipf(${s}) popularity, seed ${options.seed ?? 7}`,
    valueKind: 'rating',
    interactions,
    eventColumns: {},
    itemFeatures,
    report: { files: [], rowsRead: us.length, rowsKept: interactions.nnz, duplicates, issues: [], notes: ['synthetic data'] },
  };
}
