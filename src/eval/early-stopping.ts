/**
 * Early stopping on a validation part (RecBole's `stopping_step`): after each epoch or iteration the model ranks
 * the validation users with its current parameters (training items excluded), the monitor computes the mean of
 * one top-k metric over users with a relevant validation item, and says "best" when it improved on every earlier
 * value and "stop" when `patience` checks in a row brought no improvement. The model keeps the best copy.
 */
import type { Interactions } from '../data/interactions.js';
import type { EpochValidation, RankUsers } from '../core/progress.js';
import { averagePrecisionAt, hitRateAt, ndcgAt, precisionAt, recallAt, reciprocalRankAt, truncatedRecallAt, type MetricSpec, type Relevance } from './metrics.js';

/** Metrics early stopping can monitor: per-user top-k metrics, higher is better. */
export const EARLY_STOPPING_METRICS = ['ndcg', 'recall', 'recall_trunc', 'precision', 'map', 'mrr', 'hitrate'] as const;

/** What the monitor saw: the metric after each unit and the best unit (1-based; 0 before any check). */
export interface EarlyStoppingReport {
  metric: string;
  values: number[];
  bestUnit: number;
  bestValue: number;
  /** True when patience ran out before the model's last epoch. */
  stopped: boolean;
}

/** An {@link EpochValidation} that also keeps its {@link EarlyStoppingReport}. */
export interface ValidationMonitor extends EpochValidation {
  readonly report: EarlyStoppingReport;
}

/** The metric of one ranked list. */
function metricOf(spec: MetricSpec, ranked: Int32Array, rel: Relevance): number {
  switch (spec.name) {
    case 'ndcg': return ndcgAt(ranked, rel, spec.k, 'binary');
    case 'recall': return recallAt(ranked, rel, spec.k);
    case 'recall_trunc': return truncatedRecallAt(ranked, rel, spec.k);
    case 'precision': return precisionAt(ranked, rel, spec.k);
    case 'map': return averagePrecisionAt(ranked, rel, spec.k, 'truncated');
    case 'mrr': return reciprocalRankAt(ranked, rel, spec.k);
    case 'hitrate': return hitRateAt(ranked, rel, spec.k);
    default: throw new Error(`earlyStopping.metric: ${spec.label} cannot be monitored; use one of ${EARLY_STOPPING_METRICS.map((m) => `${m}@k`).join(', ')}`);
  }
}

/**
 * A monitor of `metric` on `validation` (users with an entry of value >= `threshold`). `patience`: checks without
 * improvement before stopping (an improvement is any strictly larger value).
 */
export function validationMonitor(validation: Interactions, metric: MetricSpec, patience: number, threshold = -Infinity): ValidationMonitor {
  if (!Number.isFinite(metric.k)) throw new Error(`earlyStopping.metric: ${metric.label} needs a cut-off, e.g. ${metric.name}@10`);
  metricOf(metric, new Int32Array(0), new Map()); // rejects unsupported metrics before training starts
  const users: number[] = [];
  const rels: Relevance[] = [];
  for (let u = 0; u < validation.nUsers; u++) {
    const items = validation.userItems(u);
    const values = validation.userValues(u);
    const rel = new Map<number, number>();
    for (let j = 0; j < items.length; j++) if (values[j] >= threshold) rel.set(items[j], 1);
    if (rel.size > 0) {
      users.push(u);
      rels.push(rel);
    }
  }
  const userIdx = Int32Array.from(users);
  const report: EarlyStoppingReport = { metric: metric.label, values: [], bestUnit: 0, bestValue: -Infinity, stopped: false };
  let sinceBest = 0;
  return {
    report,
    async check(unit: number, rank: RankUsers) {
      let sum = 0;
      if (userIdx.length > 0) {
        const top = await rank(userIdx, metric.k);
        for (let r = 0; r < userIdx.length; r++) sum += metricOf(metric, top.items.subarray(r * top.k, (r + 1) * top.k), rels[r]);
      }
      const value = userIdx.length ? sum / userIdx.length : 0;
      report.values.push(value);
      const best = report.bestUnit === 0 || value > report.bestValue;
      if (best) {
        report.bestUnit = unit;
        report.bestValue = value;
        sinceBest = 0;
      } else sinceBest++;
      const stop = sinceBest >= patience;
      if (stop) report.stopped = true;
      return { best, stop };
    },
  };
}
