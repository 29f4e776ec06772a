/**
 * A model as the service holds it: the restored model with its manifest, id maps, training matrix and
 * popularity order, loaded completely before it is served. {@link ModelSlot} holds the one in service and swaps
 * in a new one atomically: a request takes the current model once ({@link ModelSlot.acquire}) and uses that
 * model to the end, so a reload never mixes two models in one response; the old model's memory is released when
 * its last request has finished. A model that fails to load leaves the one in service untouched.
 */
import { resolve } from 'node:path';
import { IdMap, type ExternalId } from '../data/id-map.js';
import type { Interactions } from '../data/interactions.js';
import { openModel, SkeletonModel, type Recommender } from '../models/index.js';
import { loadTrainedModel, type ModelManifest } from '../models/persistence.js';
import { openPipeline, type OpenedPipeline, type OpenPipelineOptions } from '../pipeline/index.js';

/** How the service assembles each model's pipeline (kept for reloads; the model directory comes per load). */
export type ServePipelineOptions = Omit<OpenPipelineOptions, 'model' | 'opened' | 'buildStore'>;

/** A loaded model ready to serve. */
export interface ServedModel {
  readonly model: Recommender;
  readonly manifest: ModelManifest;
  /** Absolute model directory. */
  readonly dir: string;
  /** A label for responses and metrics: `<type>@<createdAt>` of the manifest. */
  readonly version: string;
  /** Number of the load in this process (1 for the first model, +1 per successful reload). */
  readonly generation: number;
  readonly users: IdMap;
  readonly items: IdMap;
  /** The training matrix (each known user's items, item popularity). */
  readonly train: Interactions;
  /** Item indices by training popularity (number of users), most popular first; ties by index. */
  readonly popular: Int32Array;
  /** Distinct training users of each item. */
  readonly itemUsers: Int32Array;
  /** The model's retrieval → ranking → exploration pipeline (null for a model without a training matrix). */
  readonly pipeline: OpenedPipeline | null;
}

/** Releases what a served model holds (its pipeline's ranker and store, then the model). */
export async function releaseServed(served: ServedModel): Promise<void> {
  if (served.pipeline) await served.pipeline.close();
  else served.model.dispose?.();
}

/** Loads the model in `dir` for serving (the directory is checked by `openModel`) with its pipeline. */
export async function loadServedModel(dir: string, generation: number, options: ServePipelineOptions = {}): Promise<ServedModel> {
  const root = resolve(dir);
  const opened = await openModel(root);
  const { model, manifest } = opened;
  try {
    const train = model instanceof SkeletonModel ? model.trainData : (await loadTrainedModel(root, manifest.modelType)).train;
    const counts = new Int32Array(train.nItems);
    for (let j = 0; j < train.nnz; j++) counts[train.colIdx[j]]++;
    const popular = Int32Array.from({ length: train.nItems }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
    // Concurrent requests share one exact-retrieval kernel call unless told otherwise.
    const pipeline = model instanceof SkeletonModel ? await openPipeline({ batch: true, ...options, model: root, opened }) : null;
    return {
      model,
      manifest,
      dir: root,
      version: `${manifest.modelType}@${manifest.createdAt}`,
      generation,
      users: IdMap.fromIds(manifest.users),
      items: IdMap.fromIds(manifest.items),
      train,
      popular,
      itemUsers: counts,
      pipeline,
    };
  } catch (e) {
    model.dispose?.();
    throw e;
  }
}

/**
 * The index of an id given as text or JSON (a string or a number) in `ids`: the exact id first, then the same
 * id in the other form (`"42"` ↔ `42`), since a URL cannot tell them apart. -1 when unknown.
 */
export function lookupId(ids: IdMap, id: ExternalId): number {
  let i = ids.indexOf(id);
  if (i >= 0) return i;
  if (typeof id === 'number') i = ids.indexOf(String(id));
  else if (id.trim() !== '' && Number.isFinite(Number(id))) i = ids.indexOf(Number(id));
  return i;
}

/** The key under which the service files a user's events: the id's text (see {@link lookupId}). */
export function userKey(id: ExternalId): string {
  return String(id);
}

/** The model in service; see the module comment. */
export class ModelSlot {
  private current: ServedModel;
  private readonly users = new Map<ServedModel, number>();
  private readonly retired = new Set<ServedModel>();
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(
    first: ServedModel,
    private readonly options: ServePipelineOptions = {},
  ) {
    this.current = first;
  }

  /** The model in service (for reading fields; use {@link acquire} around model calls). */
  get served(): ServedModel {
    return this.current;
  }

  /** Takes the current model for one request; call the returned release when the request is done. */
  acquire(): { served: ServedModel; release: () => void } {
    const served = this.current;
    this.users.set(served, (this.users.get(served) ?? 0) + 1);
    let done = false;
    return {
      served,
      release: () => {
        if (done) return;
        done = true;
        const n = (this.users.get(served) ?? 1) - 1;
        if (n > 0) this.users.set(served, n);
        else {
          this.users.delete(served);
          if (this.retired.delete(served)) void releaseServed(served);
        }
      },
    };
  }

  /**
   * Loads `dir` (default: the current model's directory) and puts it in service; reloads run one at a time.
   * On failure the current model stays in service and the error is thrown.
   */
  reload(dir?: string): Promise<ServedModel> {
    const next = this.reloading.then(async () => {
      const loaded = await loadServedModel(dir ?? this.current.dir, this.current.generation + 1, this.options);
      const old = this.current;
      this.current = loaded;
      if (this.users.has(old)) this.retired.add(old);
      else await releaseServed(old);
      return loaded;
    });
    this.reloading = next.catch(() => undefined);
    return next;
  }

  /** Releases the model in service (at shutdown). */
  close(): Promise<void> {
    return releaseServed(this.current);
  }
}
