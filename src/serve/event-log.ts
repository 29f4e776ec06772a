/**
 * The durable event log of the service: an append-only file of JSON lines (`events.log` in the data directory),
 * one event per line. {@link EventLog.append} resolves only after the events are written and fsync'd; appends
 * that arrive while a write is in flight, or within the least commit interval after the last one started, are
 * batched into the next write, so concurrent requests share one fsync (group commit). An event with an `id` is stored once: posting it again returns the stored event. On
 * open the log is replayed; a last line cut short by a crash (never acknowledged, since the fsync did not
 * return) is cut off, while a damaged line anywhere else stops the start with the file and line named.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ExternalId } from '../data/id-map.js';

/** File name of the log inside the data directory. */
export const EVENT_LOG_FILE = 'events.log';

/** An event as posted. */
export interface EventInput {
  user: ExternalId;
  item: ExternalId;
  /** Interaction strength (default 1). */
  value?: number;
  /** Unix time in seconds (default: when the server received it). */
  time?: number;
  /** Idempotency key: an event with an id already in the log is not stored again. */
  id?: string;
}

/** An event as stored: numbered in log order. */
export interface LoggedEvent {
  /** Position in the log, from 1. */
  seq: number;
  user: ExternalId;
  item: ExternalId;
  value: number;
  time: number;
  id: string | null;
}

/** The outcome of one posted event. */
export interface AppendResult {
  event: LoggedEvent;
  /** True when an event with the same id was already stored (this post stored nothing). */
  duplicate: boolean;
}

/**
 * Where the service keeps its events: this file log ({@link EventLog}, one server) or a PostgreSQL table that
 * replicas share (`PgEventLog`, src/serve/event-log-pg.ts). Both acknowledge only durable events, number them
 * without gaps, store an id once, and replay on open.
 */
export interface EventStore {
  /** The file's path, or the connection string without its password. */
  readonly location: string;
  /** Every stored event in log order (replayed, appended here and, when shared, by other replicas). */
  readonly events: readonly LoggedEvent[];
  /** Durable writes made by appends so far: fsyncs of the file, commits of the database. */
  readonly fsyncCount: number;
  /** Stores `inputs` in order; resolves once they are durable. */
  append(inputs: readonly EventInput[], now?: number): Promise<AppendResult[]>;
  /** Closes the store (pending appends finish first). */
  close(): Promise<void>;
}

/** Options common to the event stores. */
export interface EventStoreOptions {
  /** Reports a repaired log (a torn last line cut off) or a connection problem; default: nothing. */
  warn?: (message: string) => void;
  /**
   * Called with each group of newly stored events, in log order, once they are durable and before the appends
   * resolve; a shared store calls it for other replicas' events too.
   */
  onStored?: (events: readonly LoggedEvent[]) => void;
}

/** Default of {@link EventLogOptions.minCommitIntervalMs}. */
export const DEFAULT_MIN_COMMIT_INTERVAL_MS = 2;

/** Options of {@link EventLog.open}. */
export interface EventLogOptions extends EventStoreOptions {
  /** Makes the written bytes durable; the default is `fh.sync()` (fsync). Tests count calls through it. */
  fsync?: (fh: FileHandle) => Promise<void>;
  /**
   * Least time between the starts of two group commits (default {@link DEFAULT_MIN_COMMIT_INTERVAL_MS} ms; 0 for
   * none). An event arriving when the log has been idle that long is written at once; under load the events of
   * the interval share one write and one fsync. An fsync costs about 0.2 ms of CPU here whatever it carries, so
   * at 2,000 events/s one commit per arrival would take a third of a core; with 2 ms, at most 500 commits a
   * second, each acknowledgement waits at most that much longer.
   */
  minCommitIntervalMs?: number;
}

interface Pending {
  events: LoggedEvent[];
  resolve: () => void;
  reject: (e: Error) => void;
}

/** See the module comment. */
export class EventLog implements EventStore {
  /** Events in log order (replayed and appended). */
  readonly events: LoggedEvent[] = [];
  private readonly byId = new Map<string, Promise<LoggedEvent>>();
  private queue: Pending[] = [];
  private writing = false;
  private failure: Error | null = null;
  private closed = false;
  private syncs = 0;

  private constructor(
    /** Path of the log file. */
    readonly path: string,
    private readonly fh: FileHandle,
    private size: number,
    private readonly fsync: (fh: FileHandle) => Promise<void>,
    private readonly onStored: (events: readonly LoggedEvent[]) => void,
    private readonly minCommitIntervalMs: number,
  ) {}

  /** When the last group commit started (performance.now()), −∞ before the first. */
  private lastCommit = -Infinity;

  /** Opens (or creates) the log in `dir` and replays it. */
  static async open(dir: string, options: EventLogOptions = {}): Promise<EventLog> {
    const root = resolve(dir);
    await mkdir(root, { recursive: true });
    const path = join(root, EVENT_LOG_FILE);
    const existed = await stat(path).then(
      (s) => {
        if (!s.isFile()) throw new Error(`${path}: exists and is not a regular file`);
        return true;
      },
      () => false,
    );
    const fh = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND, 0o644);
    try {
      if (!existed) await syncDir(root);
      const text = (await fh.readFile()).toString('utf8');
      const { events, goodBytes } = parseLog(path, text);
      if (goodBytes < Buffer.byteLength(text)) {
        await fh.truncate(goodBytes);
        await fh.sync();
        options.warn?.(`${path}: cut off an incomplete last line (${Buffer.byteLength(text) - goodBytes} bytes) left by a crash before it was acknowledged`);
      }
      const interval = options.minCommitIntervalMs ?? DEFAULT_MIN_COMMIT_INTERVAL_MS;
      if (!(Number.isFinite(interval) && interval >= 0)) throw new RangeError(`event log: minCommitIntervalMs must be a number >= 0 (got ${interval})`);
      const log = new EventLog(path, fh, goodBytes, options.fsync ?? ((f) => f.sync()), options.onStored ?? (() => {}), interval);
      for (const e of events) {
        log.events.push(e);
        if (e.id !== null) log.byId.set(e.id, Promise.resolve(e));
      }
      return log;
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  get location(): string {
    return this.path;
  }

  /** Number of fsyncs done by appends so far. */
  get fsyncCount(): number {
    return this.syncs;
  }

  /**
   * Stores `inputs` (in order) and resolves once they are on disk. Events whose id is already stored (or being
   * stored by a concurrent call) are not stored again; they resolve when the original is durable. If the write
   * fails nothing of this call is kept and it rejects.
   */
  async append(inputs: readonly EventInput[], now: number = Date.now() / 1000): Promise<AppendResult[]> {
    if (this.closed) throw new Error(`${this.path}: the event log is closed`);
    if (this.failure) throw new Error(`${this.path}: the event log failed earlier and accepts no more events (${this.failure.message})`);
    const results: (AppendResult | Promise<LoggedEvent>)[] = [];
    const fresh: LoggedEvent[] = [];
    for (const input of inputs) {
      const id = input.id ?? null;
      const existing = id !== null ? this.byId.get(id) : undefined;
      if (existing) {
        results.push(existing);
        continue;
      }
      // seq is given when the batch is written, so that a failed batch leaves no gap.
      const event: LoggedEvent = { seq: 0, user: input.user, item: input.item, value: input.value ?? 1, time: input.time ?? now, id };
      fresh.push(event);
      results.push({ event, duplicate: false });
      if (id !== null) {
        const original = new Promise<LoggedEvent>((res, rej) => this.waiters.push({ event, res, rej }));
        original.catch(() => this.byId.delete(id));
        this.byId.set(id, original);
      }
    }
    if (fresh.length) {
      await new Promise<void>((resolve, reject) => {
        this.queue.push({ events: fresh, resolve, reject });
        void this.drain();
      });
    }
    const out: AppendResult[] = [];
    for (const r of results) out.push(r instanceof Promise ? { event: await r, duplicate: true } : r);
    return out;
  }

  private readonly waiters: { event: LoggedEvent; res: (e: LoggedEvent) => void; rej: (e: Error) => void }[] = [];

  /** Writes every queued batch with one write and one fsync, then resolves them; repeats (at most once per commit interval) while more arrive. */
  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length) {
        // Under load, wait out the interval so that the events arriving meanwhile join this commit.
        const wait = this.lastCommit + this.minCommitIntervalMs - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        this.lastCommit = performance.now();
        const group = this.queue;
        this.queue = [];
        const written = new Set<LoggedEvent>();
        let seq = this.events.length;
        let text = '';
        for (const p of group) {
          for (const e of p.events) {
            e.seq = ++seq;
            written.add(e);
            text += `${JSON.stringify(e)}\n`;
          }
        }
        const bytes = Buffer.from(text, 'utf8');
        const settleWaiters = (ok: boolean, error?: Error): void => {
          for (let j = this.waiters.length - 1; j >= 0; j--) {
            const w = this.waiters[j];
            if (!written.has(w.event)) continue;
            this.waiters.splice(j, 1);
            if (ok) w.res(w.event);
            else w.rej(error ?? new Error('not stored'));
          }
        };
        try {
          await this.fh.write(bytes, 0, bytes.length, null);
          this.syncs++;
          await this.fsync(this.fh);
          this.size += bytes.length;
        } catch (e) {
          const error = new Error(`${this.path}: could not store the events (${e instanceof Error ? e.message : String(e)})`);
          // Take back whatever part of the write reached the file; if that fails, accept nothing more.
          await this.fh.truncate(this.size).catch((t: unknown) => (this.failure = t instanceof Error ? t : new Error(String(t))));
          for (const ev of written) ev.seq = 0;
          settleWaiters(false, error);
          for (const p of group) p.reject(error);
          continue;
        }
        const stored = group.flatMap((p) => p.events);
        for (const e of stored) this.events.push(e);
        this.onStored(stored);
        settleWaiters(true);
        for (const p of group) p.resolve();
      }
    } finally {
      this.writing = false;
    }
  }

  /** Closes the file (pending appends finish first). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing || this.queue.length) await new Promise((r) => setTimeout(r, 1));
    await this.fh.close();
  }
}

/**
 * Reads the log in `dir` without changing it (for export): the events and whether an incomplete last line (a
 * crash before acknowledgement) was left out. A damaged inner line throws naming file and line.
 */
export async function readEventLog(dir: string): Promise<{ path: string; events: LoggedEvent[]; tornBytes: number }> {
  const path = join(resolve(dir), EVENT_LOG_FILE);
  const text = (await readFile(path)).toString('utf8');
  const { events, goodBytes } = parseLog(path, text);
  return { path, events, tornBytes: Buffer.byteLength(text) - goodBytes };
}

/** fsync of a directory, so that a newly created file's entry is durable. */
async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, constants.O_RDONLY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** The events of a log's text and the byte length of its complete lines; a damaged inner line throws. */
export function parseLog(path: string, text: string): { events: LoggedEvent[]; goodBytes: number } {
  const events: LoggedEvent[] = [];
  let pos = 0;
  let line = 0;
  let goodBytes = 0;
  while (pos < text.length) {
    const end = text.indexOf('\n', pos);
    line++;
    if (end < 0) break; // a torn last line: never fsync'd completely, so never acknowledged
    const raw = text.slice(pos, end);
    pos = end + 1;
    const e = parseEvent(raw);
    if (typeof e === 'string') {
      // A bad last line may still be a torn write (the crash cut it after a newline of an earlier line).
      if (pos >= text.length) break;
      throw new Error(`${path}:${line}: ${e}; the event log is damaged (fix or remove that line to start)`);
    }
    if (e.seq !== events.length + 1) throw new Error(`${path}:${line}: event seq ${e.seq} where ${events.length + 1} was expected; the event log is damaged`);
    events.push(e);
    goodBytes += Buffer.byteLength(raw, 'utf8') + 1;
  }
  return { events, goodBytes };
}

function isId(v: unknown): v is ExternalId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** One stored line as an event, or the reason it is not one. */
function parseEvent(raw: string): LoggedEvent | string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return 'not valid JSON';
  }
  if (typeof v !== 'object' || v === null) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (typeof o.seq !== 'number' || !Number.isInteger(o.seq)) return 'field "seq" missing or not an integer';
  if (!isId(o.user)) return 'field "user" missing or not a string or number';
  if (!isId(o.item)) return 'field "item" missing or not a string or number';
  if (typeof o.value !== 'number' || !Number.isFinite(o.value)) return 'field "value" missing or not a number';
  if (typeof o.time !== 'number' || !Number.isFinite(o.time)) return 'field "time" missing or not a number';
  if (o.id !== null && typeof o.id !== 'string') return 'field "id" is neither null nor a string';
  return { seq: o.seq, user: o.user, item: o.item, value: o.value, time: o.time, id: o.id };
}
