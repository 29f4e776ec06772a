/**
 * Progress reporting and cancellation shared by every long operation (loading, fitting, searching,
 * reporting). It sits on the ground floor so that data, linalg, models and report all speak the same terms.
 */

/** Progress of a long operation (fit, search, epoch loop). */
export interface Progress {
  /** What is running, e.g. "iteration" or "epoch". */
  phase: string;
  /** Units done so far. */
  done: number;
  /** Units in all. */
  total: number;
  /** Optional figures to show beside the bar (loss, validation metric...). */
  metrics?: Record<string, number>;
}

/** Options every long operation accepts. */
export interface FitOptions {
  /** Called after each unit of work. */
  onProgress?: (p: Progress) => void;
  /** Aborting stops the work at the next unit boundary with an {@link AbortError}. */
  signal?: AbortSignal;
  /**
   * Early stopping: iterative models call `validation.check` after each epoch or iteration, keep a copy of the
   * parameters it calls best, stop when it says so, and end with the best copy. Models without epochs ignore it.
   */
  validation?: EpochValidation;
}

/** The model's ranking with the parameters being trained: row r of `items` holds users[r]'s top k, training items excluded. */
export type RankUsers = (users: Int32Array, k: number) => Promise<{ k: number; items: Int32Array }>;

/** Validation during training (the experiment runner supplies it; see {@link FitOptions.validation}). */
export interface EpochValidation {
  /** Scores the parameters after `unit` epochs/iterations through `rank`; `best`: keep a copy, `stop`: end training. */
  check(unit: number, rank: RankUsers): Promise<{ best: boolean; stop: boolean }>;
}

/** Thrown when work is stopped through its AbortSignal. */
export class AbortError extends Error {
  constructor(message = 'aborted') {
    super(message);
    this.name = 'AbortError';
  }
}

/** Throws {@link AbortError} when `signal` has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}

/** True for an {@link AbortError} or a DOM-style abort (`name === 'AbortError'`) from a platform API. */
export function isAbortError(e: unknown): boolean {
  return e instanceof AbortError || (e instanceof Error && e.name === 'AbortError');
}

/**
 * The check between two units of long work: lets the event loop run (so that a Ctrl-C handler, a timer or
 * an HTTP request gets its turn even when every kernel call of the loop completes synchronously), then
 * throws {@link AbortError} if `signal` has fired. Costs a few microseconds: call it once per iteration,
 * epoch or block, not per row.
 */
export async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfAborted(signal);
}
