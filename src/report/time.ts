/**
 * Time zones and activity bucketing: event counts by local hour, weekday, day and month from Unix
 * timestamps (seconds), in UTC, a fixed offset ("+08:00") or an IANA zone ("Asia/Shanghai").
 */

import type { DatasetInfo } from '../data/dataset.js';
import { listDatasets } from '../data/datasets/registry.js';

/** A time zone as a function from an instant to its offset from UTC. */
export interface TimeZone {
  /** As given by the user, normalized ("UTC", "UTC+08:00", "Asia/Shanghai"). */
  name: string;
  /** Seconds to add to a Unix time to get local wall-clock seconds at instant `t` (seconds). */
  offsetSeconds(t: number): number;
}

/** UTC. */
export const UTC: TimeZone = { name: 'UTC', offsetSeconds: () => 0 };

const OFFSET_RE = /^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$/i;

/**
 * Parses a time zone: "UTC" / "Z", a fixed offset ("+8", "+08:00", "UTC-05:30", "GMT+1") or an IANA
 * name known to this Node's Intl ("Asia/Shanghai", "America/New_York", with daylight saving time).
 * Throws naming the accepted forms when the text is none of these.
 */
export function parseTimeZone(spec: string): TimeZone {
  const s = spec.trim();
  if (/^(utc|gmt|z)$/i.test(s)) return UTC;
  const m = OFFSET_RE.exec(s);
  if (m) {
    const hours = Number(m[2]);
    const minutes = m[3] ? Number(m[3]) : 0;
    if (hours > 14 || minutes > 59) throw new RangeError(`time zone "${spec}": offset out of range (at most ±14:00)`);
    const sign = m[1] === '-' ? -1 : 1;
    const offset = sign * (hours * 3600 + minutes * 60);
    if (offset === 0) return UTC;
    const name = `UTC${sign < 0 ? '-' : '+'}${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
    return { name, offsetSeconds: () => offset };
  }
  return ianaZone(s);
}

function ianaZone(name: string): TimeZone {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new RangeError(`unknown time zone "${name}": use UTC, an offset like +08:00, or an IANA name like Asia/Shanghai`);
  }
  // Offsets change rarely: cache them per quarter hour (transitions happen on quarter-hour boundaries).
  const cache = new Map<number, number>();
  const offsetSeconds = (t: number): number => {
    const key = Math.floor(t / 900);
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const at = key * 900;
    const parts: Record<string, number> = {};
    for (const p of fmt.formatToParts(new Date(at * 1000))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const local = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) / 1000;
    const off = local - at;
    cache.set(key, off);
    return off;
  };
  return { name: fmt.resolvedOptions().timeZone, offsetSeconds };
}

/**
 * The time zone a data set's wall clock is best read in, as its facts say (its {@link DatasetInfo}: KuaiRec
 * Asia/Shanghai, where it was logged); given a registry name, that data set's facts. UTC when none is stated.
 */
export function suggestedTimeZone(dataset: string | { info?: Pick<DatasetInfo, 'timeZone'> }): string {
  const info = typeof dataset === 'string' ? listDatasets().find((d) => d.name === dataset) : dataset.info;
  return info?.timeZone ?? 'UTC';
}

/** Weekday labels in the order of {@link TimeActivity.byWeekday} (ISO: Monday first). */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/** Event counts by local time. */
export interface TimeActivity {
  /** Zone the buckets are in. */
  timeZone: string;
  /** Events with a timestamp. */
  events: number;
  /** Events without one (NaN). */
  missing: number;
  /** Earliest and latest local time, "YYYY-MM-DD HH:MM", or null when no event has a time. */
  first: string | null;
  last: string | null;
  /** Counts by local hour 0..23. */
  byHour: number[];
  /** Counts by weekday, Monday first (see {@link WEEKDAYS}). */
  byWeekday: number[];
  /** Counts by calendar month "YYYY-MM", ascending, months without events included. */
  byMonth: Array<{ period: string; count: number }>;
  /** Counts by day "YYYY-MM-DD" (with empty days), only when the span is at most `maxDays`; else empty. */
  byDay: Array<{ period: string; count: number }>;
}

/** Buckets event `timestamps` (Unix seconds, NaN = unknown) by local hour, weekday, month and day in `tz`. */
export function activityByTime(timestamps: ArrayLike<number>, tz: TimeZone = UTC, options: { maxDays?: number } = {}): TimeActivity {
  const maxDays = options.maxDays ?? 190;
  const byHour = new Array<number>(24).fill(0);
  const byWeekday = new Array<number>(7).fill(0);
  const perDay = new Map<number, number>();
  let events = 0;
  let missing = 0;
  let firstLocal = Infinity;
  let lastLocal = -Infinity;
  for (let k = 0; k < timestamps.length; k++) {
    const t = timestamps[k];
    if (!Number.isFinite(t)) {
      missing++;
      continue;
    }
    events++;
    const local = t + tz.offsetSeconds(t);
    if (local < firstLocal) firstLocal = local;
    if (local > lastLocal) lastLocal = local;
    const day = Math.floor(local / 86400);
    const hour = Math.floor((local - day * 86400) / 3600);
    byHour[hour]++;
    byWeekday[(((day + 3) % 7) + 7) % 7]++; // 1970-01-01 was a Thursday (index 3)
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  const byMonth: Array<{ period: string; count: number }> = [];
  const byDay: Array<{ period: string; count: number }> = [];
  if (events > 0) {
    const firstDay = Math.floor(firstLocal / 86400);
    const lastDay = Math.floor(lastLocal / 86400);
    const monthCounts = new Map<string, number>();
    for (const [day, c] of perDay) {
      const key = dayLabel(day).slice(0, 7);
      monthCounts.set(key, (monthCounts.get(key) ?? 0) + c);
    }
    const start = new Date(firstDay * 86400000);
    const end = new Date(lastDay * 86400000);
    let month = start.getUTCFullYear() * 12 + start.getUTCMonth();
    const lastMonth = end.getUTCFullYear() * 12 + end.getUTCMonth();
    for (; month <= lastMonth; month++) {
      const key = `${String(Math.floor(month / 12)).padStart(4, '0')}-${String((month % 12) + 1).padStart(2, '0')}`;
      byMonth.push({ period: key, count: monthCounts.get(key) ?? 0 });
    }
    if (lastDay - firstDay + 1 <= maxDays) {
      for (let d = firstDay; d <= lastDay; d++) byDay.push({ period: dayLabel(d), count: perDay.get(d) ?? 0 });
    }
  }
  return {
    timeZone: tz.name,
    events,
    missing,
    first: events > 0 ? minuteLabel(firstLocal) : null,
    last: events > 0 ? minuteLabel(lastLocal) : null,
    byHour,
    byWeekday,
    byMonth,
    byDay,
  };
}

function dayLabel(day: number): string {
  return new Date(day * 86400000).toISOString().slice(0, 10);
}

function minuteLabel(localSeconds: number): string {
  return new Date(Math.floor(localSeconds) * 1000).toISOString().slice(0, 16).replace('T', ' ');
}
