/** Data: the EDA of the served data set (charts from src/report's Vega-Lite specs), a time filter, the cleaning report. */
import { useEffect, useState } from 'preact/hooks';
import { getJson, query, type EdaResponse, type Info } from '../api.js';
import { Chart, fmt, Loadable, messageOf, NoModel, pct, type ChartView } from '../components.js';

const CHART_LABELS: Record<string, string> = {
  popularity: 'Popularity long tail (scroll to zoom, drag to pan)',
  userActivity: 'Interactions per user',
  itemPopularity: 'Interactions per item',
  values: 'Interaction values',
  hour: 'Activity by hour',
  weekday: 'Activity by weekday',
  day: 'Activity by day (drag to pick a time range)',
  month: 'Activity by month (drag to pick a time range)',
  popularVsNiche: 'Popular vs niche items',
  sparsity: 'Sparsity',
};

/** "YYYY-MM-DD" of a local date input as Unix seconds (UTC midnight), or undefined when empty. */
function dayToSeconds(day: string, end: boolean): number | undefined {
  if (!day) return undefined;
  const t = Date.parse(`${day}T00:00:00Z`) / 1000;
  return end ? t + 86400 : t;
}

/** A brushed date (a timestamp in ms or a Date) as "YYYY-MM-DD" (UTC). */
function toDay(v: unknown): string {
  const t = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : NaN;
  return Number.isFinite(t) ? new Date(t).toISOString().slice(0, 10) : '';
}

export function DataPage({ info }: { info: Info }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [window, setWindow] = useState<{ from?: number; to?: number }>({});
  const [eda, setEda] = useState<EdaResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  useEffect(() => {
    if (info.mode !== 'service') return;
    const ac = new AbortController();
    setLoading(true);
    getJson<EdaResponse>(`/api/eda${query({ from: window.from, to: window.to })}`, ac.signal).then(
      (r) => {
        setEda(r);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (ac.signal.aborted) return;
        setError(messageOf(e));
        setLoading(false);
      },
    );
    return () => ac.abort();
  }, [info.mode, window.from, window.to]);
  if (info.mode !== 'service') return <NoModel />;
  const s = eda?.stats;
  // The brush of the time chart fills the range inputs; Apply recomputes the page over that range.
  const onTimeView = (view: ChartView): void => {
    view.addSignalListener('brush', (_name, value: unknown) => {
      if (typeof value !== 'object' || value === null) return;
      const range = Object.values(value).find((v): v is unknown[] => Array.isArray(v) && v.length === 2);
      if (!range) return;
      setFrom(toDay(range[0]));
      setTo(toDay(range[1]));
    });
  };
  return (
    <section aria-labelledby="data-title">
      <h2 id="data-title">Data{eda ? `: ${eda.dataset.name}` : ''}</h2>
      {eda && <p class="muted">{eda.dataset.description}</p>}
      {eda?.dataset.note && <p class="note">{eda.dataset.note}</p>}
      {s?.overview.hasTimestamps && (
        <form
          class="controls"
          aria-label="Time range"
          onSubmit={(e) => {
            e.preventDefault();
            setWindow({ from: dayToSeconds(from, false), to: dayToSeconds(to, true) });
          }}
        >
          <label>
            From <input type="date" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
          </label>
          <label>
            To <input type="date" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
          </label>
          <button type="submit">Apply</button>
          <button
            type="button"
            onClick={() => {
              setFrom('');
              setTo('');
              setWindow({});
            }}
          >
            All time
          </button>
          {s?.time && (
            <span class="muted">
              events from {s.time.first} to {s.time.last} ({s.time.timeZone})
            </span>
          )}
        </form>
      )}
      <Loadable loading={loading && !eda} error={error}>
        {s && eda && (
          <>
            <div class="tables">
              <table>
                <caption>Overview{eda.window ? ' (time range)' : ''}</caption>
                <tbody>
                  <tr><th scope="row">users</th><td>{fmt(s.overview.users)}</td></tr>
                  <tr><th scope="row">items</th><td>{fmt(s.overview.items)}</td></tr>
                  <tr><th scope="row">interactions</th><td>{fmt(s.overview.interactions)}</td></tr>
                  <tr><th scope="row">density</th><td>{pct(s.overview.density)}</td></tr>
                  <tr><th scope="row">active users / items</th><td>{fmt(s.overview.activeUsers)} / {fmt(s.overview.activeItems)}</td></tr>
                  <tr><th scope="row">item-popularity Gini</th><td>{fmt(s.popularity.gini, 3)}</td></tr>
                  <tr><th scope="row">interactions on top 1% / 10% of items</th><td>{pct(s.popularity.top1Share)} / {pct(s.popularity.top10Share)}</td></tr>
                  <tr><th scope="row">median interactions per user / item</th><td>{fmt(s.userActivity.summary.median)} / {fmt(s.itemPopularity.summary.median)}</td></tr>
                  <tr><th scope="row">cold users / items (&lt; {s.cold.users.threshold})</th><td>{fmt(s.cold.users.below)} / {fmt(s.cold.items.below)}</td></tr>
                </tbody>
              </table>
              <Cleaning report={s.cleaning} />
            </div>
            <div class="charts">
              {Object.entries(eda.charts).map(([name, spec]) => (
                <Chart key={`${name}:${eda.window?.from ?? ''}:${eda.window?.to ?? ''}`} spec={spec} label={CHART_LABELS[name] ?? name} onView={name === 'day' || name === 'month' ? onTimeView : undefined} />
              ))}
            </div>
          </>
        )}
      </Loadable>
    </section>
  );
}

function Cleaning({ report }: { report: EdaResponse['stats']['cleaning'] }) {
  return (
    <div>
      <table>
        <caption>Cleaning report</caption>
        <tbody>
          <tr><th scope="row">files</th><td>{report.files.length ? report.files.join(', ') : '–'}</td></tr>
          <tr><th scope="row">rows read</th><td>{fmt(report.rowsRead)}</td></tr>
          <tr><th scope="row">rows kept</th><td>{fmt(report.rowsKept)}</td></tr>
          {report.rowsFiltered !== undefined && <tr><th scope="row">removed by filters</th><td>{fmt(report.rowsFiltered)}</td></tr>}
          <tr><th scope="row">duplicates merged ({report.duplicates.policy})</th><td>{fmt(report.duplicates.merged)} in {fmt(report.duplicates.pairs)} pairs</td></tr>
        </tbody>
      </table>
      {report.issues.length === 0 ? (
        <p>No issues: every row was read as is.</p>
      ) : (
        <table>
          <caption>Issues</caption>
          <thead>
            <tr><th scope="col">issue</th><th scope="col">field</th><th scope="col">rows</th><th scope="col">action</th><th scope="col">first lines</th></tr>
          </thead>
          <tbody>
            {report.issues.map((i, k) => (
              <tr key={k}><td>{i.kind}</td><td>{i.field ?? ''}</td><td class="num">{fmt(i.count)}</td><td>{i.action}</td><td>{i.lines.join(', ')}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      {report.notes.length > 0 && <ul class="notes">{report.notes.map((n, k) => <li key={k}>{n}</li>)}</ul>}
    </div>
  );
}
