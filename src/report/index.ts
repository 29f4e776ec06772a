/** EDA statistics, Vega-Lite charts rendered to inline SVG, and self-contained HTML reports. */
export * from './stats.js';
export * from './time.js';
export * from './eda.js';
export * from './format.js';
export * from './html.js';
export * from './svg.js';
export * from './charts.js';
export * from './eda-report.js';
export * from './eda-text.js';
