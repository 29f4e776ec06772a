/**
 * BPR-MF (Rendle et al. 2009): pairwise ranking by SGD on ln σ(x̂_ui − x̂_uj) with item biases, negatives drawn
 * uniformly with positives rejected, learning rate decayed per epoch (lr·decay^epoch). Each epoch is the kernel
 * layer's `bprEpoch`: `threads` sampling chunks (one with `threads: 1`, then deterministic), Hogwild across the
 * kernel pool's workers (lock-free; the rare conflicting writes are tolerated), with negatives tested against a
 * users × items bitmap when it takes at most 64 MiB (binary search in the row otherwise).
 */
import { availableParallelism } from 'node:os';
import type { Interactions } from '../data/interactions.js';
import { bprBitmapWords, fillBprBitmap } from '../linalg/api.js';
import { Rng } from '../core/rng.js';
import { readParams } from './base.js';
import { FactorRecommender } from './factor-model.js';
import { SharedCopies, userItemCsr } from './matrices.js';
import { requireAtLeast, requireInt, resolveParams } from './params.js';
import type { FitOptions } from './recommender.js';
import { throwIfAborted } from './recommender.js';
import type { ModelEntry } from './registry.js';

/** Hyperparameters of {@link BprRecommender}; `threads: 0` means all cores. */
export const BPR_DEFAULTS = { factors: 64, epochs: 100, lr: 0.05, lrDecay: 0.98, reg: 0.001, initStd: 0.01, threads: 0, seed: 42 };

/** Largest users × items membership bitmap (bits) the kernel path builds for negative sampling: 64 MiB. */
export const BPR_BITMAP_MAX_BITS = 2 ** 29;

/** BPR-MF; see the module comment. */
export class BprRecommender extends FactorRecommender {
  readonly name = 'bpr';
  readonly params: typeof BPR_DEFAULTS;

  constructor(params: Record<string, unknown> = {}) {
    super();
    const p = resolveParams('bpr', BPR_DEFAULTS, params);
    requireInt('bpr', 'factors', p.factors, 1);
    requireInt('bpr', 'epochs', p.epochs, 0);
    requireInt('bpr', 'threads', p.threads, 0);
    requireAtLeast('bpr', 'lr', p.lr, 0);
    requireAtLeast('bpr', 'lrDecay', p.lrDecay, 0);
    requireAtLeast('bpr', 'reg', p.reg, 0);
    this.params = p;
  }

  /** Epochs of nnz updates each; reports the mean ln σ(x) of each epoch. */
  async fit(train: Interactions, options: FitOptions = {}): Promise<void> {
    const p = this.params;
    if (train.nnz === 0) throw new Error('bpr: the training data has no entries');
    const f = p.factors;
    const threads = Math.max(1, Math.min(p.threads || availableParallelism(), 64));
    const rng = new Rng(p.seed);
    const userF = new Float32Array(train.nUsers * f);
    const itemF = new Float32Array(train.nItems * f);
    const itemB = new Float32Array(train.nItems);
    for (let j = 0; j < userF.length; j++) userF[j] = rng.normal() * p.initStd;
    for (let j = 0; j < itemF.length; j++) itemF[j] = rng.normal() * p.initStd;
    const kn = await this.kernels();
    const shared = new SharedCopies(kn);
    try {
      const users = shared.dense({ rows: train.nUsers, cols: f, data: userF });
      const items = shared.dense({ rows: train.nItems, cols: f, data: itemF });
      const bias = shared.dense({ rows: 1, cols: train.nItems, data: itemB }).data;
      const r = shared.csr(userItemCsr(train));
      const entryUser = kn.allocI32(train.nnz);
      const positives = train.nUsers * train.nItems <= BPR_BITMAP_MAX_BITS ? kn.allocI32(bprBitmapWords(train.nUsers, train.nItems)) : undefined;
      try {
        entryUser.set(train.rowIndices());
        if (positives) fillBprBitmap(r, positives);
        for (let ep = 0; ep < p.epochs; ep++) {
          throwIfAborted(options.signal);
          const lr = p.lr * Math.pow(p.lrDecay, ep);
          const { logLik, count } = await kn.bprEpoch({ r, entryUser, positives }, users, items, bias, { steps: train.nnz, lr, reg: p.reg, seed: rng.nextU32(), chunks: threads });
          options.onProgress?.({ phase: 'epoch', done: ep + 1, total: p.epochs, metrics: { logLik: count ? logLik / count : 0 } });
        }
      } finally {
        kn.free(entryUser);
        if (positives) kn.free(positives);
      }
      userF.set(users.data);
      itemF.set(items.data);
      itemB.set(bias);
    } finally {
      shared.release();
    }
    this.train = train;
    this.userFactors = { rows: train.nUsers, cols: f, data: userF };
    this.itemFactors = { rows: train.nItems, cols: f, data: itemF };
    this.itemBias = itemB;
    this.factorsChanged();
  }

  /** Restores a model saved with `save`. */
  static async load(dir: string): Promise<BprRecommender> {
    return new BprRecommender(await readParams(dir, 'bpr')).restoreFrom(dir);
  }
}

/** Registry entry of BPR-MF. */
export const bprEntry: ModelEntry = {
  name: 'bpr',
  description: 'BPR-MF: pairwise SGD with rejected-positive negative sampling, lr decay, Hogwild on the kernel pool',
  create: (params) => new BprRecommender(params),
  load: (dir) => BprRecommender.load(dir),
  defaults: { ...BPR_DEFAULTS },
};
