/**
 * Finds and compiles the kernels built by `npm run build:wasm`. The files sit in build/ at the package root, which
 * is two levels above src/linalg/ when running TypeScript sources and three above dist/src/linalg/ when compiled.
 *
 * Two builds exist: kernels-relaxed.wasm uses relaxed SIMD (f32x4.relaxed_madd → FMA, about twice the GEMM
 * throughput) and kernels.wasm plain SIMD. Node 20 validates relaxed SIMD only with
 * --experimental-wasm-relaxed-simd, which is switched on here through v8.setFlagsFromString before compiling;
 * when that or the compilation fails (or RECSYS_WASM_RELAXED=0), the plain build is used.
 */
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { wasmApi, type WasmModule } from './wasm-api.js';
import { buildPath } from './build-path.js';

/** Path of a compiled kernel file (default build/kernels.wasm), or undefined when it has not been built. */
export function kernelWasmPath(file = 'kernels.wasm'): string | undefined {
  return buildPath(file);
}

/** A compiled kernel module and which build it is. */
export interface KernelModule {
  module: WasmModule;
  /** 'relaxed-simd' (FMA) or 'simd'. */
  variant: 'relaxed-simd' | 'simd';
}

let compiled: Promise<KernelModule> | undefined;

async function compileRelaxed(): Promise<WasmModule | undefined> {
  if (process.env.RECSYS_WASM_RELAXED === '0') return undefined;
  const path = kernelWasmPath('kernels-relaxed.wasm');
  if (!path) return undefined;
  const bytes = await readFile(path);
  try {
    return await wasmApi.compile(bytes); // Node ≥ 22 ships relaxed SIMD
  } catch {
    // Node 20: behind a flag.
  }
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    return await wasmApi.compile(bytes);
  } catch {
    return undefined;
  }
}

/** The compiled kernel module (compiled once per process); rejects with a clear message when none was built. */
export function loadKernelModule(): Promise<KernelModule> {
  compiled ??= (async (): Promise<KernelModule> => {
    const relaxed = await compileRelaxed();
    if (relaxed) return { module: relaxed, variant: 'relaxed-simd' };
    const path = kernelWasmPath();
    if (!path) throw new Error('linalg: build/kernels.wasm not found; run `npm run build:wasm`');
    return { module: await wasmApi.compile(await readFile(path)), variant: 'simd' };
  })();
  compiled.catch(() => {
    compiled = undefined;
  });
  return compiled;
}
