// `recsys doctor`: reports the backend getKernels() picks, the native ISA and build flags (or why native is
// unavailable), and a GEMM self-test against the reference.
import { afterAll, describe, expect, it } from 'vitest';
import { doctor, doctorText } from '../../src/cli/commands/doctor.js';
import { getKernels } from '../../src/linalg/index.js';
import { BACKENDS } from './setup.js';

afterAll(async () => {
  await (await getKernels()).close();
});

describe('doctor', () => {
  it('names the backend, ISA, threads and build flags, and passes its self-test', async () => {
    const report = await doctor();
    const native = BACKENDS.find((b) => b.name === 'native');
    const text = doctorText(report).join('\n');
    expect(report.selfTest.ok).toBe(true);
    expect(text).toMatch(/^threads: \d+/m);
    if (native?.skip) {
      expect(report.native.available).toBe(false);
      expect(text).toContain(`native: unavailable — ${native.skip}`);
    } else {
      expect(report.backend).toBe(process.env.RECSYS_KERNELS || 'native');
      expect(report.native.isa).toMatch(/^avx(2|512)$/);
      expect(text).toMatch(/ISA: avx(2|512) \(CPU: .*AVX2\+FMA (yes|no), AVX-512F (yes|no)\)/);
      expect(text).toContain('build kernels_avx2.cpp: -mavx2 -mfma');
      expect(text).toContain('build kernels_avx512.cpp: -mavx2 -mfma -mavx512f');
    }
  });
});
