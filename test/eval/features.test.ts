import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/eval/config.js';
import { runExperiment } from '../../src/eval/experiment.js';
import type { ModelFeatures } from '../../src/models/neural/features.js';
import { PopularityRecommender } from '../../src/models/baselines/popularity.js';
import { defineParams } from '../../src/core/params.js';
import { defineModel, registerModel } from '../../src/models/registry.js';

/** Popularity that records the features it was given before fit. */
class FeatureSpy extends PopularityRecommender {
  static seen: (ModelFeatures | null)[] = [];
  private features: ModelFeatures | null = null;
  setFeatures(features: ModelFeatures): void {
    this.features = features;
  }
  override async fit(...args: Parameters<PopularityRecommender['fit']>): Promise<void> {
    FeatureSpy.seen.push(this.features);
    return super.fit(...args);
  }
}

registerModel(defineModel({ name: 'test-feature-spy', description: 'test only', params: defineParams({}), create: () => new FeatureSpy({}) }));

describe('experiment runner and feature-aware models', () => {
  it('hands the data set\'s user and item features to the model before fit', async () => {
    const config = validateConfig({
      name: 'features',
      dataset: { name: 'synthetic', users: 100, items: 60, perUser: 10, seed: 3 },
      split: { method: 'ratio', ratios: [8, 2], seed: 1 },
      metrics: ['ndcg@10'],
      models: ['test-feature-spy'],
    });
    await runExperiment(config);
    expect(FeatureSpy.seen).toHaveLength(1);
    const f = FeatureSpy.seen[0];
    expect(f).not.toBeNull();
    expect(Object.keys(f!.itemFeatures?.multiHot ?? {})).toContain('tags');
  });
});
