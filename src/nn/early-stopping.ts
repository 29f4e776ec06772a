/**
 * Early stopping on a validation metric: remembers the best value and a copy of the weights at that point, and
 * says when `patience` evaluations passed without improvement.
 */
import type { Param } from './tensor.js';

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** Evaluations without improvement before stopping. */
  patience: number;
  /** 'max' for metrics like NDCG, 'min' for losses (default 'max'). */
  mode?: 'max' | 'min';
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
}

/** Tracks the best validation value and weights. */
export class EarlyStopping {
  /** Best value so far (−∞/+∞ before the first report). */
  best: number;
  /** Evaluation index (0-based) of the best value, −1 before the first. */
  bestIndex = -1;
  private evaluations = 0;
  private snapshot: Float32Array[] | null = null;
  private readonly sign: number;

  constructor(private readonly options: EarlyStoppingOptions) {
    this.sign = (options.mode ?? 'max') === 'max' ? 1 : -1;
    this.best = -this.sign * Infinity;
  }

  /** Records a validation value; snapshots `params` if it is the best so far. Returns true when training should stop. */
  report(value: number, params: Param[]): boolean {
    const idx = this.evaluations++;
    if (Number.isFinite(value) && this.sign * (value - this.best) > (this.options.minDelta ?? 0)) {
      this.best = value;
      this.bestIndex = idx;
      this.snapshot = params.map((p) => p.value.slice());
    }
    return idx - this.bestIndex >= this.options.patience;
  }

  /** Copies the best weights back into `params` (no-op when nothing was recorded). */
  restore(params: Param[]): void {
    if (!this.snapshot) return;
    if (this.snapshot.length !== params.length) throw new Error('early stopping: parameter list changed since the snapshot');
    params.forEach((p, i) => p.value.set(this.snapshot![i]));
  }
}
