/**
 * Optimizers over {@link Param}s: SGD with momentum, Adam (optionally decoupled weight decay, AdamW) and Adagrad.
 * `step` applies the accumulated gradients and then clears them. Weight decay skips params made with
 * `decay: false` (biases). Row-sparse params (embedding tables) get lazy updates: only the rows touched since the
 * last step change, and their optimizer state only advances on those steps.
 */
import { adamConstants, adamRange } from '../linalg/adam.js';
import type { AdamStepOptions } from '../linalg/api.js';
import type { Param } from './tensor.js';

/** Updates parameters from their gradients. */
export interface Optimizer {
  /** Learning rate (may be changed between steps). */
  lr: number;
  /** Applies one update to every param and zeroes the gradients. */
  step(params: Param[]): void;
  /**
   * The same update, through the params' kernels where the optimizer has a kernel (Adam: `Kernels.adamStep` on the
   * worker threads for dense params); otherwise as {@link step}. Do not mix with `step` on the same params.
   */
  stepAsync(params: Param[]): Promise<void>;
  /** Serializable hyperparameters (for model.json). */
  describe(): Record<string, number | string | boolean>;
}

/** Options common to all optimizers. */
export interface OptimizerOptions {
  lr: number;
  /** L2 penalty λ: adds λ·w to the gradient (Adam with `decoupled` subtracts lr·λ·w instead). */
  weightDecay?: number;
}

/** Calls `f(start, end)` over the whole param, or over each touched row of a sparse param. */
function forEachRange(p: Param, f: (start: number, end: number) => void): void {
  if (!p.sparse) return f(0, p.size);
  for (const r of p.touchedRows()) f(r * p.cols, (r + 1) * p.cols);
}

/** Zeroes the gradient (only the touched rows of a sparse param). */
function clearGrad(p: Param): void {
  if (p.sparse) p.clearRows();
  else p.grad.fill(0);
}

/** Per-param optimizer state arrays, created on first use. */
class StateTable {
  private readonly states = new Map<Param, Float32Array[]>();
  constructor(private readonly slots: number, private readonly initial = 0) {}
  /** The state of `p`; with `kernelMemory`, first created in the param's kernel memory (zero-copy kernel calls). */
  get(p: Param, kernelMemory = false): Float32Array[] {
    let s = this.states.get(p);
    if (!s) {
      s = Array.from({ length: this.slots }, () => (kernelMemory ? p.kernels.allocF32(p.size) : new Float32Array(p.size)).fill(this.initial));
      this.states.set(p, s);
    }
    return s;
  }
}

/** Stochastic gradient descent: v = μv + g; w −= lr·v. */
export class Sgd implements Optimizer {
  lr: number;
  private readonly momentum: number;
  private readonly weightDecay: number;
  private readonly state = new StateTable(1);

  constructor(options: OptimizerOptions & { momentum?: number }) {
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
  }

  /** One step. */
  step(params: Param[]): void {
    for (const p of params) {
      const w = p.value;
      const g = p.grad;
      const wd = p.decay ? this.weightDecay : 0;
      const v = this.momentum === 0 ? null : this.state.get(p)[0];
      forEachRange(p, (a, b) => {
        if (!v) {
          for (let i = a; i < b; i++) w[i] -= this.lr * (g[i] + wd * w[i]);
          return;
        }
        for (let i = a; i < b; i++) {
          v[i] = this.momentum * v[i] + g[i] + wd * w[i];
          w[i] -= this.lr * v[i];
        }
      });
      clearGrad(p);
    }
  }

  /** As {@link step} (no kernel). */
  async stepAsync(params: Param[]): Promise<void> {
    this.step(params);
  }

  /** Hyperparameters. */
  describe(): Record<string, number | string> {
    return { type: 'sgd', lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay };
  }
}

/** Adam (Kingma & Ba) with bias correction; `decoupled` turns weight decay into AdamW's. */
export class Adam implements Optimizer {
  lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly decoupled: boolean;
  private readonly state = new StateTable(2);
  private t = 0;

  constructor(options: OptimizerOptions & { beta1?: number; beta2?: number; eps?: number; decoupled?: boolean }) {
    this.lr = options.lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.decoupled = options.decoupled ?? false;
  }

  /** One step (the step counter is shared by all params), in float64 by the reference kernel's loop. */
  step(params: Param[]): void {
    this.t++;
    for (const p of params) {
      const [m, v] = this.state.get(p);
      const c = adamConstants(this.options(p, this.t));
      forEachRange(p, (a, b) => adamRange(p.value, p.grad, m, v, a, b, c, this.beta1, this.beta2, this.eps));
      clearGrad(p);
    }
  }

  /**
   * One step with `Kernels.adamStep` for dense params; row-sparse params as in {@link step} (the kernel updates
   * whole arrays, they need lazy row updates).
   */
  async stepAsync(params: Param[]): Promise<void> {
    const sparse: Param[] = [];
    const t = this.t + 1;
    for (const p of params) {
      if (p.sparse) {
        sparse.push(p);
        continue;
      }
      const [m, v] = this.state.get(p, true);
      await p.kernels.adamStep(p.value, p.grad, m, v, { ...this.options(p, t), clearGrad: true });
    }
    // step() advances t itself; without sparse params, advance it here.
    if (sparse.length > 0) this.step(sparse);
    else this.t = t;
  }

  /** The kernel options of step `t` for `p` (biases skip weight decay). */
  private options(p: Param, t: number): AdamStepOptions {
    return { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, step: t, weightDecay: p.decay ? this.weightDecay : 0, decoupled: this.decoupled };
  }

  /** Hyperparameters. */
  describe(): Record<string, number | string | boolean> {
    return { type: 'adam', lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled };
  }
}

/** Adagrad: a += g²; w −= lr·g/(√a + ε). */
export class Adagrad implements Optimizer {
  lr: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly state: StateTable;

  constructor(options: OptimizerOptions & { eps?: number; initialAccumulator?: number }) {
    this.lr = options.lr;
    this.eps = options.eps ?? 1e-10;
    this.weightDecay = options.weightDecay ?? 0;
    this.state = new StateTable(1, options.initialAccumulator ?? 0);
  }

  /** One step. */
  step(params: Param[]): void {
    for (const p of params) {
      const w = p.value;
      const g = p.grad;
      const wd = p.decay ? this.weightDecay : 0;
      const [a] = this.state.get(p);
      forEachRange(p, (lo, hi) => {
        for (let i = lo; i < hi; i++) {
          const gi = g[i] + wd * w[i];
          a[i] += gi * gi;
          w[i] -= (this.lr * gi) / (Math.sqrt(a[i]) + this.eps);
        }
      });
      clearGrad(p);
    }
  }

  /** As {@link step} (no kernel). */
  async stepAsync(params: Param[]): Promise<void> {
    this.step(params);
  }

  /** Hyperparameters. */
  describe(): Record<string, number | string> {
    return { type: 'adagrad', lr: this.lr, eps: this.eps, weightDecay: this.weightDecay };
  }
}

/** Optimizer names accepted by {@link makeOptimizer}. */
/** The optimizers {@link makeOptimizer} builds, by name. */
export const OPTIMIZER_NAMES = ['adam', 'adamw', 'sgd', 'adagrad'] as const;

/** An optimizer's name. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** Builds an optimizer by name (model hyperparameters use this). */
export function makeOptimizer(name: OptimizerName, lr: number, weightDecay = 0, momentum = 0.9): Optimizer {
  switch (name) {
    case 'sgd':
      return new Sgd({ lr, weightDecay, momentum });
    case 'adam':
      return new Adam({ lr, weightDecay });
    case 'adamw':
      return new Adam({ lr, weightDecay, decoupled: true });
    case 'adagrad':
      return new Adagrad({ lr, weightDecay });
    default:
      throw new Error(`unknown optimizer "${String(name)}"; known: sgd, adam, adamw, adagrad`);
  }
}
