/**
 * `recsys events export`: the service's event log as a CSV or Parquet file with the columns
 * `seq,user,item,value,time,id`, ready for `recsys train --input FILE --user-col user --item-col item
 * --value-col value --time-col time`. Ids are written as text (a log may mix numeric and text ids). The output
 * is written atomically through core's safe writer; Parquet is encoded by DuckDB.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../core/errors.js';
import { checkOutputFile, writeFileSafe } from '../core/safe-write.js';
import { sqlString, withDuck } from '../data/duck.js';
import type { LoggedEvent } from './event-log.js';
import { readEventStore } from './event-store.js';

/** Output formats, chosen by the file's extension. */
export const EXPORT_FORMATS = ['.csv', '.parquet'] as const;

function csvField(v: string | number | null): string {
  if (v === null) return '';
  const t = String(v);
  return /[",\r\n]/.test(t) || t !== t.trim() ? `"${t.replace(/"/g, '""')}"` : t;
}

/** Events per CSV chunk of {@link eventsCsv}. */
const CSV_CHUNK_EVENTS = 16_384;

/** The events as CSV text with a header line, in chunks (a log may be larger than one string can be). */
export function* eventsCsv(events: Iterable<LoggedEvent>, counter: { events: number; lastSeq: number } = { events: 0, lastSeq: 0 }): Generator<string> {
  let out = 'seq,user,item,value,time,id\n';
  let n = 0;
  for (const e of events) {
    out += `${e.seq},${csvField(e.user)},${csvField(e.item)},${e.value},${e.time},${csvField(e.id)}\n`;
    counter.events++;
    counter.lastSeq = e.seq;
    if (++n === CSV_CHUNK_EVENTS) {
      yield out;
      out = '';
      n = 0;
    }
  }
  yield out;
}

/**
 * Writes the event store `dataDir` names (a `recsys serve --data` directory or `postgres://` URL) to `out` (.csv or
 * .parquet): a file log's archive (compacted events) and then its live log, streamed. Returns the number of events,
 * the last seq and the note for a torn tail.
 */
export async function exportEvents(dataDir: string, out: string): Promise<{ events: number; lastSeq: number; note: string | null }> {
  const ext = extname(out).toLowerCase();
  if (!(EXPORT_FORMATS as readonly string[]).includes(ext)) throw new UsageError(`--out ${out}: give a file ending in ${EXPORT_FORMATS.join(' or ')}`);
  let log;
  try {
    log = await readEventStore(dataDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`--data ${dataDir}: no event log there (events.log); give the --data directory of \`recsys serve\``);
    throw e;
  }
  const inputs = log.file ? [log.file] : [];
  checkOutputFile(out, { inputs, what: 'export' });
  const counter = { events: 0, lastSeq: 0 };
  const csv = eventsCsv(log.events, counter);
  const note = (): string | null => (log.tornBytes() ? `${log.source}: an incomplete last line (${log.tornBytes()} bytes, never acknowledged) was left out` : null);
  if (ext === '.csv') {
    writeFileSafe(out, csv, { inputs, what: 'export' });
    return { events: counter.events, lastSeq: counter.lastSeq, note: note() };
  }
  const scratch = join(tmpdir(), `recsys-export-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(scratch);
    writeFileSafe(join(scratch, 'events.csv'), csv);
    const parquet = join(scratch, 'events.parquet');
    await withDuck(async (db) => {
      const columns = "{'seq': 'BIGINT', 'user': 'VARCHAR', 'item': 'VARCHAR', 'value': 'DOUBLE', 'time': 'DOUBLE', 'id': 'VARCHAR'}";
      await db.exec(`COPY (SELECT * FROM read_csv(${sqlString(join(scratch, 'events.csv'))}, header = true, columns = ${columns})) TO ${sqlString(parquet)} (FORMAT parquet)`);
    });
    writeFileSafe(out, await readFile(parquet), { inputs, what: 'export' });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { events: counter.events, lastSeq: counter.lastSeq, note: note() };
}
