/**
 * Hyperparameter schemas: one declaration per model gives the typed parameters, their defaults, validation
 * with messages naming the model and key, coercion of command-line strings (`--param factors=64`), and the
 * documentation `recsys models` and docs/models.md print.
 *
 * ```ts
 * const IALS = defineParams({ factors: int(64, { min: 1, doc: 'latent dimensions' }), solver: oneOf(['cg', 'cholesky'], 'cg') });
 * type IalsParams = ParamsOf<typeof IALS>;          // { factors: number; solver: 'cg' | 'cholesky' }
 * IALS.parse('ials', { factors: '32' });             // { factors: 32, solver: 'cg' }
 * ```
 */
import { z } from 'zod';

/** The kinds of hyperparameter, as shown in docs. */
export type ParamKind = 'int' | 'number' | 'boolean' | 'choice' | 'string' | 'int list' | 'number list';

/** One hyperparameter: its default, how to validate and coerce it, and what it means. */
export interface ParamSpec<T> {
  readonly kind: ParamKind;
  readonly default: T;
  /** Validates a typed value. */
  readonly schema: z.ZodType<T>;
  /** What a valid value is, for messages and docs: "an integer >= 1", "one of cg, cholesky". */
  readonly expects: string;
  /** Allowed values of a choice. */
  readonly choices?: readonly string[];
  /** Bounds of a numeric kind (of each element for lists). */
  readonly range?: Readonly<Bounds>;
  /** One sentence on what it does. */
  readonly doc: string;
}

/** Common options of the spec builders. */
export interface SpecOptions {
  /** One sentence on what the hyperparameter does. */
  doc?: string;
}

/** Bounds of a numeric hyperparameter (inclusive unless `exclusiveMin`). */
export interface Bounds {
  min?: number;
  max?: number;
  /** The minimum itself is not allowed (e.g. a learning rate > 0). */
  exclusiveMin?: boolean;
}

/** Options of the numeric spec builders. */
export interface RangeOptions extends SpecOptions, Bounds {}

/** Thrown for an unknown or invalid hyperparameter; a usage error (the CLI exits 2). */
export class ParamError extends Error {
  override name = 'ParamError';
  constructor(
    /** The model (or other owner) of the parameters. */
    readonly model: string,
    /** The offending key. */
    readonly key: string,
    message: string,
  ) {
    super(`${model}: ${message}`);
  }
}

function rangeText(o: RangeOptions): string {
  const lo = o.min === undefined ? '' : `${o.exclusiveMin ? '>' : '>='} ${o.min}`;
  const hi = o.max === undefined ? '' : `<= ${o.max}`;
  return [lo, hi].filter(Boolean).join(' and ');
}

function boundsOf(o: RangeOptions): Bounds {
  const b: Bounds = {};
  if (o.min !== undefined) b.min = o.min;
  if (o.max !== undefined) b.max = o.max;
  if (o.exclusiveMin) b.exclusiveMin = true;
  return b;
}

function bounded(base: z.ZodNumber, o: RangeOptions): z.ZodNumber {
  let s = base;
  if (o.min !== undefined) s = o.exclusiveMin ? s.gt(o.min) : s.min(o.min);
  if (o.max !== undefined) s = s.max(o.max);
  return s;
}

/** An integer hyperparameter. */
export function int(def: number, o: RangeOptions = {}): ParamSpec<number> {
  const r = rangeText(o);
  return { kind: 'int', default: def, schema: bounded(z.number().int(), o), expects: `an integer${r ? ` ${r}` : ''}`, range: boundsOf(o), doc: o.doc ?? '' };
}

/** A finite real hyperparameter. */
export function num(def: number, o: RangeOptions = {}): ParamSpec<number> {
  const r = rangeText(o);
  return { kind: 'number', default: def, schema: bounded(z.number().finite(), o), expects: `a number${r ? ` ${r}` : ''}`, range: boundsOf(o), doc: o.doc ?? '' };
}

/** A boolean hyperparameter (`true`/`false`/`1`/`0` on the command line). */
export function bool(def: boolean, o: SpecOptions = {}): ParamSpec<boolean> {
  return { kind: 'boolean', default: def, schema: z.boolean(), expects: 'true or false', doc: o.doc ?? '' };
}

/** One of a fixed set of strings; the parameter's type is the union of the choices. */
export function oneOf<const C extends readonly [string, ...string[]]>(choices: C, def: C[number], o: SpecOptions = {}): ParamSpec<C[number]> {
  const schema: z.ZodType<C[number]> = z.enum(choices);
  return { kind: 'choice', default: def, schema, expects: `one of ${choices.join(', ')}`, choices, doc: o.doc ?? '' };
}

/** A free string hyperparameter. */
export function str(def: string, o: SpecOptions = {}): ParamSpec<string> {
  return { kind: 'string', default: def, schema: z.string(), expects: 'a string', doc: o.doc ?? '' };
}

/** A list of integers (`600,200` or `[600,200]` on the command line), each within the range. */
export function intList(def: readonly number[], o: RangeOptions & { minLength?: number } = {}): ParamSpec<number[]> {
  const r = rangeText(o);
  const schema = z.array(bounded(z.number().int(), o)).min(o.minLength ?? 0);
  return { kind: 'int list', default: [...def], schema, expects: `a list of integers${r ? ` ${r}` : ''}${o.minLength ? ` (at least ${o.minLength})` : ''}`, range: boundsOf(o), doc: o.doc ?? '' };
}

/** A list of finite numbers, each within the range. */
export function numList(def: readonly number[], o: RangeOptions & { minLength?: number } = {}): ParamSpec<number[]> {
  const r = rangeText(o);
  const schema = z.array(bounded(z.number().finite(), o)).min(o.minLength ?? 0);
  return { kind: 'number list', default: [...def], schema, expects: `a list of numbers${r ? ` ${r}` : ''}${o.minLength ? ` (at least ${o.minLength})` : ''}`, range: boundsOf(o), doc: o.doc ?? '' };
}

/** A record of hyperparameter specs. */
export type ParamShape = { readonly [key: string]: ParamSpec<unknown> };

/** The typed parameters a shape declares. */
export type ParamsOf<S> = S extends ParamSchema<infer Shape> ? ValuesOf<Shape> : S extends ParamShape ? ValuesOf<S> : never;

type ValuesOf<S extends ParamShape> = { -readonly [K in keyof S]: S[K] extends ParamSpec<infer T> ? T : never };

/** One hyperparameter as documented by `recsys models`. */
export interface ParamDoc {
  name: string;
  kind: ParamKind;
  default: unknown;
  /** What a valid value is. */
  expects: string;
  choices?: readonly string[];
  doc: string;
}

/** A declared set of hyperparameters. */
export interface ParamSchema<S extends ParamShape> {
  readonly shape: S;
  /** A fresh copy of the defaults. */
  defaults(): ValuesOf<S>;
  /**
   * The defaults overridden by `raw`: unknown keys, wrong types and out-of-range values are
   * {@link ParamError}s naming `owner` and the key; strings are coerced to the declared kind.
   */
  parse(owner: string, raw?: Readonly<Record<string, unknown>>): ValuesOf<S>;
  /** The documentation rows, in declaration order. */
  describe(): ParamDoc[];
}

/** Declares a model's hyperparameters; see the module comment. */
export function defineParams<S extends ParamShape>(shape: S): ParamSchema<S> {
  const keys = Object.keys(shape);
  const defaults = (): ValuesOf<S> => {
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const d = shape[k].default;
      out[k] = Array.isArray(d) ? [...d] : d;
    }
    return out as ValuesOf<S>;
  };
  return {
    shape,
    defaults,
    parse(owner, raw = {}) {
      const out: Record<string, unknown> = defaults();
      for (const [key, value] of Object.entries(raw)) {
        if (value === undefined) continue;
        const spec = Object.hasOwn(shape, key) ? shape[key] : undefined;
        if (!spec) throw new ParamError(owner, key, `unknown hyperparameter "${key}"; known: ${[...keys].sort().join(', ')}`);
        const typed = coerce(spec.kind, value);
        const result = spec.schema.safeParse(typed);
        if (!result.success) throw new ParamError(owner, key, `${key} must be ${spec.expects} (got ${JSON.stringify(value)})`);
        out[key] = result.data;
      }
      return out as ValuesOf<S>;
    },
    describe() {
      return keys.map((name) => {
        const s = shape[name];
        return { name, kind: s.kind, default: s.default, expects: s.expects, ...(s.choices ? { choices: s.choices } : {}), doc: s.doc };
      });
    },
  };
}

/** Converts a command-line string to the declared kind; other values pass through to validation. */
function coerce(kind: ParamKind, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const t = value.trim();
  switch (kind) {
    case 'int':
    case 'number':
      return t === '' ? value : Number(t);
    case 'boolean':
      return t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : value;
    case 'int list':
    case 'number list': {
      const inner = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1).trim() : t;
      return inner === '' ? [] : inner.split(',').map((x) => (x.trim() === '' ? NaN : Number(x.trim())));
    }
    default:
      return value;
  }
}

/**
 * Parses `key=value` strings (the CLI's repeated `--param`) into a record; values stay strings and are
 * typed by the model's schema.
 */
export function parseParamAssignments(assignments: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new ParamError('--param', a, `--param expects key=value (got ${JSON.stringify(a)})`);
    out[a.slice(0, eq).trim()] = a.slice(eq + 1).trim();
  }
  return out;
}
