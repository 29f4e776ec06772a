/**
 * The one door to numerics: `getKernels()` returns the process-wide {@link Kernels} instance — the best backend
 * available: the native C++ kernels (build/recsys_native.node, AVX2/AVX-512) on their own thread pool, else the
 * WebAssembly SIMD kernels on a worker pool, else the TypeScript reference (with a warning).
 * `RECSYS_KERNELS=native|wasm|reference` (or `{ kind }`) forces one; a forced backend that cannot load throws.
 */
import type { Kernels } from './api.js';
import { referenceKernels } from './reference.js';
import { createWasmKernels, defaultThreads } from './wasm.js';
import { createNativeKernels } from './native.js';

export type * from './api.js';
export { referenceKernels } from './reference.js';
export { createWasmKernels, defaultThreads } from './wasm.js';
export { createNativeKernels } from './native.js';

/** The backends, best first. */
export const KERNEL_KINDS = ['native', 'wasm', 'reference'] as const;
export type KernelKind = (typeof KERNEL_KINDS)[number];

/** The backend RECSYS_KERNELS forces, or undefined (best available); throws on an unknown value. */
export function forcedKernelKind(): KernelKind | undefined {
  const env = process.env.RECSYS_KERNELS;
  if (env === undefined || env === '') return undefined;
  const kind = KERNEL_KINDS.find((k) => k === env);
  if (!kind) throw new RangeError(`RECSYS_KERNELS must be one of ${KERNEL_KINDS.join(', ')}, got "${env}"`);
  return kind;
}

/** Options of {@link getKernels}. */
export interface GetKernelsOptions {
  /** Worker threads (default: RECSYS_THREADS, else all cores). Honoured when the shared instance is created. */
  threads?: number;
  /**
   * 'native', 'wasm' or 'reference' (throws when the forced backend cannot load). Default: RECSYS_KERNELS, else
   * native → wasm → reference, whichever loads first (the reference with a warning).
   */
  kind?: KernelKind;
}

/** A backend that can be closed (the native and WASM ones). */
type Closable = Kernels & { readonly closed: boolean };

let shared: Promise<Closable> | undefined;
let sharedKind: KernelKind | undefined;
let warned = false;

/** The native kernels, else the WASM ones; rejects with both reasons. */
async function bestAvailable(threads: number): Promise<Closable> {
  try {
    return await createNativeKernels(threads);
  } catch (nativeErr) {
    try {
      return await createWasmKernels(threads);
    } catch (wasmErr) {
      const why = (e: unknown): string => (e instanceof Error ? e.message : String(e));
      throw new Error(`${why(nativeErr)}; ${why(wasmErr)}`);
    }
  }
}

/**
 * The process-wide kernels, created on first call (later calls return the same instance whatever `threads`
 * says; a closed instance is replaced). `kind: 'wasm'` rejects when the module cannot be loaded.
 */
export async function getKernels(options: GetKernelsOptions = {}): Promise<Kernels> {
  const kind = options.kind ?? forcedKernelKind();
  if (kind === 'reference') return referenceKernels;
  if (shared && (await shared.catch(() => undefined))?.closed) shared = undefined;
  if (shared && kind && sharedKind !== kind) {
    const current = await shared.catch(() => undefined);
    if (current && current.kind !== kind) throw new Error(`linalg: the shared ${current.kind} kernels are in use; cannot switch to ${kind} (close them first)`);
  }
  if (!shared) {
    const threads = options.threads ?? defaultThreads();
    sharedKind = kind;
    shared = kind === 'native' ? createNativeKernels(threads) : kind === 'wasm' ? createWasmKernels(threads) : bestAvailable(threads);
  }
  try {
    return await shared;
  } catch (err) {
    shared = undefined;
    if (kind) throw err;
    if (!warned) {
      warned = true;
      process.stderr.write(`recsys: ${err instanceof Error ? err.message : String(err)}; using the slow TypeScript reference kernels\n`);
    }
    return referenceKernels;
  }
}
