/**
 * The inner-product view of a model: models whose ranking score is user vector · item vector (+ item bias)
 * expose item vectors (the latent-factor models' `itemFactors` / `itemBias`, the two-tower model's
 * `itemEmbeddings()`), and this module reads them without knowing the model's type. Retrieval on these vectors
 * (exact or HNSW) then ranks exactly as the model does, and exploration can perturb the user vector.
 */
import type { DenseMatrix, Kernels } from '../linalg/api.js';
import { getKernels } from '../linalg/index.js';
import type { History, Recommender } from '../models/contract.js';

/** A model's scores as inner products. */
export interface VectorSpace {
  /** Items × dims. */
  items: DenseMatrix;
  /** Added to every item's score, or null. */
  itemBias: Float32Array | null;
  /** The vector of a training user. */
  user(userIndex: number): Promise<Float32Array>;
  /** The vector of an unseen user's history, when the model can fold one in. */
  history: ((h: History) => Promise<Float32Array>) | null;
}

/**
 * The model's vector space, or null when its scores are not inner products of stored vectors (EASE, item-KNN,
 * autoencoders, popularity: retrieve from those with their own `recommend`).
 */
export async function vectorSpaceOf(model: Recommender): Promise<VectorSpace | null> {
  const history = typeof model.foldIn === 'function' ? model.foldIn.bind(model) : null;
  if ('itemFactors' in model && 'userFactors' in model) {
    const items = denseOrNull(model.itemFactors);
    const users = denseOrNull(model.userFactors);
    if (!items || !users) return null;
    const bias = 'itemBias' in model && model.itemBias instanceof Float32Array ? model.itemBias : null;
    const f = users.cols;
    return { items, itemBias: bias, history, user: (u) => Promise.resolve(rowOf(users, u, f)) };
  }
  if ('itemEmbeddings' in model && typeof model.itemEmbeddings === 'function' && 'userEmbeddings' in model && typeof model.userEmbeddings === 'function') {
    const itemEmbeddings: () => Promise<unknown> = model.itemEmbeddings.bind(model);
    const userEmbeddings: (u: Int32Array) => Promise<unknown> = model.userEmbeddings.bind(model);
    const items = denseOrNull(await itemEmbeddings());
    if (!items) return null;
    return {
      items,
      itemBias: null,
      history,
      user: async (u) => {
        const m = denseOrNull(await userEmbeddings(Int32Array.of(u)));
        if (!m) throw new Error(`${model.name}: userEmbeddings returned no matrix`);
        const row = m.data.slice(0, m.cols);
        releaseKernelCopy(await getKernels(), m.data);
        return row;
      },
    };
  }
  return null;
}

function rowOf(m: DenseMatrix, r: number, f: number): Float32Array {
  if (!(Number.isInteger(r) && r >= 0 && r < m.rows)) throw new RangeError(`user index ${r} outside [0, ${m.rows})`);
  return m.data.slice(r * f, r * f + f);
}

/** `v` when it is a dense matrix (rows, cols, Float32Array data of at least rows·cols). */
function denseOrNull(v: unknown): DenseMatrix | null {
  if (typeof v !== 'object' || v === null) return null;
  if (!('rows' in v && 'cols' in v && 'data' in v)) return null;
  const { rows, cols, data } = v;
  if (typeof rows !== 'number' || typeof cols !== 'number' || !(data instanceof Float32Array) || data.length < rows * cols) return null;
  return { rows, cols, data };
}

/**
 * Frees a matrix a model returned in kernel memory (the two-tower model's `userEmbeddings` hands out a kernel
 * copy). `free` checks that the block belongs to these kernels; an array from elsewhere (a model on its own
 * kernels, or plain memory) is left to its owner.
 */
function releaseKernelCopy(kn: Kernels, data: Float32Array): void {
  try {
    kn.free(data);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
  }
}
