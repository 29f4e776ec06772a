// Compiles the AssemblyScript kernels (assembly/index.ts) to build/kernels.wasm: SIMD, shared imported memory
// (threads), stub runtime (the host owns allocation). Run by `npm run build:wasm` and by `npm install` (prepare).
// Nothing is downloaded; when the assemblyscript dev dependency is absent the build is skipped with a warning and
// recsys falls back to its TypeScript reference kernels.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'kernels.wasm');

/** Flags shared by every kernel build; the memory limits are the host's (it creates the memory). */
const flags = [
  join(root, 'assembly', 'index.ts'),
  '--outFile', out,
  '-O3', '--noAssert',
  '--runtime', 'stub',
  '--enable', 'simd',
  '--enable', 'threads',
  '--importMemory', '--sharedMemory',
  '--initialMemory', '64',
  '--maximumMemory', '65536',
];

let asc;
try {
  asc = await import('assemblyscript/asc');
} catch {
  console.warn('build-wasm: assemblyscript is not installed; skipping (recsys will use the TypeScript reference kernels)');
  process.exit(0);
}
mkdirSync(dirname(out), { recursive: true });
const started = Date.now();
const { error, stderr } = await asc.main(flags);
if (error) {
  console.error(stderr.toString());
  console.error(`build-wasm: ${error.message}`);
  process.exit(1);
}
console.log(`build-wasm: ${out} (${Date.now() - started} ms)`);
