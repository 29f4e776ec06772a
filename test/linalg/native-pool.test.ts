// The native thread pool's synchronisation and the GEMM's shared-panel schedule: workers that spin, that sleep
// after every job, or that went to sleep between calls all complete every job; several JavaScript callers on
// several pools at once, small, joined and async calls interleaved, get the 1-thread bits; every GEMM shape class
// (one or several k panels, one or several column blocks, transposes, alpha/beta, the static fallback for a large
// op(B)) gives the same bits on 1 and 2 threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DenseMatrix, GemmOptions } from '../../src/linalg/api.js';
import { loadNativeAddon, type NativePool } from '../../src/linalg/native-addon.js';
import { NATIVE_PARALLEL_MIN_WORK, NATIVE_SYNC_MAX_WORK, NativeKernels } from '../../src/linalg/native.js';
import { referenceKernels as R } from '../../src/linalg/reference.js';
import { randomDense, relError, rng, sameBits } from './helpers.js';
import { BACKENDS } from './setup.js';

const skip = BACKENDS[1].skip;

/** Native kernels on `threads` threads whose workers spin `spinMicros` µs after a job. */
function kernels(threads: number, spinMicros?: number): NativeKernels {
  return withPool(threads, spinMicros).kernels;
}

function withPool(threads: number, spinMicros?: number): { kernels: NativeKernels; pool: NativePool } {
  const addon = loadNativeAddon();
  const pool = addon.createPool(threads, spinMicros);
  return { kernels: new NativeKernels(addon, pool, threads, addon.info()), pool };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Case {
  name: string;
  a: DenseMatrix;
  b: DenseMatrix;
  options: GemmOptions;
  /** The 1-thread result. */
  want: Float32Array;
}

describe.skipIf(skip !== undefined)(`native pool and GEMM schedule${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let one: NativeKernels;
  const cases: Case[] = [];

  /** A case whose op(A) is m×k and op(B) k×n; C starts from `c0` when beta ≠ 0. */
  async function addCase(name: string, m: number, n: number, k: number, options: GemmOptions & { seed: number }): Promise<void> {
    const rand = rng(options.seed);
    const a = options.transA ? randomDense(k, m, rand) : randomDense(m, k, rand);
    const b = options.transB ? randomDense(n, k, rand) : randomDense(k, n, rand);
    const { seed: _seed, ...rest } = options;
    const c = rest.beta ? randomDense(m, n, rand) : undefined;
    const opts: GemmOptions = { ...rest, c: c ? { ...c, data: c.data.slice() } : undefined };
    const want = (await one.gemm(a, b, opts)).data.slice();
    cases.push({ name, a, b, options: { ...rest, c }, want });
  }

  /** Runs a case on `k` (a fresh C when beta ≠ 0) and returns its output. */
  async function runCase(k: NativeKernels, x: Case): Promise<Float32Array> {
    const c = x.options.c ? { ...x.options.c, data: x.options.c.data.slice() } : undefined;
    return (await k.gemm(x.a, x.b, { ...x.options, c })).data;
  }

  beforeAll(async () => {
    one = kernels(1);
    await addCase('tiny (calling thread alone)', 30, 20, 10, { seed: 1 });
    await addCase('256³ (joined)', 256, 256, 256, { seed: 2 });
    await addCase('k = 600: three k panels, the last partial; alpha', 150, 170, 600, { seed: 3, alpha: 0.5 });
    await addCase('m = 40, n = 3000: several column blocks, transB, beta = 1', 40, 3000, 70, { seed: 4, transB: true, beta: 1 });
    await addCase('n = 9000: column blocks of NC, transA, beta = −0.5', 300, 9000, 20, { seed: 5, transA: true, beta: -0.5 });
    await addCase('op(B) beyond the shared panel: static split (async)', 64, 2048, 2100, { seed: 6 });
    await addCase('700×650×400 (async)', 700, 650, 400, { seed: 7, transA: true, transB: true });
  }, 120_000);
  afterAll(async () => {
    await one.close();
  });

  it('covers every call mode', () => {
    const modes = new Set(cases.map((x) => {
      const w = 2 * x.want.length * (x.options.transA ? x.a.rows : x.a.cols);
      return w < NATIVE_PARALLEL_MIN_WORK ? 'serial' : w <= NATIVE_SYNC_MAX_WORK ? 'joined' : 'async';
    }));
    expect([...modes].sort()).toEqual(['async', 'joined', 'serial']);
  });

  it('the 1-thread results match the float64 reference', async () => {
    // The two largest shapes (10⁸ and more multiply-adds in float64 JavaScript) are left to the bit comparisons.
    for (const x of cases.filter((c) => c.want.length * (c.options.transA ? c.a.rows : c.a.cols) < 1e8)) {
      const c = x.options.c ? { ...x.options.c, data: x.options.c.data.slice() } : undefined;
      const ref = (await R.gemm(x.a, x.b, { ...x.options, c })).data;
      expect([x.name, relError(x.want, ref) < 1e-5]).toEqual([x.name, true]);
    }
  }, 120_000);

  for (const [label, spin] of [['spinning workers (default)', undefined], ['workers that sleep after every job', 0], ['workers that spin 1 s', 1_000_000]] as const) {
    it(`${label}: every shape gives the 1-thread bits on 2 threads`, async () => {
      const two = kernels(2, spin);
      try {
        for (const x of cases) expect([x.name, sameBits(await runCase(two, x), x.want)]).toEqual([x.name, true]);
      } finally {
        await two.close();
      }
    }, 120_000);
  }

  for (const spin of [0, 200]) {
    it(`workers are woken and take part (spin ${spin} µs): they run chunks of joined and async GEMMs`, async () => {
      // The calling thread could run every chunk alone (a worker that never wakes would go unnoticed in the
      // results), so count the chunks the worker ran.
      const addon = loadNativeAddon();
      const { kernels: two, pool } = withPool(2, spin);
      try {
        expect(addon.poolStats(pool)).toEqual({ threads: 2, spinMicros: spin, workerChunks: 0 });
        const rand = rng(21);
        const a = randomDense(1024, 1024, rand);
        for (const [n, mode] of [[600, 'joined'], [1024, 'async']] as const) {
          const x = { rows: n, cols: n, data: a.data.subarray(0, n * n) };
          const before = addon.poolStats(pool).workerChunks;
          for (let i = 0; i < 6; i++) {
            await sleep(5); // the worker has gone back to sleep (spin 0 always; 200 µs after 5 ms)
            await two.gemm(x, x);
          }
          expect([mode, addon.poolStats(pool).workerChunks > before]).toEqual([mode, true]);
        }
      } finally {
        await two.close();
      }
    }, 60_000);
  }

  it('calls after the workers went to sleep still complete, with the right bits', async () => {
    const two = kernels(2, 50);
    try {
      const x = cases[1];
      for (let i = 0; i < 8; i++) {
        await sleep(i % 2 === 0 ? 5 : 30); // well past the 50 µs spin: the worker sleeps on the condition variable
        expect(sameBits(await runCase(two, x), x.want)).toBe(true);
      }
    } finally {
      await two.close();
    }
  }, 60_000);

  it('several async callers on two pools, small, joined and async calls interleaved, each get their own bits', async () => {
    const pools = [kernels(2), kernels(2, 0)];
    try {
      const order = rng(11);
      const caller = async (p: number, id: number): Promise<string[]> => {
        const bad: string[] = [];
        for (let i = 0; i < 24; i++) {
          const x = cases[Math.floor(order() * cases.length)];
          if (order() < 0.2) await sleep(1);
          if (!sameBits(await runCase(pools[p], x), x.want)) bad.push(`caller ${id}: ${x.name}`);
        }
        return bad;
      };
      // Three callers share each pool (queued by NativeKernels); the two pools run at once (async calls on
      // libuv threads while joined calls run on the main thread).
      const bad = (await Promise.all([0, 1, 2, 3, 4, 5].map((id) => caller(id % 2, id)))).flat();
      expect(bad).toEqual([]);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  }, 120_000);

  it('createPool rejects a spin time outside 0…1,000,000 µs', () => {
    const addon = loadNativeAddon();
    expect(() => addon.createPool(2, -1)).toThrow(/spinMicros in 0\.\.1000000/);
    expect(() => addon.createPool(2, 2e6)).toThrow(/spinMicros in 0\.\.1000000/);
    expect(() => Reflect.apply(addon.createPool, addon, [2, 'fast'])).toThrow(/spinMicros in 0\.\.1000000/);
  });
});
