// The small dense float64 decompositions (src/linalg/small-dense.ts) against hand-computed answers and the
// identities they must satisfy.
import { describe, expect, it } from 'vitest';
import { choleskyInPlace, choleskySolveInPlace, symmetricEigen, upperTriangularInverse } from '../../src/linalg/small-dense.js';
import { randomSpd, rng } from './helpers.js';

/** Row-major n×n product a·b. */
function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < n; p++) c[i * n + j] += a[i * n + p] * b[p * n + j];
  return c;
}

describe('choleskyInPlace / choleskySolveInPlace', () => {
  it('factors a hand example: [[4, 2], [2, 3]] = L·Lᵀ with L = [[2, 0], [1, √2]]', () => {
    const a = Float64Array.from([4, 2, 2, 3]);
    expect(choleskyInPlace(a, 2)).toBe(true);
    expect(Array.from(a)).toEqual([2, 0, 1, Math.SQRT2]);
    const b = Float64Array.from([2, 1]);
    choleskySolveInPlace(a, 2, b);
    expect(b[0]).toBeCloseTo(0.5, 14);
    expect(b[1]).toBeCloseTo(0, 14);
  });

  it('L·Lᵀ reconstructs a random SPD matrix and the solve inverts it', () => {
    const n = 9;
    const spd = Float64Array.from(randomSpd(n, rng(4)).data);
    const l = Float64Array.from(spd);
    expect(choleskyInPlace(l, n)).toBe(true);
    const lt = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) lt[i * n + j] = l[j * n + i];
    const back = matmul(l, lt, n);
    for (let i = 0; i < n * n; i++) expect(back[i]).toBeCloseTo(spd[i], 10);
    const x = Float64Array.from({ length: n }, (_, i) => i - 4);
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i] += spd[i * n + j] * x[j];
    choleskySolveInPlace(l, n, b);
    for (let i = 0; i < n; i++) expect(b[i]).toBeCloseTo(x[i], 10);
  });

  it('reports matrices that are not positive definite', () => {
    expect(choleskyInPlace(Float64Array.from([1, 2, 2, 1]), 2)).toBe(false);
    expect(choleskyInPlace(Float64Array.from([0, 0, 0, 1]), 2)).toBe(false);
  });
});

describe('symmetricEigen', () => {
  it('reconstructs its input, eigenvalues in decreasing order', () => {
    const a = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5]);
    const { values, vectors } = symmetricEigen(a, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let t = 0; t < 3; t++) s += vectors[i * 3 + t] * values[t] * vectors[j * 3 + t];
        expect(s).toBeCloseTo(a[i * 3 + j], 10);
      }
    }
    expect(values[0]).toBeGreaterThanOrEqual(values[1]);
    expect(values[1]).toBeGreaterThanOrEqual(values[2]);
  });

  it('hand example [[2, 1], [1, 2]]: eigenvalues 3 and 1, orthonormal vectors (1, ±1)/√2', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[0])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[0] * vectors[2]).toBeCloseTo(0.5, 12);
    expect(vectors[1] * vectors[3]).toBeCloseTo(-0.5, 12);
  });
});

describe('upperTriangularInverse', () => {
  it('hand example and R·R⁻¹ = I on a random upper-triangular matrix', () => {
    expect(Array.from(upperTriangularInverse(Float64Array.from([2, 1, 0, 4]), 2))).toEqual([0.5, -0.125, 0, 0.25]);
    const n = 7;
    const rand = rng(11);
    const r = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) r[i * n + j] = i === j ? 1 + rand() : rand() * 2 - 1;
    const inv = upperTriangularInverse(r, n);
    const eye = matmul(r, inv, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(eye[i * n + j]).toBeCloseTo(i === j ? 1 : 0, 12);
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) expect(inv[i * n + j]).toBe(0);
  });
});
