/** Weight initializers drawing from a seeded {@link Rng}. */
import type { Rng } from '../core/rng.js';
import type { Param } from './tensor.js';

/** Glorot/Xavier uniform: U(±√(6 / (fanIn + fanOut))), the Keras and Liang et al. default. */
export function glorotUniform(p: Param, rng: Rng, fanIn = p.rows, fanOut = p.cols): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < p.value.length; i++) p.value[i] = (2 * rng.uniform() - 1) * limit;
}

/** Normal(0, std²) entries. */
export function normalInit(p: Param, rng: Rng, std: number): void {
  for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * std;
}

/** Truncated-normal-like init for biases in Liang et al. (N(0, 0.001²)). */
export function smallNormalInit(p: Param, rng: Rng): void {
  normalInit(p, rng, 0.001);
}
