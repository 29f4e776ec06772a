import { Command } from 'commander';
import { commandModules } from './commands/index.js';

/** Builds the `recsys` command-line program with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('recsys')
    .description('Recommender-system toolkit: datasets, EDA, models, evaluation')
    .version('0.1.0')
    .showHelpAfterError();
  for (const register of commandModules) register(program);
  return program;
}

/** Runs the CLI on `argv` (process.argv form). */
export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
