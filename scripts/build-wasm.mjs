// Compiles the AssemblyScript kernels (assembly/index.ts) to WebAssembly: build/kernels.wasm (SIMD) and
// build/kernels-relaxed.wasm (SIMD + relaxed SIMD, whose f32x4.relaxed_madd becomes an FMA; Node 20 runs it once
// the host enables --experimental-wasm-relaxed-simd). Both import one shared memory (threads) and use the stub
// runtime (the host owns allocation). Run by `npm run build:wasm` and by `npm install` (prepare). Nothing is
// downloaded; when the assemblyscript dev dependency is absent the build is skipped with a warning and recsys
// falls back to its TypeScript reference kernels.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Flags shared by every kernel build; the memory limits are the host's (it creates the memory). */
const common = [
  join(root, 'assembly', 'index.ts'),
  '-O3', '--noAssert',
  '--runtime', 'stub',
  '--enable', 'simd',
  '--enable', 'threads',
  '--importMemory', '--sharedMemory',
  '--initialMemory', '64',
  '--maximumMemory', '65536',
];
const variants = [
  { file: 'kernels.wasm', flags: [] },
  { file: 'kernels-relaxed.wasm', flags: ['--enable', 'relaxed-simd'] },
];

let asc;
try {
  asc = await import('assemblyscript/asc');
} catch {
  console.warn('build-wasm: assemblyscript is not installed; skipping (recsys will use the TypeScript reference kernels)');
  process.exit(0);
}
mkdirSync(join(root, 'build'), { recursive: true });
for (const variant of variants) {
  const out = join(root, 'build', variant.file);
  const started = Date.now();
  const { error, stderr } = await asc.main([...common, ...variant.flags, '--outFile', out]);
  if (error) {
    console.error(stderr.toString());
    console.error(`build-wasm: ${variant.file}: ${error.message}`);
    process.exit(1);
  }
  console.log(`build-wasm: ${out} (${Date.now() - started} ms)`);
}
