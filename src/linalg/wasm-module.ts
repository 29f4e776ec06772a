/**
 * Finds and compiles build/kernels.wasm (built by `npm run build:wasm`). The file sits at the package root, which
 * is two levels above src/linalg/ when running TypeScript sources and three above dist/src/linalg/ when compiled.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wasmApi, type WasmModule } from './wasm-api.js';

/** Path of the compiled kernels, or undefined when it has not been built. */
export function kernelWasmPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, 'build', 'kernels.wasm');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

let compiled: Promise<WasmModule> | undefined;

/** The compiled kernel module (compiled once per process); rejects with a clear message when it is missing. */
export function loadKernelModule(): Promise<WasmModule> {
  compiled ??= (async () => {
    const path = kernelWasmPath();
    if (!path) throw new Error('linalg: build/kernels.wasm not found; run `npm run build:wasm`');
    return wasmApi.compile(await readFile(path));
  })();
  return compiled;
}
