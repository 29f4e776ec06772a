/** A small deterministic generated data set with every kind of side data, for the report tests. */
import type { LoadedDataset } from '../../src/data/dataset.js';
import { IdMap } from '../../src/data/id-map.js';
import { Interactions } from '../../src/data/interactions.js';

/** A seeded uniform generator in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link generateDataset}. */
export interface GenerateOptions {
  users?: number;
  items?: number;
  events?: number;
  seed?: number;
  valueKind?: LoadedDataset['valueKind'];
}

/**
 * A KuaiRec-like data set: Zipf item popularity, log-normal watch ratios with a few extreme outliers,
 * timestamps over 60 days of summer 2020, play/video durations, user demographics and item tags.
 */
export function generateDataset(options: GenerateOptions = {}): LoadedDataset {
  const nU = options.users ?? 300;
  const nI = options.items ?? 200;
  const nE = options.events ?? 6000;
  const rand = rng(options.seed ?? 7);
  const kind = options.valueKind ?? 'watch_ratio';
  const itemWeights = Array.from({ length: nI }, (_, i) => 1 / (i + 1) ** 1.1);
  const cum: number[] = [];
  itemWeights.reduce((s, w, i) => (cum[i] = s + w), 0);
  const totalW = cum[nI - 1];
  const pickItem = (): number => {
    const r = rand() * totalW;
    let lo = 0;
    let hi = nI - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const userIdx = new Int32Array(nE);
  const itemIdx = new Int32Array(nE);
  const values = new Float32Array(nE);
  const timestamps = new Float64Array(nE);
  const start = Date.UTC(2020, 6, 5) / 1000;
  for (let e = 0; e < nE; e++) {
    userIdx[e] = Math.min(nU - 1, Math.floor(nU * rand() ** 2));
    itemIdx[e] = pickItem();
    const gauss = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    values[e] = kind === 'rating' ? 1 + Math.floor(rand() * 5) : kind === 'implicit' ? 1 : Math.exp(-0.3 + 0.6 * gauss) * (rand() < 0.005 ? 200 : 1);
    timestamps[e] = e % 97 === 5 ? NaN : start + Math.floor(rand() * 60 * 86400);
  }
  const { interactions, duplicates } = Interactions.fromCoo({ users: IdMap.range(nU), items: IdMap.range(nI), userIdx, itemIdx, values, timestamps }, 'last');
  const videoDuration = Float32Array.from({ length: nI }, () => 5 + rand() * 55);
  const playDuration = new Float32Array(interactions.nnz);
  const videoCol = new Float32Array(interactions.nnz);
  for (let p = 0; p < interactions.nnz; p++) {
    const i = interactions.colIdx[p];
    videoCol[p] = videoDuration[i];
    playDuration[p] = interactions.values[p] * videoDuration[i] * (0.9 + 0.2 * rand());
  }
  const states = ['CA', 'NY', 'TX', 'WA', 'MA', 'IL'];
  const tagNames = ['food', 'music', 'sports', 'pets', 'travel', 'games', 'news', 'comedy'];
  const tagPtr = new Int32Array(nI + 1);
  const tagIdx: number[] = [];
  for (let i = 0; i < nI; i++) {
    const k = i % 4; // some items without tags
    for (let t = 0; t < k; t++) tagIdx.push((i * 3 + t * 5) % tagNames.length);
    tagPtr[i + 1] = tagIdx.length;
  }
  return {
    name: 'generated',
    description: 'synthetic test data with KuaiRec-like columns',
    valueKind: kind,
    interactions,
    eventColumns: kind === 'watch_ratio' ? { play_duration: playDuration, video_duration: videoCol } : {},
    userFeatures: {
      numeric: { follow_count: Float32Array.from({ length: nU }, (_, u) => (u % 11 === 0 ? NaN : Math.floor(rand() * 500))) },
      categorical: {
        gender: { names: ['F', 'M'], codes: Int32Array.from({ length: nU }, (_, u) => (u % 13 === 0 ? -1 : u % 2)) },
        age: { names: ['56', '1', '18', '25'], codes: Int32Array.from({ length: nU }, (_, u) => u % 4) },
        state: { names: states, codes: Int32Array.from({ length: nU }, (_, u) => u % states.length) },
      },
      multiHot: {},
      text: {},
    },
    itemFeatures: {
      numeric: { video_duration: videoDuration },
      categorical: { first_level_category: { names: ['Life <&> "Style"', 'Games', 'News'], codes: Int32Array.from({ length: nI }, (_, i) => i % 3) } },
      multiHot: { tags: { names: tagNames, ptr: tagPtr, idx: Int32Array.from(tagIdx) } },
      text: { caption: Array.from({ length: nI }, (_, i) => (i % 5 === 0 ? '' : `video ${i}`)) },
    },
    report: {
      files: ['big_matrix.csv'],
      rowsRead: nE + 3,
      rowsKept: nE,
      duplicates,
      issues: [{ file: 'big_matrix.csv', kind: 'missing watch_ratio <b>', field: 'watch_ratio', count: 3, action: 'dropped', lines: [17, 240, 999] }],
      notes: ['synthetic stand-in data generated for tests'],
    },
  };
}

/** Every src/href attribute value of `html` that points at the network (http:, https: or //host). */
export function networkRefs(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*["']?\s*((?:https?:)?\/\/[^"'\s>]*)/gi)].map((m) => m[1]);
}
