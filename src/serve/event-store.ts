/**
 * Opens the service's event store from `--data`: a directory holds the file log of one server (event-log.ts); a
 * `postgres://` URL names the table that replicas share (event-log-pg.ts).
 */
import { isPostgres } from '../pipeline/feature-store.js';
import { EventLog, readEventLog, type EventLogOptions, type EventStore, type LoggedEvent } from './event-log.js';
import { PgEventLog, readPgEventLog, type PgEventLogOptions } from './event-log-pg.js';

/** Options of {@link openEventStore}: each applies to the store it names. */
export type OpenEventStoreOptions = EventLogOptions & PgEventLogOptions;

/** The store `data` names (a directory is created when missing), replayed. */
export async function openEventStore(data: string, options: OpenEventStoreOptions = {}): Promise<EventStore> {
  if (isPostgres(data)) return PgEventLog.open(data, options);
  return EventLog.open(data, options);
}

/**
 * The events of the store `data` names, read without changing it: `source` names what was read (for messages),
 * `file` is the log file (null for a table), `tornBytes` an incomplete last line of a file log left out (never
 * acknowledged).
 */
export async function readEventStore(data: string): Promise<{ source: string; file: string | null; events: LoggedEvent[]; tornBytes: number }> {
  if (isPostgres(data)) {
    const { location, events } = await readPgEventLog(data);
    return { source: location, file: null, events, tornBytes: 0 };
  }
  const { path, events, tornBytes } = await readEventLog(data);
  return { source: path, file: path, events, tornBytes };
}
