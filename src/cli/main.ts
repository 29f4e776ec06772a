/**
 * The `recsys` program: builds the commander tree and maps every way a command can end onto one exit status —
 * 0 success, 1 a run failed, 2 usage or validation error, 130 interrupted. `bin/recsys.js` only calls
 * {@link run}.
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from '../core/errors.js';
import { isAbortError } from '../core/progress.js';
import { DataFileError } from '../data/errors.js';
import { DatasetNotFoundError } from '../data/paths.js';
import { ConfigError } from '../eval/config.js';
import { commandModules } from './commands/index.js';

/** Exit statuses of the `recsys` command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Builds the `recsys` command-line program with every subcommand registered; usage errors throw a CommanderError. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('recsys')
    .description('Recommender-system toolkit: datasets, EDA, models, evaluation')
    .version('0.1.0')
    .showHelpAfterError()
    // Before the subcommands are added, so that they inherit it: commander then throws instead of exiting.
    .exitOverride();
  for (const register of commandModules) register(program);
  program.addHelpText('after', '\nExit status: 0 success, 1 a run failed (a model, a trial), 2 usage or validation error, 130 interrupted.');
  return program;
}

/** The exit status for an error a command threw; see the module comment. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (isAbortError(e)) return EXIT.interrupted;
  // Bad input given by the user: a flag, config, data file (file, line, field) or a data set that is not there.
  if (e instanceof UsageError || e instanceof ConfigError || e instanceof DataFileError || e instanceof DatasetNotFoundError) return EXIT.usage;
  return EXIT.failed;
}

/** The line(s) printed for an error; nothing for commander's own errors, which commander has printed. */
export function errorText(e: unknown): string {
  if (e instanceof CommanderError) return '';
  if (!(e instanceof Error)) return `recsys: ${String(e)}\n`;
  // A TypeError or the like is a bug of recsys, not of the input: its stack helps the report.
  const internal = e instanceof TypeError || e instanceof ReferenceError || e instanceof SyntaxError;
  return `recsys: ${e.message}\n${internal && e.stack ? `${e.stack}\n` : ''}`;
}

/** Runs the CLI on `argv` (process.argv form); returns the exit status instead of exiting. */
export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    process.stderr.write(errorText(e));
    return exitCodeFor(e);
  }
}

