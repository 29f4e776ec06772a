/**
 * The recommendation pipeline (above models, eval and report; below cli and serve): retrieval (exact, IVF or HNSW
 * on item vectors, or a model's own recommend) from several sources merged under quotas → ranking → exploration,
 * plus the feature store. Entry point: {@link createPipeline}; see docs/pipeline.md.
 */
export { createPipeline, type Pipeline, type PipelineCallOptions, type PipelineModel, type PipelineOptions, type PipelineQuery, type PipelineResult, type SourceQuota } from './pipeline.js';
export type { Candidate, RankedCandidate } from './types.js';
export { vectorSpaceOf, type VectorSpace } from './vectors.js';
export { ExactIndex, type VectorHits, type VectorIndex } from './exact.js';
export { BatchingIndex, type BatchingOptions, type RowExcludingIndex } from './batching.js';
export { IvfIndex, ivfDefaultsFor, ivfPathFor, type IvfParams, type IvfSearchParams } from './ivf.js';
export { HnswIndex, HNSW_DEFAULTS, hnswDefaultsFor, hnswPathFor, LARGE_CATALOGUE, isMips, isQuantization, removeHnswFiles, type HnswParams } from './hnsw.js';
export { itemUserCounts, leastViewedSource, modelSource, popularitySource, vectorSource, type CandidateSource, type RetrievalQuery } from './sources.js';
export { mergeCandidates, type QuotaList } from './merge.js';
export { EXPLORE_DEFAULTS, EXPLORE_STRATEGIES, exploreSettings, parseStrategy, perturb, plackettLuce, type ExploreSettings, type ExploreStrategy } from './explore.js';
export { exploreReport, exploreReportHtml, rankSpreadChart, type ExploreReport, type ExploreReportOptions, type ListMetrics, type RankSpread } from './explore-report.js';
export {
  AGGREGATE_COLUMNS, featureStorePathFor, isPostgres, materializeFeatures, openFeatureStore,
  type ColumnKind, type FeatureRow, type FeatureStore, type FeatureValue, type MaterializeInput, type StoreLocation, type StoreVersion,
} from './feature-store.js';
export { ANN_INDEXES, defaultAnnIndex, isAnnIndex, openPipeline, type AnnIndexKind, type OpenedPipeline, type OpenPipelineOptions, type RetrievalKind } from './open.js';
