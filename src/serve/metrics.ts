/**
 * The service's metrics in the Prometheus text exposition format (version 0.0.4): request counts and latency
 * histograms per route, method and status; events stored and duplicates; fsyncs of the event log; model
 * reloads; and an info gauge naming the model in service.
 */

/** Upper bounds (seconds) of the latency histogram buckets. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** A label value escaped for the text format. */
function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** What the service counts; see the module comment. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  eventsAccepted = 0;
  eventsDuplicate = 0;
  reloads = 0;
  reloadFailures = 0;
  /** Compactions of the event log that archived events. */
  compactions = 0;

  /** Records one finished request. `route` is the route pattern (e.g. `/v1/users/:user/history`), not the URL. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${esc(method)}",route="${esc(route)}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hkey = `method="${esc(method)}",route="${esc(route)}"`;
    let h = this.latency.get(hkey);
    if (!h) this.latency.set(hkey, (h = { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let b = 0; b < LATENCY_BUCKETS.length; b++) if (seconds <= LATENCY_BUCKETS[b]) h.counts[b]++;
    h.sum += seconds;
    h.count++;
  }

  /** The exposition text; `model` labels the info gauge, `log` is the event store's state. */
  render(model: { type: string; version: string; generation: number; dir: string; retrieval: string }, log: { fsyncCount: number; events: { length: number }; lastSeq: number; archivedThrough: number }): string {
    const lines: string[] = [];
    const head = (name: string, type: string, help: string): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    head('recsys_http_requests_total', 'counter', 'HTTP requests by method, route and status.');
    for (const [k, v] of this.requests) lines.push(`recsys_http_requests_total{${k}} ${v}`);
    head('recsys_http_request_duration_seconds', 'histogram', 'HTTP request latency by method and route.');
    for (const [k, h] of this.latency) {
      LATENCY_BUCKETS.forEach((le, b) => lines.push(`recsys_http_request_duration_seconds_bucket{${k},le="${le}"} ${h.counts[b]}`));
      lines.push(`recsys_http_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      lines.push(`recsys_http_request_duration_seconds_sum{${k}} ${h.sum}`);
      lines.push(`recsys_http_request_duration_seconds_count{${k}} ${h.count}`);
    }
    head('recsys_events_accepted_total', 'counter', 'Events stored durably since the server started.');
    lines.push(`recsys_events_accepted_total ${this.eventsAccepted}`);
    head('recsys_events_duplicate_total', 'counter', 'Posted events whose id was already stored (not stored again).');
    lines.push(`recsys_events_duplicate_total ${this.eventsDuplicate}`);
    head('recsys_event_log_events', 'gauge', 'Events in the live log (replayed and new, since the last compaction), held in memory.');
    lines.push(`recsys_event_log_events ${log.events.length}`);
    head('recsys_event_log_last_seq', 'gauge', 'Seq of the last stored event (all events ever stored, archived included).');
    lines.push(`recsys_event_log_last_seq ${log.lastSeq}`);
    head('recsys_event_log_archived_through', 'gauge', 'Events 1 to this were compacted into the archive.');
    lines.push(`recsys_event_log_archived_through ${log.archivedThrough}`);
    head('recsys_event_log_fsyncs_total', 'counter', 'fsyncs of the event log (one per group commit).');
    lines.push(`recsys_event_log_fsyncs_total ${log.fsyncCount}`);
    head('recsys_event_log_compactions_total', 'counter', 'Compactions of the event log that archived events.');
    lines.push(`recsys_event_log_compactions_total ${this.compactions}`);
    head('recsys_model_reloads_total', 'counter', 'Successful model reloads.');
    lines.push(`recsys_model_reloads_total ${this.reloads}`);
    head('recsys_model_reload_failures_total', 'counter', 'Model reloads that failed (the old model stayed in service).');
    lines.push(`recsys_model_reload_failures_total ${this.reloadFailures}`);
    head('recsys_model_info', 'gauge', 'The model in service (value 1).');
    lines.push(`recsys_model_info{type="${esc(model.type)}",version="${esc(model.version)}",generation="${model.generation}",dir="${esc(model.dir)}",retrieval="${esc(model.retrieval)}"} 1`);
    return `${lines.join('\n')}\n`;
  }
}
