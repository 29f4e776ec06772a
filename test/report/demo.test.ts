import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoSectionBuilders, runDemo, type SectionBuilder } from '../../src/cli/commands/demo.js';
import { networkRefs } from './generate.js';

describe('runDemo on the embedded KuaiRec sample', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('prints the cleaning report and summary, runs every builder in order and writes one report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'recsys-demo-'));
    dirs.push(dir);
    const lines: string[] = [];
    const seen: string[] = [];
    const extra: SectionBuilder = {
      name: 'experiment',
      build: async (ctx) => {
        seen.push(`${ctx.dataset.name}:${ctx.eda.overview.interactions}`);
        return [{ id: 'comparison', title: 'Model comparison', html: '<p>results go here</p>' }];
      },
    };
    const out = join(dir, 'nested', 'report.html');
    const { reportPath, sections } = await runDemo({ dataset: 'kuairec-sample', out, progress: false, log: (l) => lines.push(l), print: (t) => lines.push(t), builders: [demoSectionBuilders[0], extra] }); // the EDA builder; model builders: demo-models.test.ts
    expect(reportPath).toBe(out);
    const text = lines.join('\n');
    expect(text).toMatch(/rows read/);
    expect(text).toMatch(/SYNTHETIC/);
    expect(text).toMatch(/Asia\/Shanghai/); // KuaiRec time in China time by default
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^kuairec-sample:\d+$/);
    expect(Number(seen[0].split(':')[1])).toBeGreaterThan(1000);
    expect(sections[0].id).toBe('overview');
    expect(sections[sections.length - 1].id).toBe('comparison');
    const html = await readFile(out, 'utf8');
    expect(html).toContain('<h2>Model comparison <span class="data-label">SYNTHETIC</span></h2>');
    expect(html.indexOf('id="overview"')).toBeLessThan(html.indexOf('id="comparison"'));
    expect(html).toContain('id="item-features"');
    expect(html).not.toMatch(/<script/i);
    expect(networkRefs(html)).toEqual([]);
  });
});
