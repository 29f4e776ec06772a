/** The contract of a dense → dense layer of the training core. */
import type { DenseMatrix } from '../../linalg/api.js';
import type { Param } from '../tensor.js';

/**
 * A layer maps a batch (rows = examples) to a batch. `forward` caches what `backward` needs; `backward` takes
 * the loss gradient with respect to the output, ACCUMULATES parameter gradients into `Param.grad` and returns
 * the gradient with respect to the input. Returned matrices are owned by the layer and stay valid until its
 * next `forward` (outputs) or `backward` (input gradients).
 */
export interface Layer {
  /** Runs the layer; `training` enables dropout and noise. */
  forward(x: DenseMatrix, training: boolean): Promise<DenseMatrix>;
  /** Back-propagates `dy` (same shape as the last output). */
  backward(dy: DenseMatrix): Promise<DenseMatrix>;
  /** Trainable parameters (empty for parameter-free layers). */
  params(): Param[];
}

/** Layers applied one after another. */
export class Sequential implements Layer {
  constructor(readonly layers: Layer[]) {}

  /** Forward through every layer in order. */
  async forward(x: DenseMatrix, training: boolean): Promise<DenseMatrix> {
    let h = x;
    for (const l of this.layers) h = await l.forward(h, training);
    return h;
  }

  /** Backward through every layer in reverse order. */
  async backward(dy: DenseMatrix): Promise<DenseMatrix> {
    let g = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) g = await this.layers[i].backward(g);
    return g;
  }

  /** All parameters of all layers. */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }
}
