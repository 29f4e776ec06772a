/**
 * The unit of a time column: epoch seconds, milliseconds, microseconds or nanoseconds, or ISO-8601 date-time
 * text; "auto" (the default) decides from the first rows: numbers by their magnitude, text by whether it
 * parses as a date-time.
 */

/** Every accepted unit; the short CLI spellings map onto them (see {@link parseTimeUnit}). */
export const TIME_UNITS = ['auto', 'seconds', 'milliseconds', 'microseconds', 'nanoseconds', 'iso'] as const;

/** The unit of the time column (see the module comment). */
export type TimeUnit = (typeof TIME_UNITS)[number];

/** An epoch unit: a number of these since 1970-01-01 UTC. */
export type EpochUnit = Exclude<TimeUnit, 'auto' | 'iso'>;

/** How many of each epoch unit make a second. */
export const PER_SECOND: Record<EpochUnit, number> = { seconds: 1, milliseconds: 1e3, microseconds: 1e6, nanoseconds: 1e9 };

const SHORT: Record<string, TimeUnit> = { s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds', iso: 'iso', auto: 'auto' };

/** Parses `s|ms|us|ns|iso|auto` (or a long name such as "milliseconds"); throws naming the accepted values. */
export function parseTimeUnit(text: string): TimeUnit {
  const t = text.trim().toLowerCase();
  const unit = SHORT[t] ?? TIME_UNITS.find((u) => u === t);
  if (!unit) throw new RangeError(`time unit must be one of s, ms, us, ns, iso, auto (got "${text}")`);
  return unit;
}

/**
 * The epoch unit whose magnitude fits a typical absolute value `typical` of the column (its median): below
 * 1e11 seconds (up to the year 5138), below 1e14 milliseconds (1973 onwards), below 1e17 microseconds, else
 * nanoseconds. Millisecond times before March 1973 therefore read as seconds: give the unit for such data.
 */
export function epochUnitOf(typical: number): EpochUnit {
  if (!Number.isFinite(typical) || typical < 1e11) return 'seconds';
  return typical < 1e14 ? 'milliseconds' : typical < 1e17 ? 'microseconds' : 'nanoseconds';
}

/** "2020-07-05" for a number of `unit`s since the epoch ("out of range" when JS dates cannot show it). */
export function epochDate(value: number, unit: EpochUnit): string {
  const ms = (value / PER_SECOND[unit]) * 1000;
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString().slice(0, 10) : 'out of range';
}
