/**
 * `recsys events export --data DIR --out FILE.csv|.parquet`: the service's event log (archive included) for the
 * next `recsys train`; `recsys events compact --data DIR|URL --through SEQ`: drop the events a retrained model has
 * absorbed from the live log — a directory with its server stopped (a running one: `POST /v1/admin/compact`), a
 * PostgreSQL table at any time (the replicas are told).
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { isPostgres } from '../../pipeline/feature-store.js';
import { EventLog, type EventStore } from '../../serve/event-log.js';
import { PgEventLog } from '../../serve/event-log-pg.js';
import { exportEvents } from '../../serve/export.js';

/** Registers `events`. */
export function register(program: Command): void {
  const events = program.command('events').description("the service's durable event log");
  events
    .command('export')
    .description('write the event log, archive included, as CSV or Parquet (columns seq,user,item,value,time,id) for `recsys train --input`')
    .requiredOption('--data <dir|url>', 'the --data of `recsys serve`: its directory or postgres:// URL')
    .requiredOption('--out <file>', 'output file ending in .csv or .parquet')
    .action(async (flags: { data: string; out: string }) => {
      const { events: n, lastSeq, note } = await exportEvents(flags.data, flags.out);
      if (note) process.stderr.write(`${note}\n`);
      const range = n ? ` (seq 1–${lastSeq})` : '';
      process.stderr.write(`wrote ${n} event${n === 1 ? '' : 's'}${range} to ${flags.out} (train on it: recsys train --input ${flags.out} --user-col user --item-col item --value-col value --time-col time …)\n`);
      if (n) process.stderr.write(`once a model trained on them is in service: recsys events compact --data ${flags.data} --through ${lastSeq} (or POST /v1/admin/compact {"through": ${lastSeq}})\n`);
    });
  events
    .command('compact')
    .description('drop events 1…SEQ from the live log: to DIR/archive/ (the server must be stopped), or marked in a PostgreSQL table (replicas drop them too); export still writes them')
    .requiredOption('--data <dir|url>', 'the --data of `recsys serve`: its directory or postgres:// URL')
    .requiredOption('--through <seq>', 'last seq to archive: the last event the model in service was trained on')
    .action(async (flags: { data: string; through: string }) => {
      const through = Number(flags.through);
      if (!/^\d+$/.test(flags.through.trim()) || !Number.isSafeInteger(through)) throw new UsageError(`--through ${flags.through}: give an event seq (an integer >= 0)`);
      const warn = (m: string): boolean => process.stderr.write(`recsys events: ${m}\n`);
      const log: EventStore = isPostgres(flags.data) ? await PgEventLog.open(flags.data, { pollMs: 0, warn }) : await EventLog.open(flags.data, { warn });
      try {
        // The store checks `through` against its last event (a shared table: every replica's).
        const r = await log.compact(through).catch((e: unknown) => {
          throw e instanceof RangeError ? new UsageError(`--through ${e.message.replace(/^compact: through /, '')} in ${log.location}`) : e;
        });
        if (r.archived === 0) process.stderr.write(`nothing to do: events 1–${r.archivedThrough} are archived already; ${r.live} in ${log.location}\n`);
        else process.stderr.write(`archived ${r.archived} event${r.archived === 1 ? '' : 's'} to ${r.archive}; ${r.live} stay in ${log.location} (events 1–${r.archivedThrough} archived)\n`);
      } finally {
        await log.close();
      }
    });
}
