/**
 * `npm run bench -- kernels [--quick] [--backend=wasm|native]`: throughput of the WebAssembly and native kernels on 1
 * thread and on all threads, with numpy/OpenBLAS GEMM measured in the same run (python3) as the reference, pinned to
 * the best OpenBLAS kernel for the CPU (bench/_openblas.ts; the kernel that ran is printed). Inputs are generated and live in
 * the shared memory (allocF32), so the figures are kernel time without copy-in/out.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { openBlasCoreType } from './_openblas.js';
import type { CsrMatrix, DenseMatrix, Kernels } from '../src/linalg/api.js';
import { createNativeKernels } from '../src/linalg/native.js';
import { createWasmKernels } from '../src/linalg/wasm.js';

/** One row of the result table. */
interface Row {
  kernel: string;
  size: string;
  unit: string;
  one: number;
  all: number;
  numpyOne?: number;
  numpyAll?: number;
}

/** Seconds of the fastest of `reps` runs after one warm-up (fastest: least disturbed by other load). */
async function best(body: () => Promise<unknown>, minSeconds = 0.3, maxReps = 20): Promise<number> {
  await body();
  let fastest = Infinity;
  const started = performance.now();
  for (let r = 0; r < maxReps; r++) {
    const t = performance.now();
    await body();
    fastest = Math.min(fastest, (performance.now() - t) / 1000);
    if ((performance.now() - started) / 1000 > minSeconds && r >= 2) break;
  }
  return fastest;
}

let seed = 12345;
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}

function dense(k: Kernels, rows: number, cols: number): DenseMatrix {
  const data = k.allocF32(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
  return { rows, cols, data };
}

function csr(rows: number, cols: number, perRow: number): CsrMatrix {
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(rows * perRow);
  const values = new Float32Array(rows * perRow);
  for (let r = 0; r < rows; r++) {
    const picked = new Set<number>();
    while (picked.size < perRow) picked.add(Math.floor(rand() * cols));
    const sorted = [...picked].sort((a, b) => a - b);
    colIdx.set(sorted, r * perRow);
    for (let j = 0; j < perRow; j++) values[r * perRow + j] = 1 + Math.floor(rand() * 5);
    rowPtr[r + 1] = (r + 1) * perRow;
  }
  return { rows, cols, rowPtr, colIdx, values };
}

/** numpy GEMM GFLOP/s per size with OPENBLAS_NUM_THREADS = threads (undefined: library default), or undefined. */
function numpyGemm(sizes: number[], threads: number | undefined): { gflops: Map<number, number>; info: string } | undefined {
  const script = `
import json, time, numpy as np
info = 'threadpoolctl not installed'
try:
    from threadpoolctl import threadpool_info
    info = '; '.join(f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')} threads={d.get('num_threads')}" for d in threadpool_info())
except Exception:
    # No threadpoolctl: ask numpy's bundled OpenBLAS directly.
    try:
        import ctypes, glob, os
        for lib in glob.glob(os.path.join(os.path.dirname(np.__file__), '..', 'numpy.libs', '*openblas*')):
            blas = ctypes.CDLL(lib)
            for prefix in ('scipy_openblas_', 'openblas_'):
                for suffix in ('64_', ''):
                    if hasattr(blas, prefix + 'get_corename' + suffix):
                        core = getattr(blas, prefix + 'get_corename' + suffix); core.restype = ctypes.c_char_p
                        conf = getattr(blas, prefix + 'get_config' + suffix); conf.restype = ctypes.c_char_p
                        info = f"kernel {core().decode()} ({conf().decode()}; via ctypes, threadpoolctl not installed)"
    except Exception:
        pass
out = {}
for n in ${JSON.stringify(sizes)}:
    a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
    a @ b
    best = 1e9; start = time.perf_counter(); reps = 0
    while reps < 3 or (time.perf_counter() - start < 0.3 and reps < 20):
        t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t); reps += 1
    out[n] = 2 * n ** 3 / best / 1e9
print(json.dumps({'gflops': out, 'info': info}))
`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  const core = openBlasCoreType();
  if (core) env.OPENBLAS_CORETYPE = core;
  if (threads !== undefined) env.OPENBLAS_NUM_THREADS = String(threads);
  else delete env.OPENBLAS_NUM_THREADS;
  try {
    const out = execFileSync('python3', ['-c', script], { env, encoding: 'utf8', timeout: 300_000 });
    const parsed = JSON.parse(out) as { gflops: Record<string, number>; info: string };
    return { gflops: new Map(Object.entries(parsed.gflops).map(([n, g]) => [Number(n), g])), info: parsed.info };
  } catch (err) {
    process.stderr.write(`numpy reference unavailable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
    return undefined;
  }
}

/** Figures of one kernel configuration, keyed by "kernel|size". */
type Figures = Map<string, { size: string; unit: string; value: number }>;

/**
 * Measures every kernel on each of `ks` (1 thread, all threads), case by case: both configurations run back to
 * back, so load from other processes on this shared machine hits their ratio less than whole-table passes would.
 */
async function measure(ks: Kernels[], quick: boolean, gemmSizes: number[]): Promise<Figures[]> {
  const out: Figures[] = ks.map(() => new Map());
  type Put = (kernel: string, size: string, unit: string, value: number) => void;
  const each = async (body: (k: Kernels, put: Put) => Promise<void>): Promise<void> => {
    for (let i = 0; i < ks.length; i++) await body(ks[i], (kernel, size, unit, value) => out[i].set(`${kernel}|${size}`, { size, unit, value }));
  };

  for (const n of gemmSizes) {
    await each(async (k, put) => {
      const a = dense(k, n, n);
      const b = dense(k, n, n);
      const c = dense(k, n, n);
      const t = await best(() => k.gemm(a, b, { c }), n >= 2048 ? 0.1 : 0.3, n >= 2048 ? 3 : 20);
      put('GEMM', `${n}³`, 'GFLOP/s', (2 * n ** 3) / t / 1e9);
      for (const m of [a, b, c]) k.free(m.data);
    });
  }
  await each(async (k, put) => {
    // The neural-net shape: a 512×600 batch times a 600×600 weight, many times.
    const a = dense(k, 512, 600);
    const b = dense(k, 600, 600);
    const c = dense(k, 512, 600);
    const t = await best(() => k.gemm(a, b, { c }), 0.5, 200);
    put('GEMM', '512×600·600×600', 'ms/call', t * 1000);
    const tiny = dense(k, 8, 8);
    const tinyC = dense(k, 8, 8);
    put('GEMM (call overhead)', '8³', 'µs/call', (await best(() => k.gemm(tiny, tiny, { c: tinyC }), 0.2, 2000)) * 1e6);
    for (const m of [a, b, c, tiny, tinyC]) k.free(m.data);
  });
  const gramRows = quick ? 20000 : 100000;
  for (const f of [64, 128]) {
    await each(async (k, put) => {
      const x = dense(k, gramRows, f);
      const t = await best(() => k.gram(x));
      put('Gram XᵀX', `${gramRows}×${f}`, 'GFLOP/s', (2 * gramRows * f * f) / t / 1e9);
      k.free(x.data);
    });
  }
  const spmmA = csr(quick ? 5000 : 20000, 10000, 50);
  await each(async (k, put) => {
    const b = dense(k, 10000, 64);
    const t = await best(() => k.csrMatmul(spmmA, b));
    put('SpMM CSR·dense', `${spmmA.rows}×10k nnz=${spmmA.rowPtr[spmmA.rows]} d=64`, 'GFLOP/s', (2 * spmmA.rowPtr[spmmA.rows] * 64) / t / 1e9);
    k.free(b.data);
  });
  const sgX = csr(quick ? 10000 : 50000, 10000, 100);
  await each(async (k, put) => {
    const t = await best(() => k.sparseGram(sgX), 0.3, 5);
    put('sparse Gram XᵀX (CSR)', `${sgX.rows}×10k nnz=${sgX.rowPtr[sgX.rows]}`, 's', t);
  });
  for (const [kk, batch] of [[64, quick ? 500 : 2000], [128, quick ? 100 : 400]]) {
    await each(async (k, put) => {
      const a = k.allocF32(batch * kk * kk);
      const b = k.allocF32(batch * kk);
      for (let s = 0; s < batch; s++) {
        for (let i = 0; i < kk; i++) {
          b[s * kk + i] = rand();
          for (let j = 0; j < kk; j++) a[s * kk * kk + i * kk + j] = i === j ? kk : 1 / (1 + Math.abs(i - j));
        }
      }
      const t = await best(() => k.choleskySolveBatched(a, b, kk, batch));
      put('batched Cholesky solve', `k=${kk} ×${batch}`, 'systems/s', batch / t);
      k.free(a);
      k.free(b);
    });
  }
  const items = 10000;
  const users = quick ? 500 : 2000;
  const seen = csr(users, items, 20);
  await each(async (k, put) => {
    const s = dense(k, users, items);
    put('top-k (k=10) of scores', `${users}×10k`, 'users/s', users / (await best(() => k.topk(s, 10))));
    k.free(s.data);
  });
  await each(async (k, put) => {
    const u = dense(k, users, 64);
    const v = dense(k, items, 64);
    put('scoreTopK U·Vᵀ+top-10', `${users}×10k f=64, 20 excluded`, 'users/s', users / (await best(() => k.scoreTopK(u, v, 10, { exclude: seen }))));
    k.free(u.data);
    k.free(v.data);
  });
  const alsUsers = quick ? 5000 : 20000;
  const r = csr(alsUsers, 10000, 50);
  for (const solver of ['cg', 'cholesky'] as const) {
    await each(async (k, put) => {
      const y = dense(k, 10000, 64);
      const x = dense(k, alsUsers, 64);
      const t = await best(() => k.ialsHalfStep(r, y, x, { alpha: 10, reg: 0.1, solver, cgSteps: 3 }), 0.3, 5);
      put(`iALS half step (${solver === 'cg' ? 'CG 3 steps' : 'Cholesky'})`, `${alsUsers} users nnz=${r.rowPtr[alsUsers]} f=64`, 's', t);
      k.free(y.data);
      k.free(x.data);
    });
  }
  await each(async (k, put) => {
    const n = quick ? 1024 : 4096;
    const a = k.allocF32(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = i === j ? n : 1 / (1 + Math.abs(i - j));
    const t = await best(() => k.spdInverse({ rows: n, cols: n, data: a }), 0.1, 2);
    put('SPD inverse', `n=${n}`, 's', t);
    k.free(a);
  });
  return out;
}

function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (v >= 1000) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toPrecision(3);
}

/** Runs the benchmark and prints the table. */
export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const only = args.find((a) => a.startsWith('--backend='))?.slice('--backend='.length);
  const all = availableParallelism();
  const gemmSizes = quick ? [256, 512, 1024] : [256, 512, 1024, 2048];
  process.stdout.write(`kernels benchmark: ${all} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);

  // Each backend on 1 thread and on all threads; figures[b] = [1 thread, all threads].
  const backends: { name: string; figures: [Figures, Figures] }[] = [];
  if (only === undefined || only === 'wasm') {
    const one = await createWasmKernels(1);
    const many = await createWasmKernels(all);
    process.stdout.write(`wasm build: ${one.variant}${one.variant === 'simd' ? ' (relaxed SIMD unavailable: no FMA)' : ' (f32x4.relaxed_madd = FMA)'}\n`);
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const [f1, fa] = await measure([one, many], quick, gemmSizes);
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(`wasm part: ${((performance.now() - wall0) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU\n`);
    backends.push({ name: 'wasm', figures: [f1, fa] });
    await one.close();
    await many.close();
  }
  if (only === undefined || only === 'native') {
    try {
      const one = await createNativeKernels(1);
      const many = await createNativeKernels(all);
      process.stdout.write(`native build: ${one.info.isa} (${one.info.mr}×${one.info.nr} micro-kernel; CPU ${one.info.cpu}; ${one.info.compiler} ${one.info.isaFlags})\n`);
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      const [f1, fa] = await measure([one, many], quick, gemmSizes);
      const cpu = process.cpuUsage(cpu0);
      process.stdout.write(`native part: ${((performance.now() - wall0) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU\n`);
      backends.push({ name: 'native', figures: [f1, fa] });
      await one.close();
      await many.close();
    } catch (err) {
      process.stdout.write(`native kernels skipped: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  if (backends.length === 0) throw new Error(`bench kernels: no backend to measure (--backend=${only})`);

  const np1 = numpyGemm(gemmSizes, 1);
  const npAll = numpyGemm(gemmSizes, undefined);

  const lowerIsBetter = (unit: string) => unit === 's' || unit.startsWith('ms') || unit.startsWith('µs');
  const header = ['kernel', 'size', 'unit'];
  for (const b of backends) header.push(`${b.name} 1T`, `${b.name} ${all}T`, `${b.name} scaling`);
  header.push('numpy 1T', `numpy ${all}T`);
  const last = backends[backends.length - 1];
  header.push(`${last.name}/numpy 1T`, `${last.name}/numpy ${all}T`);
  if (backends.length > 1) header.push(`${last.name}/${backends[0].name} 1T`, `${last.name}/${backends[0].name} ${all}T`);
  const table: string[][] = [];
  for (const [key, first] of backends[0].figures[0]) {
    const kernel = key.split('|')[0];
    const n = Number(/^(\d+)³$/.exec(first.size)?.[1]);
    const isGemm = kernel === 'GEMM' && Number.isFinite(n);
    const cells = [kernel, first.size, first.unit];
    for (const b of backends) {
      const one = b.figures[0].get(key)?.value ?? NaN;
      const many = b.figures[1].get(key)?.value ?? NaN;
      cells.push(fmt(one), fmt(many), fmt(lowerIsBetter(first.unit) ? one / many : many / one) + '×');
    }
    const n1 = isGemm ? np1?.gflops.get(n) : undefined;
    const na = isGemm ? npAll?.gflops.get(n) : undefined;
    cells.push(fmt(n1), fmt(na));
    const l1 = last.figures[0].get(key)?.value ?? NaN;
    const la = last.figures[1].get(key)?.value ?? NaN;
    cells.push(n1 ? fmt(l1 / n1) : '–', na ? fmt(la / na) : '–');
    if (backends.length > 1) {
      // Speed-up of the last backend over the first (>1 = faster), whatever the unit.
      const f1 = backends[0].figures[0].get(key)?.value ?? NaN;
      const fa = backends[0].figures[1].get(key)?.value ?? NaN;
      cells.push(fmt(lowerIsBetter(first.unit) ? f1 / l1 : l1 / f1) + '×', fmt(lowerIsBetter(first.unit) ? fa / la : la / fa) + '×');
    }
    table.push(cells);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  process.stdout.write(line(header) + '\n' + line(widths.map((w) => '-'.repeat(w))) + '\n' + table.map(line).join('\n') + '\n');
  process.stdout.write(`numpy: OPENBLAS_CORETYPE=${openBlasCoreType() || '(unset)'} → 1T ${np1?.info ?? 'n/a'}; ${all}T ${npAll?.info ?? 'n/a'}\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
}
