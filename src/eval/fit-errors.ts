/**
 * Engine errors as sentences: a model whose arrays do not fit in memory surfaces deep in the numerics as
 * `RangeError: Invalid typed array length: 10000000000` or a kernel allocation failure. {@link explainRunError}
 * rewrites those into a message naming the model, its hyperparameters, the data size and the size that
 * could not be allocated, so the user knows which knob to turn. Other errors pass through unchanged.
 */
import { settingsText } from './params-text.js';

/** Which model was running on what, for the message. */
export interface RunContext {
  /** Model label or registry name. */
  model: string;
  /** The hyperparameters the user gave (defaults are not listed). */
  params: Record<string, unknown>;
  nUsers?: number;
  nItems?: number;
}

/** Messages of the platform's and the kernels' allocation failures. */
const MEMORY_PATTERNS = [
  /Invalid typed array length: (\d+)/,
  /Invalid array buffer length/,
  /Array buffer allocation failed/,
  /Invalid array length/,
  /linalg: cannot allocate/,
  /Maximum memory size exceeded/,
  /WebAssembly\.Memory.*(grow|allocat)/i,
  /out of memory/i,
];

/** True when `e` is an allocation failure (a model or a request too large for memory). */
export function isMemoryError(e: unknown): boolean {
  return e instanceof RangeError && MEMORY_PATTERNS.some((p) => p.test(e.message));
}

/** A byte count for people: "40.0 GB", "3.2 TB", "512 MB". */
export function formatSize(bytes: number): string {
  if (bytes >= 1e12) return `${(bytes / 1e12).toFixed(1)} TB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  return `${Math.round(bytes / 1e6)} MB`;
}

/** "factors=3000000, iterations=5", or "default hyperparameters". */
export function describeParams(params: Record<string, unknown>): string {
  return settingsText(params, 'default hyperparameters');
}

/**
 * `e` rewritten as a sentence when it is an allocation failure (see the module comment; the original is kept
 * as `cause`), else `e` itself.
 */
export function explainRunError(e: unknown, ctx: RunContext): unknown {
  if (!isMemoryError(e)) return e;
  const err = e as RangeError;
  const data = ctx.nUsers !== undefined && ctx.nItems !== undefined ? ` on ${ctx.nUsers.toLocaleString('en-US')} users × ${ctx.nItems.toLocaleString('en-US')} items` : '';
  const length = /Invalid typed array length: (\d+)/.exec(err.message);
  const what = length
    ? `it needs an array of ${Number(length[1]).toLocaleString('en-US')} values (${formatSize(Number(length[1]) * 4)} as float32), more than one array can hold`
    : `an allocation failed (${err.message})`;
  const advice = 'the model\'s arrays grow with its size hyperparameters (factors × items, factors × users, factors², neighbours × items, layer widths); use smaller values or fewer items';
  return new RangeError(`${ctx.model} (${describeParams(ctx.params)})${data}: out of memory: ${what}; ${advice}`, { cause: e });
}
