/**
 * The service's event log in PostgreSQL, for replicas: every `recsys serve --data postgres://…` appends to the
 * same table and applies every replica's events, so any replica answers for any user (a load balancer needs no
 * affinity) and no replica holds state another needs.
 *
 * - Durable: an append resolves after its transaction commits (PostgreSQL's WAL fsync; `synchronous_commit` must
 *   stay on, the server's default). Concurrent appends of one replica share one transaction (group commit), which
 *   is one call of a server-side function (one round trip).
 * - One order: a transaction takes an advisory lock, so events are numbered (`seq`) in commit order without gaps
 *   and every replica applies them in that order.
 * - Idempotent across replicas: an id stored by any replica is stored once; posting it again anywhere returns the
 *   stored event.
 * - Live: a commit notifies (`NOTIFY recsys_events`); each replica listens and reads what it has not applied
 *   (also every `pollMs`, should a notification be lost with a connection).
 *
 * - Compacted: {@link PgEventLog.compact} records in `recsys_events_meta` that events through a seq are absorbed
 *   by the model; every replica (told by the notification) drops them from memory, and a start replays only the
 *   events after it. The rows stay in the table — export still reads them, and an id stays stored once.
 *
 * Tables `recsys_events(seq, id, user_id, item_id, value, time)` and `recsys_events_meta(key, value)`, function
 * `recsys_events_append`, created when missing; ids are jsonb, so numeric and text ids keep their type as in the
 * file log.
 */
import pg from 'pg';
import { UsageError } from '../core/errors.js';
import type { ExternalId } from '../data/id-map.js';
import { redact } from '../pipeline/feature-store.js';
import type { AppendResult, CompactResult, EventInput, EventStore, EventStoreOptions, LoggedEvent } from './event-log.js';

/** The table every replica shares. */
export const EVENT_TABLE = 'recsys_events';
/** Its companion: `archived_through`, the seq through which events are compacted. */
export const META_TABLE = 'recsys_events_meta';
/** The advisory lock key of appends (any constant; shared by the replicas). */
const APPEND_LOCK = 7_301_994_211;
/** The advisory lock key of creating the table and function (replicas may start at once). */
const SCHEMA_LOCK = 7_301_994_212;
/** The server-side append (one round trip per group commit). */
export const APPEND_FUNCTION = 'recsys_events_append';

/**
 * Table and append function. The function runs in the caller's (autocommit) transaction: it takes the append
 * lock, then — each statement of a volatile PL/pgSQL function sees what committed before it, so after the lock
 * the maximum seq is final — numbers the batch after it, skipping ids already stored, notifies, and returns
 * every event after `after` with `mine` marking this batch's, and the stored events (seq ≤ `after`, compacted
 * out of the replicas' memory) whose ids the batch repeats.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${EVENT_TABLE} (
  seq BIGINT PRIMARY KEY, id TEXT UNIQUE, user_id JSONB NOT NULL, item_id JSONB NOT NULL,
  value DOUBLE PRECISION NOT NULL, time DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS ${META_TABLE} (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE OR REPLACE FUNCTION ${APPEND_FUNCTION}(after BIGINT, batch JSONB)
RETURNS TABLE (seq BIGINT, id TEXT, user_id JSONB, item_id JSONB, value DOUBLE PRECISION, "time" DOUBLE PRECISION, mine BOOLEAN)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
DECLARE n BIGINT;
BEGIN
  PERFORM pg_advisory_xact_lock(${APPEND_LOCK});
  SELECT coalesce(max(e.seq), 0) INTO n FROM ${EVENT_TABLE} e;
  INSERT INTO ${EVENT_TABLE} (seq, id, user_id, item_id, value, time)
    SELECT n + row_number() OVER (ORDER BY b.ord), b.id, b.u, b.i, b.v, b.t
    FROM jsonb_to_recordset(batch) AS b(ord BIGINT, id TEXT, u JSONB, i JSONB, v DOUBLE PRECISION, t DOUBLE PRECISION)
    WHERE b.id IS NULL OR NOT EXISTS (SELECT 1 FROM ${EVENT_TABLE} o WHERE o.id = b.id);
  PERFORM pg_notify('${EVENT_TABLE}', n::TEXT);
  RETURN QUERY SELECT e.seq, e.id, e.user_id, e.item_id, e.value, e.time, e.seq > n FROM ${EVENT_TABLE} e
    WHERE e.seq > after OR e.id IN (SELECT b.id FROM jsonb_to_recordset(batch) AS b(id TEXT) WHERE b.id IS NOT NULL)
    ORDER BY e.seq;
END
$fn$;`;

/** Options of {@link PgEventLog.open} besides the common ones. */
export interface PgEventLogOptions extends EventStoreOptions {
  /** Reads other replicas' events at least this often even without a notification (default 1000 ms). */
  pollMs?: number;
}

interface Pending {
  events: LoggedEvent[];
  /** Resolved with the compacted events whose ids the batch repeated. */
  resolve: (archived: Map<string, LoggedEvent>) => void;
  reject: (e: Error) => void;
}

interface Compaction {
  through: number;
  resolve: (r: CompactResult) => void;
  reject: (e: Error) => void;
}

interface Row {
  seq: string;
  id: string | null;
  user_id: ExternalId;
  item_id: ExternalId;
  value: number;
  time: number;
}

function eventOf(r: Row): LoggedEvent {
  return { seq: Number(r.seq), user: r.user_id, item: r.item_id, value: Number(r.value), time: Number(r.time), id: r.id };
}

const COLUMNS = 'seq, id, user_id, item_id, value, time';

/** See the module comment. */
export class PgEventLog implements EventStore {
  /** Events after {@link archivedThrough} in log order: this replica's and the others'. */
  private live: LoggedEvent[] = [];
  /** Events 1…this are compacted (dropped from memory). */
  private base = 0;
  private readonly byId = new Map<string, LoggedEvent>();
  private queue: Pending[] = [];
  private compactions: Compaction[] = [];
  private working = false;
  /** Another replica's commit was announced (or the poll came due) while a transaction ran. */
  private catchUpAsked = false;
  private closed = false;
  private commits = 0;
  private timer: NodeJS.Timeout | null = null;

  /** The connection failed: the next transaction reconnects first. */
  private broken = false;

  private constructor(
    /** The connection string without its password. */
    readonly location: string,
    private readonly url: string,
    private client: pg.Client,
    private readonly listener: pg.Client,
    private readonly onStored: (events: readonly LoggedEvent[]) => void,
    private readonly onCompacted: (through: number) => void,
    private readonly warn: (message: string) => void,
  ) {}

  /** Connects, creates the table when missing, replays it and starts listening for other replicas. */
  static async open(url: string, options: PgEventLogOptions = {}): Promise<PgEventLog> {
    const location = redact(url);
    const client = new pg.Client({ connectionString: url });
    const listener = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await listener.connect();
    } catch (e) {
      await Promise.allSettled([client.end(), listener.end()]);
      throw new Error(`cannot connect to the PostgreSQL event log ${location}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const log = new PgEventLog(location, url, client, listener, options.onStored ?? (() => {}), options.onCompacted ?? (() => {}), options.warn ?? (() => {}));
    try {
      await client.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
      try {
        await client.query(SCHEMA);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK]);
      }
      log.base = await archivedThrough(client);
      const { rows } = await client.query<Row>(`SELECT ${COLUMNS} FROM ${EVENT_TABLE} WHERE seq > $1 ORDER BY seq`, [log.base]);
      for (const r of rows) log.push(eventOf(r), `${location}: table ${EVENT_TABLE}`);
      listener.on('notification', () => log.askCatchUp());
      const lost = (e: Error): void => log.warn(`${location}: the event listener's connection failed (${e.message}); other replicas' events now arrive by polling`);
      listener.on('error', lost);
      log.watch(client);
      await listener.query(`LISTEN ${EVENT_TABLE}`);
      const pollMs = options.pollMs ?? 1000;
      if (pollMs > 0) {
        log.timer = setInterval(() => log.askCatchUp(), pollMs);
        log.timer.unref();
      }
    } catch (e) {
      await log.close().catch(() => undefined);
      throw e instanceof Error && e.message.startsWith(location) ? e : new Error(`${location}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return log;
  }

  private watch(client: pg.Client): void {
    client.on('error', (e) => {
      this.broken = true;
      this.warn(`${this.location}: connection error (${e.message}); reconnecting at the next append`);
    });
    client.on('end', () => (this.broken = true));
  }

  /** A fresh connection in place of a failed one. */
  private async reconnect(): Promise<void> {
    const old = this.client;
    this.client = new pg.Client({ connectionString: this.url });
    void old.end().catch(() => undefined);
    await this.client.connect();
    this.watch(this.client);
    this.broken = false;
  }

  get events(): readonly LoggedEvent[] {
    return this.live;
  }

  /** Seq of the last event applied here. */
  get lastSeq(): number {
    return this.base + this.live.length;
  }

  get archivedThrough(): number {
    return this.base;
  }

  get fsyncCount(): number {
    return this.commits;
  }

  /**
   * Stores `inputs` (in order) and resolves once they are committed. Events whose id any replica already stored
   * are not stored again; they resolve with the stored event. If the transaction fails it is rolled back and this
   * call rejects (a connection lost during COMMIT leaves the outcome unknown: retry with the same ids).
   */
  async append(inputs: readonly EventInput[], now: number = Date.now() / 1000): Promise<AppendResult[]> {
    if (this.closed) throw new Error(`${this.location}: the event log is closed`);
    const fresh: LoggedEvent[] = [];
    const results: AppendResult[] = [];
    const inCall = new Map<string, LoggedEvent>();
    for (const input of inputs) {
      const id = input.id ?? null;
      const known = id !== null ? (this.byId.get(id) ?? inCall.get(id)) : undefined;
      if (known) {
        results.push({ event: known, duplicate: true });
        continue;
      }
      const event: LoggedEvent = { seq: 0, user: input.user, item: input.item, value: input.value ?? 1, time: input.time ?? now, id };
      if (id !== null) inCall.set(id, event);
      fresh.push(event);
      results.push({ event, duplicate: false });
    }
    let archived = new Map<string, LoggedEvent>();
    if (fresh.length) {
      archived = await new Promise<Map<string, LoggedEvent>>((resolve, reject) => {
        this.queue.push({ events: fresh, resolve, reject });
        void this.work();
      });
    }
    // An event another replica (or a concurrent call) stored first, or stored before a compaction: the stored
    // one, marked duplicate.
    return results.map((r) => {
      if (r.duplicate || r.event.id === null) return r;
      const stored = this.byId.get(r.event.id) ?? archived.get(r.event.id);
      return stored && stored !== r.event ? { event: stored, duplicate: true } : r;
    });
  }

  /**
   * Records that events 1…`through` are absorbed by the model (in `recsys_events_meta`, under the append lock, so
   * `through` is checked against every replica's events) and notifies; each replica then drops them from memory
   * and from the ids it checks locally (the table still refuses a repeated id). The rows stay in the table.
   */
  compact(through: number): Promise<CompactResult> {
    if (this.closed) throw new Error(`${this.location}: the event log is closed`);
    if (!Number.isInteger(through) || through < 0) throw new RangeError(`compact: through must be an integer >= 0 (got ${through})`);
    return new Promise<CompactResult>((resolve, reject) => {
      this.compactions.push({ through, resolve, reject });
      void this.work();
    });
  }

  private async compactNow(through: number): Promise<CompactResult> {
    if (this.broken) await this.reconnect();
    const c = this.client;
    let recorded: number;
    await c.query('BEGIN');
    try {
      await c.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      const { rows } = await c.query<{ last: string }>(`SELECT coalesce(max(seq), 0) AS last FROM ${EVENT_TABLE}`);
      const last = Number(rows[0].last);
      if (through > last) throw new RangeError(`compact: through ${through} is past the last stored event (seq ${last})`);
      const up = await c.query<{ value: string }>(
        `INSERT INTO ${META_TABLE} (key, value) VALUES ('archived_through', $1) ON CONFLICT (key) DO UPDATE SET value = greatest(${META_TABLE}.value, excluded.value) RETURNING value`,
        [through],
      );
      recorded = Number(up.rows[0].value);
      await c.query(`SELECT pg_notify('${EVENT_TABLE}', 'compacted')`);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
    this.apply((await this.transaction([])).events);
    const before = this.base;
    const dropped = this.dropThrough(recorded);
    return { archivedThrough: this.base, archived: this.base - before, archive: dropped ? `${this.location}: table ${EVENT_TABLE} (the rows stay; replicas no longer hold them)` : null, live: this.live.length };
  }

  /** Drops the events through `through` from memory (when past the current base); whether it dropped any. */
  private dropThrough(through: number): boolean {
    if (through <= this.base) return false;
    const cut = Math.min(through - this.base, this.live.length);
    for (let j = 0; j < cut; j++) {
      const id = this.live[j].id;
      if (id !== null) this.byId.delete(id);
    }
    this.live = this.live.slice(cut);
    this.base += cut;
    this.onCompacted(this.base);
    return true;
  }

  private askCatchUp(): void {
    if (this.closed) return;
    this.catchUpAsked = true;
    void this.work();
  }

  /** Runs transactions one at a time: each applies other replicas' new events, then stores the queued ones. */
  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (!this.closed && (this.queue.length || this.catchUpAsked || this.compactions.length)) {
        const c = this.compactions.shift();
        if (c) {
          await this.compactNow(c.through).then(c.resolve, (e: unknown) => c.reject(e instanceof Error ? e : new Error(String(e))));
          continue;
        }
        const group = this.queue;
        this.queue = [];
        this.catchUpAsked = false;
        try {
          const { events, archived } = await this.transaction(group.flatMap((p) => p.events));
          this.apply(events);
          if (!group.length) this.dropThrough(await archivedThrough(this.client));
          for (const p of group) p.resolve(archived);
        } catch (e) {
          const error = new Error(`${this.location}: could not store the events (${e instanceof Error ? e.message : String(e)})`);
          for (const p of group) for (const ev of p.events) ev.seq = 0;
          for (const p of group) p.reject(error);
          if (!group.length) this.warn(`${this.location}: could not read other replicas' events (${error.message}); retrying`);
        }
      }
    } finally {
      this.working = false;
    }
  }

  /**
   * One transaction, one round trip: {@link APPEND_FUNCTION} stores `mine` (less the ids stored meanwhile) after
   * every event committed so far, and returns the events after {@link lastSeq} — the other replicas' and ours —
   * and, by id, the compacted events the batch repeated.
   */
  private async transaction(mine: LoggedEvent[]): Promise<{ events: LoggedEvent[]; archived: Map<string, LoggedEvent> }> {
    if (this.broken) await this.reconnect();
    const c = this.client;
    const last = this.lastSeq;
    const archived = new Map<string, LoggedEvent>();
    if (!mine.length) {
      const { rows } = await c.query<Row>(`SELECT ${COLUMNS} FROM ${EVENT_TABLE} WHERE seq > $1 ORDER BY seq`, [last]);
      return { events: rows.map(eventOf), archived };
    }
    // Ids applied since the append was called, and the same id twice in one group (concurrent posts), go once.
    const batch: LoggedEvent[] = [];
    const inBatch = new Set<string>();
    for (const e of mine) {
      if (e.id !== null) {
        if (this.byId.has(e.id) || inBatch.has(e.id)) continue;
        inBatch.add(e.id);
      }
      batch.push(e);
    }
    const payload = JSON.stringify(batch.map((e, ord) => ({ ord, id: e.id, u: e.user, i: e.item, v: e.value, t: e.time })));
    const { rows } = await c.query<Row & { mine: boolean }>(`SELECT ${COLUMNS}, mine FROM ${APPEND_FUNCTION}($1, $2::jsonb)`, [last, payload]);
    this.commits++;
    for (const r of rows) if (Number(r.seq) <= last && r.id !== null) archived.set(r.id, eventOf(r));
    const others = rows.filter((r) => !r.mine && Number(r.seq) > last).map(eventOf);
    const ours = rows.filter((r) => r.mine);
    // The function skipped the ids that another replica stored after `last` (among `others`) or before (compacted).
    const taken = new Set([...others.flatMap((e) => (e.id === null ? [] : [e.id])), ...archived.keys()]);
    const stored = batch.filter((e) => e.id === null || !taken.has(e.id));
    if (stored.length !== ours.length) throw new Error(`stored ${ours.length} events where ${stored.length} were expected; the event table was changed by something other than recsys`);
    stored.forEach((e, j) => (e.seq = Number(ours[j].seq)));
    return { events: [...others, ...stored], archived };
  }

  /** Applies committed events in seq order. */
  private apply(events: LoggedEvent[]): void {
    const fresh: LoggedEvent[] = [];
    for (const e of events) {
      if (e.seq <= this.lastSeq) continue;
      this.push(e, this.location);
      fresh.push(e);
    }
    if (fresh.length) this.onStored(fresh);
  }

  private push(e: LoggedEvent, where: string): void {
    if (e.seq !== this.lastSeq + 1) throw new Error(`${where}: event seq ${e.seq} where ${this.lastSeq + 1} was expected; the event table is damaged`);
    this.live.push(e);
    if (e.id !== null) this.byId.set(e.id, e);
  }

  /** Stops listening and closes the connections (pending appends finish first). */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.working || this.queue.length || this.compactions.length) await new Promise((r) => setTimeout(r, 1));
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([this.client.end(), this.listener.end()]);
  }
}

/** The `archived_through` of the meta table (0 before any compaction). */
async function archivedThrough(c: pg.Client): Promise<number> {
  const { rows } = await c.query<{ value: string }>(`SELECT value FROM ${META_TABLE} WHERE key = 'archived_through'`);
  return rows.length ? Number(rows[0].value) : 0;
}

/** Reads the shared event table without changing it (for export): every row, compacted ones included. */
export async function readPgEventLog(url: string): Promise<{ location: string; events: LoggedEvent[] }> {
  const location = redact(url);
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (e) {
    throw new Error(`cannot connect to the PostgreSQL event log ${location}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [EVENT_TABLE]);
    if (exists.rows[0]?.t === null) throw new UsageError(`${location}: no table ${EVENT_TABLE} (no \`recsys serve --data ${location}\` has run there)`);
    const { rows } = await client.query<Row>(`SELECT ${COLUMNS} FROM ${EVENT_TABLE} ORDER BY seq`);
    return { location, events: rows.map(eventOf) };
  } finally {
    await client.end();
  }
}
