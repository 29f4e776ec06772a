// Creates kernels for the tests: the WASM backend (building build/kernels.wasm when missing, e.g. a fresh checkout
// without `npm install`'s prepare) and the native one when its addon is built and runs on this CPU. Suites that
// hold a backend against the reference loop over BACKENDS; the native entry carries the reason when it is skipped.
import { execFileSync } from 'node:child_process';
import type { Kernels } from '../../src/linalg/api.js';
import { loadNativeAddon } from '../../src/linalg/native-addon.js';
import { createNativeKernels } from '../../src/linalg/native.js';
import { createWasmKernels, type WasmKernels } from '../../src/linalg/wasm.js';
import { kernelWasmPath } from '../../src/linalg/wasm-module.js';

/** WASM kernels with `threads` workers, building the module first if needed. */
export async function wasmKernels(threads: number): Promise<WasmKernels> {
  if (!kernelWasmPath()) execFileSync(process.execPath, ['scripts/build-wasm.mjs'], { stdio: 'inherit' });
  return createWasmKernels(threads);
}

/** A kernel backend under test. */
export interface Backend {
  name: 'wasm' | 'native';
  create(threads: number): Promise<Kernels>;
  /** Why the backend cannot run here (its suites are skipped with this in their title). */
  skip?: string;
}

function nativeSkipReason(): string | undefined {
  try {
    loadNativeAddon();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const nativeSkip = nativeSkipReason();
if (nativeSkip) console.warn(`test/linalg: native kernel tests skipped: ${nativeSkip}`);

/** The backends held against the reference. */
export const BACKENDS: Backend[] = [
  { name: 'wasm', create: wasmKernels },
  { name: 'native', create: createNativeKernels, skip: nativeSkip },
];

/** Suite title of a backend: its name, plus the reason when it is skipped. */
export function backendTitle(b: Backend): string {
  return b.skip ? `${b.name} (skipped: ${b.skip})` : b.name;
}
