import { describe, expect, it } from 'vitest';
import type { Kernels } from '../../src/linalg/api.js';
import { ReferenceKernels, referenceKernels } from '../../src/linalg/reference.js';
import { TrackedKernels } from '../../src/nn/tracked-kernels.js';

describe('TrackedKernels', () => {
  it('forwards every kernel method to the same method of its base, with the same arguments and result', () => {
    const methods = Object.getOwnPropertyNames(ReferenceKernels.prototype).filter((m) => m !== 'constructor' && m !== 'close');
    expect(methods).toEqual(expect.arrayContaining(['gemm', 'sparseGram', 'adamStep', 'multinomialNll', 'dropoutCsr', 'tanh', 'bprEpoch', 'axpy']));
    const calls: { method: string; args: unknown[] }[] = [];
    const base: Kernels = new Proxy(referenceKernels, {
      get(target, prop) {
        if (typeof prop === 'string' && methods.includes(prop)) {
          return (...args: unknown[]) => {
            calls.push({ method: prop, args });
            return `result of ${prop}`;
          };
        }
        return Reflect.get(target, prop);
      },
    });
    const tracked = new TrackedKernels(base);
    for (const method of methods) {
      const fn: unknown = Reflect.get(tracked, method);
      expect(typeof fn, method).toBe('function');
      if (typeof fn !== 'function') continue;
      const args = [{ arg: 1 }, { arg: 2 }, { arg: 3 }, { arg: 4 }, { arg: 5 }];
      calls.length = 0;
      const result: unknown = method === 'free' ? undefined : fn.apply(tracked, args.slice(0, fn.length || 5));
      if (method === 'free') {
        fn.call(tracked, args[0]);
        expect(calls).toEqual([{ method: 'free', args: [args[0]] }]);
        continue;
      }
      expect(calls.map((c) => c.method), method).toEqual([method]);
      calls[0].args.forEach((a, i) => expect(a, `${method} argument ${i}`).toBe(args[i]));
      expect(result, method).toBe(`result of ${method}`);
    }
  });
});
