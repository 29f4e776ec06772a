import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/eval/config.js';
import { createModel } from '../../src/models/index.js';

const dir = join(import.meta.dirname, '..', '..', 'configs');
const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f));

describe('shipped configs', () => {
  it('exist', () => {
    expect(files.length).toBeGreaterThan(3);
  });
  for (const file of files) {
    it(`${file}: valid, and every model accepts its hyperparameters`, () => {
      const config = loadConfig(join(dir, file));
      for (const m of config.models) expect(() => createModel(m.model, m.params), `${file}: ${m.label}`).not.toThrow();
      if (config.search) {
        const s = config.search;
        const first = Object.fromEntries(Object.entries(s.space).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v.min]));
        expect(() => createModel(s.model, { ...s.fixed, ...first }), `${file}: search`).not.toThrow();
      }
    });
  }
});
