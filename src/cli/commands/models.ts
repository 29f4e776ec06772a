/**
 * `recsys models [name] [--json]`: every registered model (or one) with its description, capabilities and
 * each hyperparameter's type, default, valid values and meaning, from the models' schemas. The same text
 * generates the parameter tables of docs/models.md (`npx tsx scripts/models-doc.ts`).
 */
import type { Command } from 'commander';
import { modelCatalog, type ModelInfo } from '../../models/catalog.js';
import { modelEntry } from '../../models/index.js';

/** A default value as written on the command line (`--param key=value`). */
export function formatDefault(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** Plain-text listing of `models`. */
export function formatModelsText(models: readonly ModelInfo[]): string {
  const out: string[] = [];
  for (const m of models) {
    out.push(`${m.name} — ${m.description}`);
    out.push(`  can: ${m.capabilities.length ? m.capabilities.join(', ') : '(fit and recommend only)'}`);
    const w = Math.max(0, ...m.params.map((p) => p.name.length));
    const dw = Math.max(0, ...m.params.map((p) => formatDefault(p.default).length));
    for (const p of m.params) out.push(`  ${p.name.padEnd(w)}  ${formatDefault(p.default).padEnd(dw)}  ${p.expects}${p.doc ? `: ${p.doc}` : ''}`);
    if (m.params.length === 0) out.push('  (no hyperparameters)');
    out.push('');
  }
  return out.join('\n');
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The markdown parameter tables of docs/models.md (one per model). */
export function formatModelsMarkdown(models: readonly ModelInfo[]): string {
  const out: string[] = [];
  for (const m of models) {
    out.push(`### \`${m.name}\``, '', cell(m.description), '');
    out.push(`Capabilities: ${m.capabilities.length ? m.capabilities.map((c) => `\`${c}\``).join(', ') : 'fit and recommend only'}.`, '');
    if (m.params.length === 0) {
      out.push('No hyperparameters.', '');
      continue;
    }
    out.push('| parameter | type | default | valid values | meaning |', '|---|---|---|---|---|');
    for (const p of m.params) out.push(`| \`${p.name}\` | ${p.kind} | \`${cell(formatDefault(p.default))}\` | ${cell(p.expects)} | ${cell(p.doc)} |`);
    out.push('');
  }
  return out.join('\n');
}

const BEGIN = '<!-- BEGIN GENERATED: model parameters -->';
const END = '<!-- END GENERATED: model parameters -->';

/** The generated section of docs/models.md: every registered model's table. */
export function modelsDocSection(): string {
  return formatModelsMarkdown(modelCatalog());
}

/** `doc` with the text between the GENERATED markers replaced by `section`; throws when a marker is missing. */
export function replaceModelsDocSection(doc: string, section: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/models.md: markers "${BEGIN}" … "${END}" not found`);
  return `${doc.slice(0, a + BEGIN.length)}\n\n${section.trimEnd()}\n\n${doc.slice(b)}`;
}

/** Registers `models`. */
export function register(program: Command): void {
  program
    .command('models')
    .description('list the model types with their capabilities and hyperparameters (for `train --model/--param`)')
    .argument('[name]', 'show only this model')
    .option('--json', 'machine-readable output')
    .action((name: string | undefined, flags: { json?: boolean }) => {
      if (name !== undefined) modelEntry(name);
      const models = modelCatalog().filter((m) => name === undefined || m.name === name);
      process.stdout.write(flags.json ? `${JSON.stringify({ models }, null, 2)}\n` : formatModelsText(models));
    });
}
