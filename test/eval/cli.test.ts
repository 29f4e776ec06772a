import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/experiment.js';

afterEach(() => vi.restoreAllMocks());

function program(): Command {
  const p = new Command();
  p.exitOverride();
  register(p);
  return p;
}

describe('recsys experiment', () => {
  it('runs a config and writes the table in the chosen format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, 'dataset: { name: synthetic, users: 150, items: 80, seed: 1 }\nsplit: { method: leave-last-out }\nmetrics: [hitrate@10]\nbootstrap: 0\nmodels: [random, popularity]\n');
    const out = join(dir, 'table.json');
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const report = join(dir, 'report', 'r.html');
    await program().parseAsync(['experiment', cfg, '--format', 'json', '--out', out, '--report', report, '--no-progress'], { from: 'user' });
    const results = JSON.parse(readFileSync(out, 'utf8')) as { models: { label: string }[]; split: string };
    expect(results.models.map((m) => m.label)).toEqual(['random', 'popularity']);
    expect(results.split).toMatch(/leave-last-out/);
    expect(stdout).toHaveBeenCalled();
    // The HTML report: a whole page with the comparison table, nothing loaded from elsewhere.
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/i);
    expect(html).toContain('<h2>Model comparison</h2>');
    expect(html).toMatch(/<td[^>]*>popularity<\/td>/);
    expect(html).not.toMatch(/<script|src="http|href="http/);
  });

  it('rejects an unknown format and reports config errors with the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'dataset: synthetic\nsplit: { method: random, testRatio: 0 }\nmetrics: [ndcg@10]\nmodels: [random]\n');
    await expect(program().parseAsync(['experiment', cfg, '--format', 'xml'], { from: 'user' })).rejects.toThrow(/--format must be one of/);
    await expect(program().parseAsync(['experiment', cfg], { from: 'user' })).rejects.toThrow(/bad\.yaml: split\.testRatio: must be a number in \(0, 1\)/);
  });
});
