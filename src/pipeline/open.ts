/**
 * A pipeline opened from directories — the one way the `pipeline` command and the service assemble it: the
 * retrieval model (its training matrix, its vector space), the ANN index saved next to it (HNSW or IVF; built on first use),
 * an optional ranker model, an optional feature store (built from the model's data set on request), and the
 * retrieval sources with their quotas. {@link OpenedPipeline.close} releases all of it.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { Kernels } from '../linalg/api.js';
import { getKernels } from '../linalg/index.js';
import { loadDataset } from '../data/datasets/registry.js';
import { Interactions } from '../data/interactions.js';
import { openModel, type OpenedModel } from '../models/index.js';
import { BatchingIndex } from './batching.js';
import { ExactIndex, type VectorIndex } from './exact.js';
import type { ExploreSettings } from './explore.js';
import { featureStorePathFor, isPostgres, materializeFeatures, openFeatureStore, type FeatureStore } from './feature-store.js';
import { HnswIndex, hnswPathFor, type HnswParams } from './hnsw.js';
import { IvfIndex, ivfPathFor, type IvfParams } from './ivf.js';
import { createPipeline, type Pipeline, type SourceQuota } from './pipeline.js';
import { modelSource, popularitySource, vectorSource } from './sources.js';
import { vectorSpaceOf } from './vectors.js';

/** How to retrieve: exact on the item vectors (or the model's own recommend), or through an ANN index. */
export type RetrievalKind = 'exact' | 'hnsw' | 'ivf' | 'model';

/** The approximate indexes {@link OpenPipelineOptions.ann} can build. */
export const ANN_INDEXES = ['ivf', 'hnsw'] as const;
export type AnnIndexKind = (typeof ANN_INDEXES)[number];

/** Whether `v` names an index of {@link ANN_INDEXES}. */
export function isAnnIndex(v: unknown): v is AnnIndexKind {
  return (ANN_INDEXES as readonly unknown[]).includes(v);
}

/**
 * The index `--ann` builds when none is named: the inverted file, which at 100k items answered recall@100 ≥ 0.95
 * 4–9× faster than HNSW here (docs/pipeline.md) — with the native kernels. Without them (the WebAssembly or the
 * reference backend) its search runs in the reference implementation, ≈ 4 ms a query at 100k × 64, slower than
 * exact retrieval; HNSW (usearch, its own native code) is the default there.
 */
export async function defaultAnnIndex(kernels?: Kernels): Promise<AnnIndexKind> {
  return (kernels ?? (await getKernels())).kind === 'native' ? 'ivf' : 'hnsw';
}

/** What {@link openPipeline} assembles. */
export interface OpenPipelineOptions {
  /** The retrieval model's directory. */
  model: string;
  /** The model already opened from `model` (saves a second load). */
  opened?: OpenedModel;
  /** A model directory whose `score` re-ranks the candidates. */
  ranker?: string;
  /** Feature store: true for the DuckDB file next to the model, or a DuckDB path / `postgres://…` URL. */
  store?: true | string;
  /** Rebuild the feature store from the model's data set before opening it. */
  buildStore?: boolean;
  /**
   * Retrieve through an approximate index next to the model (built when missing or when `rebuild`): `index` "ivf"
   * (`DIR.ivf`, parameters `ivf`) or "hnsw" (`DIR.hnsw`, parameters `params`); absent, {@link defaultAnnIndex}. Search-time
   * parameters (ef, nprobe) apply to a loaded index too; build-time ones only when it is built.
   */
  ann?: {
    index?: AnnIndexKind;
    rebuild?: boolean;
    params?: Partial<Pick<HnswParams, 'M' | 'efConstruction' | 'ef' | 'mips' | 'quantization'>>;
    ivf?: Partial<Pick<IvfParams, 'lists' | 'nprobe' | 'rerank'>>;
  };
  /** Searches of concurrent calls share one index call ({@link BatchingIndex}: one kernel call, one usearch batch); the service sets it. */
  batch?: boolean;
  /** Candidates from the primary source (default 100). */
  candidates?: number;
  /** Also merge this many of the most popular items (source "popularity"). */
  popularity?: number;
  /** Exploration settings and seed. */
  explore?: Partial<ExploreSettings> & { seed?: number };
  /** Where to report slow steps (index and store builds). */
  log?: (line: string) => void;
}

/** A pipeline with what it holds open. */
export interface OpenedPipeline {
  pipeline: Pipeline;
  /** The retrieval model. */
  opened: OpenedModel;
  ranker: OpenedModel | null;
  store: FeatureStore | null;
  /** The training matrix of the retrieval model. */
  train: Interactions;
  retrieval: RetrievalKind;
  /** Closes the store and disposes both models. */
  close(): Promise<void>;
}

/** Opens the model, ranker, index and store of a pipeline (see {@link OpenPipelineOptions}). */
export async function openPipeline(options: OpenPipelineOptions): Promise<OpenedPipeline> {
  const log = options.log ?? (() => undefined);
  const opened = options.opened ?? (await openModel(options.model));
  const { model, manifest } = opened;
  let ranker: OpenedModel | null = null;
  let store: FeatureStore | null = null;
  try {
    const trainOf: unknown = 'trainData' in model ? model.trainData : null;
    if (!(trainOf instanceof Interactions)) throw new UsageError(`model "${model.name}" does not expose its training matrix; the pipeline cannot run on it`);
    const train = trainOf;
    if (options.ranker) {
      ranker = await openModel(options.ranker);
      if (!ranker.model.score) throw new UsageError(`ranker ${options.ranker}: model "${ranker.model.name}" has no score method, so it cannot re-rank candidates`);
    }
    const space = await vectorSpaceOf(model);
    let index: VectorIndex | null = null;
    const annKind = options.ann ? (options.ann.index ?? (await defaultAnnIndex())) : null;
    if (options.ann && !space) throw new UsageError(`ANN retrieval: model "${model.name}" has no item vectors (it ranks through its own recommend); use exact retrieval`);
    if (options.ann && space && annKind === 'ivf') {
      const path = ivfPathFor(options.model);
      const { nprobe, rerank } = options.ann.ivf ?? {};
      let ivf: IvfIndex;
      if (!options.ann.rebuild && existsSync(path)) {
        ivf = IvfIndex.load(path, manifest.dataFingerprint, space.items, space.itemBias, { nprobe, rerank });
      } else {
        const started = Date.now();
        log(`building the IVF index over ${space.items.rows} items …`);
        // A line per k-means iteration once the build has taken 2 s (10 s at 1M items; 1 s at 100k says nothing).
        const progress = (done: number, total: number): void => {
          const s = (Date.now() - started) / 1000;
          if (s >= 2) log(`IVF k-means: iteration ${done} of ${total} after ${s.toFixed(0)} s (≈ ${((s / done) * (total - done)).toFixed(0)} s more, then one pass to place the items)`);
        };
        ivf = await IvfIndex.build(space.items, space.itemBias, options.ann.ivf ?? {}, { progress }); // undefined: the defaults for its size
        ivf.save(path, manifest.dataFingerprint);
        log(`built IVF index (${ivf.listCount} lists) in ${((Date.now() - started) / 1000).toFixed(1)} s: ${path}`);
      }
      index = options.batch ? new BatchingIndex(ivf) : ivf;
    } else if (options.ann && space) {
      const path = hnswPathFor(options.model);
      const ef = options.ann.params?.ef;
      const overrides = ef !== undefined ? { ef } : {};
      if (!options.ann.rebuild && existsSync(path)) {
        index = HnswIndex.load(path, manifest.dataFingerprint, overrides);
      } else {
        const started = Date.now();
        log(`building the HNSW index over ${space.items.rows} items …`);
        const built = HnswIndex.build(space.items, space.itemBias, options.ann.params ?? {}); // undefined: the defaults for its size
        built.save(path, manifest.dataFingerprint);
        log(`built HNSW index in ${((Date.now() - started) / 1000).toFixed(1)} s: ${path}`);
        index = built;
      }
      if (options.batch && index instanceof HnswIndex) index = new BatchingIndex(index);
    }
    const candidates = options.candidates ?? 100;
    const exact = (): VectorIndex => {
      if (!space) throw new Error('unreachable: exact retrieval without item vectors');
      const e = new ExactIndex(space.items, space.itemBias);
      return options.batch ? new BatchingIndex(e) : e;
    };
    const primary = space ? vectorSource(index ?? exact(), { modelVectors: true }) : modelSource(model, train.nItems);
    const sources: SourceQuota[] = [{ source: primary, quota: candidates }];
    if (options.popularity) sources.push({ source: popularitySource(train), quota: options.popularity });
    if (options.store !== undefined) {
      const location = options.store === true ? featureStorePathFor(options.model) : options.store;
      if (options.buildStore) await buildStore(opened, location, train, log);
      store = await openFeatureStore(location, { expectFingerprint: manifest.dataFingerprint });
    }
    const pipeline = await createPipeline({ model, manifest, train, ranker: ranker ?? undefined, store: store ?? undefined, sources, explore: options.explore });
    const heldStore = store;
    const heldRanker = ranker;
    return {
      pipeline,
      opened,
      ranker,
      store,
      train,
      retrieval: annKind ?? (space ? 'exact' : 'model'),
      async close() {
        try {
          await heldStore?.close();
        } finally {
          heldRanker?.model.dispose?.();
          model.dispose?.();
        }
      },
    };
  } catch (e) {
    await store?.close();
    ranker?.model.dispose?.();
    if (!options.opened) model.dispose?.();
    throw e;
  }
}

/** Materialises the feature store at `location` from the model's data set (or the training log alone). */
async function buildStore(opened: OpenedModel, location: string, train: Interactions, log: (line: string) => void): Promise<void> {
  const { manifest } = opened;
  const dataset = manifest.provenance.dataset;
  let features: Parameters<typeof materializeFeatures>[1]['features'];
  if (typeof dataset === 'string') {
    const path = typeof manifest.provenance.datasetPath === 'string' ? manifest.provenance.datasetPath : undefined;
    const ds = await loadDataset(dataset, path ? { path } : {});
    features = { userFeatures: ds.userFeatures, itemFeatures: ds.itemFeatures, users: ds.interactions.users, items: ds.interactions.items };
  } else {
    log('(the model records no data set: the store holds the event-log aggregates only)');
  }
  await materializeFeatures(location, { train, dataFingerprint: manifest.dataFingerprint, modelType: manifest.modelType, features });
  log(`built feature store ${isPostgres(location) ? location.replace(/:[^@/]*@/, ':***@') : location}`);
}
