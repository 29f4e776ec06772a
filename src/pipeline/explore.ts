/**
 * Exploration stages, each seeded for reproducibility (a core `Rng`, one labelled fork per stage):
 * - post-ranking Plackett–Luce sampling without replacement from softmax(score / temperature);
 * - in-prediction Gaussian noise added to the user vector at inference (the model is not touched);
 * - least-viewed injection lives in the sources ({@link leastViewedSource}) and is merged by the pipeline.
 */
import type { Rng } from '../core/rng.js';
import type { Candidate } from './types.js';

/** The exploration strategies. */
export const EXPLORE_STRATEGIES = ['sampling', 'noise', 'least-viewed'] as const;
/** One strategy. */
export type ExploreStrategy = (typeof EXPLORE_STRATEGIES)[number];

/** Settings of the strategies. */
export interface ExploreSettings {
  /** Softmax temperature of the sampling stage (> 0; larger = closer to uniform). Default 1. */
  temperature: number;
  /** Standard deviation of the noise added to each user-vector coordinate (>= 0). Default 0.1. */
  sigma: number;
  /** Items with at most this many distinct users in training count as least viewed. Default 1. */
  maxViews: number;
  /** How many least-viewed items join the candidates. Default 10. */
  leastViewedCount: number;
}

/** Defaults of {@link ExploreSettings}. */
export const EXPLORE_DEFAULTS: ExploreSettings = { temperature: 1, sigma: 0.1, maxViews: 1, leastViewedCount: 10 };

/** Parses a strategy name (the CLI and the service pass strings). */
export function parseStrategy(s: string): ExploreStrategy {
  const hit = EXPLORE_STRATEGIES.find((x) => x === s);
  if (!hit) throw new RangeError(`unknown exploration strategy "${s}"; expected one of ${EXPLORE_STRATEGIES.join(', ')}`);
  return hit;
}

/** Checks settings (merged over the defaults). */
export function exploreSettings(s: Partial<ExploreSettings> = {}): ExploreSettings {
  const o = { ...EXPLORE_DEFAULTS };
  // Fields given as undefined keep their defaults.
  if (s.temperature !== undefined) o.temperature = s.temperature;
  if (s.sigma !== undefined) o.sigma = s.sigma;
  if (s.maxViews !== undefined) o.maxViews = s.maxViews;
  if (s.leastViewedCount !== undefined) o.leastViewedCount = s.leastViewedCount;
  if (!(Number.isFinite(o.temperature) && o.temperature > 0)) throw new RangeError(`explore: temperature must be > 0 (got ${o.temperature})`);
  if (!(Number.isFinite(o.sigma) && o.sigma >= 0)) throw new RangeError(`explore: sigma must be >= 0 (got ${o.sigma})`);
  if (!(Number.isInteger(o.maxViews) && o.maxViews >= 0)) throw new RangeError(`explore: maxViews must be an integer >= 0 (got ${o.maxViews})`);
  if (!(Number.isInteger(o.leastViewedCount) && o.leastViewedCount >= 0)) throw new RangeError(`explore: leastViewedCount must be an integer >= 0 (got ${o.leastViewedCount})`);
  return o;
}

/**
 * Plackett–Luce sampling without replacement: repeatedly draws one of the remaining candidates with probability
 * ∝ exp(score / temperature), until `k` are drawn. Candidates keep their score and source; only the order
 * changes. Scores of −∞ are drawn last (after every finite one), in their given order.
 */
export function plackettLuce(list: readonly Candidate[], k: number, temperature: number, rng: Rng): Candidate[] {
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new RangeError(`sampling: temperature must be > 0 (got ${temperature})`);
  const finite = list.filter((c) => Number.isFinite(c.score));
  const rest = list.filter((c) => !Number.isFinite(c.score));
  const n = Math.min(k, list.length);
  const alive = finite.map(() => true);
  const w = new Float64Array(finite.length);
  const out: Candidate[] = [];
  // Each draw renormalises against the best remaining score, so that a tiny temperature (weights that would
  // underflow) tends to the ranked order instead of degenerating.
  while (out.length < n && out.length < finite.length) {
    let max = -Infinity;
    for (let j = 0; j < finite.length; j++) if (alive[j]) max = Math.max(max, finite[j].score);
    let total = 0;
    for (let j = 0; j < finite.length; j++) {
      w[j] = alive[j] ? Math.exp((finite[j].score - max) / temperature) : 0;
      total += w[j];
    }
    let x = rng.uniform53() * total;
    let pick = -1;
    for (let j = 0; j < finite.length; j++) {
      if (!alive[j]) continue;
      if (pick < 0 || w[j] > 0) pick = j;
      x -= w[j];
      if (x < 0 && w[j] > 0) break;
    }
    alive[pick] = false;
    out.push(finite[pick]);
  }
  for (const c of rest) if (out.length < n) out.push(c);
  return out;
}

/** `v` plus N(0, sigma²) noise on each coordinate, as a new vector (sigma 0 returns an unchanged copy). */
export function perturb(v: Float32Array, sigma: number, rng: Rng): Float32Array {
  const out = v.slice();
  if (sigma === 0) return out;
  for (let j = 0; j < out.length; j++) out[j] += sigma * rng.normal();
  return out;
}
