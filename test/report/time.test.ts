import { describe, expect, it } from 'vitest';
import { UTC, activityByTime, parseTimeZone, suggestedTimeZone } from '../../src/report/time.js';

const H = 3600;
const D = 86400;

describe('parseTimeZone', () => {
  it('reads UTC, fixed offsets and IANA names', () => {
    expect(parseTimeZone('UTC')).toBe(UTC);
    expect(parseTimeZone('+00:00')).toBe(UTC);
    expect(parseTimeZone('+8').offsetSeconds(0)).toBe(8 * H);
    expect(parseTimeZone('UTC+08:00').name).toBe('UTC+08:00');
    expect(parseTimeZone('GMT-0530').offsetSeconds(0)).toBe(-(5 * H + 30 * 60));
    expect(parseTimeZone('-05:30').name).toBe('UTC-05:30');
    expect(parseTimeZone('Asia/Shanghai').offsetSeconds(Date.UTC(2020, 6, 1) / 1000)).toBe(8 * H);
  });

  it('follows daylight saving time in IANA zones', () => {
    const ny = parseTimeZone('America/New_York');
    expect(ny.offsetSeconds(Date.UTC(2020, 6, 1, 12) / 1000)).toBe(-4 * H);
    expect(ny.offsetSeconds(Date.UTC(2020, 0, 15, 12) / 1000)).toBe(-5 * H);
  });

  it('rejects unknown zones and out-of-range offsets with a clear message', () => {
    expect(() => parseTimeZone('Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(() => parseTimeZone('+15')).toThrow(/out of range/);
  });

  it('suggests China time for KuaiRec only', () => {
    expect(suggestedTimeZone('kuairec-sample')).toBe('Asia/Shanghai');
    expect(suggestedTimeZone('ml-1m')).toBe('UTC');
  });
});

describe('activityByTime', () => {
  it('buckets by UTC hour and ISO weekday', () => {
    // 1970-01-01 was a Thursday; 1970-01-05 a Monday.
    const a = activityByTime([0, 5 * H + 10, 4 * D + 23 * H, NaN], UTC);
    expect(a.events).toBe(3);
    expect(a.missing).toBe(1);
    expect(a.byHour[0]).toBe(1);
    expect(a.byHour[5]).toBe(1);
    expect(a.byHour[23]).toBe(1);
    expect(a.byWeekday).toEqual([1, 0, 0, 2, 0, 0, 0]);
    expect(a.first).toBe('1970-01-01 00:00');
    expect(a.last).toBe('1970-01-05 23:00');
    expect(a.byMonth).toEqual([{ period: '1970-01', count: 3 }]);
    expect(a.byDay.map((d) => d.count)).toEqual([2, 0, 0, 0, 1]);
  });

  it('shifts hours and days by the time-zone offset', () => {
    // Thursday 16:00 UTC is Friday 00:00 at UTC+8; Monday 23:00 UTC is Tuesday 07:00.
    const a = activityByTime([16 * H, 4 * D + 23 * H], parseTimeZone('+08:00'));
    expect(a.byHour[0]).toBe(1);
    expect(a.byHour[7]).toBe(1);
    expect(a.byWeekday).toEqual([0, 1, 0, 0, 1, 0, 0]);
    expect(a.timeZone).toBe('UTC+08:00');
    // Negative offset across the epoch: Thursday 02:00 UTC is Wednesday 21:00 at UTC−5.
    const b = activityByTime([2 * H], parseTimeZone('-05:00'));
    expect(b.byHour[21]).toBe(1);
    expect(b.byWeekday[2]).toBe(1);
    expect(b.byMonth[0].period).toBe('1969-12');
  });

  it('lists every month of the span, including empty ones, and drops days on long spans', () => {
    const jan = Date.UTC(2020, 0, 10) / 1000;
    const apr = Date.UTC(2020, 3, 2) / 1000;
    const a = activityByTime([jan, jan + 60, apr], UTC, { maxDays: 30 });
    expect(a.byMonth).toEqual([
      { period: '2020-01', count: 2 },
      { period: '2020-02', count: 0 },
      { period: '2020-03', count: 0 },
      { period: '2020-04', count: 1 },
    ]);
    expect(a.byDay).toEqual([]);
    const empty = activityByTime([NaN]);
    expect(empty.first).toBeNull();
    expect(empty.byMonth).toEqual([]);
  });
});
