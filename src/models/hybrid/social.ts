/**
 * Social recommender: a user's score for item j is what their friends did with it,
 *   S_uj = Σ_{f ∈ friends(u)} a_uf · x_fj,
 * x_fj = 1 for a training interaction of friend f with j (or its value, `values: value`), a_uf = 1
 * (`friendWeight: equal`) or the cosine of the two users' binary training rows (`similarity`). Friend lists come
 * from the data set's social links (KuaiRec social_network.csv), made mutual with `symmetric`.
 * The ranking puts the items the friends interacted with first (by S), then every other item in the order of
 * the named `base` model; users without friends (or whose friends have no training interactions) get the base
 * model's order alone. Scores: 1 + S/max S for friend items, the base model's rank mapped to [0, 1] otherwise.
 */
import { join } from 'node:path';
import type { Interactions } from '../../data/interactions.js';
import type { TopKOptions, TopKResult } from '../../linalg/api.js';
import { bool, defineParams, oneOf, ParamError, str, type ParamsOf } from '../../core/params.js';
import type { FitOptions } from '../../core/progress.js';
import { usesFeatures, type ModelFeatures, type Recommender } from '../contract.js';
import { loadModel } from '../load.js';
import { createModel, defineModel, type RegisteredModel } from '../registry.js';
import { checkPairs, SkeletonModel, vector, type RowBatch, type StateReader, type StoredState } from '../skeleton.js';
import { componentScores } from './hybrid.js';

/** Hyperparameters of {@link SocialRecommender}. */
export const SOCIAL_PARAMS = defineParams({
  base: str('popularity', { doc: 'registered model ranking what the friends did not touch, and users without friends' }),
  baseParams: str('{}', { doc: 'hyperparameters of the base model (JSON)' }),
  friendWeight: oneOf(['equal', 'similarity'], 'equal', { doc: 'weight of a friend: 1, or the cosine of the two users\' training rows' }),
  values: oneOf(['binary', 'value'], 'binary', { doc: 'a friend\'s interaction counts 1, or its value' }),
  symmetric: bool(true, { doc: 'treat every friend link as mutual' }),
});

/** Typed hyperparameters of {@link SocialRecommender}. */
export type SocialParams = ParamsOf<typeof SOCIAL_PARAMS>;

interface SocialState {
  base: Recommender;
  /** Friend lists, CSR over users. */
  ptr: Int32Array;
  friends: Int32Array;
  weights: Float32Array;
  /** Users with at least one friend who has training interactions. */
  withFriends: number;
}

/** The social recommender; see the module comment. */
export class SocialRecommender extends SkeletonModel<SocialParams, SocialState> {
  readonly name = 'social';
  protected override batchSize = 256;
  private features: ModelFeatures | null = null;
  private loadedBase: Recommender | null = null;
  private readonly baseParams: Record<string, unknown>;

  constructor(params: Readonly<Record<string, unknown>> = {}) {
    super(SOCIAL_PARAMS.parse('social', params));
    let bp: unknown;
    try {
      bp = JSON.parse(this.params.baseParams);
    } catch {
      bp = null;
    }
    if (typeof bp !== 'object' || bp === null || Array.isArray(bp)) throw new ParamError('social', 'baseParams', 'baseParams must be a JSON object');
    this.baseParams = Object.fromEntries(Object.entries(bp));
    if (this.params.base === 'social' || this.params.base === 'hybrid') throw new ParamError('social', 'base', `base "${this.params.base}" is not allowed`);
    try {
      createModel(this.params.base, this.baseParams);
    } catch (e) {
      throw new ParamError('social', 'base', `base model: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Gives the model the social links (and the features the base model may use); call before `fit`. */
  setFeatures(features: ModelFeatures): void {
    this.features = features;
  }

  /** Users with at least one friend who has training interactions (0 before fit). */
  get usersWithFriends(): number {
    return this.stateOrNull?.withFriends ?? 0;
  }

  protected async fitState(train: Interactions, options: FitOptions): Promise<SocialState> {
    const social = this.features?.social;
    const n = train.nUsers;
    if (social && social.rowPtr.length !== n + 1) throw new Error(`social: the social links cover ${social.rowPtr.length - 1} users, the training data ${n}`);
    const lists: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
    if (social) {
      for (let u = 0; u < n; u++) {
        for (let p = social.rowPtr[u]; p < social.rowPtr[u + 1]; p++) {
          const f = social.colIdx[p];
          if (!(f >= 0 && f < n)) throw new Error(`social: friend index ${f} of user ${u} outside [0, ${n})`);
          if (f === u) continue;
          lists[u].add(f);
          if (this.params.symmetric) lists[f].add(u);
        }
      }
    }
    const ptr = new Int32Array(n + 1);
    const friends: number[] = [];
    const weights: number[] = [];
    const counts = train.userCounts();
    let withFriends = 0;
    for (let u = 0; u < n; u++) {
      const fs = [...lists[u]].filter((f) => counts[f] > 0).sort((a, b) => a - b);
      for (const f of fs) {
        friends.push(f);
        weights.push(this.params.friendWeight === 'equal' ? 1 : cosine(train, u, f));
      }
      ptr[u + 1] = friends.length;
      if (fs.length > 0) withFriends++;
    }
    const base = createModel(this.params.base, this.baseParams);
    if (usesFeatures(base) && this.features) base.setFeatures(this.features);
    await base.fit(train, { signal: options.signal, onProgress: (p) => options.onProgress?.({ ...p, phase: `base ${this.params.base}: ${p.phase}` }) });
    options.onProgress?.({ phase: 'friends', done: 1, total: 1 });
    return { base, ptr, friends: Int32Array.from(friends), weights: Float32Array.from(weights), withFriends };
  }

  /** Scores users × items (see the module comment). */
  private async scores(state: SocialState, users: Int32Array, candidates: Int32Array | undefined): Promise<Float32Array> {
    const train = this.trainData;
    const n = train.nItems;
    const base = await componentScores(state.base, users, n, 'rank', candidates);
    const out = new Float32Array(users.length * n);
    const s = new Float64Array(n);
    for (let r = 0; r < users.length; r++) {
      const u = users[r];
      s.fill(0);
      for (let p = state.ptr[u]; p < state.ptr[u + 1]; p++) {
        const f = state.friends[p];
        const a = state.weights[p];
        const items = train.userItems(f);
        const vals = train.userValues(f);
        for (let q = 0; q < items.length; q++) s[items[q]] += a * (this.params.values === 'binary' ? 1 : vals[q]);
      }
      let max = 0;
      for (let j = 0; j < n; j++) if (s[j] > max) max = s[j];
      const o = out.subarray(r * n, (r + 1) * n);
      for (let j = 0; j < n; j++) o[j] = max > 0 && s[j] > 0 ? 1 + s[j] / max : base[r][j];
    }
    return out;
  }

  protected async rank(state: SocialState, batch: RowBatch, k: number, select: TopKOptions): Promise<TopKResult> {
    if (!batch.users) throw new Error('social: cannot rank a history');
    const data = await this.scores(state, batch.users, select.candidates);
    return (await this.kernels()).topk({ rows: batch.users.length, cols: this.trainData.nItems, data }, k, select);
  }

  /** The ranking score of each pair (NaN outside the training users and items). */
  async score(users: Int32Array, items: Int32Array): Promise<Float32Array> {
    checkPairs(this.name, users, items);
    const train = this.trainData;
    const n = train.nItems;
    const distinct = Int32Array.from(new Set(Array.from(users).filter((u) => u >= 0 && u < train.nUsers)));
    const s = await this.scores(this.state, distinct, undefined);
    const row = new Map(Array.from(distinct, (u, r) => [u, r]));
    return Float32Array.from(users, (u, j) => {
      const r = row.get(u);
      return r !== undefined && items[j] >= 0 && items[j] < n ? s[r * n + items[j]] : NaN;
    });
  }

  /** How many users the friend scores reach. */
  fitNotes(): string[] {
    const s = this.stateOrNull;
    return s ? [`social: ${s.withFriends} of ${this.trainData.nUsers} users have friends with training interactions; the others get ${this.params.base}`] : [];
  }

  /** Saves the model and its base model in `dir/components/base/`. */
  override async save(dir: string): Promise<void> {
    await super.save(dir);
    const { base } = this.state;
    if (!base.save) throw new Error(`social: base model "${base.name}" cannot be saved`);
    await base.save(join(dir, 'components', 'base'));
  }

  /** Loads the base model saved by {@link save}; called by the registry before `restore`. */
  async loadBase(dir: string): Promise<void> {
    const m = await loadModel(join(dir, 'components', 'base'));
    if (m.name !== this.params.base) throw new Error(`${join(dir, 'components', 'base')}: holds a "${m.name}" model, not the base "${this.params.base}"`);
    this.loadedBase = m;
  }

  protected exportState(state: SocialState): StoredState {
    return { json: { withFriends: state.withFriends }, arrays: { 'friends.start': vector(state.ptr), 'friends.user': vector(state.friends), 'friends.weight': vector(state.weights) } };
  }

  protected importState(saved: StateReader, train: Interactions): SocialState {
    const base = this.loadedBase;
    this.loadedBase = null;
    if (!base) throw new Error(`${saved.file}: the base model was not loaded (load social models with loadModel)`);
    const n = train.nUsers;
    const ptr = saved.i32('friends.start', n + 1);
    for (let u = 0; u < n; u++) if (ptr[u + 1] < ptr[u] || ptr[0] !== 0) throw new Error(`${saved.file}: array "friends.start" is not a row-pointer array`);
    const friends = saved.i32('friends.user', ptr[n]);
    for (let p = 0; p < friends.length; p++) if (!(friends[p] >= 0 && friends[p] < n)) throw new Error(`${saved.file}: array "friends.user"[${p}] = ${friends[p]} outside [0, ${n})`);
    return { base, ptr, friends, weights: saved.f32('friends.weight', ptr[n]), withFriends: saved.int('withFriends') };
  }

  protected override releaseState(state: SocialState): void {
    state.base.dispose?.();
  }
}

/** Cosine of two users' binary training rows. */
function cosine(train: Interactions, u: number, v: number): number {
  const a = train.userItems(u);
  const b = train.userItems(v);
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { common++; i++; j++; } else if (a[i] < b[j]) i++;
    else j++;
  }
  return a.length && b.length ? common / Math.sqrt(a.length * b.length) : 0;
}

/** Registry entry of the social model (its restore loads the base model's directory first). */
export const socialModel: RegisteredModel = defineModel({
  name: 'social',
  description: 'Friends\' interactions first (equal or similarity-weighted), then a named base model; base alone for users without friends',
  params: SOCIAL_PARAMS,
  create: (p) => new SocialRecommender(p),
  restoreParts: (model, dir) => model.loadBase(dir),
});
