/**
 * The last section of `recsys demo`: one user's recommendations through the two-stage pipeline, as the service
 * serves them with `--ann` — iALS item vectors in an IVF index (retrieval, plus a popularity quota), EASE re-ranking the
 * candidates, least-viewed injection and Plackett–Luce sampling (exploration), item details from a feature store
 * materialised in a temporary DuckDB file. Printed as the three lists with sources, and as a report table.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExternalId } from '../../data/id-map.js';
import type { Interactions } from '../../data/interactions.js';
import { createModel } from '../../models/index.js';
import { dataFingerprint } from '../../models/persistence.js';
import {
  createPipeline, IvfIndex, materializeFeatures, openFeatureStore, popularitySource, vectorSource, vectorSpaceOf,
  type FeatureRow, type RankedCandidate,
} from '../../pipeline/index.js';
import { htmlTable, paragraph, type ReportSection } from '../../report/html.js';
import type { DemoContext, SectionBuilder } from './demo-context.js';
import { pipelineText } from './pipeline.js';

/** The user shown: the one whose history length is the median among users with at least 10 items (ties: lowest index). */
export function demoUser(train: Interactions): number {
  const users: number[] = [];
  for (let u = 0; u < train.nUsers; u++) if (train.rowPtr[u + 1] - train.rowPtr[u] >= 10) users.push(u);
  if (users.length === 0) return 0;
  users.sort((a, b) => train.rowPtr[a + 1] - train.rowPtr[a] - (train.rowPtr[b + 1] - train.rowPtr[b]) || a - b);
  return users[Math.floor(users.length / 2)];
}

/** `recsys demo`'s pipeline section; see the module comment. */
export const pipelineBuilder: SectionBuilder = {
  name: 'pipeline',
  plan: () => [{ label: 'retrieval model', weight: 0.6 }, { label: 'ranker', weight: 0.3 }, { label: 'feature store', weight: 0.3 }],
  async build(ctx: DemoContext): Promise<ReportSection[]> {
    const { dataset, tracker } = ctx;
    const train = dataset.interactions;
    tracker.startUnit('retrieval model');
    const retrieval = createModel('ials', { factors: 64, iterations: 15, alpha: 10, reg: 0.1, confidence: 'log' });
    await retrieval.fit(train, { signal: ctx.signal, onProgress: (p) => tracker.update(p) });
    tracker.finishUnit('retrieval model');
    if (ctx.signal.aborted) return [];
    tracker.startUnit('ranker');
    const ranker = createModel('ease', { reg: 500 });
    await ranker.fit(train, { signal: ctx.signal, onProgress: (p) => tracker.update(p) });
    tracker.finishUnit('ranker');
    const dir = await mkdtemp(join(tmpdir(), 'recsys-demo-pipeline-'));
    try {
      tracker.startUnit('feature store');
      const fingerprint = dataFingerprint(train);
      const manifest = { users: train.users.ids(), items: train.items.ids(), dataFingerprint: fingerprint, modelType: 'ials' };
      const location = join(dir, 'features.duckdb');
      await materializeFeatures(location, { train, dataFingerprint: fingerprint, modelType: 'ials', features: { userFeatures: dataset.userFeatures, itemFeatures: dataset.itemFeatures, users: train.users, items: train.items } });
      const store = await openFeatureStore(location, { expectFingerprint: fingerprint });
      tracker.finishUnit('feature store');
      try {
        const space = await vectorSpaceOf(retrieval);
        if (!space) throw new Error('ials exposes no item vectors');
        const index = await IvfIndex.build(space.items, space.itemBias);
        const pipeline = await createPipeline({
          model: retrieval,
          manifest,
          train,
          ranker: { model: ranker, manifest: { ...manifest, modelType: 'ease' } },
          store,
          sources: [{ source: vectorSource(index), quota: 100 }, { source: popularitySource(train), quota: 10 }],
          explore: { seed: 42, temperature: 0.5, maxViews: 1, leastViewedCount: 5 },
        });
        const user = demoUser(train);
        const strategies = ['least-viewed', 'sampling'] as const;
        const result = await pipeline.recommend({ userIndex: user }, 10, { explore: strategies });
        const ids = (list: RankedCandidate[]): ExternalId[] => list.map((c) => pipeline.itemId(c.item));
        const rows = await store.items([...new Set([...ids(result.retrieved.slice(0, 20)), ...ids(result.ranked), ...ids(result.explored)])]);
        const features = new Map<ExternalId, FeatureRow>(rows.filter((f): f is FeatureRow => f !== null).map((f) => [f.id, f]));
        const userId = train.users.idOf(user);
        const text = pipelineText(result, userId, pipeline.itemId, features, { model: 'ials (IVF index)', ranker: 'ease', strategies: [...strategies], retrieval: 'ivf + popularity' });
        ctx.print(`\nThe pipeline for user ${String(userId)} (what \`recsys serve\` answers at /v1/recommendations?user=${String(userId)}&explore=least-viewed,sampling&stages=true):\n${text}`);
        const describe = (c: RankedCandidate): string => {
          const f = features.get(pipeline.itemId(c.item));
          if (!f) return '';
          return Object.entries(f).filter(([k, v]) => k !== 'id' && v !== null && !(Array.isArray(v) && v.length === 0)).slice(0, 3).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v).slice(0, 40)}`).join('; ');
        };
        const table = (list: RankedCandidate[]): string =>
          htmlTable(['rank', 'item', 'score', 'source', 'details'], list.map((c) => [String(c.rank), String(pipeline.itemId(c.item)), c.score.toFixed(4), c.source, describe(c)]));
        return [
          {
            id: 'pipeline',
            title: `${ctx.synthetic ? '[SYNTHETIC] ' : ''}The two-stage pipeline for one user`,
            html: [
              paragraph(`User ${String(userId)} (${train.rowPtr[user + 1] - train.rowPtr[user]} items in training). Retrieval: iALS item vectors in an IVF index (100 candidates) plus the 10 most popular items; ranking: EASE's score of each candidate; exploration: 5 items seen by at most one user joined the candidates, then Plackett–Luce sampling at temperature 0.5 (seed 42). Item details come from the feature store.`),
              `<h3>Retrieved (first 20 of ${result.retrieved.length})</h3>`,
              table(result.retrieved.slice(0, 20)),
              `<h3>Ranked by ${result.rankedBy}</h3>`,
              table(result.ranked),
              '<h3>Explored</h3>',
              table(result.explored),
            ].join('\n'),
          },
        ];
      } finally {
        await store.close();
      }
    } finally {
      retrieval.dispose?.();
      ranker.dispose?.();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
