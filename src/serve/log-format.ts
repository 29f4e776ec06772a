/**
 * The file event log's on-disk format. The live log (`events.log`) is JSON lines, one event per line numbered by
 * `seq` without gaps; after a compaction its first line is a header, `{"compacted":{"through":N,"time":T}}`,
 * and the events go on from N + 1. The compacted events are in the archive directory, one file per compaction,
 * `archive/events-<from>-<to>.log` (same lines, no header), so the archive and the live log together hold every
 * event ever acknowledged, each once. Files are read in chunks (never as one string: a log outgrows V8's
 * ≈ 512 MiB string limit within an hour at 2,000 events/s).
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { ExternalId } from '../data/id-map.js';

/** File name of the live log inside the data directory. */
export const EVENT_LOG_FILE = 'events.log';
/** Directory (inside the data directory) of the compacted events. */
export const ARCHIVE_DIR = 'archive';

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

/** The line of one event (with its newline). */
export function eventLine(e: LoggedEvent): string {
  return `${JSON.stringify(e)}\n`;
}

/** The header line of a live log whose events through `through` are archived. */
export function headerLine(through: number, time: number): string {
  return `${JSON.stringify({ compacted: { through, time } })}\n`;
}

/** Name of the archive file of the events `from`…`to` (zero-padded, so names sort in log order). */
export function archiveName(from: number, to: number): string {
  return `events-${String(from).padStart(12, '0')}-${String(to).padStart(12, '0')}.log`;
}

/** One archive file. */
export interface ArchiveFile {
  path: string;
  from: number;
  to: number;
}

/**
 * The archive files of data directory `dir` in log order (none when the directory is missing). Files whose range
 * starts after `through` (the live log's header) are left over from a compaction a crash interrupted before the
 * live log was replaced — the live log still holds their events — and are returned apart as `stale`. Throws
 * naming the files when the rest do not join up from seq 1 to `through`.
 */
export function listArchive(dir: string, through: number): { files: ArchiveFile[]; stale: ArchiveFile[] } {
  const root = join(dir, ARCHIVE_DIR);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') names = [];
    else throw e;
  }
  const all: ArchiveFile[] = [];
  for (const name of names) {
    const m = /^events-(\d{12})-(\d{12})\.log$/.exec(name);
    if (m) all.push({ path: join(root, name), from: Number(m[1]), to: Number(m[2]) });
  }
  all.sort((a, b) => a.from - b.from);
  const files = all.filter((f) => f.from <= through);
  const stale = all.filter((f) => f.from > through);
  let next = 1;
  for (const f of files) {
    if (f.from !== next || f.to < f.from) throw new Error(`${f.path}: holds events ${f.from}–${f.to} where the archive should go on from ${next}; the archive is damaged`);
    next = f.to + 1;
  }
  if (next !== through + 1) throw new Error(`${root}: the archive holds events 1–${next - 1} but ${join(dir, EVENT_LOG_FILE)} says events 1–${through} were archived; the archive is damaged`);
  return { files, stale };
}

/** What a scan found, filled in as it goes; final once the generator is done. */
export interface ScanState {
  /** The header's `through` (0 for a log never compacted; an archive file's `from` − 1). */
  through: number;
  /** Seq of the last event read (`through` when none). */
  lastSeq: number;
  /** Bytes of the complete, valid lines (the header included). */
  goodBytes: number;
  /** Size of the file when the scan started. */
  totalBytes: number;
}

/** Size of the reads of {@link scanLog}. */
export const SCAN_CHUNK_BYTES = 1 << 20;

/**
 * The events of the log file open at `fd`, read from its start in chunks of `chunkBytes`. `firstSeq` fixes the
 * first event's seq (an archive file) — otherwise a header may set it, and it is 1 without one. A last line
 * without its newline, or a damaged last line, is a write a crash cut short (never acknowledged, since its fsync
 * did not return): the scan stops before it and `state.goodBytes` < `state.totalBytes`. A damaged line anywhere
 * else, or a seq out of order, throws naming file and line.
 */
export function* scanLog(fd: number, path: string, state: ScanState, options: { firstSeq?: number; chunkBytes?: number } = {}): Generator<LoggedEvent> {
  const chunkBytes = options.chunkBytes ?? SCAN_CHUNK_BYTES;
  state.totalBytes = fstatSync(fd).size;
  state.through = (options.firstSeq ?? 1) - 1;
  state.lastSeq = state.through;
  state.goodBytes = 0;
  let carry: Buffer = Buffer.alloc(0);
  let offset = 0; // file position of carry[0]
  let line = 0;
  let position = 0;
  const chunk = Buffer.allocUnsafe(chunkBytes);
  while (position < state.totalBytes) {
    const n = readSync(fd, chunk, 0, Math.min(chunkBytes, state.totalBytes - position), position);
    if (n === 0) break;
    position += n;
    const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    let start = 0;
    for (let end = buf.indexOf(10, start); end >= 0; end = buf.indexOf(10, start)) {
      line++;
      const raw = buf.toString('utf8', start, end);
      const lineEnd = offset + end + 1;
      start = end + 1;
      if (line === 1 && options.firstSeq === undefined && raw.startsWith('{"compacted"')) {
        const through = parseHeader(raw);
        if (through === null) throw new Error(`${path}:1: a damaged compaction header; the event log is damaged`);
        state.through = state.lastSeq = through;
        state.goodBytes = lineEnd;
        continue;
      }
      const e = parseEvent(raw);
      if (typeof e === 'string') {
        if (lineEnd >= state.totalBytes) return; // a bad last line may still be a torn write
        throw new Error(`${path}:${line}: ${e}; the event log is damaged (fix or remove that line to start)`);
      }
      if (e.seq !== state.lastSeq + 1) throw new Error(`${path}:${line}: event seq ${e.seq} where ${state.lastSeq + 1} was expected; the event log is damaged`);
      state.lastSeq = e.seq;
      state.goodBytes = lineEnd;
      yield e;
    }
    // Copy the partial line out: `chunk` is reused by the next read.
    carry = Buffer.from(buf.subarray(start));
    offset += start;
  }
}

/** Every event of the file at `path` (opened read-only), with the scan's state. */
export function readLogFile(path: string, options: { firstSeq?: number; chunkBytes?: number } = {}): { events: LoggedEvent[]; state: ScanState } {
  const fd = openSync(path, 'r');
  try {
    const state: ScanState = { through: 0, lastSeq: 0, goodBytes: 0, totalBytes: 0 };
    const events = [...scanLog(fd, path, state, options)];
    return { events, state };
  } finally {
    closeSync(fd);
  }
}

function parseHeader(raw: string): number | null {
  try {
    const v = JSON.parse(raw) as { compacted?: { through?: unknown } };
    const t = v.compacted?.through;
    return typeof t === 'number' && Number.isInteger(t) && t >= 0 ? t : null;
  } catch {
    return null;
  }
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
