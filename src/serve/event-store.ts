/**
 * Opens the service's event store from `--data`: a directory holds the file log of one server (event-log.ts); a
 * `postgres://` URL names the table that replicas share (event-log-pg.ts).
 */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isPostgres } from '../pipeline/feature-store.js';
import { EVENT_LOG_FILE, EventLog, readEventLog, type EventLogOptions, type EventStore, type LoggedEvent } from './event-log.js';
import { PgEventLog, readPgEventLog, type PgEventLogOptions } from './event-log-pg.js';

/** Options of {@link openEventStore}: each applies to the store it names. */
export type OpenEventStoreOptions = EventLogOptions & PgEventLogOptions;

/** The store `data` names (a directory is created when missing), replayed. */
export async function openEventStore(data: string, options: OpenEventStoreOptions = {}): Promise<EventStore> {
  if (isPostgres(data)) return PgEventLog.open(data, options);
  return EventLog.open(data, options);
}

/** The events of a store, read for export. */
export interface StoredEvents {
  /** What is read (for messages). */
  source: string;
  /** The live log file (null for a table). */
  file: string | null;
  /** The events in seq order, the archive's first; iterate once. */
  events: Iterable<LoggedEvent>;
  /** After iterating: bytes of an incomplete last line of a file log left out (never acknowledged). */
  tornBytes(): number;
}

/** The events of the store `data` names, read without changing it. */
export async function readEventStore(data: string): Promise<StoredEvents> {
  if (isPostgres(data)) {
    const { location, events } = await readPgEventLog(data);
    return { source: location, file: null, events, tornBytes: () => 0 };
  }
  const state = { tornBytes: 0, archived: 0 };
  const events = readEventLog(data, state);
  const file = join(resolve(data), EVENT_LOG_FILE);
  // A missing log is reported now, before anything is written.
  await access(file);
  return { source: file, file, events, tornBytes: () => state.tornBytes };
}
