/**
 * Vega-Lite → inline SVG, headless: the spec is compiled by vega-lite and rendered by vega's SVG string
 * renderer (no canvas, no DOM). Loading any URL is refused, so specs must carry their data inline.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A Vega-Lite specification, as `chartSvg` accepts it. */
export type ChartSpec = TopLevelSpec;

/** The look shared by every chart unless a spec sets its own `config`. */
export const CHART_CONFIG = {
  font: 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', grid: true, gridColor: '#eaeef2', domainColor: '#8c959f', tickColor: '#8c959f' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  title: { fontSize: 14, fontWeight: 600, anchor: 'start', offset: 10 },
  range: { category: ['#0969da', '#e16f24', '#1a7f37', '#8250df', '#cf222e', '#9a6700', '#57606a'] },
  bar: { color: '#0969da' },
  line: { color: '#0969da', strokeWidth: 2 },
  point: { color: '#0969da' },
} as const;

/** A loader that loads nothing and records what was asked (vega only logs a warning on load failures). */
function offlineLoader(refused: string[]): vega.Loader {
  const refuse = (uri: string): Promise<never> => {
    refused.push(uri);
    return Promise.reject(new Error(`refusing to load "${uri}"`));
  };
  const base = vega.loader();
  return { ...base, load: refuse, sanitize: refuse, http: refuse, file: refuse };
}

/**
 * Renders a Vega-Lite spec to an SVG string (starts with `<svg`). Compilation, data-loading and rendering
 * errors are thrown with the chart's title, when it has one, in the message.
 */
export async function chartSvg(spec: ChartSpec): Promise<string> {
  const withConfig = (spec.config ? spec : { ...spec, config: CHART_CONFIG }) as ChartSpec;
  const title = typeof spec.title === 'string' ? ` "${spec.title}"` : '';
  let view: vega.View | null = null;
  try {
    const compiled = compile(withConfig).spec;
    const refused: string[] = [];
    view = new vega.View(vega.parse(compiled), { renderer: 'none', loader: offlineLoader(refused), logLevel: vega.Error });
    const svg = await view.toSVG();
    if (refused.length > 0) throw new Error(`chart specs must inline their data; refusing to load ${refused.map((u) => `"${u}"`).join(', ')}`);
    return svg.replace(/^<svg /, '<svg role="img" ');
  } catch (err) {
    throw new Error(`chart${title}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    view?.finalize();
  }
}
