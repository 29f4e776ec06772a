/** docs/models.md's parameter tables are generated from the schemas: this fails when they are stale. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatModelsMarkdown, modelsDocSection, replaceModelsDocSection } from '../../src/cli/commands/models.js';
import { modelCatalog } from '../../src/models/catalog.js';
import { modelEntries } from '../../src/models/index.js';

const DOC = new URL('../../docs/models.md', import.meta.url);

describe('docs/models.md', () => {
  it('holds the tables generated from the current schemas (run `npx tsx scripts/models-doc.ts` when this fails)', () => {
    const text = readFileSync(DOC, 'utf8');
    expect(replaceModelsDocSection(text, modelsDocSection())).toBe(text);
  });

  it('the generated section has a table row for every registered model and hyperparameter', () => {
    const section = modelsDocSection();
    for (const e of modelEntries()) {
      expect(section).toContain(`### \`${e.name}\``);
      for (const p of e.params.describe()) expect(section).toContain(`| \`${p.name}\` | ${p.kind} |`);
    }
  });

  it('a changed default or range shows in the generated text', () => {
    const catalog = modelCatalog();
    const ials = catalog.find((m) => m.name === 'ials');
    expect(ials).toBeDefined();
    const changed = catalog.map((m) => (m.name === 'ials' ? { ...m, params: m.params.map((p) => (p.name === 'factors' ? { ...p, default: 65 } : p)) } : m));
    expect(formatModelsMarkdown(changed)).not.toBe(modelsDocSection());
    expect(() => replaceModelsDocSection('no markers here', 'x')).toThrow(/markers/);
  });
});
