/** An external identifier of a user or item as it appears in the source data. */
export type ExternalId = string | number;

/**
 * A bijection between external ids (strings or numbers) and dense indices 0..size-1.
 * Numbers and strings are distinct keys: `1` and `"1"` are different ids.
 */
export class IdMap {
  private readonly idList: ExternalId[];
  private readonly lookup: Map<ExternalId, number>;

  private constructor(ids: ExternalId[], lookup: Map<ExternalId, number>) {
    this.idList = ids;
    this.lookup = lookup;
  }

  /** An empty map, to be grown with {@link IdMap.intern}. */
  static empty(): IdMap {
    return new IdMap([], new Map());
  }

  /** Builds a map whose index i is `ids[i]`; throws on a repeated id. */
  static fromIds(ids: readonly ExternalId[]): IdMap {
    const lookup = new Map<ExternalId, number>();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (lookup.has(id)) throw new Error(`IdMap.fromIds: id ${JSON.stringify(id)} appears twice (indices ${lookup.get(id)} and ${i})`);
      lookup.set(id, i);
    }
    return new IdMap(ids.slice(), lookup);
  }

  /** A map of the numbers 0..n-1 onto themselves (for generated data). */
  static range(n: number): IdMap {
    const ids: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++) ids[i] = i;
    return IdMap.fromIds(ids);
  }

  /** Number of ids. */
  get size(): number {
    return this.idList.length;
  }

  /** The dense index of `id`, or -1 when unknown. */
  indexOf(id: ExternalId): number {
    const i = this.lookup.get(id);
    return i === undefined ? -1 : i;
  }

  /** The dense index of `id`; throws naming the id when unknown. */
  require(id: ExternalId, what = 'id'): number {
    const i = this.lookup.get(id);
    if (i === undefined) throw new Error(`unknown ${what} ${JSON.stringify(id)}`);
    return i;
  }

  /** Whether `id` is known. */
  has(id: ExternalId): boolean {
    return this.lookup.has(id);
  }

  /** The external id at dense index `index`. */
  idOf(index: number): ExternalId {
    if (index < 0 || index >= this.idList.length) throw new RangeError(`index ${index} out of range [0, ${this.idList.length})`);
    return this.idList[index];
  }

  /** The index of `id`, adding it at the end when new. */
  intern(id: ExternalId): number {
    const i = this.lookup.get(id);
    if (i !== undefined) return i;
    const n = this.idList.length;
    this.idList.push(id);
    this.lookup.set(id, n);
    return n;
  }

  /** A copy of the ids in index order. */
  ids(): ExternalId[] {
    return this.idList.slice();
  }

  /** A new map holding the ids at `indices`, in that order. */
  subset(indices: ArrayLike<number>): IdMap {
    const ids: ExternalId[] = new Array<ExternalId>(indices.length);
    for (let i = 0; i < indices.length; i++) ids[i] = this.idOf(indices[i]);
    return IdMap.fromIds(ids);
  }

  /** JSON form: the ids in index order. */
  toJSON(): ExternalId[] {
    return this.idList;
  }
}
