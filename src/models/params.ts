/**
 * Hyperparameter handling shared by the models: defaults, validation of unknown keys, and coercion of the
 * strings that come from the command line (`--param factors=64`) into the type of each default.
 */

/** A hyperparameter value. */
export type ParamValue = number | string | boolean;

/** Allowed values of string hyperparameters, by key. */
export type ParamChoices = Record<string, readonly string[]>;

/**
 * Merges `params` over `defaults`, checking names and types: unknown keys, values of the wrong type and
 * strings outside `choices` are errors naming the model and the key. Numeric strings are converted.
 */
export function resolveParams<T extends Record<string, ParamValue>>(model: string, defaults: T, params: Record<string, unknown>, choices: ParamChoices = {}): T {
  const out: Record<string, ParamValue> = { ...defaults };
  for (const [key, raw] of Object.entries(params)) {
    if (!(key in defaults)) {
      throw new Error(`${model}: unknown hyperparameter "${key}"; known: ${Object.keys(defaults).sort().join(', ')}`);
    }
    const def = defaults[key];
    out[key] = coerce(model, key, raw, typeof def);
    const allowed = choices[key];
    if (allowed && !allowed.includes(String(out[key]))) {
      throw new Error(`${model}: ${key} must be one of ${allowed.join(', ')} (got ${JSON.stringify(raw)})`);
    }
  }
  return out as T;
}

function coerce(model: string, key: string, raw: unknown, kind: string): ParamValue {
  if (kind === 'number') {
    const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`${model}: ${key} must be a number (got ${JSON.stringify(raw)})`);
    return v;
  }
  if (kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new Error(`${model}: ${key} must be true or false (got ${JSON.stringify(raw)})`);
  }
  if (typeof raw !== 'string') throw new Error(`${model}: ${key} must be a string (got ${JSON.stringify(raw)})`);
  return raw;
}

/** Throws unless `value` is an integer >= `min`. */
export function requireInt(model: string, key: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${model}: ${key} must be an integer >= ${min} (got ${value})`);
}

/** Throws unless `value` is a finite number >= `min`. */
export function requireAtLeast(model: string, key: string, value: number, min: number): void {
  if (!Number.isFinite(value) || value < min) throw new Error(`${model}: ${key} must be >= ${min} (got ${value})`);
}

/**
 * Parses `key=value` strings (the CLI's repeated `--param`) into a record; values stay strings and are typed
 * later by {@link resolveParams}.
 */
export function parseParamAssignments(assignments: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new Error(`--param expects key=value (got ${JSON.stringify(a)})`);
    out[a.slice(0, eq).trim()] = a.slice(eq + 1).trim();
  }
  return out;
}

/**
 * Converts command-line strings to the type of each key's default (numbers, booleans, lists of numbers
 * written `1,2,3` or `[1,2,3]`), so that models with strict type checks accept `--param` values. Keys without
 * a default are left as strings (the model then reports them as unknown); unparsable values are errors.
 */
export function coerceToDefaults(model: string, defaults: Record<string, unknown>, raw: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(raw)) {
    const d = defaults[key];
    if (typeof d === 'number' || typeof d === 'boolean') out[key] = coerce(model, key, text, typeof d);
    else if (Array.isArray(d)) {
      const parts = text.replace(/^\[|\]$/g, '').split(',').filter((p) => p.trim() !== '');
      out[key] = parts.map((p) => coerce(model, key, p, 'number'));
    } else out[key] = text;
  }
  return out;
}
