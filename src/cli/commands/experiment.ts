/**
 * `recsys experiment <config>`: runs a comparison (or, with a search section, a hyperparameter search) from a
 * JSON/YAML config, with progress bars; Ctrl-C stops after the current step and prints what finished.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { formatResults, type TableFormat } from '../../eval/format.js';
import { loadConfig } from '../../eval/config.js';
import { runExperiment } from '../../eval/experiment.js';
import { formatSearch, runSearch, searchToHtml } from '../../eval/search.js';
import type { Progress } from '../../core/progress.js';
import { writeReport } from '../../report/html.js';
import { interruptSignal, ProgressBar } from '../progress.js';

const FORMATS: TableFormat[] = ['text', 'markdown', 'csv', 'json', 'html'];

/** Shows each phase of the run on its own bar (a new bar when the phase changes). */
function progressPrinter(enabled: boolean): { onProgress: (p: Progress) => void; stop: () => void } {
  let bar: ProgressBar | null = null;
  let phase = '';
  return {
    onProgress: (p) => {
      if (!enabled) return;
      if (p.phase !== phase) {
        bar?.stop();
        phase = p.phase;
        bar = new ProgressBar(phase.split(':')[0]);
      }
      bar!.update({ ...p, phase: p.phase.includes(':') ? p.phase.slice(p.phase.indexOf(':') + 1).trim() : p.phase });
    },
    stop: () => bar?.stop(),
  };
}

interface ExperimentFlags {
  format: string;
  out?: string;
  report?: string;
  progress: boolean;
  search: boolean;
}

/** Registers `experiment`. */
export function register(program: Command): void {
  program
    .command('experiment')
    .description('run an evaluation experiment (or hyperparameter search) from a JSON/YAML config')
    .argument('<config>', 'config file, e.g. configs/kuairec-baselines.yaml')
    .option('-f, --format <format>', `table format: ${FORMATS.join(', ')}`, 'text')
    .option('-o, --out <file>', 'also write the table to this file (format from --format)')
    .option('-r, --report <file>', 'also write a self-contained HTML report of the results')
    .option('--no-progress', 'hide progress bars')
    .option('--no-search', 'ignore the config\'s search section and compare its models')
    .action(async (configPath: string, flags: ExperimentFlags) => {
      const format = flags.format as TableFormat;
      if (!FORMATS.includes(format)) throw new Error(`--format must be one of ${FORMATS.join(', ')}, got "${flags.format}"`);
      const config = loadConfig(configPath);
      const { signal, dispose } = interruptSignal();
      const bars = progressPrinter(flags.progress);
      const log = (line: string): void => {
        process.stderr.write(`${line}\n`);
      };
      try {
        let text: string;
        let html: string;
        if (config.search && flags.search) {
          const results = await runSearch(config, { signal, onProgress: bars.onProgress, log });
          bars.stop();
          html = searchToHtml(results);
          text = format === 'json' ? JSON.stringify(results, null, 2) : format === 'html' ? html : formatSearch(results);
        } else {
          const results = await runExperiment(config, { signal, onProgress: bars.onProgress, log });
          bars.stop();
          html = formatResults(results, 'html');
          text = formatResults(results, format);
        }
        if (flags.report) {
          await writeReport(flags.report, {
            title: `recsys experiment: ${config.name}`,
            subtitle: `config ${configPath}`,
            sections: [{ id: 'results', title: config.search && flags.search ? 'Hyperparameter search' : 'Model comparison', html }],
            generatedAt: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
          });
          log(`wrote ${flags.report}`);
        }
        process.stdout.write(`${text}\n`);
        if (flags.out) {
          mkdirSync(dirname(flags.out), { recursive: true });
          writeFileSync(flags.out, `${text}\n`);
          log(`wrote ${flags.out}`);
        }
      } finally {
        bars.stop();
        dispose();
      }
    });
}
