/**
 * What the dashboard's `/api` routes compute from the served model and its data set: item metadata (title,
 * categories, caption) in the model's item order, a 2-D PCA map of the item vectors, and the data set the
 * model was trained on (its registry data set when the model records one, else the training matrix itself).
 */
import type { EntityFeatures, LoadedDataset } from '../data/dataset.js';
import type { ExternalId, IdMap } from '../data/id-map.js';
import type { DenseMatrix } from '../linalg/api.js';
import { symmetricEigen } from '../linalg/small-dense.js';
import type { ServedModel } from './served-model.js';

/** One item's metadata as the dashboard shows it. */
export interface ItemMeta {
  id: ExternalId;
  /** Training users of the item. */
  popularity: number;
  title?: string;
  /** Labels of the categorical and multi-hot features, e.g. ["Drama", "Comedy"]. */
  categories: string[];
  /** A second text column (caption, description) when there is one besides the title. */
  caption?: string;
}

const TITLE_COLUMNS = ['title', 'name', 'caption'];

/**
 * Metadata of every item of the served model (dense index order), from the data set's item features matched by
 * external id; items the features do not know get their popularity only.
 */
export function itemMetadata(served: ServedModel, features: { itemFeatures?: EntityFeatures; items: IdMap } | null): ItemMeta[] {
  const counts = served.train.itemCounts();
  const f = features?.itemFeatures;
  const textCols = f ? Object.keys(f.text) : [];
  const titleCol = textCols.find((c) => TITLE_COLUMNS.includes(c)) ?? textCols[0];
  const captionCol = textCols.find((c) => c !== titleCol);
  const out: ItemMeta[] = [];
  for (let i = 0; i < served.items.size; i++) {
    const id = served.items.idOf(i);
    const meta: ItemMeta = { id, popularity: counts[i], categories: [] };
    const j = f && features ? features.items.indexOf(id) : -1;
    if (f && j >= 0) {
      if (titleCol && f.text[titleCol][j]) meta.title = f.text[titleCol][j];
      if (captionCol && f.text[captionCol][j]) meta.caption = f.text[captionCol][j];
      for (const c of Object.values(f.categorical)) if (c.codes[j] >= 0) meta.categories.push(c.names[c.codes[j]]);
      for (const m of Object.values(f.multiHot)) for (let p = m.ptr[j]; p < m.ptr[j + 1]; p++) meta.categories.push(m.names[m.idx[p]]);
    }
    out.push(meta);
  }
  return out;
}

/** A 2-D projection of item vectors. */
export interface Projection {
  x: Float64Array;
  y: Float64Array;
  /** Share of the total variance on each of the two axes. */
  explained: [number, number];
}

/**
 * The first two principal components of the rows of `m` (rows centred; eigenvectors of the cols×cols
 * covariance, so the cost is rows·cols² — fine for the tens to hundreds of factors of a model). Component signs
 * are fixed so that the largest-magnitude coordinate of each eigenvector is positive (deterministic maps).
 */
export function pca2(m: DenseMatrix): Projection {
  const { rows, cols, data } = m;
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += data[r * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= Math.max(1, rows);
  const cov = new Float64Array(cols * cols);
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) row[c] = data[r * cols + c] - mean[c];
    for (let a = 0; a < cols; a++) {
      const va = row[a];
      if (va === 0) continue;
      for (let b = a; b < cols; b++) cov[a * cols + b] += va * row[b];
    }
  }
  for (let a = 0; a < cols; a++) for (let b = a; b < cols; b++) cov[b * cols + a] = cov[a * cols + b] /= Math.max(1, rows - 1);
  const { values, vectors } = symmetricEigen(cov, cols);
  const total = values.reduce((s, v) => s + Math.max(0, v), 0);
  const axis = (k: number): Float64Array => {
    const v = Float64Array.from({ length: cols }, (_, c) => (k < cols ? vectors[c * cols + k] : 0));
    let big = 0;
    for (let c = 0; c < cols; c++) if (Math.abs(v[c]) > Math.abs(v[big])) big = c;
    if (v[big] < 0) for (let c = 0; c < cols; c++) v[c] = -v[c];
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += (data[r * cols + c] - mean[c]) * v[c];
      out[r] = s;
    }
    return out;
  };
  const share = (k: number): number => (total > 0 && k < cols ? Math.max(0, values[k]) / total : 0);
  return { x: axis(0), y: axis(1), explained: [share(0), share(1)] };
}

/**
 * The served model's training matrix as a data set (for the EDA when the model records no registry data set):
 * no side features; the cleaning report is the one the model recorded at training time, when any.
 */
export function trainingDataset(served: ServedModel): LoadedDataset {
  const cleaning = served.manifest.provenance.cleaning;
  const recorded = typeof cleaning === 'object' && cleaning !== null && 'rowsRead' in cleaning && 'issues' in cleaning;
  const input = typeof served.manifest.provenance.input === 'string' ? ` (${served.manifest.provenance.input})` : '';
  return {
    name: `training matrix of ${served.version}`,
    description: `the ${served.train.nUsers} users × ${served.train.nItems} items the model was trained on${input}`,
    valueKind: 'numeric',
    interactions: served.train,
    eventColumns: {},
    report: recorded
      ? (cleaning as LoadedDataset['report'])
      : { files: [], rowsRead: served.train.nnz, rowsKept: served.train.nnz, duplicates: { policy: 'last', merged: 0, pairs: 0 }, issues: [], notes: ['the model records no cleaning report (it was not trained by `recsys train`)'] },
  };
}
