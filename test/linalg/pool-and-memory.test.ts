// The worker pool and the shared-memory allocator: thread counts give identical bits, memory is reused instead
// of grown, impossible sizes fail clearly, shared arrays are used in place, idle workers never hold the process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedAllocator } from '../../src/linalg/allocator.js';
import { referenceKernels as R } from '../../src/linalg/reference.js';
import { defaultThreads, type WasmKernels } from '../../src/linalg/wasm.js';
import { wasmApi } from '../../src/linalg/wasm-api.js';
import { integerDense, randomCsr, randomDense, randomSpd, relError, rng } from './helpers.js';
import type { Kernels } from '../../src/linalg/api.js';
import { BACKENDS, backendTitle, wasmKernels } from './setup.js';

for (const backend of BACKENDS) describe.skipIf(backend.skip !== undefined)(backendTitle(backend), () => {
  let one: Kernels;
  let two: Kernels;
  beforeAll(async () => {
    one = await backend.create(1);
    two = await backend.create(2);
  });
  afterAll(async () => {
    await one.close();
    await two.close();
  });

  describe('1 and 2 threads give bit-identical results', () => {
    const rand = rng(99);
    it('gemm, gram, spdInverse', async () => {
      const a = randomDense(333, 250, rand);
      const b = randomDense(250, 190, rand);
      expect((await one.gemm(a, b)).data).toEqual((await two.gemm(a, b)).data);
      expect((await one.gemm(b, a, { transA: true, transB: true })).data).toEqual((await two.gemm(b, a, { transA: true, transB: true })).data);
      const x = randomDense(5000, 40, rand);
      expect((await one.gram(x)).data).toEqual((await two.gram(x)).data);
      const spd = randomSpd(260, rand);
      expect((await one.spdInverse(spd)).data).toEqual((await two.spdInverse(spd)).data);
    });
    it('ALS steps, sparse products and fused top-k', async () => {
      const r = randomCsr(400, 300, 0.05, rand);
      const y = randomDense(300, 32, rand);
      for (const solver of ['cg', 'cholesky'] as const) {
        const x1 = randomDense(400, 32, rand);
        const x2 = { ...x1, data: x1.data.slice() };
        await one.ialsHalfStep(r, y, x1, { alpha: 3, reg: 0.1, solver, cgSteps: 4 });
        await two.ialsHalfStep(r, y, x2, { alpha: 3, reg: 0.1, solver, cgSteps: 4 });
        expect(x1.data).toEqual(x2.data);
      }
      expect((await one.csrMatmul(r, y)).data).toEqual((await two.csrMatmul(r, y)).data);
      const wide = randomCsr(3000, 500, 0.05, rand);
      for (let p = 0; p < wide.values.length; p++) wide.values[p] = rand();
      expect((await one.sparseGram(wide)).data).toEqual((await two.sparseGram(wide)).data);
      const bt = randomDense(40, 300, rand);
      expect((await one.denseCsrT(bt, r)).data).toEqual((await two.denseCsrT(bt, r)).data);
      const u = randomDense(500, 32, rand);
      const exclude = randomCsr(500, 300, 0.1, rand);
      const o1 = await one.scoreTopK(u, y, 10, { exclude });
      const o2 = await two.scoreTopK(u, y, 10, { exclude });
      expect(o1.items).toEqual(o2.items);
      expect(o1.scores).toEqual(o2.scores);
    });
  });

  describe('job protocol under stress', () => {
    it('hundreds of back-to-back small parallel jobs, mixed with main-thread ones, all give the right answer', async () => {
      const rand = rng(77);
      const a = randomDense(130, 129, rand);
      const b = randomDense(129, 131, rand);
      const small = randomDense(5, 5, rand);
      const want = (await R.gemm(a, b)).data;
      const wantSmall = (await R.gemm(small, small)).data;
      for (let i = 0; i < 300; i++) {
        const alpha = 1 + (i % 7);
        const got = await two.gemm(a, b, { alpha }); // 4.4 MFLOP: on the workers
        const g = got.data;
        expect(Math.abs(g[i % g.length] - alpha * want[i % g.length])).toBeLessThan(1e-3 * alpha);
        if (i % 10 === 0) expect(relError((await two.gemm(small, small)).data, wantSmall)).toBeLessThan(1e-6);
      }
    });
  });

  describe('concurrent calls', () => {
    it('calls issued together are queued and each gets its own answer', async () => {
      const rand = rng(55);
      const pairs = Array.from({ length: 6 }, (_, i) => [randomDense(120 + i, 90, rand), randomDense(90, 150 - i, rand)] as const);
      const results = await Promise.all(pairs.map(([a, b]) => two.gemm(a, b)));
      for (let i = 0; i < pairs.length; i++) {
        expect(relError(results[i].data, (await R.gemm(pairs[i][0], pairs[i][1])).data)).toBeLessThan(1e-5);
      }
    });
  });

  it('rejects calls after close', async () => {
    const k = await backend.create(1);
    await k.close();
    await expect(k.gemm(randomDense(2, 2, Math.random), randomDense(2, 2, Math.random))).rejects.toThrow(/closed/);
  });
});

// The WASM pool's own machinery (shared memory, workers).
let two: WasmKernels;
beforeAll(async () => {
  two = await wasmKernels(2);
});
afterAll(async () => {
  await two.close();
});

describe('shared-memory allocator', () => {
  const make = (pages = 2) => {
    const memory = new wasmApi.Memory({ initial: pages, maximum: 65536, shared: true });
    return { memory, alloc: new SharedAllocator(memory, 1000) };
  };

  it('reserves the static region, aligns, reuses and coalesces freed blocks', () => {
    const { alloc } = make();
    const a = alloc.alloc(100);
    expect(a).toBeGreaterThanOrEqual(1000);
    expect(a % 64).toBe(0);
    const b = alloc.alloc(100);
    const c = alloc.alloc(100);
    alloc.free(b);
    expect(alloc.alloc(64)).toBe(b); // first fit reuses the hole
    alloc.free(a);
    alloc.free(b);
    alloc.free(c);
    expect(alloc.bytesInUse).toBe(0);
    expect(alloc.alloc(300)).toBe(a); // the three blocks merged back into one
  });

  it('grows on demand, then stops growing for repeated same-size requests', () => {
    const { alloc } = make(1);
    const before = alloc.bytesReserved;
    for (let i = 0; i < 20; i++) alloc.free(alloc.alloc(1 << 20));
    expect(alloc.bytesReserved).toBeGreaterThan(before);
    expect(alloc.bytesReserved).toBeLessThan(before + (2 << 20));
  });

  it('fails clearly for sizes wasm32 cannot hold, and for double frees', () => {
    const { alloc } = make();
    expect(() => alloc.alloc(5 * 2 ** 30)).toThrow(/cannot allocate 5\.00 GiB.*beyond wasm32's 4 GiB limit/);
    const p = alloc.alloc(10);
    alloc.free(p);
    expect(() => alloc.free(p)).toThrow(/not an allocated block/);
  });

  it('a kernel whose output cannot fit in 4 GiB fails naming the kernel and the sizes, and leaks nothing', async () => {
    const inUse = two.memory.bytesInUse;
    const col = { rows: 70000, cols: 1, data: new Float32Array(70000).fill(1) };
    await expect(two.gemm(col, col, { transB: true })).rejects.toThrow(/^gemm: linalg: cannot allocate 18\.25 GiB.*4 GiB limit/);
    expect(two.memory.bytesInUse).toBe(inUse);
  });

  it('kernels reuse their temporaries: repeated calls do not grow memory', async () => {
    const rand = rng(7);
    const a = randomDense(300, 200, rand);
    const b = randomDense(200, 250, rand);
    const r = randomCsr(100, 200, 0.1, rand);
    const run = async () => {
      await two.gemm(a, b);
      await two.scoreTopK(a, randomDense(1000, 200, rand), 10);
      await two.ialsHalfStep(r, randomDense(200, 16, rand), randomDense(100, 16, rand), { alpha: 1, reg: 1, solver: 'cholesky' });
      await two.spdInverse(randomSpd(150, rand));
    };
    await run();
    const reserved = two.memory.bytesReserved;
    const inUse = two.memory.bytesInUse;
    for (let i = 0; i < 5; i++) await run();
    expect(two.memory.bytesReserved).toBe(reserved);
    expect(two.memory.bytesInUse).toBe(inUse);
  });

  it('allocF32 arrays are used in place (zero copy) and free checks its argument', async () => {
    const rand = rng(8);
    const a = { rows: 50, cols: 40, data: two.allocF32(2000) };
    const b = { rows: 40, cols: 30, data: two.allocF32(1200) };
    a.data.set(randomDense(50, 40, rand).data);
    b.data.set(randomDense(40, 30, rand).data);
    const c = { rows: 50, cols: 30, data: two.allocF32(1500) };
    const returned = await two.gemm(a, b, { c });
    expect(returned.data).toBe(c.data);
    expect(relError(c.data, (await R.gemm(a, b)).data)).toBeLessThan(1e-5);
    two.free(a.data);
    two.free(b.data);
    two.free(c.data);
    expect(() => two.free(c.data)).toThrow(/not allocated by allocF32/);
    expect(() => two.free(new Float32Array(4))).toThrow(/not allocated by allocF32/);
    expect(two.allocI32(3)).toEqual(new Int32Array(3));
  });

  it('integer top-k through shared arrays', async () => {
    const s = integerDense(3, 10, 2, rng(1));
    const shared = { ...s, data: two.allocF32(30) };
    shared.data.set(s.data);
    expect((await two.topk(shared, 4)).items).toEqual((await R.topk(s, 4)).items);
    two.free(shared.data);
  });
});

describe('thread count', () => {
  it('RECSYS_THREADS sets the default; bad values are rejected', () => {
    const saved = process.env.RECSYS_THREADS;
    try {
      process.env.RECSYS_THREADS = '3';
      expect(defaultThreads()).toBe(3);
      process.env.RECSYS_THREADS = 'many';
      expect(() => defaultThreads()).toThrow(/RECSYS_THREADS must be a positive integer, got "many"/);
      delete process.env.RECSYS_THREADS;
      expect(defaultThreads()).toBe(availableParallelism());
    } finally {
      if (saved === undefined) delete process.env.RECSYS_THREADS;
      else process.env.RECSYS_THREADS = saved;
    }
  });
});

describe('lifecycle', () => {
  it('a dead worker makes jobs fail instead of hanging', async () => {
    const k = await wasmKernels(2);
    const internals = k as unknown as { pool: { workers: { terminate(): Promise<number> }[] } };
    await internals.pool.workers[1].terminate();
    const a = randomDense(300, 300, rng(2));
    await expect(k.gemm(a, a)).rejects.toThrow(/worker 1 exited/);
    await k.close();
  });

  it('a script that never calls close() still exits (idle workers are unref-ed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-linalg-'));
    const script = join(dir, 'no-close.mts');
    const index = pathToFileURL(join(process.cwd(), 'src/linalg/index.ts')).href;
    writeFileSync(
      script,
      `import { getKernels } from ${JSON.stringify(index)};\n` +
        `const k = await getKernels({ kind: 'wasm', threads: 2 });\n` +
        `const a = { rows: 300, cols: 300, data: new Float32Array(90000).fill(1) };\n` +
        `const c = await k.gemm(a, a);\n` +
        `console.log(k.kind, k.threads, c.data[0], k.variant);\n`,
    );
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', script], { timeout: 30_000, encoding: 'utf8' });
      expect(out.trim()).toBe('wasm 2 300 relaxed-simd');
      // The plain-SIMD build (used when relaxed SIMD cannot be enabled) gives the same answer.
      const env = { ...process.env, RECSYS_WASM_RELAXED: '0' };
      const plain = execFileSync(process.execPath, ['--import', 'tsx', script], { timeout: 30_000, encoding: 'utf8', env });
      expect(plain.trim()).toBe('wasm 2 300 simd');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(BACKENDS[1].skip !== undefined)(`native selection and lifecycle${BACKENDS[1].skip ? ` (skipped: ${BACKENDS[1].skip})` : ''}`, () => {
  const run = (code: string, env: NodeJS.ProcessEnv = {}): string => {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-native-'));
    const script = join(dir, 'script.mts');
    const index = pathToFileURL(join(process.cwd(), 'src/linalg/index.ts')).href;
    writeFileSync(script, `import { getKernels } from ${JSON.stringify(index)};\n${code}`);
    try {
      return execFileSync(process.execPath, ['--import', 'tsx', script], { timeout: 30_000, encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const gemmScript =
    `const k = await getKernels({ threads: 2 });\n` +
    `const a = { rows: 300, cols: 300, data: new Float32Array(90000).fill(1) };\n` +
    `const c = await k.gemm(a, a);\n` +
    `console.log(k.kind, k.threads, c.data[0]);\n`;

  it('is the default, RECSYS_KERNELS forces a backend, and a script that never calls close() still exits', () => {
    const env = { RECSYS_KERNELS: '' };
    expect(run(gemmScript, env)).toBe('native 2 300');
    expect(run(gemmScript, { RECSYS_KERNELS: 'wasm' })).toBe('wasm 2 300');
    expect(run(gemmScript, { RECSYS_KERNELS: 'reference' })).toBe('reference 1 300');
    expect(() => run(gemmScript, { RECSYS_KERNELS: 'cuda' })).toThrow(/RECSYS_KERNELS must be one of native, wasm, reference, got "cuda"/);
  });

  it('RECSYS_NATIVE_ISA picks the ISA table; one the CPU lacks makes a forced native backend fail and the default fall back to wasm', () => {
    const isaScript = `const k = await getKernels();\nconsole.log(k.kind, 'isa' in k ? k.isa : '');\n`;
    expect(run(isaScript, { RECSYS_NATIVE_ISA: 'avx2', RECSYS_KERNELS: '' })).toBe('native avx2');
    expect(() => run(isaScript, { RECSYS_NATIVE_ISA: 'sse9', RECSYS_KERNELS: 'native' })).toThrow(/RECSYS_NATIVE_ISA must be avx2 or avx512/);
    expect(run(isaScript, { RECSYS_NATIVE_ISA: 'sse9', RECSYS_KERNELS: '' })).toBe('wasm');
  });
});

describe.skipIf(BACKENDS[1].skip !== undefined)(`native call modes${BACKENDS[1].skip ? ` (skipped: ${BACKENDS[1].skip})` : ''}`, () => {
  it('the calling thread alone, joined by the pool, or async work on the pool: bit-identical GEMMs', async () => {
    const { NATIVE_PARALLEL_MIN_WORK, NATIVE_SYNC_MAX_WORK } = await import('../../src/linalg/native.js');
    const one = await BACKENDS[1].create(1);
    const two = await BACKENDS[1].create(2);
    try {
      // work 2·m·n·k below, inside and above the synchronous-parallel band
      for (const [m, n, k] of [[60, 50, 40], [200, 180, 160], [700, 650, 400]]) {
        const work = 2 * m * n * k;
        const band = work < NATIVE_PARALLEL_MIN_WORK ? 'serial' : work <= NATIVE_SYNC_MAX_WORK ? 'joined' : 'async';
        const rand = rng(m);
        const a = randomDense(m, k, rand);
        const b = randomDense(k, n, rand);
        const x = await one.gemm(a, b);
        const pending = two.gemm(a, b);
        const y = await pending;
        expect([band, Array.from(y.data).every((v, i) => Object.is(v, x.data[i]))]).toEqual([band, true]);
        if (m === 200) expect(relError(y.data, (await R.gemm(a, b)).data)).toBeLessThan(1e-5);
      }
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('the addon refuses an unknown call mode', async () => {
    const { loadNativeAddon } = await import('../../src/linalg/native-addon.js');
    const addon = loadNativeAddon();
    const pool = addon.createPool(1);
    // the typed signature does not admit 7: call it untyped, as a caller from JavaScript could
    expect(() => Reflect.apply(addon.call, addon, [pool, 0, [], new Float64Array(0), 7])).toThrow(/call mode must be a boolean or 0, 1, 2/);
  });
});
