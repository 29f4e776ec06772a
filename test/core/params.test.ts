import { describe, expect, expectTypeOf, it } from 'vitest';
import { bool, defineParams, int, intList, num, oneOf, ParamError, parseParamAssignments, str, type ParamsOf } from '../../src/core/params.js';

const P = defineParams({
  factors: int(64, { min: 1, doc: 'latent dimensions' }),
  reg: num(0.01, { min: 0 }),
  lr: num(0.05, { min: 0, exclusiveMin: true, max: 1 }),
  solver: oneOf(['cg', 'cholesky'], 'cg'),
  verbose: bool(false),
  hidden: intList([600, 200], { min: 1, minLength: 1 }),
  name: str('x'),
});

describe('defineParams', () => {
  it('gives typed defaults and coerces command-line strings', () => {
    const p = P.parse('m', { factors: '32', solver: 'cholesky', verbose: '1', hidden: '[10, 5]', reg: 0 });
    expect(p).toEqual({ factors: 32, reg: 0, lr: 0.05, solver: 'cholesky', verbose: true, hidden: [10, 5], name: 'x' });
    expectTypeOf(p).toEqualTypeOf<ParamsOf<typeof P>>();
    expectTypeOf(p.solver).toEqualTypeOf<'cg' | 'cholesky'>();
    expect(P.parse('m', { hidden: '3,4' }).hidden).toEqual([3, 4]);
  });

  it('defaults are fresh copies', () => {
    const a = P.defaults();
    a.hidden.push(1);
    expect(P.defaults().hidden).toEqual([600, 200]);
  });

  it('rejects unknown keys, wrong types and values out of range, naming model and key', () => {
    expect(() => P.parse('ials', { factor: 3 })).toThrow('ials: unknown hyperparameter "factor"; known: factors, hidden, lr, name, reg, solver, verbose');
    expect(() => P.parse('ials', { factors: '2.5' })).toThrow('ials: factors must be an integer >= 1 (got "2.5")');
    expect(() => P.parse('ials', { factors: 0 })).toThrow(ParamError);
    expect(() => P.parse('ials', { lr: 0 })).toThrow('lr must be a number > 0 and <= 1');
    expect(() => P.parse('ials', { lr: '1.5' })).toThrow(/lr must be/);
    expect(() => P.parse('ials', { reg: 'abc' })).toThrow(/reg must be a number >= 0/);
    expect(() => P.parse('ials', { reg: Infinity })).toThrow(/reg must be/);
    expect(() => P.parse('ials', { solver: 'lu' })).toThrow('solver must be one of cg, cholesky (got "lu")');
    expect(() => P.parse('ials', { verbose: 'yes' })).toThrow(/verbose must be true or false/);
    expect(() => P.parse('ials', { hidden: '10,,5' })).toThrow(/hidden must be a list of integers >= 1/);
    expect(() => P.parse('ials', { hidden: [] })).toThrow(/at least 1/);
    expect(() => P.parse('ials', { toString: 1 })).toThrow(/unknown hyperparameter "toString"/);
  });

  it('documents every key in declaration order', () => {
    const d = P.describe();
    expect(d.map((r) => r.name)).toEqual(['factors', 'reg', 'lr', 'solver', 'verbose', 'hidden', 'name']);
    expect(d[0]).toEqual({ name: 'factors', kind: 'int', default: 64, expects: 'an integer >= 1', doc: 'latent dimensions' });
    expect(d[3].choices).toEqual(['cg', 'cholesky']);
  });

  it('parses key=value assignments', () => {
    expect(parseParamAssignments(['a=1', ' b = x=y '])).toEqual({ a: '1', b: 'x=y' });
    expect(() => parseParamAssignments(['=1'])).toThrow(/key=value/);
  });
});
