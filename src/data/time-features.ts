/** Calendar features of epoch-second timestamps (UTC): hour 0–23, day of week 0–6 (0 = Sunday), month 1–12; NaN where time is NaN. */
export function timeFeatures(timestamps: Float64Array): { hour: Float32Array; day_of_week: Float32Array; month: Float32Array } {
  const n = timestamps.length;
  const hour = new Float32Array(n);
  const dow = new Float32Array(n);
  const month = new Float32Array(n);
  const d = new Date(0);
  for (let e = 0; e < n; e++) {
    const t = timestamps[e];
    if (!Number.isFinite(t)) {
      hour[e] = dow[e] = month[e] = NaN;
      continue;
    }
    d.setTime(t * 1000);
    hour[e] = d.getUTCHours();
    dow[e] = d.getUTCDay();
    month[e] = d.getUTCMonth() + 1;
  }
  return { hour, day_of_week: dow, month };
}
