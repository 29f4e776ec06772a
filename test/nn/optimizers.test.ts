import { describe, expect, it } from 'vitest';
import { referenceKernels as K } from '../../src/linalg/index.js';
import { Adagrad, Adam, Sgd, makeOptimizer, type Optimizer } from '../../src/nn/optimizers.js';
import { Param } from '../../src/nn/tensor.js';

function param(values: number[], decay = true): Param {
  const p = new Param(K, 'w', 1, values.length, { decay });
  p.value.set(values);
  return p;
}

describe('optimizers: hand-computed steps', () => {
  it('SGD with momentum and weight decay', () => {
    const p = param([1, -2]);
    const opt = new Sgd({ lr: 0.1, momentum: 0.5, weightDecay: 0.1 });
    p.grad.set([1, 1]);
    opt.step([p]);
    // v = g + λw = [1.1, 0.8]; w = [1 − 0.11, −2 − 0.08]
    expect(Array.from(p.value)).toEqual([expect.closeTo(0.89, 6), expect.closeTo(-2.08, 6)]);
    expect(Array.from(p.grad)).toEqual([0, 0]);
    p.grad.set([1, 1]);
    opt.step([p]);
    // v = 0.5·[1.1, 0.8] + [1, 1] + 0.1·[0.89, −2.08] = [1.639, 1.192]
    expect(p.value[0]).toBeCloseTo(0.89 - 0.1639, 6);
    expect(p.value[1]).toBeCloseTo(-2.08 - 0.1192, 6);
  });

  it('Adam: first step moves each weight by lr against the gradient sign; bias params skip decay', () => {
    const p = param([1, 1]);
    const b = param([1], false);
    const opt = new Adam({ lr: 0.01, weightDecay: 0.5, decoupled: true });
    p.grad.set([3, -0.001]);
    b.grad.set([2]);
    opt.step([p, b]);
    // AdamW: w·(1 − lr·λ) − lr·m̂/(√v̂ + ε) with m̂/√v̂ = sign(g).
    expect(p.value[0]).toBeCloseTo(1 * (1 - 0.005) - 0.01, 5);
    expect(p.value[1]).toBeCloseTo(1 * (1 - 0.005) + 0.01, 4);
    expect(b.value[0]).toBeCloseTo(1 - 0.01, 6);
  });

  it('Adagrad accumulates squared gradients', () => {
    const p = param([0]);
    const opt = new Adagrad({ lr: 1 });
    p.grad.set([2]);
    opt.step([p]);
    expect(p.value[0]).toBeCloseTo(-1, 6);
    p.grad.set([2]);
    opt.step([p]);
    expect(p.value[0]).toBeCloseTo(-1 - 2 / Math.sqrt(8), 6);
  });

  for (const name of ['sgd', 'adam', 'adamw', 'adagrad'] as const) {
    it(`${name} minimizes an ill-conditioned quadratic`, () => {
      const p = param([3, -4]);
      const opt: Optimizer = makeOptimizer(name, name === 'sgd' ? 0.05 : name === 'adagrad' ? 1 : 0.1);
      const f = (): number => p.value[0] ** 2 + 10 * p.value[1] ** 2;
      const start = f();
      for (let t = 0; t < 300; t++) {
        p.grad.set([2 * p.value[0], 20 * p.value[1]]);
        opt.step([p]);
      }
      expect(f()).toBeLessThan(start * 1e-3);
    });
  }

  it('row-sparse params: only touched rows move, and they move exactly as a dense param would', () => {
    for (const name of ['sgd', 'adam', 'adagrad'] as const) {
      const sparse = new Param(K, 't', 3, 2, { sparse: true });
      const dense = new Param(K, 't', 1, 2);
      sparse.value.set([1, 2, 3, 4, 5, 6]);
      dense.value.set([3, 4]);
      const a = makeOptimizer(name, 0.1, 0.01);
      const b = makeOptimizer(name, 0.1, 0.01);
      for (let t = 0; t < 3; t++) {
        sparse.grad.set([0.5, -1], 2);
        sparse.markRow(1);
        dense.grad.set([0.5, -1]);
        a.step([sparse]);
        b.step([dense]);
      }
      expect(Array.from(sparse.value.subarray(0, 2))).toEqual([1, 2]);
      expect(Array.from(sparse.value.subarray(4, 6))).toEqual([5, 6]);
      expect(Array.from(sparse.value.subarray(2, 4))).toEqual(Array.from(dense.value));
      expect(Array.from(sparse.grad)).toEqual([0, 0, 0, 0, 0, 0]);
      expect(sparse.touchedRows().length).toBe(0);
    }
  });

  it('rejects unknown names', () => {
    expect(() => makeOptimizer('lbfgs' as never, 1)).toThrow(/unknown optimizer "lbfgs"/);
  });
});

describe('Adam.stepAsync (through Kernels.adamStep) matches step', () => {
  for (const decoupled of [false, true]) {
    it(`dense and sparse params, 3 steps, decoupled=${decoupled}`, async () => {
      const make = (): Param[] => {
        const w = new Param(K, 'w', 3, 5);
        const b = new Param(K, 'b', 1, 5, { decay: false });
        const e = new Param(K, 'e', 4, 5, { sparse: true });
        [w, b, e].forEach((p, i) => p.value.forEach((_, j) => (p.value[j] = Math.sin(i * 31 + j))));
        return [w, b, e];
      };
      const a = make();
      const s = make();
      const optA = new Adam({ lr: 0.01, weightDecay: 0.1, decoupled });
      const optS = new Adam({ lr: 0.01, weightDecay: 0.1, decoupled });
      for (let t = 0; t < 3; t++) {
        for (const ps of [a, s]) {
          ps.forEach((p, i) => p.grad.forEach((_, j) => (p.grad[j] = Math.cos(t * 7 + i * 3 + j))));
          ps[2].markRow(t % 4);
        }
        optS.step(s);
        await optA.stepAsync(a);
      }
      a.forEach((p, i) => {
        expect(Array.from(p.value)).toEqual(Array.from(s[i].value));
        expect(Array.from(p.grad)).toEqual(Array.from(s[i].grad));
        if (!p.sparse) expect(p.grad.every((x) => x === 0)).toBe(true);
      });
    });
  }
});

describe('stepAsync of every optimizer matches step', () => {
  for (const name of ['sgd', 'adam', 'adamw', 'adagrad'] as const) {
    it(name, async () => {
      const make = (): Param[] => {
        const w = new Param(K, 'w', 2, 3);
        const e = new Param(K, 'e', 3, 3, { sparse: true });
        w.value.set([1, -2, 3, 0.5, 0, -1]);
        e.value.set([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        return [w, e];
      };
      const a = make();
      const s = make();
      const optA = makeOptimizer(name, 0.05, 0.01);
      const optS = makeOptimizer(name, 0.05, 0.01);
      for (let t = 0; t < 4; t++) {
        for (const ps of [a, s]) {
          ps[0].grad.forEach((_, j) => (ps[0].grad[j] = Math.sin(t + j)));
          ps[1].grad.fill(0.25, 3 * (t % 3), 3 * (t % 3) + 3);
          ps[1].markRow(t % 3);
        }
        optS.step(s);
        await optA.stepAsync(a);
      }
      a.forEach((p, i) => expect(Array.from(p.value)).toEqual(Array.from(s[i].value)));
      expect(Array.from(a[0].value)).not.toEqual([1, -2, 3, 0.5, 0, -1]);
    });
  }
});
