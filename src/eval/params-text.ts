/** Hyperparameters as one line of text, for result tables and error messages. */

/** The settings of a model as text: "factors=64, hidden=[64, 16]"; `none` (default "defaults") when none are set. */
export function settingsText(params: Record<string, unknown>, none = 'defaults'): string {
  const entries = Object.entries(params);
  if (entries.length === 0) return none;
  return entries.map(([k, v]) => `${k}=${valueText(v)}`).join(', ');
}

/** A hyperparameter value: strings and numbers as written, lists as `[a, b]`, records (a hybrid's components) as JSON. */
function valueText(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(valueText).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}
