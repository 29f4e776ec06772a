import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import type { EdaStats } from '../../src/report/eda.js';

/** Runs the CLI with stdout and stderr captured. */
async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'recsys', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}

describe('recsys eda', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('prints the statistics as JSON and writes the HTML report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'recsys-eda-'));
    dirs.push(dir);
    const out = join(dir, 'eda.html');
    const { stdout, stderr } = await run(['eda', 'kuairec-sample', '--json', '--no-progress', '--tz', '+08:00', '--out', out]);
    const stats = JSON.parse(stdout) as EdaStats;
    expect(stats.dataset.name).toBe('kuairec-sample');
    expect(stats.time?.timeZone).toBe('UTC+08:00');
    expect(stats.overview.interactions).toBeGreaterThan(100_000);
    expect(stderr).toContain(`report: ${out}`);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('<h1>EDA: kuairec-sample</h1>');
  });

  it('prints tables and rejects bad options with the option named', async () => {
    const { stdout } = await run(['eda', 'kuairec-sample', '--no-html', '--no-progress']);
    expect(stdout).toMatch(/rows read/);
    expect(stdout).toMatch(/Asia\/Shanghai/);
    await expect(run(['eda', 'kuairec-sample', '--no-html', '--cold', '0'])).rejects.toThrow(/--cold must be a positive integer, got "0"/);
    await expect(run(['eda', 'kuairec-sample', '--no-html', '--no-progress', '--tz', 'Mars/Base'])).rejects.toThrow(/unknown time zone "Mars\/Base"/);
    await expect(run(['eda', 'no-such-set', '--no-html', '--no-progress'])).rejects.toThrow(/unknown data set "no-such-set"/);
  });
});
