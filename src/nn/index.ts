/**
 * The training core: layers with forward and backward passes, losses, optimizers, batching, the training loop
 * (epochs, validation holdout, early stopping) and seeded randomness. All matrix products go through the kernel
 * layer (`src/linalg`). See docs/nn.md.
 */
export { Rng } from '../core/rng.js';
export { Param, MatrixBuffer, copyToKernel } from './tensor.js';
export { glorotUniform, normalInit, smallNormalInit } from './init.js';
export type { Layer } from './layers/layer.js';
export { Sequential } from './layers/layer.js';
export { Linear, addColumnSums, type LinearOptions } from './layers/linear.js';
export { SparseLinear, compactTranspose } from './layers/sparse-linear.js';
export { Embedding } from './layers/embedding.js';
export { EmbeddingBag, type Bags, type BagMode } from './layers/embedding-bag.js';
export { Activation, sigmoid, type ActivationKind } from './layers/activations.js';
export { Dropout, dropoutCsr } from './layers/dropout.js';
export { L2Normalize, l2NormalizeCsr } from './layers/l2-normalize.js';
export { Concat } from './layers/concat.js';
export { Reparameterize } from './layers/reparameterize.js';
export type { LossResult } from './losses/loss.js';
export { bceWithLogits } from './losses/bce.js';
export { mse } from './losses/mse.js';
export { multinomialNll } from './losses/multinomial.js';
export { gaussianKl } from './losses/gaussian-kl.js';
export { bpr, type BprResult } from './losses/bpr.js';
export { InBatchSoftmax, type InBatchSoftmaxInput, type InBatchSoftmaxResult } from './losses/sampled-softmax.js';
export { Sgd, Adam, Adagrad, makeOptimizer, OPTIMIZER_NAMES, type Optimizer, type OptimizerName, type OptimizerOptions } from './optimizers.js';
export { miniBatches, gatherCsrRows } from './batches.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
export { trainEpochs, holdoutSplit, HOLDOUT_ENTRY_SHARE, HOLDOUT_MIN_ENTRIES, type Holdout, type TrainingHistory, type TrainOptions, type Validation } from './trainer.js';
export { TrackedKernels } from './tracked-kernels.js';
