// Builds build/kernels.wasm when missing (a fresh checkout without `npm install`'s prepare) and creates kernels.
import { execFileSync } from 'node:child_process';
import { createWasmKernels, type WasmKernels } from '../../src/linalg/wasm.js';
import { kernelWasmPath } from '../../src/linalg/wasm-module.js';

/** WASM kernels with `threads` workers, building the module first if needed. */
export async function wasmKernels(threads: number): Promise<WasmKernels> {
  if (!kernelWasmPath()) execFileSync(process.execPath, ['scripts/build-wasm.mjs'], { stdio: 'inherit' });
  return createWasmKernels(threads);
}
