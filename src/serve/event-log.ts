/**
 * The durable event log of the service: an append-only file of JSON lines (`events.log` in the data directory,
 * format in log-format.ts), one event per line. {@link EventLog.append} resolves only after the events are
 * written and fsync'd; appends that arrive while a write is in flight, or within the least commit interval after
 * the last one started, are batched into the next write, so concurrent requests share one fsync (group commit).
 * An event with an `id` is stored once: posting it again returns the stored event. On open the log is replayed;
 * a last line cut short by a crash (never acknowledged, since the fsync did not return) is cut off, while a
 * damaged line anywhere else stops the start with the file and line named. {@link EventLog.compact} moves the
 * events a retrained model has absorbed to the archive, so the live log (and the memory holding it) stays as
 * large as the events since the last retrain. One process holds a data directory at a time (`events.lock`).
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { closeSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';
import type { Progress } from '../core/progress.js';
import type { ExternalId } from '../data/id-map.js';
import { ARCHIVE_DIR, archiveName, EVENT_LOG_FILE, eventLine, headerLine, listArchive, scanLog, type LoggedEvent, type ScanState } from './log-format.js';

export { EVENT_LOG_FILE, type LoggedEvent } from './log-format.js';

/** File (inside the data directory) naming the process that holds the log. */
export const LOCK_FILE = 'events.lock';

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
  /**
   * The live events in log order (replayed, appended here and, when shared, by other replicas): every event after
   * {@link EventStore.archivedThrough}.
   */
  readonly events: readonly LoggedEvent[];
  /** Seq of the last stored event (0 for none). */
  readonly lastSeq: number;
  /** Events 1…this were compacted into the archive (0: none); they are no longer in `events`. */
  readonly archivedThrough: number;
  /**
   * Drops the events through seq `through` from `events` (and from the ids checked in memory), keeping them for
   * export: moved to the archive (file log) or left in the table (PostgreSQL).
   */
  compact(through: number): Promise<CompactResult>;
  /** Durable writes made by appends so far: fsyncs of the file, commits of the database. */
  readonly fsyncCount: number;
  /** Stores `inputs` in order; resolves once they are durable. */
  append(inputs: readonly EventInput[], now?: number): Promise<AppendResult[]>;
  /** Closes the store (pending appends finish first). */
  close(): Promise<void>;
}

/** What {@link EventStore.compact} did. */
export interface CompactResult {
  /** Events 1…this are archived now. */
  archivedThrough: number;
  /** Events this call archived (0 when `through` was archived already). */
  archived: number;
  /** Where the events went (the archive file written; for PostgreSQL the table), null when nothing was archived. */
  archive: string | null;
  /** Events left in the live log. */
  live: number;
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
  /**
   * Called when the events through `through` have left `events` (a compaction here or, when shared, by another
   * replica), before the compaction resolves.
   */
  onCompacted?: (through: number) => void;
  /** Reports the replay at open of a large log (≥ 64 MiB): MiB read of MiB in all. */
  progress?: (p: Progress) => void;
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

/** The part of a compaction that runs between two commits (see {@link EventLog.compact}). */
interface Compaction {
  run: () => Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** Logs from this size report their replay ({@link EventStoreOptions.progress}). */
const REPORT_REPLAY_BYTES = 64 * 2 ** 20;

/** Bytes per read when copying a byte range of the log. */
const COPY_BYTES = 1 << 20;
/** Archived ids forgotten between two turns of the event loop. */
const FORGET_PER_TURN = 16_384;

/** See the module comment. */
export class EventLog implements EventStore {
  private live: LoggedEvent[] = [];
  private readonly byId = new Map<string, Promise<LoggedEvent>>();
  private queue: Pending[] = [];
  private compactions: Compaction[] = [];
  /** The compaction running (compactions run one at a time). */
  private compacting: Promise<unknown> = Promise.resolve();
  private writing = false;
  private failure: Error | null = null;
  private closed = false;
  private syncs = 0;
  private through = 0;
  private last = 0;

  private constructor(
    /** Path of the log file. */
    readonly path: string,
    private readonly root: string,
    private fh: FileHandle,
    private size: number,
    private readonly fsync: (fh: FileHandle) => Promise<void>,
    private readonly onStored: (events: readonly LoggedEvent[]) => void,
    private readonly onCompacted: (through: number) => void,
    private readonly minCommitIntervalMs: number,
  ) {}

  /** When the last group commit started (performance.now()), −∞ before the first. */
  private lastCommit = -Infinity;

  /**
   * Opens (or creates) the log in `dir` and replays it. Refuses a directory another live process holds (its
   * `events.lock`); a lock left by a process that died is taken over.
   */
  static async open(dir: string, options: EventLogOptions = {}): Promise<EventLog> {
    const interval = options.minCommitIntervalMs ?? DEFAULT_MIN_COMMIT_INTERVAL_MS;
    if (!(Number.isFinite(interval) && interval >= 0)) throw new RangeError(`event log: minCommitIntervalMs must be a number >= 0 (got ${interval})`);
    const root = resolve(dir);
    await mkdir(root, { recursive: true });
    await takeLock(root);
    const path = join(root, EVENT_LOG_FILE);
    let fh: FileHandle | null = null;
    try {
      const existed = await stat(path).then(
        (s) => {
          if (!s.isFile()) throw new Error(`${path}: exists and is not a regular file`);
          return true;
        },
        () => false,
      );
      fh = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND, 0o644);
      if (!existed) await syncDir(root);
      const state: ScanState = { through: 0, lastSeq: 0, goodBytes: 0, totalBytes: 0 };
      const events: LoggedEvent[] = [];
      const report = options.progress;
      const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);
      for (const e of scanLog(fh.fd, path, state)) {
        events.push(e);
        if (report && (events.length & 0xffff) === 0 && state.totalBytes >= REPORT_REPLAY_BYTES) report({ phase: 'MiB', done: mib(state.goodBytes), total: mib(state.totalBytes) });
      }
      if (report && state.totalBytes >= REPORT_REPLAY_BYTES) report({ phase: 'MiB', done: mib(state.totalBytes), total: mib(state.totalBytes) });
      if (state.goodBytes < state.totalBytes) {
        await fh.truncate(state.goodBytes);
        await fh.sync();
        options.warn?.(`${path}: cut off an incomplete last line (${state.totalBytes - state.goodBytes} bytes) left by a crash before it was acknowledged`);
      }
      // Temporary files of a compaction a crash interrupted (this process holds the lock: none is being written).
      for (const where of [root, join(root, ARCHIVE_DIR)]) {
        for (const name of await readdir(where).catch(() => [] as string[])) {
          if (!/^(events\.log|events-\d{12}-\d{12}\.log)\.tmp-\d+$/.test(name)) continue;
          await rm(join(where, name), { force: true });
          options.warn?.(`${join(where, name)}: removed, a temporary file of a compaction that a crash interrupted`);
        }
      }
      try {
        for (const f of listArchive(root, state.through).stale) {
          await rm(f.path, { force: true });
          options.warn?.(`${f.path}: removed, left by a compaction that a crash interrupted (${path} still holds events ${f.from}–${f.to})`);
        }
      } catch (e) {
        options.warn?.(`${(e as Error).message}; \`recsys events export\` will refuse until it is repaired`);
      }
      const log = new EventLog(path, root, fh, state.goodBytes, options.fsync ?? ((f) => f.sync()), options.onStored ?? (() => {}), options.onCompacted ?? (() => {}), interval);
      log.through = state.through;
      log.last = state.lastSeq;
      log.live = events;
      for (const e of events) if (e.id !== null) log.byId.set(e.id, Promise.resolve(e));
      return log;
    } catch (e) {
      await fh?.close();
      await releaseLock(root);
      throw e;
    }
  }

  get location(): string {
    return this.path;
  }

  get events(): readonly LoggedEvent[] {
    return this.live;
  }

  get lastSeq(): number {
    return this.last;
  }

  get archivedThrough(): number {
    return this.through;
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
    this.checkOpen();
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

  /**
   * Moves the events through seq `through` to `archive/events-<from>-<to>.log` and starts the live log after
   * them (a header line records `through`); both files are written in full and fsync'd before the live log is
   * replaced by a rename, so a crash at any point leaves every event exactly once in archive + live log. The
   * bytes are copied, not re-encoded, and alongside commits: only the lines committed during the copy, the
   * fsync and the rename hold appends up. Ids of archived events are forgotten: posting one again stores it
   * again. Compact only through events the model in service was trained on — those users' recommendations stop
   * folding them in.
   */
  compact(through: number, time: number = Date.now() / 1000): Promise<CompactResult> {
    this.checkOpen();
    if (!Number.isInteger(through) || through < 0) throw new RangeError(`compact: through must be an integer >= 0 (got ${through})`);
    const run = this.compacting.then(() => this.compactRun(through, time));
    this.compacting = run.catch(() => {});
    return run;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`${this.path}: the event log is closed`);
    if (this.failure) throw new Error(`${this.path}: the event log failed earlier and accepts no more events (${this.failure.message})`);
  }

  private readonly waiters: { event: LoggedEvent; res: (e: LoggedEvent) => void; rej: (e: Error) => void }[] = [];

  /**
   * Writes every queued batch with one write and one fsync, then resolves them; repeats (at most once per commit
   * interval) while more arrive. Compactions run between commits.
   */
  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length || this.compactions.length) {
        const c = this.compactions.shift();
        if (c) {
          await c.run().then(c.resolve, c.reject);
          continue;
        }
        // Under load, wait out the interval so that the events arriving meanwhile join this commit.
        const wait = this.lastCommit + this.minCommitIntervalMs - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        this.lastCommit = performance.now();
        const group = this.queue;
        this.queue = [];
        const written = new Set<LoggedEvent>();
        let seq = this.last;
        let text = '';
        for (const p of group) {
          for (const e of p.events) {
            e.seq = ++seq;
            written.add(e);
            text += eventLine(e);
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
        for (const e of stored) this.live.push(e);
        this.last = seq;
        this.onStored(stored);
        settleWaiters(true);
        for (const p of group) p.resolve();
      }
    } finally {
      this.writing = false;
    }
  }

  /** One compaction (see {@link compact}); compactions run one at a time. */
  private async compactRun(through: number, time: number): Promise<CompactResult> {
    this.checkOpen();
    if (through > this.last) throw new RangeError(`compact: through ${through} is past the last stored event (seq ${this.last})`);
    if (through <= this.through) return { archivedThrough: this.through, archived: 0, archive: null, live: this.live.length };
    // Phase 1, alongside commits: the file up to `size0` is final, line k after the header being live[k − 1].
    const src = this.fh;
    const size0 = this.size;
    const before = this.live; // its first `cut` events are the ones archived
    const cut = through - this.through;
    const headerEnd = this.through > 0 ? await offsetAfterLines(src, 0, 1, size0, this.path) : 0;
    const cutAt = await offsetAfterLines(src, headerEnd, cut, size0, this.path);
    const archiveDir = join(this.root, ARCHIVE_DIR);
    if (await mkdir(archiveDir, { recursive: true })) await syncDir(this.root);
    const archive = join(archiveDir, archiveName(this.through + 1, through));
    const a = await startFile(archive);
    try {
      await copyRange(src, headerEnd, cutAt, a.fh);
      await a.fh.sync();
      await rename(a.tmp, archive);
    } catch (e) {
      await a.abandon();
      throw e;
    }
    await a.fh.close();
    await syncDir(archiveDir);
    const next = await startFile(this.path);
    try {
      await next.fh.write(headerLine(through, time));
      await copyRange(src, cutAt, size0, next.fh);
      // Phase 2, between two commits: the lines committed meanwhile, then the swap.
      await new Promise<void>((resolve, reject) => {
        const run = async (): Promise<void> => {
          await copyRange(src, size0, this.size, next.fh);
          await next.fh.sync();
          const size = (await next.fh.stat()).size;
          await rename(next.tmp, this.path);
          // The handle written through is now the log's: appends go on through it.
          this.fh = next.fh;
          this.size = size;
          this.live = this.live.slice(cut);
          this.through = through;
          this.onCompacted(through);
          try {
            await syncDir(this.root);
          } catch (e) {
            // The rename may not survive a crash, the appends after it would then be lost: accept no more.
            this.failure = e instanceof Error ? e : new Error(String(e));
            throw e;
          }
        };
        this.compactions.push({ run, resolve, reject });
        void this.drain();
      });
    } catch (e) {
      if (this.fh !== next.fh) await next.abandon();
      throw e;
    }
    await src.close().catch(() => {});
    for (let j = 0; j < cut; j++) {
      const id = before[j].id;
      if (id !== null) this.byId.delete(id);
      if ((j + 1) % FORGET_PER_TURN === 0) await setImmediate();
    }
    return { archivedThrough: through, archived: cut, archive, live: this.live.length };
  }

  /** Closes the file (pending appends finish first) and releases the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compacting;
    while (this.writing || this.queue.length || this.compactions.length) await new Promise((r) => setTimeout(r, 1));
    await this.fh.close();
    await releaseLock(this.root);
  }
}

/** A temporary file beside `path`, open for appending, to be renamed to `path` once complete. */
async function startFile(path: string): Promise<{ tmp: string; fh: FileHandle; abandon: () => Promise<void> }> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND, 0o644);
  const abandon = async (): Promise<void> => {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
  };
  return { tmp, fh, abandon };
}

/** Appends bytes `from`…`to` of `src` to `dst`. */
async function copyRange(src: FileHandle, from: number, to: number, dst: FileHandle): Promise<void> {
  const buf = Buffer.allocUnsafe(COPY_BYTES);
  for (let pos = from; pos < to; ) {
    const { bytesRead } = await src.read(buf, 0, Math.min(COPY_BYTES, to - pos), pos);
    if (bytesRead === 0) throw new Error(`ended at byte ${pos} of ${to} while copying`);
    await dst.write(buf, 0, bytesRead);
    pos += bytesRead;
  }
}

/** The offset just after the `lines`-th newline from `from` (≤ `end`) of `fh`. */
async function offsetAfterLines(fh: FileHandle, from: number, lines: number, end: number, path: string): Promise<number> {
  const buf = Buffer.allocUnsafe(COPY_BYTES);
  let left = lines;
  for (let pos = from; left > 0 && pos < end; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(COPY_BYTES, end - pos), pos);
    if (bytesRead === 0) break;
    for (let j = buf.indexOf(10); j >= 0 && j < bytesRead; j = buf.indexOf(10, j + 1)) {
      if (--left === 0) return pos + j + 1;
    }
    pos += bytesRead;
  }
  if (lines === 0) return from;
  throw new Error(`${path}: fewer lines than the ${lines} expected after byte ${from}; the log changed under the service`);
}

/** The directories this process holds (a second open in the same process is refused too). */
const held = new Set<string>();

/** Whether process `pid` is alive (EPERM: alive, another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `root`'s lock file, or throws naming the process that holds it. */
async function takeLock(root: string): Promise<void> {
  const path = join(root, LOCK_FILE);
  if (held.has(root)) throw new Error(`${root}: the event log is open already in this process; close it first`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      held.add(root);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`${path}: cannot lock the event log (${(e as Error).message})`);
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new Error(`${root}: the event log is in use by process ${pid} (another \`recsys serve\`?); stop it, or give another --data directory`);
    }
    await rm(path, { force: true }); // left by a process that died (or by this pid before a restart)
  }
  throw new Error(`${path}: cannot lock the event log (another process keeps taking it)`);
}

async function releaseLock(root: string): Promise<void> {
  if (!held.delete(root)) return;
  await rm(join(root, LOCK_FILE), { force: true });
}

/**
 * The events of the file log in `dir`, archive first, read without changing anything (for export): a generator,
 * so that a log larger than memory streams. `state` is filled as it goes: `tornBytes` is an incomplete last line
 * of the live log left out (never acknowledged). Throws naming the file for a damaged archive or line.
 */
export function* readEventLog(dir: string, state: { tornBytes: number; archived: number }): Generator<LoggedEvent> {
  const root = resolve(dir);
  const path = join(root, EVENT_LOG_FILE);
  // Opened first: a compaction meanwhile replaces the file but not what this descriptor reads.
  const fd = openSync(path, 'r');
  try {
    const through = headerThrough(fd, path);
    const { files } = listArchive(root, through);
    for (const f of files) {
      const afd = openSync(f.path, 'r');
      try {
        const s: ScanState = { through: 0, lastSeq: 0, goodBytes: 0, totalBytes: 0 };
        yield* scanLog(afd, f.path, s, { firstSeq: f.from });
        if (s.goodBytes < s.totalBytes || s.lastSeq !== f.to) throw new Error(`${f.path}: holds events ${f.from}–${s.lastSeq} of ${f.from}–${f.to}; the archive is damaged`);
      } finally {
        closeSync(afd);
      }
    }
    state.archived = through;
    const s: ScanState = { through: 0, lastSeq: 0, goodBytes: 0, totalBytes: 0 };
    yield* scanLog(fd, path, s);
    state.tornBytes = s.totalBytes - s.goodBytes;
  } finally {
    closeSync(fd);
  }
}

/** The compaction header's `through` of the log open at `fd` (0 without a header). */
function headerThrough(fd: number, path: string): number {
  const s: ScanState = { through: 0, lastSeq: 0, goodBytes: 0, totalBytes: 0 };
  // A header is the first line: the scan has read it by the time it yields the first event (or ends).
  const it = scanLog(fd, path, s);
  it.next();
  it.return(undefined);
  return s.through;
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
