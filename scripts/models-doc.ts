/**
 * Regenerates the hyperparameter tables of docs/models.md from the models' schemas (the section between the
 * GENERATED markers). `npx tsx scripts/models-doc.ts` writes the file; `--check` only reports whether it is stale
 * (exit 1). test/models/docs.test.ts runs the same comparison.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { modelsDocSection, replaceModelsDocSection } from '../src/cli/commands/models.js';

const file = fileURLToPath(new URL('../docs/models.md', import.meta.url));
const text = readFileSync(file, 'utf8');
const next = replaceModelsDocSection(text, modelsDocSection());
if (process.argv.includes('--check')) {
  process.stdout.write(next === text ? 'docs/models.md is up to date\n' : 'docs/models.md is stale: run npx tsx scripts/models-doc.ts\n');
  process.exitCode = next === text ? 0 : 1;
} else if (next !== text) {
  writeFileSync(file, next);
  process.stdout.write('docs/models.md: parameter tables regenerated\n');
} else {
  process.stdout.write('docs/models.md is up to date\n');
}
