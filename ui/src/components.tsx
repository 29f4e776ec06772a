/** Shared pieces of the pages: a Vega chart, loading/error states, number formatting, item labels. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import embed, { type Result, type VisualizationSpec } from 'vega-embed';
import { getJson, type Id, type ItemMeta } from './api.js';

/** The view of an embedded chart (for listeners). */
export type ChartView = Result['view'];

/** A Vega-Lite chart rendered as SVG, with tooltips on every mark; `label` names it for screen readers. */
export function Chart({ spec, label, onView }: { spec: VisualizationSpec; label: string; onView?: (view: ChartView) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let result: Result | null = null;
    let cancelled = false;
    embed(el, spec, { actions: false, renderer: 'svg', config: { mark: { tooltip: true }, background: 'transparent' } })
      .then((r) => {
        if (cancelled) r.finalize();
        else {
          result = r;
          setError(null);
          onView?.(r.view);
        }
      })
      .catch((e: unknown) => {
        if (!cancelled) setError(e instanceof Error ? e.message : String(e));
      });
    return () => {
      cancelled = true;
      result?.finalize();
    };
  }, [spec]);
  return (
    <figure class="chart" role="group" aria-label={label}>
      <div ref={ref} />
      {error && <p class="error">chart failed: {error}</p>}
    </figure>
  );
}

/** A loading, error or content state. */
export function Loadable({ loading, error, children }: { loading: boolean; error: string | null; children: ComponentChildren }) {
  if (error) return <p class="error" role="alert">{error}</p>;
  if (loading) return <p class="muted" aria-live="polite">Loading…</p>;
  return <>{children}</>;
}

/** A number with up to `digits` significant digits and thousands separators; "–" for null/NaN. */
export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return v.toLocaleString('en-US');
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 8 });
}

/** A fraction as a percentage. */
export function pct(v: number | null | undefined): string {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : `${(v * 100).toFixed(1)}%`;
}

/** An item's title and categories next to its id. */
export function ItemLabel({ id, meta }: { id: Id; meta: ItemMeta | undefined }) {
  return (
    <span class="item-label">
      <span class="item-id">{String(id)}</span>
      {meta?.title && <span class="item-title"> {meta.title}</span>}
      {meta && meta.categories.length > 0 && <span class="item-cats"> · {meta.categories.slice(0, 4).join(', ')}</span>}
      {meta?.caption && <span class="item-caption"> — {meta.caption.length > 80 ? `${meta.caption.slice(0, 80)}…` : meta.caption}</span>}
    </span>
  );
}

/** The message of an unknown thrown value. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What a model page shows under `recsys dashboard` (no model served). */
export function NoModel() {
  return (
    <p class="note" role="status">
      No model is served here (this is <code>recsys dashboard</code>, experiment results only). Start <code>recsys serve --model DIR</code> for this page.
    </p>
  );
}

/** The JSON of `url` fetched 150 ms after it last changed (for type-ahead suggestions); null url: nothing. */
export function useDebounced<T>(url: string | null, initial: T): T {
  const [value, setValue] = useState<T>(initial);
  useEffect(() => {
    if (url === null) return;
    const ac = new AbortController();
    const t = setTimeout(() => {
      getJson<T>(url, ac.signal).then(setValue, () => undefined);
    }, 150);
    return () => {
      clearTimeout(t);
      ac.abort();
    };
  }, [url]);
  return value;
}

/** A labelled search form with type-ahead suggestions (a datalist). */
export function SearchForm(props: { label: string; name: string; formLabel: string; button: string; value: string; suggestions: Array<{ value: string; hint: string }>; onInput: (v: string) => void; onSubmit: (v: string) => void; children?: ComponentChildren }) {
  const listId = `${props.name}-suggestions`;
  return (
    <form
      class="controls"
      role="search"
      aria-label={props.formLabel}
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit(props.value.trim());
      }}
    >
      <label>
        {props.label} <input type="search" name={props.name} list={listId} value={props.value} onInput={(e) => props.onInput(e.currentTarget.value)} autoComplete="off" required />
      </label>
      <datalist id={listId}>
        {props.suggestions.map((s) => (
          <option key={s.value} value={s.value}>
            {s.hint}
          </option>
        ))}
      </datalist>
      <button type="submit">{props.button}</button>
      {props.children}
    </form>
  );
}
