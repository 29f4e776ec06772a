/**
 * The hybrid: a weighted blend of registered models' normalised scores. Each component (any registered model,
 * e.g. iALS + content + item-prior) scores every item for a user; the scores are normalised per user (z-score
 * or rank) and blended as Σ w_c z_c / Σ |w_c|. With `switch: cold-items`, items with at most `coldThreshold`
 * training interactions take the cold component's score alone (content for cold items, CF otherwise).
 *
 * Weights: given (`weights`), or learned at fit time on a validation split of the training data — a share of
 * each user's entries (`validation: entries`, warm) or a share of the items with all their entries
 * (`validation: items`, cold-start) — by coordinate search over `grid` maximising NDCG@`metricK`; the
 * components are then refitted on all the training data. The learned weights, the validation NDCG of the blend
 * and of each component alone are reported by `fitNotes()` (the experiment runner prints them).
 *
 * Saved as a model directory whose `components/<j>/` subdirectories hold the components' own saved models.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Interactions } from '../../data/interactions.js';
import type { TopKOptions, TopKResult } from '../../linalg/api.js';
import { Rng } from '../../core/rng.js';
import { defineParams, int, num, numList, oneOf, ParamError, str, type ParamSpec, type ParamsOf } from '../../core/params.js';
import { throwIfAborted, type FitOptions } from '../../core/progress.js';
import { usesFeatures, type History, type HistoryOptions, type ModelFeatures, type Recommender, type TopK } from '../contract.js';
import { loadModel } from '../load.js';
import { createModel, defineModel, type RegisteredModel } from '../registry.js';
import { checkPairs, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { blendRow, coordinateSearch, normalise, type SearchResult, type ValidationUser } from './blend.js';

/** One component: a registered model with its hyperparameters and a label. */
export interface ComponentSpec {
  model: string;
  params: Record<string, unknown>;
  label: string;
}

const componentSchema = z.array(
  z.strictObject({ model: z.string(), params: z.record(z.string(), z.unknown()).default({}), label: z.string().optional() }),
).min(1).transform((list) => list.map((c) => ({ model: c.model, params: c.params, label: c.label ?? c.model })));

/**
 * The `components` hyperparameter: a list of { model, params, label } in a config, or its JSON text on the command
 * line; kept as canonical JSON text (model.json's hyperparameters are flat values).
 */
export function componentsParam(def: ComponentSpec[], doc = 'the blended models'): ParamSpec<string> {
  const schema: z.ZodType<string> = z.preprocess((v) => (typeof v === 'string' ? v : JSON.stringify(v)), z.string()).refine((t) => parseComponents(t) !== null);
  return { kind: 'string', default: JSON.stringify(def), schema, expects: 'a non-empty list of { model, params, label } (JSON on the command line)', doc };
}

/** The component list of the `components` text, null when it is not one. */
export function parseComponents(text: string): ComponentSpec[] | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const r = componentSchema.safeParse(raw);
  return r.success ? r.data : null;
}

/** Hyperparameters of {@link HybridRecommender}. */
export const HYBRID_PARAMS = defineParams({
  components: componentsParam([{ model: 'ials', params: {}, label: 'ials' }, { model: 'content', params: {}, label: 'content' }]),
  normalize: oneOf(['zscore', 'rank'], 'zscore', { doc: 'per-user normalisation of each component\'s scores' }),
  weights: numList([], { doc: 'fixed blend weights, one per component; empty: learn them on a validation split' }),
  validation: oneOf(['entries', 'items'], 'entries', { doc: 'validation split for learning weights: a share of each user\'s entries (warm) or of the items (cold-start)' }),
  validationRatio: num(0.2, { min: 0, exclusiveMin: true, max: 0.9, doc: 'share held out for validation' }),
  validationUsers: int(2000, { min: 1, doc: 'at most this many validation users are scored (a seeded sample)' }),
  metricK: int(10, { min: 1, doc: 'k of the NDCG@k the weights maximise' }),
  grid: numList([0, 0.25, 0.5, 1, 2, 4], { min: 0, minLength: 2, doc: 'values each weight may take in the coordinate search' }),
  rounds: int(3, { min: 1, doc: 'coordinate-search rounds' }),
  switch: oneOf(['off', 'cold-items'], 'off', { doc: 'cold-items: items with <= coldThreshold training interactions take the cold component\'s score alone' }),
  coldComponent: str('content', { doc: 'label of the component that scores cold items' }),
  coldThreshold: int(0, { min: 0, doc: 'items with at most this many training interactions are cold' }),
  seed: int(42, { doc: 'seed of the validation split' }),
});

/** Typed hyperparameters of {@link HybridRecommender}. */
export type HybridParams = ParamsOf<typeof HYBRID_PARAMS>;

interface HybridState {
  models: Recommender[];
  weights: number[];
  /** Items scored by the cold component alone (switch: cold-items). */
  cold: Uint8Array | null;
  /** The search, when weights were learned. */
  search: SearchResult | null;
}

/** The hybrid; see the module comment. */
export class HybridRecommender extends SkeletonModel<HybridParams, HybridState> {
  readonly name = 'hybrid';
  protected override batchSize = 128;
  private features: ModelFeatures | null = null;
  /** Labels of the components left out of history scores (no `recommendForHistory`), for `fitNotes()`. */
  private readonly historySkipped = new Set<string>();
  /** Components loaded from a model directory, waiting for `importState`. */
  private loaded: Recommender[] | null = null;
  /** The components, parsed from the `components` hyperparameter. */
  readonly components: ComponentSpec[];

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(HYBRID_PARAMS.parse('hybrid', params));
    const p = this.params;
    const specs = parseComponents(p.components);
    if (!specs) throw new ParamError('hybrid', 'components', 'components must be a non-empty list of { model, params, label }');
    this.components = specs;
    const labels = specs.map((c) => c.label);
    if (new Set(labels).size !== labels.length) throw new ParamError('hybrid', 'components', `component labels must be distinct (got ${labels.join(', ')}); give each a label`);
    if (p.weights.length > 0 && p.weights.length !== labels.length) throw new ParamError('hybrid', 'weights', `weights has ${p.weights.length} values for ${labels.length} components`);
    if (p.weights.some((w) => !(w >= 0)) || (p.weights.length > 0 && p.weights.every((w) => w === 0))) throw new ParamError('hybrid', 'weights', 'weights must be >= 0 and not all 0');
    if (p.switch === 'cold-items' && !labels.includes(p.coldComponent)) throw new ParamError('hybrid', 'coldComponent', `coldComponent "${p.coldComponent}" is not a component label (${labels.join(', ')})`);
    for (const c of specs) {
      if (c.model === 'hybrid') throw new ParamError('hybrid', 'components', 'a hybrid cannot contain a hybrid');
      try {
        createModel(c.model, c.params);
      } catch (e) {
        throw new ParamError('hybrid', 'components', `component "${c.label}": ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** Passes the features to every feature-aware component. */
  setFeatures(features: ModelFeatures): void {
    this.features = features;
  }

  /** The blend weights in use, by component label (empty before fit). */
  get blendWeights(): Record<string, number> {
    const s = this.stateOrNull;
    return s ? Object.fromEntries(this.components.map((c, j) => [c.label, s.weights[j]])) : {};
  }

  private coldIndex(): number {
    return this.params.switch === 'cold-items' ? this.components.findIndex((c) => c.label === this.params.coldComponent) : -1;
  }

  private coldMask(train: Interactions): Uint8Array | null {
    if (this.params.switch !== 'cold-items') return null;
    const counts = train.itemCounts();
    return Uint8Array.from(counts, (c) => (c <= this.params.coldThreshold ? 1 : 0));
  }

  private async fitComponents(train: Interactions, options: FitOptions, what: string): Promise<Recommender[]> {
    const out: Recommender[] = [];
    for (const c of this.components) {
      throwIfAborted(options.signal);
      const m = createModel(c.model, c.params);
      if (usesFeatures(m) && this.features) m.setFeatures(this.features);
      await m.fit(train, { signal: options.signal, onProgress: (p) => options.onProgress?.({ ...p, phase: `${what} ${c.label}: ${p.phase}` }) });
      out.push(m);
    }
    return out;
  }

  protected async fitState(train: Interactions, options: FitOptions): Promise<HybridState> {
    const p = this.params;
    let weights = p.weights.slice();
    let search: SearchResult | null = null;
    if (weights.length === 0) {
      const { fitPart, valid } = this.validationSplit(train);
      const models = await this.fitComponents(fitPart, options, 'validation');
      try {
        const users = await this.validationUsers(models, fitPart, valid);
        search = coordinateSearch(users, models.length, p.grid, p.rounds, p.metricK, train.nItems, this.coldMask(fitPart), this.coldIndex());
        weights = search.weights;
      } finally {
        for (const m of models) m.dispose?.();
      }
      options.onProgress?.({ phase: 'weights', done: 1, total: 1 });
    }
    const models = await this.fitComponents(train, options, 'final');
    return { models, weights, cold: this.coldMask(train), search };
  }

  /** Splits `train` into a fit part and a validation part (entries per user, or whole items). */
  private validationSplit(train: Interactions): { fitPart: Interactions; valid: Interactions } {
    const rng = new Rng(this.params.seed).fork('hybrid:validation');
    const hold = new Uint8Array(train.nnz);
    const ratio = this.params.validationRatio;
    if (this.params.validation === 'items') {
      const counts = train.itemCounts();
      const withEntries = Int32Array.from({ length: train.nItems }, (_, i) => i).filter((i) => counts[i] > 0);
      const order = rng.shuffle(withEntries);
      const held = new Uint8Array(train.nItems);
      for (let j = 0; j < Math.round(ratio * order.length); j++) held[order[j]] = 1;
      for (let q = 0; q < train.nnz; q++) hold[q] = held[train.colIdx[q]];
    } else {
      for (let u = 0; u < train.nUsers; u++) {
        const s = train.rowPtr[u];
        const n = train.rowPtr[u + 1] - s;
        if (n < 2) continue;
        const pos = rng.shuffle(Int32Array.from({ length: n }, (_, j) => s + j));
        for (let j = 0; j < Math.max(1, Math.round(ratio * n)); j++) hold[pos[j]] = 1;
      }
    }
    const fitPart = train.selectEntries(Uint8Array.from(hold, (h) => 1 - h));
    const valid = train.selectEntries(hold);
    if (valid.nnz === 0) throw new Error('hybrid: the validation split is empty (too little training data to learn weights; give fixed weights)');
    return { fitPart, valid };
  }

  /** Normalised component scores of a sample of the validation users. */
  private async validationUsers(models: Recommender[], fitPart: Interactions, valid: Interactions): Promise<ValidationUser[]> {
    const candidates: number[] = [];
    for (let u = 0; u < valid.nUsers; u++) if (valid.rowPtr[u + 1] > valid.rowPtr[u]) candidates.push(u);
    const rng = new Rng(this.params.seed).fork('hybrid:users');
    const chosen = Array.from(rng.shuffle(Int32Array.from(candidates)).subarray(0, this.params.validationUsers)).sort((a, b) => a - b);
    const users: ValidationUser[] = chosen.map((u) => ({ z: [], relevant: new Set(valid.userItems(u)), skip: new Set(fitPart.userItems(u)) }));
    for (let start = 0; start < chosen.length; start += this.batchSize) {
      const batch = Int32Array.from(chosen.slice(start, start + this.batchSize));
      for (const m of models) {
        const z = await componentScores(m, batch, fitPart.nItems, this.params.normalize, undefined);
        for (let r = 0; r < batch.length; r++) users[start + r].z.push(z[r]);
      }
    }
    return users;
  }

  protected async rank(state: HybridState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    const n = this.trainData.nItems;
    if (!batch.users) {
      const data = await this.historyScores(state, batch.history!, select.candidates);
      return (await this.kernels()).topk({ rows: 1, cols: n, data }, k, select);
    }
    const data = await this.blendScores(state, batch.users, select.candidates);
    return (await this.kernels()).topk({ rows: batch.users.length, cols: n, data }, k, select);
  }

  /**
   * Top-k for an unseen user's history: the blend of the components' `recommendForHistory` scores with their
   * weights; components without `recommendForHistory` are left out (the others' weights renormalised, and
   * `fitNotes()` names them). The cold-item switch applies when the cold component can score histories.
   */
  async recommendForHistory(history: History, k: number, options: HistoryOptions = {}): Promise<TopK> {
    return this.rankHistory(history, k, options);
  }

  /** The blended scores of one history over all items (normalised over `candidates` when given). */
  private async historyScores(state: HybridState, history: History, candidates: Int32Array | undefined): Promise<Float32Array> {
    const n = this.trainData.nItems;
    const z: Float32Array[] = [];
    const w: number[] = [];
    const skipped: string[] = [];
    const zero = new Float32Array(n);
    for (const [j, m] of state.models.entries()) {
      if (m.recommendForHistory) {
        z.push(await historyComponentScores(m.recommendForHistory.bind(m), history, n, this.params.normalize, candidates));
        w.push(state.weights[j]);
      } else {
        skipped.push(this.components[j].label);
        z.push(zero);
        w.push(0);
      }
    }
    if (w.every((x) => x === 0)) {
      const why = skipped.length === state.models.length ? 'no component has recommendForHistory' : 'the components that have recommendForHistory all have weight 0';
      throw new Error(`hybrid: cannot score a history: ${why} (components: ${this.components.map((c) => `${c.label} (${c.model})`).join(', ')})`);
    }
    for (const label of skipped) this.historySkipped.add(label);
    const coldIdx = this.coldIndex();
    const out = new Float32Array(n);
    blendRow(z, w, out, state.cold, coldIdx >= 0 && state.models[coldIdx].recommendForHistory ? coldIdx : -1);
    return out;
  }

  /** Blended scores, users × items (normalised over `candidates` when given, else over all items). */
  private async blendScores(state: HybridState, users: Int32Array, candidates: Int32Array | undefined): Promise<Float32Array> {
    const n = this.trainData.nItems;
    const per = await Promise.all(state.models.map((m) => componentScores(m, users, n, this.params.normalize, candidates)));
    const out = new Float32Array(users.length * n);
    const coldIdx = this.coldIndex();
    for (let r = 0; r < users.length; r++) blendRow(per.map((z) => z[r]), state.weights, out.subarray(r * n, (r + 1) * n), state.cold, coldIdx);
    return out;
  }

  /** The blended score of each pair (NaN outside the training users and items). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    checkPairs(this.name, users, items);
    const train = this.trainData;
    const n = train.nItems;
    const out = new Float32Array(users.length).fill(NaN);
    const distinct = Int32Array.from(new Set(Array.from(users).filter((u) => u >= 0 && u < train.nUsers)));
    const scores = await this.blendScores(this.state, distinct, undefined);
    const row = new Map(Array.from(distinct, (u, r) => [u, r]));
    users.forEach((u, j) => {
      const r = row.get(u);
      if (r !== undefined && items[j] >= 0 && items[j] < n) out[j] = scores[r * n + items[j]];
    });
    return out;
  }

  /** The weights and, when learned, the validation NDCG of the blend and of each component alone. */
  fitNotes(): string[] {
    const s = this.stateOrNull;
    if (!s) return [];
    const p = this.params;
    const w = this.components.map((c, j) => `${c.label} ${s.weights[j]}`).join(', ');
    const skipped = this.historySkipped.size > 0 ? [`hybrid: histories (held-out users) scored without ${[...this.historySkipped].join(', ')} (no recommendForHistory); the other weights renormalised`] : [];
    if (!s.search) return [`hybrid weights (fixed): ${w}`, ...skipped];
    const alone = this.components.map((c, j) => `${c.label} ${s.search!.alone[j].toFixed(4)}`).join(', ');
    return [`hybrid weights learned on a validation split (${p.validation}, ${p.validationRatio}): ${w}; validation NDCG@${p.metricK} ${s.search.ndcg.toFixed(4)} (equal weights ${s.search.startNdcg.toFixed(4)}; alone: ${alone})`, ...skipped];
  }

  /** Saves the hybrid and each component in `dir/components/<j>/`. */
  override async save(dir: string): Promise<void> {
    await super.save(dir);
    const { models } = this.state;
    for (const [j, m] of models.entries()) {
      if (!m.save) throw new Error(`hybrid: component "${this.components[j].label}" (${m.name}) cannot be saved`);
      await m.save(join(dir, 'components', String(j)));
    }
  }

  /** Loads the components saved by {@link save}; called by the registry before `restore`. */
  async loadComponents(dir: string): Promise<void> {
    const out: Recommender[] = [];
    for (let j = 0; j < this.components.length; j++) {
      const m = await loadModel(join(dir, 'components', String(j)));
      const want = this.components[j].model;
      if (m.name !== want) throw new Error(`${join(dir, 'components', String(j))}: holds a "${m.name}" model, but component ${j} is "${want}"`);
      out.push(m);
    }
    this.loaded = out;
  }

  protected exportState(state: HybridState): StoredState {
    const arrays: StoredState['arrays'] = state.cold ? { cold: vector(Int32Array.from(state.cold)) } : {};
    return { json: { weights: state.weights, search: state.search }, arrays };
  }

  protected importState(saved: StateReader, train: Interactions): HybridState {
    const models = this.loaded;
    this.loaded = null;
    if (!models) throw new Error(`${saved.file}: the hybrid's components were not loaded (load hybrids with loadModel)`);
    const w = saved.value('weights');
    if (!Array.isArray(w) || w.length !== models.length || !w.every((x): x is number => typeof x === 'number' && x >= 0)) throw new Error(`${saved.file}: state field "weights" must be ${models.length} non-negative numbers`);
    const cold = this.params.switch === 'cold-items' ? Uint8Array.from(saved.i32('cold', train.nItems)) : null;
    const search = saved.value('search');
    return { models, weights: w, cold, search: isSearch(search) ? search : null };
  }

  protected override releaseState(state: HybridState): void {
    for (const m of state.models) m.dispose?.();
  }
}

function isSearch(v: unknown): v is SearchResult {
  return typeof v === 'object' && v !== null && 'weights' in v && 'ndcg' in v && 'alone' in v && 'startNdcg' in v;
}

/** Each user's normalised scores from `model` over all items (or the candidates; others get the minimum). */
export async function componentScores(model: Recommender, users: Int32Array, n: number, how: 'zscore' | 'rank', candidates: Int32Array | undefined): Promise<Float32Array[]> {
  const m = candidates ? candidates.length : n;
  const r = await model.recommend(users, m, { excludeSeen: false, ...(candidates ? { candidates } : {}) });
  return normalisedRows(r, users.length, m, n, how);
}

/** One unseen user's normalised scores from a model's `recommendForHistory` (the history's items get the minimum). */
async function historyComponentScores(recommendForHistory: NonNullable<Recommender['recommendForHistory']>, history: History, n: number, how: 'zscore' | 'rank', candidates: Int32Array | undefined): Promise<Float32Array> {
  const m = candidates ? candidates.length : n;
  const r = await recommendForHistory(history, m, candidates ? { candidates } : {});
  return normalisedRows(r, 1, m, n, how)[0];
}

/** The rows of a top-m result as full score rows over n items, normalised; items not listed get the row's minimum. */
function normalisedRows(r: TopK, rows: number, m: number, n: number, how: 'zscore' | 'rank'): Float32Array[] {
  const out: Float32Array[] = [];
  for (let row = 0; row < rows; row++) {
    const vals = new Float32Array(m);
    const pos = new Int32Array(m);
    let filled = 0;
    for (let j = 0; j < m; j++) {
      const i = r.items[row * m + j];
      if (i < 0) continue;
      pos[filled] = i;
      vals[filled++] = r.scores[row * m + j];
    }
    const z = vals.subarray(0, filled);
    normalise(z, how);
    let lo = 0;
    for (const x of z) if (x < lo) lo = x;
    const full = new Float32Array(n).fill(filled < n ? lo : 0);
    for (let j = 0; j < filled; j++) full[pos[j]] = z[j];
    out.push(full);
  }
  return out;
}

/** Registry entry of the hybrid (its restore loads the components' directories first). */
export const hybridModel: RegisteredModel = defineModel({
  name: 'hybrid',
  description: 'Weighted blend of registered models\' normalised scores (weights learned on validation NDCG), optional cold-item switch',
  params: HYBRID_PARAMS,
  create: (p) => new HybridRecommender(p),
  restoreParts: (model, dir) => model.loadComponents(dir),
});
