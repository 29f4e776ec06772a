// Builds the native kernels (native/src/*.cpp) into build/recsys_native.node with the system C++ compiler against
// the Node-API headers of the running Node (<prefix>/include/node, or the node-api-headers package when it is
// installed). Nothing is downloaded. The ISA-specific files are compiled with their own target flags
// (kernels_avx2.cpp: -mavx2 -mfma; kernels_avx512.cpp: + -mavx512f) and the addon picks one at load time from
// CPUID, so one binary serves both kinds of CPU. Run by `npm run build:native` and by `npm install` (prepare).
//
// Never fails the install: without a compiler, headers or an x86-64 CPU (or when compiling fails) it prints one
// line saying that the WebAssembly kernels are used and exits 0. RECSYS_NATIVE=0 skips the build. The sources'
// modification times are compared with the output's, so an up-to-date build costs nothing.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'native', 'src');
const out = join(root, 'build', 'recsys_native.node');
const objDir = join(root, 'build', 'native-obj');
const force = process.argv.includes('--force');

function skip(reason) {
  console.log(`build-native: native kernels not built (${reason}); the WebAssembly kernels are used`);
  process.exit(0);
}

if (process.env.RECSYS_NATIVE === '0') skip('RECSYS_NATIVE=0');
if (process.arch !== 'x64') skip(`CPU architecture ${process.arch}, the native kernels need x86-64`);
if (!existsSync(src)) skip('native/src is missing');

/** The Node-API headers: the running Node's install prefix, else the node-api-headers package. */
function findHeaders() {
  const candidates = [];
  if (process.env.RECSYS_NODE_INCLUDE) candidates.push(process.env.RECSYS_NODE_INCLUDE);
  candidates.push(join(dirname(process.execPath), '..', 'include', 'node'));
  try {
    const req = createRequire(import.meta.url);
    candidates.push(join(dirname(req.resolve('node-api-headers/package.json')), 'include'));
  } catch {
    // not installed
  }
  return candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
}

const cxx = process.env.CXX || 'g++';
let version;
try {
  version = execFileSync(cxx, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0];
} catch {
  skip(`no C++ compiler (${cxx})`);
}
const include = findHeaders();
if (!include) skip('Node-API headers not found (node_api.h under <node prefix>/include/node)');

const common = ['-std=c++17', '-O3', '-fPIC', '-fvisibility=hidden', '-fno-exceptions', '-fno-rtti', '-fno-math-errno', '-Wall', '-DNAPI_VERSION=8', `-I${include}`];
const units = [
  { file: 'addon.cpp', flags: [] },
  { file: 'kernels_avx2.cpp', flags: ['-mavx2', '-mfma'] },
  { file: 'kernels_avx512.cpp', flags: ['-mavx2', '-mfma', '-mavx512f'] },
];
const linkFlags = ['-shared', '-pthread'];

const sources = readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs);
const self = statSync(fileURLToPath(import.meta.url)).mtimeMs;
if (!force && existsSync(out) && statSync(out).mtimeMs > Math.max(self, ...sources)) {
  console.log(`build-native: ${out} is up to date`);
  process.exit(0);
}

/** Runs the compiler; resolves with its stderr, rejects with it on failure. */
function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cxx, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stderr) : reject(new Error(stderr.trim() || `${cxx} exited with ${code}`))));
  });
}

mkdirSync(objDir, { recursive: true });
const started = Date.now();
try {
  const objects = units.map((u) => join(objDir, u.file.replace(/\.cpp$/, '.o')));
  await Promise.all(units.map((u, i) => run([...common, ...u.flags, '-c', join(src, u.file), '-o', objects[i]])));
  const tmp = `${out}.tmp`;
  await run([...linkFlags, '-o', tmp, ...objects]);
  renameSync(tmp, out);
} catch (err) {
  const first = String(err instanceof Error ? err.message : err).split('\n').find((l) => /error/i.test(l)) ?? String(err).split('\n')[0];
  skip(`compiling failed: ${first}`);
}
const info = {
  compiler: version,
  cxx,
  include,
  flags: { common: common.filter((f) => !f.startsWith('-I')), units: Object.fromEntries(units.map((u) => [u.file, u.flags])), link: linkFlags },
  builtAt: new Date().toISOString(),
  seconds: (Date.now() - started) / 1000,
};
writeFileSync(join(root, 'build', 'recsys_native.json'), JSON.stringify(info, null, 2) + '\n');
console.log(`build-native: ${out} (${info.seconds.toFixed(1)} s, ${version})`);
