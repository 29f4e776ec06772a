/**
 * `recsys experiment <config>`: runs a comparison (or, with a search section, a hyperparameter search) from a
 * JSON/YAML config, with progress bars; Ctrl-C stops after the current step and prints what finished.
 * Every model (every trial) is constructed before the data is loaded, so bad names and hyperparameters are
 * reported at once (exit 2). The first model or trial that fails stops the run (`--keep-going` runs the rest);
 * either way the table of what finished is written and the exit status is 1. Interrupted: 130.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { checkOutputFile, writeFileSafe } from '../../core/safe-write.js';
import { formatResults, type TableFormat } from '../../eval/format.js';
import { loadConfig } from '../../eval/config.js';
import { defaultLoadDataset, runExperiment, type DatasetLoader, type ExperimentResults } from '../../eval/experiment.js';
import { formatSearch, runSearch, searchToHtml, type SearchResults } from '../../eval/search.js';
import { AbortError, type Progress } from '../../core/progress.js';
import { RunFailedError } from '../errors.js';
import { writeReport } from '../../report/html.js';
import { interruptSignal, ProgressBar } from '../progress.js';

const FORMATS: TableFormat[] = ['text', 'markdown', 'csv', 'json', 'html'];

/** Shows each phase of the run on its own bar (a new bar when the phase changes), labelled by the phase's part before ":". */
export function progressPrinter(enabled: boolean): { onProgress: (p: Progress) => void; stop: () => void } {
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
  keepGoing: boolean;
}

/** The error that ends a comparison that did not fully succeed (failed models, interruption), or null. */
export function experimentOutcome(r: ExperimentResults, planned: number): Error | null {
  const failed = r.models.filter((m) => m.error);
  if (failed.length) {
    const which = failed.map((m) => `${m.label} (${m.error})`).join('; ');
    const rest = r.notRun?.length ? `; not run: ${r.notRun.join(', ')} (--keep-going runs the rest)` : '';
    return new RunFailedError(`${failed.length} of ${planned} models failed: ${which}${rest}${r.interrupted ? '; then interrupted' : ''}`);
  }
  if (r.interrupted) return new AbortError(`interrupted: ${r.models.length} of ${planned} models finished`);
  return null;
}

/** The error that ends a search that did not fully succeed (failed trials or refit, interruption), or null. */
export function searchOutcome(r: SearchResults): Error | null {
  const failed = r.trials.filter((t) => t.error);
  if (failed.length || r.testError) {
    const parts: string[] = [];
    if (failed.length) parts.push(`${failed.length} of ${r.planned} trials failed (first: ${failed[0].key}: ${failed[0].error})`);
    if (r.notRun) parts.push(`${r.notRun} trials not run (--keep-going runs the rest)`);
    if (r.testError) parts.push(`refitting the best parameters failed: ${r.testError}`);
    return new RunFailedError(parts.join('; '));
  }
  if (r.interrupted) return new AbortError(`interrupted: ${r.trials.length} of ${r.planned} trials finished`);
  return null;
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
    .option('--keep-going', 'run the remaining models (trials) after one fails; the exit status is still 1', false)
    .action(async (configPath: string, flags: ExperimentFlags) => {
      const format = flags.format as TableFormat;
      if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${flags.format}"`);
      const config = loadConfig(configPath);
      // Every output is checked before the run (a bad path fails in a second, not after the run) and written
      // through the safe writer; none may be the config or a data file the run reads.
      const inputs: (string | undefined)[] = [configPath, typeof config.datasetOptions.path === 'string' ? config.datasetOptions.path : undefined];
      const outputs: [flag: string, what: string, path: string | undefined][] = [
        ['--report', 'report', flags.report],
        ['--out', 'table', flags.out],
        ['search.results', 'search results file', config.search && flags.search ? config.search.results : undefined],
      ];
      const seen = new Map<string, string>();
      for (const [flag, what, path] of outputs) {
        if (path === undefined) continue;
        const target = checkOutputFile(path, { what, inputs });
        const other = seen.get(target);
        if (other) throw new UsageError(`${other} and ${flag} name the same file ${path}; give each its own`);
        seen.set(target, flag);
      }
      const loadDataset: DatasetLoader = async (name, options) => {
        const ds = await defaultLoadDataset(name, options);
        inputs.push(...ds.report.files);
        return ds;
      };
      const { signal, dispose } = interruptSignal();
      const bars = progressPrinter(flags.progress);
      const log = (line: string): void => {
        process.stderr.write(`${line}\n`);
      };
      const stopOnError = !flags.keepGoing;
      try {
        let text: string;
        let html: string;
        let outcome: Error | null;
        if (config.search && flags.search) {
          const results = await runSearch(config, { signal, onProgress: bars.onProgress, log, loadDataset, stopOnError });
          bars.stop();
          html = searchToHtml(results);
          text = format === 'json' ? JSON.stringify(results, null, 2) : format === 'html' ? html : formatSearch(results);
          outcome = searchOutcome(results);
        } else {
          const results = await runExperiment(config, { signal, onProgress: bars.onProgress, log, loadDataset, stopOnError });
          bars.stop();
          html = formatResults(results, 'html');
          text = formatResults(results, format);
          outcome = experimentOutcome(results, config.models.length);
        }
        if (flags.report) {
          await writeReport(flags.report, {
            title: `recsys experiment: ${config.name}`,
            subtitle: `config ${configPath}`,
            sections: [{ id: 'results', title: config.search && flags.search ? 'Hyperparameter search' : 'Model comparison', html }],
            generatedAt: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
          }, { inputs });
          log(`wrote ${flags.report}`);
        }
        process.stdout.write(`${text}\n`);
        if (flags.out) {
          writeFileSafe(flags.out, `${text}\n`, { what: 'table', inputs });
          log(`wrote ${flags.out}`);
        }
        if (outcome) throw outcome;
      } finally {
        bars.stop();
        dispose();
      }
    });
}
