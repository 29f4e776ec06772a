import { describe, expect, it } from 'vitest';
import { formatCorrelation, formatNumber, formatPercent, formatTable } from '../../src/report/format.js';

describe('formatNumber', () => {
  it('groups integers and keeps four significant digits otherwise', () => {
    expect(formatNumber(12530806)).toBe('12,530,806');
    expect(formatNumber(-1234)).toBe('-1,234');
    expect(formatNumber(1999, 4, false)).toBe('1999');
    expect(formatNumber(1965.3, 4, false)).toBe('1965');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(2.5)).toBe('2.5');
    expect(formatNumber(3.14159)).toBe('3.142');
    expect(formatNumber(0.0036011)).toBe('0.003601');
    expect(formatNumber(1234.56)).toBe('1,235');
    expect(formatNumber(98765.4)).toBe('98,765');
    expect(formatNumber(1e-9)).toBe('1.000e-9');
    expect(formatNumber(NaN)).toBe('–');
    expect(formatNumber(Infinity)).toBe('∞');
  });

  it('formats percentages and correlations', () => {
    expect(formatPercent(0.1234)).toBe('12.3%');
    expect(formatPercent(0.00036)).toBe('0.036%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatCorrelation(-0.001)).toBe('0.00');
    expect(formatCorrelation(0.876)).toBe('0.88');
    expect(formatCorrelation(NaN)).toBe('–');
  });
});

describe('formatTable', () => {
  it('aligns text left and numbers right under a rule', () => {
    const t = formatTable(['name', 'n'], [['a', 5], ['long', 12345]], { indent: '' });
    expect(t.split('\n')).toEqual([
      'name       n',
      '────  ──────',
      'a          5',
      'long  12,345',
    ]);
  });

  it('counts wide characters as two columns', () => {
    const t = formatTable(['k', 'v'], [['美食', 1], ['ab', 2]], { indent: '' });
    const lines = t.split('\n');
    expect(lines[2]).toBe('美食  1');
    expect(lines[3]).toBe('ab    2');
  });
});
