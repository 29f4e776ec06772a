/**
 * In-batch sampled softmax (Yi et al. 2019): for B (user, positive item) pairs with tower outputs U (B × d) and
 * V (B × d), logits s_ij = u_i·v_j / τ − log q_j, where q_j is the probability that item j is sampled into a batch
 * (log-q correction), and row i's label is column i. Columns holding the same item as row i's positive (j ≠ i) are
 * masked. Loss: mean_i (logsumexp_j s_ij − s_ii). Both products go through `Kernels.gemm`.
 */
import type { DenseMatrix, Kernels } from '../../linalg/api.js';
import { MatrixBuffer } from '../tensor.js';

/** Inputs of {@link InBatchSoftmax.compute}. */
export interface InBatchSoftmaxInput {
  /** Query (user) tower outputs, B × d. */
  users: DenseMatrix;
  /** Candidate (item) tower outputs, B × d; row i is row i's positive. */
  items: DenseMatrix;
  /** Item id of each row, used to mask accidental positives (optional). */
  itemIds?: Int32Array;
  /** log q_j per row (optional; omitted = no correction). */
  logQ?: Float32Array;
  /** Temperature τ (default 1). */
  temperature?: number;
}

/** Loss and gradients for both towers. */
export interface InBatchSoftmaxResult {
  loss: number;
  gradUsers: DenseMatrix;
  gradItems: DenseMatrix;
}

/** Reusable in-batch softmax (owns its logit and gradient buffers). */
export class InBatchSoftmax {
  private readonly logits: MatrixBuffer;
  private readonly gu: MatrixBuffer;
  private readonly gv: MatrixBuffer;

  constructor(private readonly kernels: Kernels) {
    this.logits = new MatrixBuffer(kernels);
    this.gu = new MatrixBuffer(kernels);
    this.gv = new MatrixBuffer(kernels);
  }

  /** Loss, dL/dU and dL/dV (the gradients stay valid until the next call). */
  async compute(input: InBatchSoftmaxInput): Promise<InBatchSoftmaxResult> {
    const { users, items, itemIds, logQ } = input;
    const tau = input.temperature ?? 1;
    const b = users.rows;
    if (items.rows !== b || items.cols !== users.cols) throw new RangeError(`in-batch softmax: users ${b}×${users.cols} vs items ${items.rows}×${items.cols}`);
    const s = this.logits.get(b, b);
    await this.kernels.gemm(users, items, { transB: true, alpha: 1 / tau, c: s });
    const z = s.data;
    let total = 0;
    for (let i = 0; i < b; i++) {
      const o = i * b;
      let max = -Infinity;
      for (let j = 0; j < b; j++) {
        let v = z[o + j];
        if (logQ) v -= logQ[j];
        if (itemIds && j !== i && itemIds[j] === itemIds[i]) v = -Infinity;
        z[o + j] = v;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let j = 0; j < b; j++) {
        const e = Math.exp(z[o + j] - max);
        z[o + j] = e;
        sum += e;
      }
      const pos = z[o + i];
      total += -Math.log(pos / sum);
      // z becomes dL/ds = (softmax − onehot) / B, pre-scaled by 1/τ for the two products below.
      const scale = 1 / (sum * b * tau);
      for (let j = 0; j < b; j++) z[o + j] *= scale;
      z[o + i] -= 1 / (b * tau);
    }
    const gu = this.gu.get(b, users.cols);
    const gv = this.gv.get(b, users.cols);
    await this.kernels.gemm(s, items, { c: gu });
    await this.kernels.gemm(s, users, { transA: true, c: gv });
    return { loss: total / b, gradUsers: gu, gradItems: gv };
  }
}
