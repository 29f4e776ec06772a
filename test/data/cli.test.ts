import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/commands/datasets.js';

function program(): Command {
  const p = new Command();
  p.exitOverride();
  register(p);
  return p;
}

async function run(args: string[]): Promise<string> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program().parseAsync(['node', 'recsys', ...args]);
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
  return out.join('');
}

describe('recsys datasets', () => {
  afterEach(() => vi.restoreAllMocks());

  it('list names every registered data set', async () => {
    const text = await run(['datasets', 'list']);
    for (const name of ['kuairec-sample', 'kuairec', 'ml-1m', 'ml-latest-small', 'msd-taste', 'generic']) expect(text).toContain(name);
    expect(text).toMatch(/cache: /);
  });

  it('info prints counts and the cleaning report', async () => {
    const text = await run(['datasets', 'info', 'kuairec-sample', '--no-progress']);
    expect(text).toMatch(/users 1000, items 1500, interactions \d+/);
    expect(text).toMatch(/test matrix: users with entries 200, items with entries 300, interactions 60000/);
    expect(text).toMatch(/cleaning report:[\s\S]*missing time \[timestamp\]: 24 row\(s\) kept/);
    expect(text).toMatch(/SYNTHETIC/);
  });

  it('info applies filters and says what they removed', async () => {
    const text = await run(['datasets', 'info', 'kuairec-sample', '--min-value', '2', '--k-core', '5,5', '--binarize', '--no-progress']);
    expect(text).toMatch(/note: filter value >= 2: removed \d+ of \d+ interactions/);
    expect(text).toMatch(/note: filter 5\/5-core \(users\/items\): removed \d+/);
    expect(text).toMatch(/note: filter binarize/);
    await expect(run(['datasets', 'info', 'kuairec-sample', '--k-core', '5', '--no-progress'])).rejects.toThrow(/--k-core must be "users,items"/);
  });

  it('download refuses unknown names and bad options are clear errors', async () => {
    await expect(run(['datasets', 'download', 'kuairec-sample'])).rejects.toThrow(/no download for "kuairec-sample"/);
    await expect(run(['datasets', 'info', 'kuairec-sample', '--clip', 'abc', '--no-progress'])).rejects.toThrow(/--clip must be a number/);
    await expect(run(['datasets', 'info', 'kuairec-sample', '--duplicates', 'avg', '--no-progress'])).rejects.toThrow(/--duplicates must be one of/);
  });
});
