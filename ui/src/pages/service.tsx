/** Service: the model in service, request rate and latency percentiles per route, events — from `/metrics`, live. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, getText } from '../api.js';
import { fmt, messageOf, NoModel } from '../components.js';
import { histogramQuantile, parseMetrics, type Sample } from '../metrics.js';

const POLL_MS = 2000;
const HISTORY = 60;

interface RouteStats {
  key: string;
  method: string;
  route: string;
  count: number;
  errors: number;
  rate: number | null;
  p50: number;
  p95: number;
  p99: number;
}

interface Snapshot {
  at: number;
  model: Record<string, string>;
  routes: RouteStats[];
  totalRequests: number;
  counters: Record<string, number>;
}

function snapshot(samples: Sample[], at: number, before: Snapshot | null): Snapshot {
  const routes = new Map<string, RouteStats>();
  const buckets = new Map<string, Array<{ le: number; count: number }>>();
  let totalRequests = 0;
  const counters: Record<string, number> = {};
  let model: Record<string, string> = {};
  for (const s of samples) {
    const key = `${s.labels.method ?? ''} ${s.labels.route ?? ''}`;
    if (s.name === 'recsys_http_requests_total') {
      const r = routes.get(key) ?? { key, method: s.labels.method ?? '', route: s.labels.route ?? '', count: 0, errors: 0, rate: null, p50: NaN, p95: NaN, p99: NaN };
      r.count += s.value;
      if (Number(s.labels.status) >= 400) r.errors += s.value;
      routes.set(key, r);
      totalRequests += s.value;
    } else if (s.name === 'recsys_http_request_duration_seconds_bucket') {
      const list = buckets.get(key) ?? [];
      list.push({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value });
      buckets.set(key, list);
    } else if (s.name === 'recsys_model_info') {
      model = s.labels;
    } else if (!s.name.startsWith('recsys_http_')) {
      counters[s.name] = s.value;
    }
  }
  const dt = before ? (at - before.at) / 1000 : 0;
  for (const r of routes.values()) {
    const b = buckets.get(r.key) ?? [];
    r.p50 = histogramQuantile(0.5, b);
    r.p95 = histogramQuantile(0.95, b);
    r.p99 = histogramQuantile(0.99, b);
    const prev = before?.routes.find((x) => x.key === r.key);
    r.rate = before && dt > 0 ? (r.count - (prev?.count ?? 0)) / dt : null;
  }
  return { at, model, routes: [...routes.values()].sort((a, b) => b.count - a.count), totalRequests, counters };
}

function ms(seconds: number): string {
  return Number.isNaN(seconds) ? '–' : `${fmt(seconds * 1000, 3)} ms`;
}

/** A sparkline of the request rate. */
function Sparkline({ values }: { values: number[] }) {
  if (values.length < 2) return null;
  const w = 360;
  const h = 60;
  const max = Math.max(1e-9, ...values);
  const pts = values.map((v, i) => `${((i / (values.length - 1)) * w).toFixed(1)},${(h - (v / max) * (h - 4) - 2).toFixed(1)}`).join(' ');
  return (
    <svg class="spark" width={w} height={h} role="img" aria-label={`request rate over the last ${values.length} samples, up to ${fmt(max, 3)} per second`}>
      <polyline points={pts} fill="none" stroke="currentColor" stroke-width="2" />
    </svg>
  );
}

export function ServicePage({ hasModel }: { hasModel: boolean }) {
  const [snap, setSnap] = useState<Snapshot | null>(null);
  const [ready, setReady] = useState<string>('');
  const [error, setError] = useState<string | null>(null);
  const [rates, setRates] = useState<number[]>([]);
  const last = useRef<Snapshot | null>(null);
  useEffect(() => {
    if (!hasModel) return;
    let stopped = false;
    const poll = async (): Promise<void> => {
      try {
        const [text, r] = await Promise.all([getText('/metrics'), getJson<{ status: string; model: string; events: number }>('/readyz').catch((e: unknown) => ({ status: messageOf(e), model: '', events: 0 }))]);
        if (stopped) return;
        const s = snapshot(parseMetrics(text), Date.now(), last.current);
        if (last.current) {
          const dt = (s.at - last.current.at) / 1000;
          const rate = dt > 0 ? (s.totalRequests - last.current.totalRequests) / dt : 0;
          setRates((xs) => [...xs, rate].slice(-HISTORY));
        }
        last.current = s;
        setSnap(s);
        setReady(r.status);
        setError(null);
      } catch (e) {
        if (!stopped) setError(messageOf(e));
      }
    };
    void poll();
    const t = setInterval(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [hasModel]);
  if (!hasModel) return <NoModel />;
  const c = snap?.counters ?? {};
  return (
    <section aria-labelledby="service-title">
      <h2 id="service-title">Service</h2>
      {error && <p class="error" role="alert">/metrics: {error}</p>}
      {snap && (
        <>
          <div class="tables">
            <table>
              <caption>Model in service</caption>
              <tbody>
                <tr><th scope="row">type</th><td>{snap.model.type ?? '–'}</td></tr>
                <tr><th scope="row">version</th><td>{snap.model.version ?? '–'}</td></tr>
                <tr><th scope="row">generation (loads)</th><td>{snap.model.generation ?? '–'}</td></tr>
                <tr><th scope="row">directory</th><td class="path">{snap.model.dir ?? '–'}</td></tr>
                <tr><th scope="row">readiness</th><td>{ready}</td></tr>
              </tbody>
            </table>
            <table>
              <caption>Events and reloads</caption>
              <tbody>
                <tr><th scope="row">events accepted (since start)</th><td class="num">{fmt(c.recsys_events_accepted_total ?? 0)}</td></tr>
                <tr><th scope="row">duplicates refused</th><td class="num">{fmt(c.recsys_events_duplicate_total ?? 0)}</td></tr>
                <tr><th scope="row">events in the log</th><td class="num">{fmt(c.recsys_event_log_events ?? 0)}</td></tr>
                <tr><th scope="row">fsyncs</th><td class="num">{fmt(c.recsys_event_log_fsyncs_total ?? 0)}</td></tr>
                <tr><th scope="row">reloads / failed</th><td class="num">{fmt(c.recsys_model_reloads_total ?? 0)} / {fmt(c.recsys_model_reload_failures_total ?? 0)}</td></tr>
              </tbody>
            </table>
          </div>
          <h3>Requests</h3>
          <p>
            {fmt(snap.totalRequests)} requests; now {rates.length ? fmt(rates[rates.length - 1], 3) : '–'} per second (this page polls every {POLL_MS / 1000} s).
          </p>
          <Sparkline values={rates} />
          <table>
            <caption>Per route: request rate and latency percentiles (since start)</caption>
            <thead>
              <tr><th scope="col">route</th><th scope="col">requests</th><th scope="col">4xx/5xx</th><th scope="col">per second</th><th scope="col">p50</th><th scope="col">p95</th><th scope="col">p99</th></tr>
            </thead>
            <tbody>
              {snap.routes.map((r) => (
                <tr key={r.key}>
                  <td><code>{r.method} {r.route}</code></td>
                  <td class="num">{fmt(r.count)}</td>
                  <td class="num">{fmt(r.errors)}</td>
                  <td class="num">{r.rate === null ? '–' : fmt(r.rate, 3)}</td>
                  <td class="num">{ms(r.p50)}</td>
                  <td class="num">{ms(r.p95)}</td>
                  <td class="num">{ms(r.p99)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {!snap && !error && <p class="muted">Loading…</p>}
    </section>
  );
}
