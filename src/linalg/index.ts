/**
 * The one door to numerics: `getKernels()` returns the process-wide {@link Kernels} instance — the WebAssembly
 * SIMD kernels on a worker pool when build/kernels.wasm exists, else the TypeScript reference (with a warning).
 */
import type { Kernels } from './api.js';
import { referenceKernels } from './reference.js';
import { createWasmKernels, defaultThreads, type WasmKernels } from './wasm.js';

export type * from './api.js';
export { referenceKernels } from './reference.js';
export { createWasmKernels, defaultThreads } from './wasm.js';

/** Options of {@link getKernels}. */
export interface GetKernelsOptions {
  /** Worker threads (default: RECSYS_THREADS, else all cores). Honoured when the shared instance is created. */
  threads?: number;
  /** 'wasm' (default; falls back to the reference with a warning when the module is missing) or 'reference'. */
  kind?: 'wasm' | 'reference';
}

let shared: Promise<WasmKernels> | undefined;
let warned = false;

/**
 * The process-wide kernels, created on first call (later calls return the same instance whatever `threads`
 * says; a closed instance is replaced). `kind: 'wasm'` rejects when the module cannot be loaded.
 */
export async function getKernels(options: GetKernelsOptions = {}): Promise<Kernels> {
  if (options.kind === 'reference') return referenceKernels;
  if (shared && (await shared.catch(() => undefined))?.closed) shared = undefined;
  shared ??= createWasmKernels(options.threads ?? defaultThreads());
  try {
    return await shared;
  } catch (err) {
    shared = undefined;
    if (options.kind === 'wasm') throw err;
    if (!warned) {
      warned = true;
      process.stderr.write(`recsys: ${err instanceof Error ? err.message : String(err)}; using the slow TypeScript reference kernels\n`);
    }
    return referenceKernels;
  }
}
