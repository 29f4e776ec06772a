/**
 * `recsys dashboard --results DIR`: the web dashboard (src/serve/dashboard.ts) over experiment results only, no
 * model: the Models page compares the runs found in DIR (`recsys experiment … --format json -o DIR/NAME.json`).
 * `recsys serve --model DIR` serves the full dashboard with the model pages. SIGINT / SIGTERM stop it.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { buildDashboard } from '../../serve/dashboard.js';

interface DashboardFlags {
  results: string;
  host: string;
  port: string;
}

/** Registers `dashboard`. */
export function register(program: Command): void {
  program
    .command('dashboard')
    .description('the web dashboard over experiment results, without a model (`recsys serve` adds the model pages)')
    .option('--results <dir>', 'directory of experiment results (JSON written by `recsys experiment --format json -o`)', 'out')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .action(async (flags: DashboardFlags) => {
      const port = Number(flags.port);
      if (flags.port.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer in 0..65535 (got ${JSON.stringify(flags.port)})`);
      const dir = resolve(flags.results);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--results: ${flags.results} is not a directory (write results with \`recsys experiment CONFIG --format json -o ${flags.results}/NAME.json\`)`);
      const app = await buildDashboard({ resultsDir: dir, logger: { level: 'info', stream: process.stderr } });
      const stopped = new Promise<void>((resolveStop) => {
        const stop = (): void => {
          void app.close().finally(resolveStop);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      try {
        await app.listen({ host: flags.host, port });
      } catch (e) {
        await app.close();
        throw new UsageError(`cannot listen on ${flags.host}:${port}: ${(e as Error).message}`);
      }
      await stopped;
    });
}
