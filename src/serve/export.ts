/**
 * `recsys events export`: the service's event log as a CSV or Parquet file with the columns
 * `seq,user,item,value,time,id`, ready for `recsys train --input FILE --user-col user --item-col item
 * --value-col value --time-col time`. Ids are written as text (a log may mix numeric and text ids). The output
 * is written atomically through core's safe writer; Parquet is encoded by DuckDB.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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

/** The events as CSV text with a header line. */
export function eventsCsv(events: readonly LoggedEvent[]): string {
  let out = 'seq,user,item,value,time,id\n';
  for (const e of events) out += `${e.seq},${csvField(e.user)},${csvField(e.item)},${e.value},${e.time},${csvField(e.id)}\n`;
  return out;
}

/**
 * Writes the event store `dataDir` names (a `recsys serve --data` directory or `postgres://` URL) to `out` (.csv or
 * .parquet); returns the number of events and the note for a torn tail.
 */
export async function exportEvents(dataDir: string, out: string): Promise<{ events: number; note: string | null }> {
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
  const note = log.tornBytes ? `${log.source}: an incomplete last line (${log.tornBytes} bytes, never acknowledged) was left out` : null;
  const csv = eventsCsv(log.events);
  if (ext === '.csv') {
    writeFileSafe(out, csv, { inputs, what: 'export' });
    return { events: log.events.length, note };
  }
  const scratch = join(tmpdir(), `recsys-export-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(scratch);
    await writeFile(join(scratch, 'events.csv'), csv);
    const parquet = join(scratch, 'events.parquet');
    await withDuck(async (db) => {
      const columns = "{'seq': 'BIGINT', 'user': 'VARCHAR', 'item': 'VARCHAR', 'value': 'DOUBLE', 'time': 'DOUBLE', 'id': 'VARCHAR'}";
      await db.exec(`COPY (SELECT * FROM read_csv(${sqlString(join(scratch, 'events.csv'))}, header = true, columns = ${columns})) TO ${sqlString(parquet)} (FORMAT parquet)`);
    });
    writeFileSafe(out, await readFile(parquet), { inputs, what: 'export' });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { events: log.events.length, note };
}
