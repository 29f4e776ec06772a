/** `recsys events export --data DIR --out FILE.csv|.parquet`: the service's event log for the next `recsys train`. */
import type { Command } from 'commander';
import { exportEvents } from '../../serve/export.js';

/** Registers `events`. */
export function register(program: Command): void {
  const events = program.command('events').description("the service's durable event log");
  events
    .command('export')
    .description('write the event log as CSV or Parquet (columns seq,user,item,value,time,id) for `recsys train --input`')
    .requiredOption('--data <dir|url>', 'the --data of `recsys serve`: its directory or postgres:// URL')
    .requiredOption('--out <file>', 'output file ending in .csv or .parquet')
    .action(async (flags: { data: string; out: string }) => {
      const { events: n, note } = await exportEvents(flags.data, flags.out);
      if (note) process.stderr.write(`${note}\n`);
      process.stderr.write(`wrote ${n} event${n === 1 ? '' : 's'} to ${flags.out} (train on it: recsys train --input ${flags.out} --user-col user --item-col item --value-col value --time-col time …)\n`);
    });
}
