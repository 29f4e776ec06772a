/**
 * User explorer: find a user, see their history with item metadata and the pipeline's lists side by side
 * (retrieved with sources, ranked, explored — or the served list when the service gives no stages), change the
 * exploration knobs and see the lists change, post an event and watch the recommendations fold it in.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, itemMeta, postJson, query, type History, type Id, type ItemMeta, type Recommendations, type ScoredItem, type UserHit } from '../api.js';
import { fmt, ItemLabel, Loadable, messageOf, NoModel, SearchForm, useDebounced } from '../components.js';

const STRATEGIES = ['sampling', 'noise', 'least-viewed'] as const;
type Strategy = (typeof STRATEGIES)[number];

interface Knobs {
  k: number;
  explore: Strategy[];
  temperature: number;
  sigma: number;
  leastViewed: number;
  seed: number;
}

const DEFAULT_KNOBS: Knobs = { k: 10, explore: [], temperature: 1, sigma: 0.1, leastViewed: 3, seed: 1 };

/** The query parameters /v1/recommendations accepts, from the service's OpenAPI document. */
async function recommendationParams(): Promise<Set<string>> {
  type Doc = { paths?: Record<string, { get?: { parameters?: Array<{ name: string }> } }> };
  const doc = await getJson<Doc>('/openapi.json');
  return new Set((doc.paths?.['/v1/recommendations']?.get?.parameters ?? []).map((p) => p.name));
}

function ItemList({ title, items, meta, highlight, onView }: { title: string; items: ScoredItem[]; meta: Map<string, ItemMeta>; highlight?: Set<string>; onView?: (item: Id) => void }) {
  return (
    <div class="list">
      <h3 id={`list-${title}`}>{title}</h3>
      {items.length === 0 ? (
        <p class="muted">empty</p>
      ) : (
        <ol aria-labelledby={`list-${title}`} data-list={title}>
          {items.map((x) => (
            <li key={String(x.item)} class={highlight?.has(String(x.item)) ? 'new' : undefined} data-item={String(x.item)}>
              <ItemLabel id={x.item} meta={meta.get(String(x.item))} />
              <span class="score">
                {fmt(x.score, 3)} <span class="source">{x.source}</span>
                {highlight?.has(String(x.item)) && <span class="badge">new</span>}
              </span>
              {onView && (
                <button type="button" class="small" onClick={() => onView(x.item)} aria-label={`Post a view of item ${String(x.item)}`}>
                  viewed
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}


/** Candidates shown before "show all". */
const RETRIEVED_SHOWN = 20;

/** What the response's basis means, in words. */
const BASIS_TEXT: Record<NonNullable<Recommendations['basis']>, string> = {
  model: 'The user as trained.',
  'fold-in': 'Folded in: the training history plus the events posted since.',
  history: 'Scored from the history: the training items plus the events posted since.',
  fallback: 'Unknown user: the popularity fallback.',
};
export function UsersPage({ hasModel, initialUser }: { hasModel: boolean; initialUser: string }) {
  const [text, setText] = useState(initialUser);
  const [user, setUser] = useState(initialUser);
  const [supported, setSupported] = useState<Set<string> | null>(null);
  const [knobs, setKnobs] = useState<Knobs>(DEFAULT_KNOBS);
  const [showAll, setShowAll] = useState(false);
  const [recs, setRecs] = useState<Recommendations | null>(null);
  const [previous, setPrevious] = useState<string[] | null>(null);
  const [history, setHistory] = useState<History | null>(null);
  const [historyNote, setHistoryNote] = useState<string | null>(null);
  const [meta, setMeta] = useState<Map<string, ItemMeta>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [postItem, setPostItem] = useState('');
  const [postValue, setPostValue] = useState('1');
  const [status, setStatus] = useState('');
  const [popular, setPopular] = useState<ItemMeta[]>([]);
  const [version, setVersion] = useState(0);
  const lastItems = useRef<string[] | null>(null);

  useEffect(() => {
    if (!hasModel) return;
    recommendationParams().then(setSupported, () => setSupported(new Set(['user', 'k'])));
    getJson<{ items: ItemMeta[] }>('/api/items?limit=50').then((r) => setPopular(r.items), () => setPopular([]));
  }, [hasModel]);

  const hits = useDebounced<{ users: UserHit[] }>(hasModel ? `/api/users${query({ q: text, limit: 20 })}` : null, { users: [] }).users;

  // Recommendations and history of the chosen user; knob changes reload the lists (debounced).
  useEffect(() => {
    if (!hasModel || !user || !supported) return;
    const ac = new AbortController();
    const t = setTimeout(async () => {
      setLoading(true);
      const canExplore = supported.has('explore');
      const params: Record<string, string | number | boolean | undefined> = { user, k: knobs.k };
      if (canExplore && knobs.explore.length) {
        params.explore = knobs.explore.join(',');
        if (supported.has('seed')) params.seed = knobs.seed;
        if (knobs.explore.includes('sampling') && supported.has('temperature')) params.temperature = knobs.temperature;
        if (knobs.explore.includes('noise') && supported.has('sigma')) params.sigma = knobs.sigma;
        if (knobs.explore.includes('least-viewed') && supported.has('leastViewed')) params.leastViewed = knobs.leastViewed;
      }
      if (supported.has('stages')) params.stages = true;
      try {
        const [r, h] = await Promise.all([
          getJson<Recommendations>(`/v1/recommendations${query(params)}`, ac.signal),
          getJson<History>(`/v1/users/${encodeURIComponent(user)}/history`, ac.signal).catch((e: unknown) => {
            if (e instanceof ApiError && e.status === 404) return null;
            throw e;
          }),
        ]);
        const ids: Id[] = [...r.items.map((x) => x.item), ...(r.stages ? [...r.stages.retrieved, ...r.stages.ranked, ...r.stages.explored].map((x) => x.item) : []), ...(h ? [...h.training.map((x) => x.item), ...h.events.map((x) => x.item)] : [])];
        const m = await itemMeta(ids);
        if (ac.signal.aborted) return;
        setMeta(m);
        setRecs(r);
        setHistory(h);
        setHistoryNote(h ? null : `user ${user} is unknown to the model and has no events: the list is the popularity fallback`);
        const now = r.items.map((x) => String(x.item));
        setPrevious(lastItems.current);
        lastItems.current = now;
        setError(null);
      } catch (e) {
        if (!ac.signal.aborted) setError(messageOf(e));
      } finally {
        if (!ac.signal.aborted) setLoading(false);
      }
    }, 200);
    return () => {
      clearTimeout(t);
      ac.abort();
    };
  }, [hasModel, user, supported, knobs, version]);

  if (!hasModel) return <NoModel />;

  const post = async (item: Id, value: number): Promise<void> => {
    setStatus(`posting a view of ${String(item)}…`);
    try {
      const r = await postJson<{ accepted: number; warnings: string[] }>('/v1/events', { user, item, value });
      setStatus(`stored ${r.accepted} event (${String(item)}, value ${value})${r.warnings.length ? `: ${r.warnings.join('; ')}` : ''}; recommendations updated`);
      setVersion((v) => v + 1);
    } catch (e) {
      setStatus(`not stored: ${messageOf(e)}`);
    }
  };

  const added = previous && recs ? new Set(recs.items.map((x) => String(x.item)).filter((x) => !previous.includes(x))) : undefined;
  const canExplore = supported?.has('explore') ?? false;
  const setKnob = <K extends keyof Knobs>(key: K, value: Knobs[K]): void => setKnobs((k) => ({ ...k, [key]: value }));

  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">User explorer</h2>
      <SearchForm
        label="User"
        name="user"
        formLabel="Find a user"
        button="Show"
        value={text}
        onInput={setText}
        suggestions={hits.map((h) => ({ value: String(h.id), hint: h.trained ? `${h.items} training items` : 'events only' }))}
        onSubmit={(id) => {
          lastItems.current = null;
          setPrevious(null);
          setStatus('');
          setUser(id);
          location.hash = `#/users?user=${encodeURIComponent(id)}`;
        }}
      >
        <label>
          k <input type="number" min={1} max={100} value={knobs.k} onChange={(e) => setKnob('k', Math.max(1, Math.min(100, Number(e.currentTarget.value) || 10)))} />
        </label>
      </SearchForm>

      <fieldset class="knobs" disabled={!canExplore}>
        <legend>Exploration{canExplore ? '' : ' (this service takes no exploration parameters)'}</legend>
        {STRATEGIES.map((s) => (
          <label key={s}>
            <input type="checkbox" checked={knobs.explore.includes(s)} onChange={(e) => setKnob('explore', e.currentTarget.checked ? STRATEGIES.filter((x) => x === s || knobs.explore.includes(x)) : knobs.explore.filter((x) => x !== s))} /> {s}
          </label>
        ))}
        <label>
          temperature <input type="range" min={0.05} max={3} step={0.05} value={knobs.temperature} onInput={(e) => setKnob('temperature', Number(e.currentTarget.value))} /> <output>{knobs.temperature.toFixed(2)}</output>
        </label>
        <label>
          σ <input type="range" min={0} max={1} step={0.01} value={knobs.sigma} onInput={(e) => setKnob('sigma', Number(e.currentTarget.value))} /> <output>{knobs.sigma.toFixed(2)}</output>
        </label>
        <label>
          least-viewed quota <input type="number" min={0} max={50} value={knobs.leastViewed} onChange={(e) => setKnob('leastViewed', Math.max(0, Number(e.currentTarget.value) || 0))} />
        </label>
        <label>
          seed <input type="number" min={0} value={knobs.seed} onChange={(e) => setKnob('seed', Math.max(0, Number(e.currentTarget.value) || 0))} />
        </label>
      </fieldset>

      {user && (
        <form
          class="controls"
          aria-label="Post an event"
          onSubmit={(e) => {
            e.preventDefault();
            if (postItem.trim()) void post(postItem.trim(), Number(postValue) || 1);
          }}
        >
          <label>
            Item <input type="text" name="item" list="popular-items" value={postItem} onInput={(e) => setPostItem(e.currentTarget.value)} required />
          </label>
          <datalist id="popular-items">
            {popular.map((m) => (
              <option key={String(m.id)} value={String(m.id)}>
                {m.title ?? ''}
              </option>
            ))}
          </datalist>
          <label>
            Value <input type="number" name="value" step="any" value={postValue} onInput={(e) => setPostValue(e.currentTarget.value)} />
          </label>
          <button type="submit">Post event</button>
        </form>
      )}
      <p class="status" role="status" aria-live="polite">
        {status}
      </p>

      <Loadable loading={loading && !recs} error={error}>
        {recs && (
          <>
            {recs.warnings.length > 0 && <ul class="warnings">{recs.warnings.map((w, k) => <li key={k}>{w}</li>)}</ul>}
            {historyNote && <p class="note">{historyNote}</p>}
            {recs.basis && (
              <p class="basis" data-basis={recs.basis}>
                {BASIS_TEXT[recs.basis]}
              </p>
            )}
            <div class="lists" aria-busy={loading}>
              {recs.stages ? (
                <>
                  <div class="stage">
                    <ItemList title="Retrieved" items={showAll ? recs.stages.retrieved : recs.stages.retrieved.slice(0, RETRIEVED_SHOWN)} meta={meta} />
                    {recs.stages.retrieved.length > RETRIEVED_SHOWN && (
                      <button type="button" class="more" onClick={() => setShowAll(!showAll)}>
                        {showAll ? `Show the first ${RETRIEVED_SHOWN}` : `Show all ${recs.stages.retrieved.length} candidates`}
                      </button>
                    )}
                  </div>
                  <ItemList title={`Ranked${recs.stages.rankedBy ? ` (${recs.stages.rankedBy})` : ''}`} items={recs.stages.ranked} meta={meta} />
                  <ItemList title="Explored" items={recs.stages.explored} meta={meta} highlight={added} onView={(item) => void post(item, 1)} />
                </>
              ) : (
                <ItemList title="Recommendations" items={recs.items} meta={meta} highlight={added} onView={(item) => void post(item, 1)} />
              )}
            </div>
            {!recs.stages && <p class="muted">This service returns the final list only (no retrieval/ranking/exploration stages).</p>}
          </>
        )}
        {history && <HistoryTable history={history} meta={meta} />}
      </Loadable>
    </section>
  );
}

const HISTORY_ROWS = 15;

function HistoryTable({ history, meta }: { history: History; meta: Map<string, ItemMeta> }) {
  const [all, setAll] = useState(false);
  const training = all ? history.training : history.training.slice(0, HISTORY_ROWS);
  return (
    <>
    <table>
      <caption>
        History of {String(history.user)}: {history.training.length} training items, {history.events.length} events since
      </caption>
      <thead>
        <tr><th scope="col">item</th><th scope="col">value</th><th scope="col">when</th></tr>
      </thead>
      <tbody>
        {[...history.events].reverse().map((e) => (
          <tr key={`e${e.seq}`}>
            <td><ItemLabel id={e.item} meta={meta.get(String(e.item))} />{e.known ? '' : ' (unknown to the model)'}</td>
            <td class="num">{fmt(e.value)}</td>
            <td>event {new Date(e.time * 1000).toISOString().slice(0, 19).replace('T', ' ')}</td>
          </tr>
        ))}
        {training.map((t) => (
          <tr key={`t${String(t.item)}`}>
            <td><ItemLabel id={t.item} meta={meta.get(String(t.item))} /></td>
            <td class="num">{fmt(t.value)}</td>
            <td>training</td>
          </tr>
        ))}
      </tbody>
    </table>
    {history.training.length > HISTORY_ROWS && (
      <button type="button" onClick={() => setAll(!all)} aria-expanded={all}>
        {all ? `Show the first ${HISTORY_ROWS} training items` : `Show all ${history.training.length} training items`}
      </button>
    )}
    </>
  );
}
