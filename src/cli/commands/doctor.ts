/**
 * `recsys doctor [--json]`: which kernel backend runs and why — native (ISA from CPUID, CPU, threads, GEMM tile,
 * compiler and build flags), WebAssembly (build variant) or the reference — and whether the other backends could
 * load. Ends with a small GEMM checked against the reference. Exit code 1 when that check fails.
 */
import type { Command } from 'commander';
import { defaultThreads, forcedKernelKind, getKernels, referenceKernels } from '../../linalg/index.js';
import { loadNativeAddon, nativeBuildInfo, nativeBuildPath } from '../../linalg/native-addon.js';
import { kernelWasmPath } from '../../linalg/wasm-module.js';

/** The doctor's findings. */
export interface DoctorReport {
  backend: string;
  threads: number;
  forced: string | null;
  native: {
    available: boolean;
    reason?: string;
    path?: string;
    isa?: string;
    cpu?: string;
    cpuFeatures?: { avx2: boolean; avx512f: boolean };
    gemmTile?: string;
    compiler?: string;
    buildFlags?: Record<string, string[]>;
    isaFlags?: string;
  };
  wasm: { available: boolean; path?: string; variant?: string };
  selfTest: { ok: boolean; relError: number };
}

/** Inspects the backends and runs the self-test. */
export async function doctor(): Promise<DoctorReport> {
  const native: DoctorReport['native'] = { available: false };
  try {
    const addon = loadNativeAddon();
    const info = addon.info();
    const build = nativeBuildInfo();
    Object.assign(native, {
      available: true,
      path: nativeBuildPath(),
      isa: info.isa,
      cpu: info.cpu,
      cpuFeatures: { avx2: info.avx2, avx512f: info.avx512f },
      gemmTile: `${info.mr}×${info.nr} micro-kernel, KC=${info.kc} MC=${info.mc} NC=${info.nc}`,
      compiler: info.compiler,
      isaFlags: info.isaFlags,
      buildFlags: build ? { common: build.flags.common, ...build.flags.units, link: build.flags.link } : undefined,
    });
  } catch (err) {
    native.reason = err instanceof Error ? err.message : String(err);
  }
  const wasmPath = kernelWasmPath('kernels-relaxed.wasm') ?? kernelWasmPath();
  const k = await getKernels();
  const variant = 'variant' in k && typeof k.variant === 'string' ? k.variant : undefined;
  const a = { rows: 37, cols: 29, data: Float32Array.from({ length: 37 * 29 }, (_, i) => Math.sin(i)) };
  const got = await k.gemm(a, a, { transB: true });
  const want = await referenceKernels.gemm(a, a, { transB: true });
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.data.length; i++) {
    err = Math.max(err, Math.abs(got.data[i] - want.data[i]));
    scale = Math.max(scale, Math.abs(want.data[i]));
  }
  return {
    backend: k.kind,
    threads: k.threads,
    forced: forcedKernelKind() ?? null,
    native,
    wasm: { available: wasmPath !== undefined, path: wasmPath, variant },
    selfTest: { ok: err / scale < 1e-5, relError: err / scale },
  };
}

/** The report as text lines. */
export function doctorText(r: DoctorReport): string[] {
  const lines = [
    `backend: ${r.backend}${r.forced ? ` (forced by RECSYS_KERNELS=${r.forced})` : ' (best available)'}`,
    `threads: ${r.threads} (RECSYS_THREADS=${process.env.RECSYS_THREADS ?? 'unset'}; default ${defaultThreads()})`,
  ];
  if (r.native.available) {
    lines.push(`native: ${r.native.path}`);
    lines.push(`  ISA: ${r.native.isa} (CPU: ${r.native.cpu}; AVX2+FMA ${r.native.cpuFeatures?.avx2 ? 'yes' : 'no'}, AVX-512F ${r.native.cpuFeatures?.avx512f ? 'yes' : 'no'})`);
    lines.push(`  GEMM: ${r.native.gemmTile}`);
    lines.push(`  compiler: ${r.native.compiler}`);
    lines.push(`  ISA flags: ${r.native.isaFlags}`);
    if (r.native.buildFlags) for (const [unit, flags] of Object.entries(r.native.buildFlags)) lines.push(`  build ${unit}: ${flags.join(' ') || '(baseline x86-64)'}`);
  } else {
    lines.push(`native: unavailable — ${r.native.reason}`);
  }
  lines.push(`wasm: ${r.wasm.available ? `${r.wasm.path}${r.wasm.variant ? ` (${r.wasm.variant})` : ''}` : 'not built (npm run build:wasm)'}`);
  lines.push(`self-test: 37×29·29×37 GEMM vs reference, relative error ${r.selfTest.relError.toExponential(2)} ${r.selfTest.ok ? 'ok' : 'FAILED'}`);
  return lines;
}

/** Registers `recsys doctor`. */
export function register(program: Command): void {
  program
    .command('doctor')
    .description('show the numeric kernel backend (native ISA, threads, build flags, or WebAssembly) and self-test it')
    .option('--json', 'print the report as JSON')
    .action(async (flags: { json?: boolean }) => {
      const report = await doctor();
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : doctorText(report).join('\n') + '\n');
      if (!report.selfTest.ok) process.exitCode = 1;
      const k = await getKernels();
      await k.close();
    });
}
