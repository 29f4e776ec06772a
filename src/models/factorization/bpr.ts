/**
 * BPR-MF (Rendle et al. 2009): pairwise ranking by SGD on ln σ(x̂_ui − x̂_uj) with item biases, negatives drawn
 * uniformly with positives rejected, learning rate decayed per epoch (lr·decay^epoch). Each epoch is the kernel
 * layer's `bprEpoch`: `threads` sampling chunks (one with `threads: 1`, then deterministic), Hogwild across the
 * kernel pool's workers (lock-free; the rare conflicting writes are tolerated), with negatives tested against a
 * users × items bitmap when it takes at most 64 MiB (binary search in the row otherwise).
 */
import { availableParallelism } from 'node:os';
import type { Interactions } from '../../data/interactions.js';
import { bprBitmapWords, fillBprBitmap } from '../../linalg/api.js';
import { defineParams, int, num, type ParamsOf } from '../../core/params.js';
import { checkpoint, type FitOptions } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { SharedCopies, userItemCsr } from '../matrices.js';
import { defineModel } from '../registry.js';
import type { StateReader, StoredState } from '../skeleton.js';
import { FactorModel, type FactorState } from './factor-model.js';

/** Hyperparameters of {@link BprRecommender}. */
export const BPR_PARAMS = defineParams({
  factors: int(64, { min: 1, doc: 'latent dimensions' }),
  epochs: int(100, { min: 0, doc: 'passes of nnz sampled updates' }),
  lr: num(0.05, { min: 0, doc: 'learning rate of the first epoch' }),
  lrDecay: num(0.98, { min: 0, doc: 'the learning rate of epoch e is lr·lrDecay^e' }),
  reg: num(0.03, { min: 0, doc: 'λ of the L2 penalty on the updated rows (0.03: chosen on validation NDCG@10, MovieLens 100K, RecBole protocol)' }),
  initStd: num(0.01, { min: 0, doc: 'standard deviation of the initial factors' }),
  threads: int(1, { min: 0, doc: 'Hogwild sampling chunks on the kernel pool (1 = deterministic and the better ranking on MovieLens 100K; 0 = all cores, at most 64)' }),
  seed: int(42, { doc: 'seed of the initial factors and of the sampling streams' }),
});

/** Typed hyperparameters of {@link BprRecommender}. */
export type BprParams = ParamsOf<typeof BPR_PARAMS>;

/** Largest users × items membership bitmap (bits) the kernel path builds for negative sampling: 64 MiB. */
export const BPR_BITMAP_MAX_BITS = 2 ** 29;

/** BPR-MF; see the module comment. */
export class BprRecommender extends FactorModel<BprParams, FactorState> {
  readonly name = 'bpr';

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(BPR_PARAMS.parse('bpr', params));
  }

  /** Epochs of nnz updates each; reports the mean ln σ(x) of each epoch. */
  protected async fitState(train: Interactions, options: FitOptions): Promise<FactorState> {
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
        let best: { user: Float32Array; item: Float32Array; bias: Float32Array } | null = null;
        for (let ep = 0; ep < p.epochs; ep++) {
          await checkpoint(options.signal);
          const lr = p.lr * Math.pow(p.lrDecay, ep);
          const { logLik, count } = await kn.bprEpoch({ r, entryUser, positives }, users, items, bias, { steps: train.nnz, lr, reg: p.reg, seed: rng.nextU32(), chunks: threads });
          options.onProgress?.({ phase: 'epoch', done: ep + 1, total: p.epochs, metrics: { logLik: count ? logLik / count : 0 } });
          if (options.validation) {
            const state: FactorState = { user: users, item: items, itemBias: bias };
            const verdict = await options.validation.check(ep + 1, (u, k) => this.recommendWith(state, train, u, k, {}));
            if (verdict.best) best = { user: users.data.slice(), item: items.data.slice(), bias: bias.slice() };
            if (verdict.stop) break;
          }
        }
        userF.set(best?.user ?? users.data);
        itemF.set(best?.item ?? items.data);
        itemB.set(best?.bias ?? bias);
      } finally {
        kn.free(entryUser);
        if (positives) kn.free(positives);
      }
    } finally {
      shared.release();
    }
    return { user: { rows: train.nUsers, cols: f, data: userF }, item: { rows: train.nItems, cols: f, data: itemF }, itemBias: itemB };
  }

  protected exportState(state: FactorState): StoredState {
    return this.factorArrays(state);
  }

  protected importState(saved: StateReader, train: Interactions): FactorState {
    const s = this.readFactors(saved, train);
    if (!s.itemBias) throw new Error(`${saved.file}: array "itemBias" is missing`);
    return s;
  }
}

/** Registry entry of BPR-MF. */
export const bprModel = defineModel({
  name: 'bpr',
  description: 'BPR-MF: pairwise SGD with rejected-positive negative sampling, lr decay, Hogwild on the kernel pool',
  params: BPR_PARAMS,
  create: (p) => new BprRecommender(p),
});
