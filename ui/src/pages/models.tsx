/** Models: experiment runs from the results directory — metric × model chart with 95 % intervals, paired tests, times. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { VisualizationSpec } from 'vega-embed';
import { getJson, type ExperimentResults, type ResultsResponse } from '../api.js';
import { Chart, fmt, Loadable, messageOf } from '../components.js';

/** One point per (selected model, selected metric): the mean with its 95 % interval. */
export function metricChart(r: ExperimentResults, metrics: readonly string[], models: readonly string[]): VisualizationSpec {
  const values = [];
  for (const m of r.models) {
    if (!models.includes(m.label)) continue;
    for (const metric of metrics) {
      const s = m.metrics[metric];
      if (!s || s.mean === null) continue;
      values.push({ model: m.label, metric, mean: s.mean, low: s.ci95[0] ?? s.mean, high: s.ci95[1] ?? s.mean, n: s.n });
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { field: 'metric', type: 'nominal', title: null, sort: [...metrics], header: { labelFontSize: 13, labelFontWeight: 'bold' } },
    columns: 2,
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 300,
      height: { step: 22 },
      layer: [
        { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'low', type: 'quantitative', title: 'mean (95% interval)', scale: { zero: false } }, x2: { field: 'high' }, y: { field: 'model', type: 'nominal', sort: [...models], title: null }, color: { field: 'model', type: 'nominal', legend: null } } },
        {
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            x: { field: 'mean', type: 'quantitative' },
            y: { field: 'model', type: 'nominal', sort: [...models] },
            color: { field: 'model', type: 'nominal', legend: null },
            tooltip: [{ field: 'model' }, { field: 'metric' }, { field: 'mean', format: '.4f' }, { field: 'low', title: '95% low', format: '.4f' }, { field: 'high', title: '95% high', format: '.4f' }, { field: 'n', title: 'users' }],
          },
        },
      ],
    },
  };
}

function Checks({ legend, all, chosen, onChange }: { legend: string; all: readonly string[]; chosen: readonly string[]; onChange: (next: string[]) => void }) {
  return (
    <fieldset class="checks">
      <legend>{legend}</legend>
      {all.map((x) => (
        <label key={x}>
          <input type="checkbox" checked={chosen.includes(x)} onChange={(e) => onChange(e.currentTarget.checked ? all.filter((y) => y === x || chosen.includes(y)) : chosen.filter((y) => y !== x))} /> {x}
        </label>
      ))}
    </fieldset>
  );
}

export function ModelsPage() {
  const [data, setData] = useState<ResultsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [file, setFile] = useState('');
  const [metrics, setMetrics] = useState<string[]>([]);
  const [models, setModels] = useState<string[]>([]);
  useEffect(() => {
    getJson<ResultsResponse>('/api/results').then(
      (r) => {
        setData(r);
        if (r.runs.length) setFile(r.runs[0].file);
      },
      (e: unknown) => setError(messageOf(e)),
    );
  }, []);
  const run = data?.runs.find((x) => x.file === file)?.results;
  useEffect(() => {
    if (!run) return;
    setMetrics(run.metrics.slice(0, 4));
    setModels(run.models.filter((m) => !m.error).map((m) => m.label));
  }, [run]);
  const spec = useMemo(() => (run ? metricChart(run, metrics, models) : null), [run, metrics, models]);
  return (
    <section aria-labelledby="models-title">
      <h2 id="models-title">Models</h2>
      <Loadable loading={!data} error={error}>
        {data && data.runs.length === 0 && (
          <p class="note">
            No experiment results in {data.dir}. Write some with <code>recsys experiment configs/synthetic-baselines.yaml --format json -o {data.dir}/synthetic.json</code>.
          </p>
        )}
        {data && data.skipped.length > 0 && (
          <details>
            <summary>{data.skipped.length} JSON file(s) in {data.dir} are not experiment results</summary>
            <ul>{data.skipped.map((s) => <li key={s.file}>{s.reason}</li>)}</ul>
          </details>
        )}
        {data && data.runs.length > 0 && (
          <div class="controls">
            <label>
              Run{' '}
              <select value={file} onChange={(e) => setFile(e.currentTarget.value)}>
                {data.runs.map((x) => (
                  <option key={x.file} value={x.file}>
                    {x.results.name} ({x.file})
                  </option>
                ))}
              </select>
            </label>
          </div>
        )}
        {run && (
          <>
            <p class="muted">
              {run.dataset} · {run.split} · {run.protocol} · started {run.startedAt}
              {run.interrupted ? ' · interrupted' : ''}
            </p>
            <div class="pickers">
              <Checks legend="Metrics" all={run.metrics} chosen={metrics} onChange={setMetrics} />
              <Checks legend="Models" all={run.models.map((m) => m.label)} chosen={models} onChange={setModels} />
            </div>
            {spec && metrics.length > 0 && models.length > 0 ? <Chart spec={spec} label="Metric by model with 95% intervals" /> : <p class="muted">Pick at least one metric and one model.</p>}
            <Comparisons run={run} metrics={metrics} models={models} />
            <Times run={run} models={models} />
          </>
        )}
      </Loadable>
    </section>
  );
}

function p(v: number | null): string {
  return v === null ? '–' : v < 1e-4 ? v.toExponential(1) : v.toFixed(4);
}

function Comparisons({ run, metrics, models }: { run: ExperimentResults; metrics: string[]; models: string[] }) {
  const rows = run.comparisons.filter((c) => metrics.includes(c.metric) && models.includes(c.model));
  if (rows.length === 0) return <p class="muted">No paired tests for this selection (they compare each model with the first one, per user).</p>;
  return (
    <table>
      <caption>Paired tests against the reference model (per-user differences; p &lt; 0.05 in bold)</caption>
      <thead>
        <tr><th scope="col">metric</th><th scope="col">model</th><th scope="col">reference</th><th scope="col">mean difference</th><th scope="col">t-test p</th><th scope="col">Wilcoxon p</th><th scope="col">users</th></tr>
      </thead>
      <tbody>
        {rows.map((c) => (
          <tr key={`${c.metric}/${c.model}`}>
            <td>{c.metric}</td>
            <td>{c.model}</td>
            <td>{c.reference}</td>
            <td class="num">{fmt(c.tTest.meanDiff)}</td>
            <td class="num">{c.tTest.pValue !== null && c.tTest.pValue < 0.05 ? <strong>{p(c.tTest.pValue)}</strong> : p(c.tTest.pValue)}</td>
            <td class="num">{c.wilcoxon.pValue !== null && c.wilcoxon.pValue < 0.05 ? <strong>{p(c.wilcoxon.pValue)}</strong> : p(c.wilcoxon.pValue)}</td>
            <td class="num">{fmt(c.tTest.n)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Times({ run, models }: { run: ExperimentResults; models: string[] }) {
  return (
    <table>
      <caption>Fit and scoring times (seconds, summed over folds)</caption>
      <thead>
        <tr><th scope="col">model</th><th scope="col">type</th><th scope="col">fit s</th><th scope="col">score s</th><th scope="col">users evaluated</th><th scope="col">notes</th></tr>
      </thead>
      <tbody>
        {run.models.filter((m) => models.includes(m.label) || m.error).map((m) => (
          <tr key={m.label}>
            <td>{m.label}</td>
            <td>{m.model}</td>
            <td class="num">{fmt(m.fitSeconds, 3)}</td>
            <td class="num">{fmt(m.scoringSeconds, 3)}</td>
            <td class="num">{fmt(m.usersEvaluated)}</td>
            <td>{m.error ? <span class="error">failed: {m.error}</span> : m.notes.join('; ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
