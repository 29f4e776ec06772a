/** Item explorer: similar items of an item, and the 2-D PCA map of the model's item vectors coloured by category. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { VisualizationSpec } from 'vega-embed';
import { ApiError, getJson, itemMeta, query, type Embedding, type Info, type ItemMeta, type Similar } from '../api.js';
import { Chart, fmt, ItemLabel, Loadable, messageOf, NoModel, pct, SearchForm, useDebounced, type ChartView } from '../components.js';

/** The map: one point per item, the 10 most frequent categories coloured, the selected item ringed. */
function mapSpec(e: Embedding, selected: string): VisualizationSpec {
  const freq = new Map<string, number>();
  for (const p of e.points) freq.set(p.category, (freq.get(p.category) ?? 0) + 1);
  const top = new Set([...freq.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([c]) => c));
  const values = e.points.map((p) => ({ id: String(p.id), x: p.x, y: p.y, category: top.has(p.category) ? p.category : 'other', title: p.title ?? '', popularity: p.popularity, selected: String(p.id) === selected }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 540,
    height: 420,
    data: { values },
    params: [{ name: 'zoom', select: 'interval', bind: 'scales' }],
    mark: { type: 'circle', opacity: 0.75 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: `PC1 (${pct(e.explained[0])} of variance)`, scale: { zero: false } },
      y: { field: 'y', type: 'quantitative', title: `PC2 (${pct(e.explained[1])} of variance)`, scale: { zero: false } },
      color: { field: 'category', type: 'nominal', title: 'category' },
      size: { condition: { test: 'datum.selected', value: 260 }, field: 'popularity', type: 'quantitative', scale: { range: [12, 120] }, title: 'training users' },
      stroke: { condition: { test: 'datum.selected', value: '#000' }, value: null },
      strokeWidth: { value: 2 },
      tooltip: [{ field: 'id', title: 'item' }, { field: 'title' }, { field: 'category' }, { field: 'popularity', title: 'training users' }],
    },
  };
}

export function ItemsPage({ info, initialItem }: { info: Info; initialItem: string }) {
  const hasModel = info.mode === 'service';
  const [text, setText] = useState(initialItem);
  const [item, setItem] = useState(initialItem);
  const [similar, setSimilar] = useState<Similar | null>(null);
  const [meta, setMeta] = useState<Map<string, ItemMeta>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [embedding, setEmbedding] = useState<Embedding | null>(null);
  const [mapError, setMapError] = useState<string | null>(null);

  useEffect(() => {
    if (!hasModel) return;
    getJson<Embedding>('/api/embedding').then(setEmbedding, (e: unknown) => setMapError(messageOf(e)));
  }, [hasModel]);
  const hits = useDebounced<{ items: ItemMeta[] }>(hasModel ? `/api/items${query({ q: text, limit: 20 })}` : null, { items: [] }).items;
  useEffect(() => {
    if (!hasModel || !item) return;
    const ac = new AbortController();
    getJson<Similar>(`/v1/similar${query({ item, k: 12 })}`, ac.signal)
      .then(async (r) => {
        const m = await itemMeta([r.item, ...r.items.map((x) => x.item)]);
        if (ac.signal.aborted) return;
        setMeta(m);
        setSimilar(r);
        setError(null);
      })
      .catch((e: unknown) => {
        if (ac.signal.aborted) return;
        setSimilar(null);
        setError(e instanceof ApiError && e.status === 422 ? `${e.message}` : messageOf(e));
      });
    return () => ac.abort();
  }, [item, hasModel]);
  const spec = useMemo(() => (embedding ? mapSpec(embedding, item) : null), [embedding, item]);
  if (!hasModel) return <NoModel />;
  const choose = (id: string): void => {
    setText(id);
    setItem(id);
  };
  const onView = (view: ChartView): void => {
    view.addEventListener('click', (_event, target) => {
      const datum: unknown = target && 'datum' in target ? target.datum : null;
      if (typeof datum === 'object' && datum !== null && 'id' in datum && typeof datum.id === 'string') choose(datum.id);
    });
  };
  return (
    <section aria-labelledby="items-title">
      <h2 id="items-title">Item explorer</h2>
      <SearchForm label="Item" name="item" formLabel="Find an item" button="Show similar" value={text} onInput={setText} onSubmit={setItem} suggestions={hits.map((h) => ({ value: String(h.id), hint: h.title ?? h.categories.join(', ') }))} />
      <div class="two">
        <div>
          {item && (
            <Loadable loading={!similar && !error} error={error}>
              {similar && (
                <>
                  <p>
                    Items similar to <ItemLabel id={similar.item} meta={meta.get(String(similar.item))} />
                  </p>
                  <ol aria-label="Similar items" class="plain">
                    {similar.items.map((x) => (
                      <li key={String(x.item)}>
                        <button type="button" class="link" onClick={() => choose(String(x.item))}>
                          <ItemLabel id={x.item} meta={meta.get(String(x.item))} />
                        </button>{' '}
                        <span class="score">{fmt(x.score, 3)}</span>
                      </li>
                    ))}
                  </ol>
                </>
              )}
            </Loadable>
          )}
          {!item && <p class="muted">Search an item, or click a point of the map.</p>}
        </div>
        <div>
          <h3>Item map</h3>
          <Loadable loading={!embedding && !mapError} error={mapError}>
            {embedding && spec && (
              <>
                <p class="muted">
                  PCA of the {embedding.dims}-dimensional item vectors of {embedding.version}; the {fmt(embedding.points.length)} most popular of {fmt(embedding.items)} items. Scroll to zoom, drag to pan, click a point to select it.
                </p>
                <Chart spec={spec} label="Map of item embeddings (PCA), coloured by category" onView={onView} />
              </>
            )}
          </Loadable>
        </div>
      </div>
    </section>
  );
}
