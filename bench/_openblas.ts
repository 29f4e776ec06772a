/**
 * The OpenBLAS kernel the peer benchmarks pin numpy to: OPENBLAS_CORETYPE from the environment when set, else the
 * best one for this CPU (SkylakeX with AVX-512F, Haswell with AVX2 — OpenBLAS's Zen target uses the Haswell
 * kernels too —, else Sandybridge). The benches print the `architecture` threadpoolctl reports, i.e. what ran.
 */
import { readFileSync } from 'node:fs';

/** OPENBLAS_CORETYPE for the peer processes. */
export function openBlasCoreType(): string {
  const env = process.env.OPENBLAS_CORETYPE;
  if (env) return env;
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    // Not Linux: let OpenBLAS detect the CPU itself.
    return '';
  }
  const has = (f: string): boolean => new RegExp(`\\b${f}\\b`).test(flags);
  return has('avx512f') ? 'SkylakeX' : has('avx2') ? 'Haswell' : 'Sandybridge';
}
